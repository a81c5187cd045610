"""The admin step-up: what a grant of a step-up scope (``BFF_OKTA_STEPUP_SCOPES``, ``admin``)
requires, and how long it lasts.

1. Asking. A sign-in that asks for a step-up scope asks Okta for a recent, multi-factor
   authentication: ``max_age=BFF_ADMIN_MAX_AGE`` (default 600 s: an Okta session older than
   that must sign in again) and ``acr_values=BFF_SIGNIN_STEPUP_ACR``
   (``urn:okta:loa:2fa:any``), on ``/v1/authorize`` (the redirect login) and on
   ``/v1/interact`` (the embedded sign-in; okta-auth-js sends both there too).
2. Checking. Okta may still answer without either (a policy that allows one factor, a
   ``prompt=none`` on an old session at a misconfigured org): :func:`check_step_up` refuses a
   token response that grants a step-up scope unless its ID token carries an ``auth_time`` at
   most ``BFF_ADMIN_MAX_AGE`` (+ clock skew) old and proves several factors (``amr`` holds
   ``mfa``, or two distinct factor methods, or ``acr`` is one of :data:`MULTI_FACTOR_ACR`).
   Refused: 403 ``step_up_required`` (the redirect callback: ``/?auth_error=step_up_required``),
   no session with the scope is created and its refresh token is revoked.
3. Expiring. The grant lasts ``BFF_ADMIN_SCOPE_TTL`` (default 30 min) from the sign-in. On the
   first request after that, before anything reads the session, the session manager refreshes
   it down to the normal scopes (``BFF_OKTA_SCOPES``; Okta accepts a narrower ``scope`` on the
   refresh grant): the proxy's role checks see the reduced token, ``/bff/user`` says
   ``admin: false``, and the SPA asks for the step-up again. If that refresh cannot be done the
   session never keeps the scope: ``invalid_grant``/refused scope end the session, an
   unreachable Okta is 503 until it answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bff.errors import Forbidden
from bff.settings import OktaSettings, Settings

#: ``acr`` values that mean more than one factor (Okta's, and OIDC EAP's phishing-resistant ones).
MULTI_FACTOR_ACR = frozenset({"urn:okta:loa:2fa:any", "urn:okta:loa:2fa:any:ifpossible:satisfied",
                              "phr", "phrh", "http://schemas.openid.net/pape/policies/2007/06/multi-factor"})
#: ``amr`` method values (RFC 8176) that are factors of their own kind.
_FACTORS = frozenset({"pwd", "otp", "sms", "tel", "hwk", "swk", "pop", "fpt", "face", "iris", "kba",
                      "pin", "sc", "user", "mca", "geo", "vbm", "wia", "email"})


class StepUpRequired(Forbidden):
    code = "step_up_required"


def step_up_scopes(okta: OktaSettings, scopes: Iterable[str]) -> list[str]:
    """The step-up scopes among ``scopes``."""
    return [s for s in scopes if s in okta.stepup_scopes]


def authorize_params(settings: Settings, scopes: Iterable[str]) -> dict[str, str]:
    """The extra ``/v1/authorize`` or ``/v1/interact`` parameters of a sign-in for ``scopes``."""
    if not step_up_scopes(settings.okta, scopes):
        return {}
    params = {"max_age": str(settings.okta.admin_max_age)}
    if settings.signin.stepup_acr:
        params["acr_values"] = settings.signin.stepup_acr
    return params


def multi_factor(id_claims: Mapping[str, Any]) -> bool:
    amr = id_claims.get("amr")
    methods = {m for m in amr if isinstance(m, str)} if isinstance(amr, list) else set()
    if "mfa" in methods or len(methods & _FACTORS) >= 2:
        return True
    return id_claims.get("acr") in MULTI_FACTOR_ACR


def check_step_up(okta: OktaSettings, id_claims: Mapping[str, Any], granted: Iterable[str], *,
                  now: float) -> None:
    """Raise :class:`StepUpRequired` when ``granted`` holds a step-up scope that the ID token's
    authentication does not justify (see the module docstring)."""
    if not step_up_scopes(okta, granted):
        return
    auth_time = id_claims.get("auth_time")
    if isinstance(auth_time, bool) or not isinstance(auth_time, int | float):
        raise StepUpRequired("The step-up needs a recent sign-in (no auth_time)")
    if now - float(auth_time) > okta.admin_max_age + okta.clock_skew:
        raise StepUpRequired("The step-up needs a recent sign-in; sign in again")
    if not multi_factor(id_claims):
        raise StepUpRequired("The step-up needs a multi-factor sign-in")
