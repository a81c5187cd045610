"""The SQLite store's per-user statements are one range of the ``sessions_by_user`` index, never
a scan of the sessions table: SQLite's own query planner says so (an in-memory database with
the store's schema)."""

from __future__ import annotations

import sqlite3

import pytest

from bff.sessions import sqlite as store


@pytest.fixture
def conn() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    for statement in filter(str.strip, store._SCHEMA.split(";")):
        db.execute(statement)
    # enough rows that a scan would look cheap to the planner only if it were blind
    db.executemany("INSERT INTO sessions VALUES (?, ?, NULL, 0, 1e12, 1, x'00')",
                   [(f"s{n}", f"u{n % 50}") for n in range(500)])
    db.execute("ANALYZE")
    return db


def plan(conn: sqlite3.Connection, sql: str, params: tuple[object, ...]) -> str:
    return " | ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))


@pytest.mark.parametrize(("name", "params"), [
    ("_SESSIONS_OF", ("u1", 0.0)),
    ("_FORGET_EXPIRED_OF", ("u1", 0.0)),
    ("_END_SESSIONS", ("u1", None, None, None, None, None, None)),
    ("_END_SESSIONS", ("u1", "s1", "s1", "sid", "sid", 5.0, 5.0)),
])
def test_per_user_statements_use_the_user_index(conn: sqlite3.Connection, name: str,
                                                params: tuple[object, ...]) -> None:
    shown = plan(conn, getattr(store, name), params)
    assert "USING INDEX sessions_by_user" in shown, shown
    assert not shown.startswith("SCAN"), shown


def test_a_scan_would_be_noticed(conn: sqlite3.Connection) -> None:
    """The check above can fail: a statement without the user condition scans."""
    shown = plan(conn, "SELECT id FROM sessions WHERE created_at > ?", (0.0,))
    assert "SCAN" in shown and "sessions_by_user" not in shown
