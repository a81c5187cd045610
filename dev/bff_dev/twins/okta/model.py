"""Records shared by the twin's parts (the org's state, its OIDC and Management endpoints):
a browser SSO session, a registered event hook, a pending authorization request."""

from __future__ import annotations

from dataclasses import dataclass, field

from bff_dev.twins.okta.clients import Client


@dataclass
class SsoSession:
    """The twin's browser SSO session (Okta's ``sid`` cookie)."""

    id: str
    user_id: str
    created: float
    auth_time: float
    expires_at: float
    amr: list[str] = field(default_factory=lambda: ["pwd"])
    idp: str = ""
    clients: set[str] = field(default_factory=set)


@dataclass
class EventHook:
    id: str
    url: str
    auth_header: str
    auth_value: str = field(repr=False)
    events: tuple[str, ...]
    verified: bool = False


@dataclass
class AuthRequest:
    client: Client
    redirect_uri: str
    response_mode: str
    scopes: list[str]
    state: str
    nonce: str | None
    code_challenge: str
    prompt: set[str]
    login_hint: str | None
    idp: str | None
    max_age: int | None
    created: float
    params: dict[str, str] = field(default_factory=dict)
