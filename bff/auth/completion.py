"""The end of every sign-in, whichever flow got the tokens: the redirect callback
(``/bff/callback``, authorization code) and the embedded sign-in (``bff.signin``, interaction
code) both finish here, so both validate the ID token with the same code and both rotate the
session id.

:func:`establish_session` validates the ID token (signature, ``iss``, ``aud``, ``azp``, ``exp``,
``iat`` not before the sign-in began, ``nonce``, ``at_hash``), reads the access token's claims,
fills a thin ID token's profile from userinfo (whose ``sub`` must be the ID token's) and
creates a NEW session (a new random id: no fixation). :func:`end_previous_session` then ends
the browser's earlier session, if any, and revokes its refresh token.

A sign-in granting a step-up scope must be recent and multi-factor (:mod:`bff.auth.stepup`):
else :class:`~bff.auth.stepup.StepUpRequired` (403 ``step_up_required``), no session, the
refresh token revoked.

Errors: :class:`~bff.auth.oidc.InvalidToken` for an unusable ID token, and
:class:`~bff.auth.transactions.TransactionError` (``invalid_id_token``, ``invalid_userinfo``)
for a missing ID token or a userinfo of another subject; the store's and the provider's own
errors pass through.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from starlette.requests import HTTPConnection

from bff.auth.oidc import OIDCClient, TokenSet
from bff.auth.sessions import ManagedSession, SessionManager, granted_scopes
from bff.auth.stepup import StepUpRequired, check_step_up
from bff.auth.transactions import TransactionError
from bff.errors import BFFError

log = logging.getLogger("bff.auth.completion")

_PROFILE_CLAIMS = frozenset({"name", "given_name", "family_name", "email", "email_verified",
                             "preferred_username", "locale", "zoneinfo", "groups"})


async def establish_session(oidc: OIDCClient, sessions: SessionManager, tokens: TokenSet, *,
                            nonce: str, not_before: float,
                            scopes: Sequence[str]) -> tuple[ManagedSession, str]:
    """A new session for ``tokens`` (returned with its cookie value) once the ID token is valid
    for this sign-in (``nonce``; ``not_before`` = when the sign-in began)."""
    if tokens.id_token is None:
        raise TransactionError("invalid_id_token", "the token response has no ID token")
    id_claims: dict[str, Any] = await oidc.validate_id_token(
        tokens.id_token, nonce=nonce, not_before=not_before, access_token=tokens.access_token)
    access_claims = await oidc.access_token_claims(tokens.access_token)
    if "email" not in id_claims and oidc.loaded_metadata and oidc.loaded_metadata.userinfo_endpoint:
        # A thin ID token: take the profile from userinfo, whose sub MUST be the ID token's
        # (OIDC Core 5.3.2; token substitution defence).
        info = await oidc.userinfo(tokens.access_token)
        if info.get("sub") != id_claims["sub"]:
            raise TransactionError("invalid_userinfo", "userinfo sub differs from the ID token")
        id_claims = {**{k: v for k, v in info.items() if k in _PROFILE_CLAIMS}, **id_claims}
    try:  # a step-up scope only for a recent multi-factor sign-in (bff.auth.stepup)
        check_step_up(oidc.okta, id_claims, granted_scopes(tokens, access_claims or {}, tuple(scopes)),
                      now=sessions.clock())
    except StepUpRequired:
        if tokens.refresh_token:
            try:
                await oidc.revoke(tokens.refresh_token, "refresh_token")
            except BFFError as exc:
                log.warning("could not revoke the refused step-up's refresh token: %s", exc.instance_code)
        log.info("step-up refused: the sign-in was not recent or not multi-factor")
        raise
    return await sessions.create(tokens=tokens, id_claims=id_claims, access_claims=access_claims,
                                 requested_scopes=tuple(scopes))


async def end_previous_session(oidc: OIDCClient, sessions: SessionManager, conn: HTTPConnection,
                               new_session_id: str) -> None:
    """End the session the browser held before this sign-in (if any), revoking its refresh
    token; failures are logged, never raised (the new session stands)."""
    old_id = sessions.session_id_of(conn)
    if old_id is None or old_id == new_session_id:
        return
    try:
        old = await sessions.get(old_id)
        await sessions.end(old_id)
        if old is not None and old.data.refresh_token:
            await oidc.revoke(old.data.refresh_token, "refresh_token")
    except BFFError as exc:
        log.warning("could not end the previous session: %s", exc.instance_code)
