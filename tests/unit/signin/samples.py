"""The real IDX responses of tests/fixtures/okta-idx (provenance: its README)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "okta-idx"
#: Not IDX states: the OAuth answers of /v1/interact and of a failed /v1/token.
OAUTH_BODIES = frozenset({"oauth2-interact.json", "oauth2-error-token-invalid-grant-pkce.json"})
#: Their hrefs point at the Sign-In Widget's playground.
FIXTURE_ORIGIN = "http://localhost:3000"

ALL = sorted(p.name for p in FIXTURES.glob("*.json"))
IDX_STATES = [name for name in ALL if name not in OAUTH_BODIES]


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


#: Values that replace a member in the mutation sweeps.
JUNK: tuple[Any, ...] = (None, 0, True, "", "x", [], {}, [None], {"value": None})


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*path, key)
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield (*path, i)
            yield from _paths(value, (*path, i))


def _replace(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    out = copy.deepcopy(doc)
    node = out
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return out


def mutations(name: str) -> Iterator[Any]:
    """The fixture with each member in turn replaced by each JUNK value (state handles
    shortened first: they are long and repeated)."""
    doc = load(name)
    if isinstance(doc.get("stateHandle"), str):
        doc = json.loads(json.dumps(doc).replace(doc["stateHandle"], "SH"))
    for path in _paths(doc):
        for junk in JUNK:
            yield _replace(doc, path, junk)


#: The fixtures the mutation sweeps walk (one per shape: forms, field messages, contextual
#: data, success, repeated nested forms, object choices).
SWEPT = ["identify.json", "error-401-invalid-otp-passcode.json",
         "authenticator-enroll-google-authenticator.json", "success-with-interaction-code.json",
         "enroll-profile-update-params.json", "user-unlock-account.json"]
