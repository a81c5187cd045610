"""Session persistence: the store interface and its adapters, cookie signing, encryption at rest.

* :mod:`bff.sessions.store`: the ``SessionStore`` Protocol and ``SessionRecord``.
* :mod:`bff.sessions.crypto`: ``TokenCipher`` (AES-256-GCM keyed from ``BFF_SECRET_KEYS``).
* :mod:`bff.sessions.cookies`: ``CookieSigner`` (itsdangerous) and ``new_session_id``.
* Adapters: ``memory``, ``sqlite``, ``redis``, ``dynamodb``; :func:`open_store` picks one from
  ``BFF_SESSION_STORE``.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

from bff.config import ConfigError
from bff.sessions.cookies import CookieSigner, new_session_id
from bff.sessions.crypto import DecryptError, TokenCipher
from bff.sessions.memory import MemoryStore
from bff.sessions.store import SessionExists, SessionRecord, SessionStore, StoreUnavailable
from bff.settings import Settings

__all__ = [
    "CookieSigner",
    "DecryptError",
    "MemoryStore",
    "SessionExists",
    "SessionRecord",
    "SessionStore",
    "StoreUnavailable",
    "TokenCipher",
    "new_session_id",
    "open_store",
]


def open_store(settings: Settings) -> SessionStore:
    """The store named by ``BFF_SESSION_STORE`` (``settings.session.store``):

    * ``sqlite:///relative/path`` or ``sqlite:////absolute/path``: :class:`SQLiteStore`
      (parent directories are created);
    * ``redis://[user:password@]host:port/db`` or ``rediss://...`` (TLS), optional
      ``?prefix=bff:`` (key prefix, default ``bff:``): :class:`RedisStore`;
    * ``dynamodb://table-name``: :class:`DynamoDBStore` in ``settings.aws.region`` (and
      ``settings.aws.endpoint_url`` when set: moto in dev/tests), credentials from boto3's
      usual chain; the table must exist (``ensure_table`` or infrastructure code);
    * ``memory://``: :class:`MemoryStore` (one process, nothing survives a restart).

    Raises :class:`~bff.config.ConfigError` (one clear line) for anything else. Nothing is
    contacted here: call ``await store.ping()`` to check reachability.
    """
    url = settings.session.store
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "memory":
        if url.rstrip("/") != "memory:":
            raise _bad(url, "memory:// takes no host, path or options")
        return MemoryStore()
    if scheme == "sqlite":
        return _sqlite(url)
    if scheme in {"redis", "rediss"}:
        return _redis(url)
    if scheme == "dynamodb":
        return _dynamodb(url, settings)
    raise _bad(url, "use sqlite:///path, redis://host:port/db, rediss://..., dynamodb://table or memory://")


def _bad(url: str, why: str) -> ConfigError:
    shown = url
    try:
        parts = urlsplit(url)
        if parts.password:  # never echo a password into logs
            shown = url.replace(parts.password, "***", 1)
    except ValueError:
        pass
    return ConfigError([f"BFF_SESSION_STORE {shown!r} is invalid: {why}"])


def _sqlite(url: str) -> SessionStore:
    from bff.sessions.sqlite import SQLiteStore

    if not url.startswith("sqlite:///"):
        raise _bad(url, "write sqlite:///relative/path or sqlite:////absolute/path (three slashes, no host)")
    path = url[len("sqlite:///"):]
    if not path or "?" in path or "#" in path or path.endswith("/"):
        raise _bad(url, "the SQLite URL needs a file path and takes no options")
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _bad(url, f"cannot create the directory {str(target.parent)!r}: {exc.strerror}") from exc
    if target.exists() and not target.is_file():
        raise _bad(url, f"{path!r} exists and is not a file")
    return SQLiteStore(target)


def _redis(url: str) -> SessionStore:
    from bff.sessions.redis import RedisStore

    clean, prefix = redis_target(url)
    return RedisStore.from_url(clean, prefix=prefix)


def redis_target(url: str) -> tuple[str, str]:
    """Validate a ``redis://``/``rediss://`` store URL and split off the BFF's own ``prefix=``
    option: ``(url for redis-py, key prefix)``. Everything that shares the session store's
    Redis (sessions, sign-up rate limits, the content bus) namespaces its keys with the prefix,
    so two deployments can share one Redis. Errors never repeat the URL's password."""
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 (parsing the port validates it)
    except ValueError as exc:
        raise _bad(url, "the Redis URL has an invalid host or port") from exc
    if not parts.hostname:
        raise _bad(url, "the Redis URL needs a host, e.g. redis://127.0.0.1:6379/0")
    db = parts.path.strip("/")
    if db and not db.isdigit():
        raise _bad(url, "the Redis database (URL path) must be a number")
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = set(query) - {"prefix"}
    if unknown:
        raise _bad(url, f"unknown option(s) {', '.join(sorted(unknown))}; only prefix= is supported")
    prefix = query.get("prefix", ["bff:"])[-1]
    if not prefix:
        raise _bad(url, "prefix= must not be empty")
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")), prefix


_TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}")


def _dynamodb(url: str, settings: Settings) -> SessionStore:
    from bff.sessions.dynamodb import DynamoDBStore

    parts = urlsplit(url)
    table = parts.netloc
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise _bad(url, "write dynamodb://table-name (no path or options)")
    if not _TABLE_NAME.fullmatch(table):
        raise _bad(url, "the DynamoDB table name must be 3-255 characters of A-Z a-z 0-9 _ . -")
    return DynamoDBStore.connect(table, region=settings.aws.region, endpoint_url=settings.aws.endpoint_url)
