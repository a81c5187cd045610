"""The real IDX responses of tests/fixtures/okta-idx (provenance: its README)."""

from __future__ import annotations

import json
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
