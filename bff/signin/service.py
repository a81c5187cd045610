"""The embedded sign-in, step by step: the BFF's side of Okta's Interaction Code flow
(``service(request, SIGNIN)``). The endpoints (:mod:`bff.signin.endpoints`) read HTTP and render
:class:`Outcome`s; everything Okta-shaped stays here and below.

    begin()     limits → /v1/interact (PKCE S256, state, nonce) → introspect → [identify]
    step()      transaction of this browser → lock → steps.prepare (nothing sent when it
                refuses) → limits → remediate → _settle()
    (both)      an identifier whose email domain is in BFF_OKTA_IDP_DISCOVERY: a ``redirect``
                step whose ``location`` is /bff/login (federated users use the redirect flow)
    current()   the stored state as a step (no Okta call)
    cancel()    Okta's cancel, then the transaction ends whatever Okta said
    redirect_idp() an IdP the state offers (``redirect-idp``) and the BFF is configured for:
                Okta's cancel, the transaction ended, a ``redirect`` step to /bff/login?idp=
    email_link() the magic link's OTP, submitted when this browser owns the transaction

``_settle`` turns Okta's answer into the outcome: ``successWithInteractionCode`` → the code
redeemed with the verifier, the session established by :mod:`bff.auth.completion` (the same
ID-token validation as ``/bff/callback``, a new session id), the transaction ended; no
remediation left (terminal, expired, denied) → the transaction ended, the messages shown;
otherwise the new state stored (a 4xx IDX answer such as a wrong password is such a state,
with its messages). Okta 429 / 5xx / timeouts propagate as problems (with ``Retry-After``)
and the transaction is kept as it was.

Attempt limits (before Okta's own): every request that would reach Okta counts once per
client IP and, once the identifier is known, once per identifier (normalised: trimmed, lower
case), in fixed windows shared across instances when the store is Redis. The verdict does
not depend on whether the identifier exists, so a known and an unknown one look the same.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from bff.auth.completion import establish_session
from bff.auth.oidc import InvalidGrant, InvalidToken, OIDCClient
from bff.auth.sessions import ManagedSession, SessionManager
from bff.auth.stepup import authorize_params
from bff.auth.transactions import TransactionError
from bff.errors import BadGateway, BadRequest, BFFError, Gone, NotFound, RateLimited
from bff.observability import metrics, tracing
from bff.settings import Settings
from bff.signin.client import IdxClient, IdxRejected
from bff.signin.idx import Form, IdxState, JSONValue, parse_state
from bff.signin.steps import (
    AUTHENTICATOR_STEPS,
    DEFAULT_POLICY,
    FORM_STEPS,
    REDIRECT,
    SELECT_STEPS,
    InvalidSubmission,
    StepPolicy,
    authenticator_key,
    prepare,
    redirect_idp,
    to_step,
)
from bff.signin.transactions import Binding, SigninTransaction, SigninTransactions, transaction_id
from bff.signup.idx_signup import PROFILE_STEPS, IdxSignup
from bff.signup.ratelimit import RateLimiter

log = logging.getLogger("bff.signin")

MAX_IDENTIFIER = 256
#: Okta's email OTPs are 6 digits; accept a little more, never anything but digits.
_OTP_CHARS = frozenset("0123456789")
MAX_OTP = 10


class SigninNotFound(NotFound):
    code = "signin_not_found"
    title = "No sign-in in progress"


class SigninEnded(Gone):
    code = "signin_ended"
    title = "This sign-in has ended"


class SigninRateLimited(RateLimited):
    code = "signin_rate_limited"
    title = "Too many sign-in attempts"


class SigninFailed(BadGateway):
    """The interaction code could not be turned into a valid session (the transaction ends)."""

    code = "signin_failed"
    title = "The sign-in could not be completed"


@dataclass(frozen=True)
class Outcome:
    """What one request produced: the public step, the live transaction (None once it ended:
    success, terminal, cancel) and, on success, the new session with its cookie value."""

    step: dict[str, JSONValue]
    txn: SigninTransaction | None = None
    session: tuple[ManagedSession, str] | None = None


def normalise_identifier(value: str) -> str:
    return value.strip().lower()


class SigninService:
    def __init__(self, settings: Settings, client: IdxClient, transactions: SigninTransactions,
                 oidc: OIDCClient, sessions: SessionManager, limiter: RateLimiter, *,
                 policy: StepPolicy = DEFAULT_POLICY, signup: IdxSignup | None = None) -> None:
        self.settings = settings
        self.client = client
        self.transactions = transactions
        self.oidc = oidc
        self.sessions = sessions
        self.limiter = limiter
        self.policy = policy
        self.signup = signup  # sign-up and progressive profiling (bff.signup.idx_signup)

    # -- limits -------------------------------------------------------------------------------

    async def _hit(self, bucket: str, key: str, limit: int) -> None:
        decision = await self.limiter.hit(bucket, key, limit=limit, window=self.settings.signin.rate_window)
        if not decision.allowed:
            metrics.RATE_LIMITED.inc(bucket)
            raise SigninRateLimited(decision.retry_after, "Too many sign-in attempts; try again later")

    async def _limit(self, client_ip: str | None, identifier: str | None) -> None:
        s = self.settings.signin
        await self._hit("signin-ip", client_ip or "unknown", s.rate_per_ip)
        if identifier:
            await self._hit("signin-identifier", normalise_identifier(identifier), s.rate_per_identifier)

    # -- the transaction of this browser --------------------------------------------------------

    async def find(self, binding: Binding | None, named: str | None, *, for_post: bool) -> SigninTransaction:
        """The transaction ``named`` (the ``X-BFF-Signin`` header), else the browser's latest.
        No binding cookie, or a transaction of another browser: 404. Gone (ended or expired;
        the store keeps no tombstone, so also an id that never existed): 410 for a POST, 404
        for a GET ("no current step")."""
        txn_id = named or (binding.current if binding is not None else None)
        if binding is None or txn_id is None:
            raise SigninNotFound("No sign-in is in progress in this browser")
        txn = await self.transactions.get(txn_id)
        if txn is None or not self.transactions.belongs(txn, binding):
            if for_post and txn is None:
                raise SigninEnded("This sign-in has ended (signed in, cancelled or expired); start again")
            raise SigninNotFound("No such sign-in in this browser")
        return txn

    # -- begin ---------------------------------------------------------------------------------

    async def begin(self, *, binding: str, return_to: str, scopes: tuple[str, ...],
                    identifier: str | None, client_ip: str | None, invitation: object = None) -> Outcome:
        """``invitation``: the code of an invitation the browser arrived with (a sign-up into an
        organisation); checked now (unknown, expired, revoked, used: a 422 before Okta is
        asked), bound to the address at ``enroll-profile``, redeemed at ``success``."""
        if identifier is not None and (not identifier.strip() or len(identifier) > MAX_IDENTIFIER
                                       or not identifier.isprintable()):
            raise BadRequest("identifier must be a non-empty printable string of at most "
                             f"{MAX_IDENTIFIER} characters", code="invalid_identifier")
        federated = self._federated(identifier, return_to, scopes)
        if federated is not None:
            return federated
        await self._limit(client_ip, identifier)
        code = None
        if self.signup is not None and invitation is not None:
            code = await self.signup.invitation(invitation)
        txn = self.transactions.new(binding=binding, return_to=return_to, scopes=scopes)
        if code is not None:
            txn = replace(txn, invitation=code)
        stepup = authorize_params(self.settings, scopes)  # a step-up: acr_values + max_age
        max_age = stepup.get("max_age")
        handle = await self.client.interact(code_verifier=txn.code_verifier, state=txn.state, scopes=scopes,
                                            nonce=txn.nonce, acr_values=stepup.get("acr_values"),
                                            max_age=int(max_age) if max_age else None, client_ip=client_ip)
        state = await self.client.introspect(interaction_handle=handle, client_ip=client_ip)
        if state.terminal or state.interaction_code is not None:
            return await self._settle(txn, state, None, stored=False)
        txn = await self.transactions.create(txn, state.raw, state.expires_at)
        log.info("sign-in started")
        if identifier is None:
            return self._present(txn, state)
        request = prepare(state, "identify", {"identifier": identifier}, policy=self.policy)
        return await self._send(txn, request.form, request.body, identifier, client_ip)

    def _federated(self, identifier: str | None, return_to: str, scopes: tuple[str, ...]) -> Outcome | None:
        """A ``redirect`` step to ``/bff/login`` (which maps the domain to its IdP, as for a
        redirect login) when ``BFF_OKTA_IDP_DISCOVERY`` names the identifier's email domain."""
        if not identifier or "@" not in identifier:
            return None
        domain = identifier.strip().rpartition("@")[2].lower()
        if domain not in self.settings.okta.idp_discovery:
            return None
        params = [("returnTo", return_to), ("login_hint", identifier.strip())]
        extra = " ".join(s for s in scopes if s not in self.settings.okta.scopes)
        if extra:
            params.append(("scope", extra))
        log.info("identifier of a federated domain: continuing with the redirect flow")
        return Outcome({"step": REDIRECT, "fields": [], "alternatives": [], "messages": [],
                        "location": "/bff/login?" + urlencode(params)})

    # -- steps ---------------------------------------------------------------------------------

    async def current(self, binding: Binding | None, named: str | None) -> Outcome:
        txn = await self.find(binding, named, for_post=False)
        return self._present(txn, parse_state(txn.idx))

    async def step(self, binding: Binding | None, named: str | None, remediation: str, values: object, *,
                   client_ip: str | None) -> Outcome:
        """One remediation; a ``signin.step`` span and ``bff_signin_steps_total{remediation,
        outcome}`` (a remediation the BFF does not know counts as ``other``; outcome ``next``,
        ``success``, ``ended`` or the error's code), never the identifier or any value."""
        known = remediation in FORM_STEPS or remediation in AUTHENTICATOR_STEPS or remediation in SELECT_STEPS
        label = remediation if known else "other"
        with tracing.span("signin.step", {"bff.signin.remediation": label}) as sp:
            try:
                outcome = await self._step(binding, named, remediation, values, client_ip=client_ip)
            except BFFError as exc:
                metrics.SIGNIN_STEPS.inc(label, exc.instance_code)
                tracing.note(sp, "bff.signin.outcome", exc.instance_code)
                raise
            result = ("success" if outcome.session is not None
                      else "next" if outcome.txn is not None else "ended")
            metrics.SIGNIN_STEPS.inc(label, result)
            tracing.note(sp, "bff.signin.outcome", result)
            return outcome

    async def _step(self, binding: Binding | None, named: str | None, remediation: str, values: object, *,
                    client_ip: str | None) -> Outcome:
        txn = await self.find(binding, named, for_post=True)
        async with self.transactions.lock(txn.id):
            fresh = await self.transactions.get(txn.id)  # what the last holder of the lock wrote
            if fresh is None:
                raise SigninEnded("This sign-in has ended; start again")
            txn = fresh
            state = parse_state(txn.idx)
            if self.signup is not None and remediation in PROFILE_STEPS:
                values = self.signup.check(remediation, values)  # the BFF's rules before Okta's
                if remediation == "enroll-profile":  # the invitation is for this address only
                    await self.signup.check_invitation(txn.invitation, values)
            request = prepare(state, remediation, values, policy=self.policy)  # refuses before sending
            if remediation == "enroll-profile" and not txn.registering:
                txn = replace(txn, registering=True)
            if self.signup is not None and remediation == "profile-update":
                txn = replace(txn, profiled=self.signup.progressive_names(values))
            elif remediation == "skip" and txn.profiled and any(
                    f.name == "profile-update" for f in state.remediations):
                txn = replace(txn, profiled=())  # Okta refused the answer, then the user skipped
            identifier = None
            if remediation in ("identify", "identify-recovery") and isinstance(values, dict):
                raw = values.get("identifier")
                identifier = raw if isinstance(raw, str) else None
            federated = self._federated(identifier, txn.return_to, txn.scopes)
            if federated is not None:  # the IdP-discovery map sends this user to their IdP
                await self.transactions.end(txn.id)
                return federated
            await self._limit(client_ip, identifier or txn.identifier)
            return await self._send(txn, request.form, request.body, identifier, client_ip)

    async def cancel(self, binding: Binding | None, named: str | None, *, client_ip: str | None) -> Outcome:
        txn = await self.find(binding, named, for_post=True)
        async with self.transactions.lock(txn.id):
            await self._cancel_at_okta(txn, client_ip)
        log.info("sign-in cancelled")
        return Outcome({"step": "terminal", "fields": [], "alternatives": [], "messages": []})

    async def _cancel_at_okta(self, txn: SigninTransaction, client_ip: str | None) -> None:
        """Okta's cancel, then ours ends whatever Okta said (Okta's expires on its own)."""
        try:
            state = parse_state(txn.idx)
            if state.state_handle is not None:
                await self.client.cancel(state, client_ip=client_ip)
        except BFFError as exc:
            log.info("okta cancel failed: %s", exc.instance_code)
        finally:
            await self.transactions.end(txn.id)

    async def redirect_idp(self, binding: Binding | None, named: str | None, values: object, *,
                           client_ip: str | None) -> Outcome:
        """``{"idp": "<id>"}``: one of the current step's ``idps`` (else 400
        ``invalid_submission``, nothing sent). The IDX transaction is cancelled at Okta and
        ours ended; the browser continues with the redirect flow at that IdP
        (``/bff/login?idp=...&returnTo=...``, the same ``redirect`` step as IdP discovery)."""
        txn = await self.find(binding, named, for_post=True)
        idp = _idp_value(values)
        async with self.transactions.lock(txn.id):
            fresh = await self.transactions.get(txn.id)
            if fresh is None:
                raise SigninEnded("This sign-in has ended; start again")
            form = redirect_idp(parse_state(fresh.idx), idp, self.policy)
            assert form.idp is not None  # redirect_idp() returns only forms with one
            await self._limit(client_ip, None)
            await self._cancel_at_okta(fresh, client_ip)
        params = [("idp", form.idp.id), ("returnTo", fresh.return_to)]
        extra = " ".join(s for s in fresh.scopes if s not in self.settings.okta.scopes)
        if extra:
            params.append(("scope", extra))
        log.info("sign-in continues with the redirect flow at an IdP Okta offered")
        return Outcome({"step": REDIRECT, "fields": [], "alternatives": [], "messages": [],
                        "location": "/bff/login?" + urlencode(params)})

    # -- the email magic link ----------------------------------------------------------------

    async def email_link(self, binding: Binding | None, state_param: str, otp: str, *,
                         client_ip: str | None) -> Outcome | None:
        """Submit the magic link's OTP when this browser owns the transaction and its step asks
        for the email code; None otherwise (the caller shows the code for the original tab)."""
        if not otp or len(otp) > MAX_OTP or not set(otp) <= _OTP_CHARS or len(state_param) > 512:
            return None
        txn = await self.transactions.get(transaction_id(state_param))
        if txn is None or not self.transactions.belongs(txn, binding):
            return None
        state = parse_state(txn.idx)
        name = _email_code_step(state)
        if name is None:
            return None
        try:
            return await self.step(Binding(txn.binding, txn.id), txn.id, name,
                                   {"credentials.passcode": otp}, client_ip=client_ip)
        except (BadRequest, SigninEnded, SigninNotFound) as exc:
            log.info("magic link not applied: %s", exc.instance_code)
            return None

    # -- Okta's answer -------------------------------------------------------------------------

    async def _send(self, txn: SigninTransaction, form: Form, body: dict[str, JSONValue],
                    identifier: str | None, client_ip: str | None) -> Outcome:
        try:
            state = await self.client.remediate(form, body, client_ip=client_ip)
        except IdxRejected as exc:
            state = exc.state  # a wrong password, an expired handle, access denied: show it
        return await self._settle(txn, state, identifier, stored=True)

    async def _settle(self, txn: SigninTransaction, state: IdxState, identifier: str | None, *,
                      stored: bool) -> Outcome:
        code = state.interaction_code
        if code is not None:
            try:
                return await self._finish(txn, state, code)
            finally:
                if stored:
                    await self.transactions.end(txn.id)
        if state.terminal or state.state_handle is None:
            if stored:
                await self.transactions.end(txn.id)
            log.info("sign-in ended at a terminal state: %s",
                     ",".join(m.key or "?" for m in state.messages)[:200] or "-")
            return Outcome(to_step(state, policy=self.policy))
        txn = await self.transactions.update(txn, state.raw, state.expires_at, identifier=identifier)
        return self._present(txn, state)

    async def _finish(self, txn: SigninTransaction, state: IdxState, code: str) -> Outcome:
        try:
            tokens = await self.client.exchange_interaction_code(code, txn.code_verifier)
            session = await establish_session(self.oidc, self.sessions, tokens, nonce=txn.nonce,
                                              not_before=txn.created_at, scopes=txn.scopes)
        except InvalidGrant as exc:
            log.warning("interaction code refused: %s", exc.instance_code)
            raise SigninFailed("Okta refused the interaction code; start again") from None
        except (InvalidToken, TransactionError) as exc:
            log.warning("ID token of the embedded sign-in rejected: %s", exc)
            raise SigninFailed("The identity provider's answer failed validation; start again") from None
        if txn.registering and self.signup is not None:
            principal = session[0].principal
            await self.signup.verified(principal.user_id, principal.email or principal.login,
                                       invitation=txn.invitation)
        elif txn.profiled and self.signup is not None:
            await self.signup.profiled(session[0].principal.user_id, txn.profiled)
        log.info("signed in (embedded; session created)")
        step = to_step(state, policy=self.policy, location=txn.return_to)  # holds no code
        return Outcome(step, None, session)

    def _present(self, txn: SigninTransaction, state: IdxState) -> Outcome:
        step = to_step(state, policy=self.policy)
        step["transaction"] = txn.id
        return Outcome(step, txn)


def _idp_value(values: object) -> str:
    """The ``idp`` of a ``redirect-idp`` submission, the only member it may have."""
    if not isinstance(values, dict):
        raise InvalidSubmission([{"field": "", "code": "not_an_object"}])
    unknown = [k for k in values if k != "idp"]
    if unknown:
        raise InvalidSubmission([{"field": k if isinstance(k, str) and len(k) <= 64 and k.isidentifier()
                                  else "(invalid name)", "code": "unknown_field"} for k in unknown[:20]])
    idp = values.get("idp")
    if idp is None:
        raise InvalidSubmission([{"field": "idp", "code": "required"}])
    if not isinstance(idp, str):
        raise InvalidSubmission([{"field": "idp", "code": "type"}])
    return idp


def _email_code_step(state: IdxState) -> str | None:
    """The remediation that takes the email code, when the current authenticator is email."""
    for form in state.remediations:
        if form.name not in ("challenge-authenticator", "enroll-authenticator"):
            continue
        related = form.relates_to[0] if form.relates_to else (
            state.current_authenticator_enrollment or state.current_authenticator)
        if authenticator_key(related) == "okta_email":
            return form.name
    return None
