"""The twin's WebAuthn authenticator (passkeys) in Okta's IDX shapes, verified by py_webauthn.

What Okta's IDX shows for ``webauthn`` (the mocks in ``tests/fixtures/okta-idx/``:
``authenticator-enroll-webauthn.json``, ``authenticator-verification-webauthn.json``,
``error-authenticator-webauthn-failure.json``), and what the twin answers the same way:

    select-authenticator-enroll   option {id, methodType: "webauthn"} (+ ``skip``: the policy
                                  offers a passkey, it does not demand one)
    enroll-authenticator          currentAuthenticator.value.contextualData.activationData =
                                  the creation options {rp: {id, name}, user: {id, name,
                                  displayName}, challenge, pubKeyCredParams, attestation,
                                  authenticatorSelection, timeout}; the form's credentials:
                                  clientData, attestation, transports, clientExtensions
    challenge-authenticator       currentAuthenticator.value.contextualData.challengeData =
                                  the request options {challenge, rpId, userVerification,
                                  timeout}; the user's credential ids on their
                                  ``authenticatorEnrollments`` entries (``credentialId``);
                                  the form's credentials: clientData, authenticatorData,
                                  signatureData

Binary values are base64url without padding (what okta-auth-js's ``getAttestation`` /
``getAssertion`` post); ``transports`` and ``clientExtensions`` are JSON strings.

The relying party. A browser runs the ceremony only when the RP id is the page's host or a
registrable suffix of it, and the authenticator signs the page's origin into the client data.
The twin's RP id is the host of the interaction's ``redirect_uri`` (the app: the BFF's public
URL, ``localhost`` in ``bff dev``), the expected origin that URI's ``scheme://host[:port]``;
:attr:`Passkeys.rp_id` / :attr:`Passkeys.origins` override them (real Okta's RP id is its own
domain, or a custom domain's: see docs/signin.md). Verification is py_webauthn's,
``verify_registration_response`` / ``verify_authentication_response``, never by hand. Each
challenge is single use: consumed by the first answer, right or wrong, so a replayed answer
meets a new challenge.

Refusals are 400 with a global message under Okta's keys (the widget's i18n tests list them):
``authfactor.webauthn.error.clientdata_challenge_mismatch`` (a replayed or stale answer),
``...clientdata_origin_mismatch`` (params: the client data's origin), ``...clientdata_message_
type_mismatch``, ``...clientdata_parsing_failed``, ``...assertion_validation_failure`` (no
enrolled credential validates the assertion: a bad signature, an unknown key, a sign count that
went backwards), ``...invalid_enrollment_request_data`` (an attestation py_webauthn refuses).

The seeded policy (:data:`PASSKEY_LOGINS`): pia is offered a passkey after her password while
she has none, and then signs in with it alone (:attr:`Passkeys.passwordless`: identify →
webauthn challenge → success). One passkey per user in the twin.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from webauthn import verify_authentication_response, verify_registration_response
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    parse_attestation_object,
    parse_client_data_json,
)
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticationCredential,
    AuthenticatorAssertionResponse,
    AuthenticatorAttestationResponse,
    AuthenticatorTransport,
    ClientDataType,
    RegistrationCredential,
)

from bff_dev.twins.okta.directory import User

KEY = "webauthn"
#: Authenticator id, display name, type and method type (as idx.AUTHENTICATORS lists them).
AUTHENTICATOR = ("autwebauthn000000001", "Security Key or Biometric", "security_key", "webauthn")
#: Who the seeded policy offers a passkey to (after the password, while they have none).
PASSKEY_LOGINS = frozenset({"pia@acme.test"})
#: COSE algorithms offered in the creation options: ES256, RS256 (as Okta's mock).
PUB_KEY_ALGS = (-7, -257)
TIMEOUT_MS = 60000
_PREFIX = "authfactor.webauthn.error."

#: ``form(name, path, fields, relatesTo)`` -> an IDX form of the interaction (idx.IdxEndpoints._form).
FormMaker = Callable[[str, str, list[dict[str, Any]], list[str] | None], dict[str, Any]]


def _hidden(name: str, label: str) -> dict[str, Any]:
    return {"name": name, "label": label, "required": True, "visible": False}


#: The credentials of ``enroll-authenticator`` (the order and flags of Okta's mock).
ENROLL_FIELDS = (_hidden("clientData", "Client Data"), _hidden("attestation", "Attestation"),
                 _hidden("transports", "Transports"), _hidden("clientExtensions", "clientExtensions"))
#: The credentials of ``challenge-authenticator``.
CHALLENGE_FIELDS = (_hidden("clientData", "Client Data"), _hidden("authenticatorData", "Authenticator Data"),
                    _hidden("signatureData", "Signature Data"))


class WebAuthnRefused(Exception):
    """A ceremony the twin refuses; :attr:`message` is the IDX message (Okta's key)."""

    def __init__(self, reason: str, text: str, params: list[Any] | None = None) -> None:
        super().__init__(reason)
        i18n: dict[str, Any] = {"key": _PREFIX + reason}
        if params is not None:
            i18n["params"] = params
        self.message: dict[str, Any] = {"message": text, "i18n": i18n, "class": "ERROR"}


@dataclass
class Credential:
    id: bytes
    public_key: bytes = field(repr=False)  # COSE
    sign_count: int
    enrollment_id: str
    transports: tuple[str, ...] = ()


@dataclass(frozen=True)
class RelyingParty:
    id: str
    origins: tuple[str, ...]


def _strings(creds: object, *names: str) -> dict[str, str]:
    if not isinstance(creds, dict):
        creds = {}
    return {n: v if isinstance(v := creds.get(n), str) else "" for n in names}


def _b64(value: str) -> bytes:
    try:
        return base64url_to_bytes(value)
    except ValueError as exc:
        raise WebAuthnRefused("clientdata_parsing_failed", "Client data parsing failed") from exc


def _transports(raw: str) -> list[AuthenticatorTransport]:
    try:
        items = json.loads(raw) if raw else []
    except ValueError:
        return []
    known = {t.value: t for t in AuthenticatorTransport}
    return [known[t] for t in items if isinstance(t, str) and t in known] if isinstance(items, list) else []


class Passkeys:
    """The org's WebAuthn authenticator: its policy knobs, the enrolled credentials and the
    open challenges (per state handle)."""

    def __init__(self) -> None:
        # -- knobs --
        self.enabled = True  # the authenticator exists in the org
        self.enroll_logins: set[str] = set(PASSKEY_LOGINS)  # offered a passkey after the password
        self.passwordless = True  # a passkey alone signs in (else: a factor after the password)
        self.rp_id: str | None = None  # default: the host of the interaction's redirect_uri
        self.origins: tuple[str, ...] | None = None  # default: the redirect_uri's origin
        self.user_verification = "preferred"
        self.rp_name = "BFF"
        # -- state --
        self.credentials: dict[str, list[Credential]] = {}  # user id -> passkeys
        self.challenges: dict[str, bytes] = {}  # state handle -> the open challenge
        self.skipped: set[str] = set()  # state handles whose user skipped the offer

    # -- policy ---------------------------------------------------------------------------------

    def relying_party(self, redirect_uri: str) -> RelyingParty:
        parts = urlsplit(redirect_uri)
        origin = f"{parts.scheme}://{parts.netloc}"
        return RelyingParty(self.rp_id or parts.hostname or "localhost", self.origins or (origin,))

    def has_passkey(self, user: User) -> bool:
        return bool(self.credentials.get(user.id))

    def offers_enrollment(self, user: User, state_handle: str) -> bool:
        """The policy offers ``user`` a passkey now (once the sign-on policy is met)."""
        return (self.enabled and user.login.lower() in self.enroll_logins and not self.has_passkey(user)
                and state_handle not in self.skipped)

    def skip(self, state_handle: str) -> None:
        self.skipped.add(state_handle)

    # -- shapes ---------------------------------------------------------------------------------

    def authenticator(self) -> dict[str, Any]:
        aut_id, name, kind, method = AUTHENTICATOR
        return {"type": kind, "key": KEY, "id": aut_id, "displayName": name, "methods": [{"type": method}]}

    def enrollment(self, user: User) -> dict[str, Any]:
        """What an ``authenticatorEnrollments`` entry of the user's passkey adds (as Okta's)."""
        creds = self.credentials.get(user.id) or []
        if not creds:
            return {}
        return {"credentialId": bytes_to_base64url(creds[0].id), "authenticatorId": AUTHENTICATOR[0],
                "transports": list(creds[0].transports)}

    def _challenge(self, state_handle: str) -> bytes:
        found = self.challenges.get(state_handle)
        if found is None:
            found = self.challenges[state_handle] = secrets.token_bytes(32)
        return found

    def select_option(self, relates_to: str) -> dict[str, Any]:
        return {"label": AUTHENTICATOR[1], "relatesTo": relates_to, "value": {"form": {"value": [
            {"name": "id", "required": True, "value": AUTHENTICATOR[0], "mutable": False, "visible": False},
            {"name": "methodType", "required": False, "value": KEY, "mutable": False, "visible": False}]}}}

    def offer_state(self, doc: dict[str, Any], form: FormMaker, cancel: dict[str, Any]) -> dict[str, Any]:
        """``select-authenticator-enroll`` with the passkey, and ``skip``."""
        select = form("select-authenticator-enroll", "credential/enroll", [
            {"name": "authenticator", "type": "object", "required": True,
             "options": [self.select_option("$.authenticators.value[0]")]}], None)
        doc["remediation"] = {"type": "array", "value": [select, form("skip", "skip", [], None)]}
        doc["authenticators"] = {"type": "array", "value": [self.authenticator()]}
        doc["cancel"] = cancel
        return doc

    def enroll_state(self, doc: dict[str, Any], user: User, redirect_uri: str, state_handle: str,
                     form: FormMaker, cancel: dict[str, Any]) -> dict[str, Any]:
        """``enroll-authenticator`` with the creation options in ``activationData``."""
        rp = self.relying_party(redirect_uri)
        current = {k: v for k, v in self.authenticator().items() if k != "methods"}  # as Okta's mock
        current["contextualData"] = {"activationData": {
            "rp": {"id": rp.id, "name": self.rp_name},
            "user": {"id": bytes_to_base64url(user.id.encode()), "name": user.login,
                     "displayName": " ".join(str(user.profile.get(k, "")) for k in ("firstName", "lastName"))
                     .strip() or user.login},
            "challenge": bytes_to_base64url(self._challenge(state_handle)),
            "pubKeyCredParams": [{"type": "public-key", "alg": alg} for alg in PUB_KEY_ALGS],
            "attestation": "direct",
            "authenticatorSelection": {"userVerification": self.user_verification,
                                       "residentKey": "preferred"},
            "timeout": TIMEOUT_MS}}
        enroll = form("enroll-authenticator", "challenge/answer", [
            {"name": "credentials", "form": {"value": [dict(f) for f in ENROLL_FIELDS]}}],
            ["$.currentAuthenticator"])
        select = self.offer_state({}, form, cancel)["remediation"]["value"][0]
        doc["remediation"] = {"type": "array", "value": [enroll, select]}
        doc["currentAuthenticator"] = {"type": "object", "value": current}
        doc["authenticators"] = {"type": "array", "value": [self.authenticator()]}
        doc["cancel"] = cancel
        return doc

    def challenge_state(self, doc: dict[str, Any], redirect_uri: str, state_handle: str, form: FormMaker,
                        select: dict[str, Any], enrollments: list[dict[str, Any]],
                        cancel: dict[str, Any]) -> dict[str, Any]:
        """``challenge-authenticator`` with the request options in ``challengeData``."""
        rp = self.relying_party(redirect_uri)
        current = self.authenticator()
        current["contextualData"] = {"challengeData": {
            "challenge": bytes_to_base64url(self._challenge(state_handle)), "rpId": rp.id,
            "userVerification": self.user_verification, "timeout": TIMEOUT_MS}}
        answer = form("challenge-authenticator", "challenge/answer", [
            {"name": "credentials", "type": "object", "required": True,
             "form": {"value": [dict(f) for f in CHALLENGE_FIELDS]}}], ["$.currentAuthenticator"])
        doc["remediation"] = {"type": "array", "value": [answer, select]}
        doc["currentAuthenticator"] = {"type": "object", "value": current}
        doc["authenticators"] = {"type": "array", "value": [self.authenticator()]}
        doc["authenticatorEnrollments"] = {"type": "array", "value": enrollments}
        doc["cancel"] = cancel
        return doc

    # -- ceremonies -----------------------------------------------------------------------------

    def _refusal(self, client_data: bytes, expected_type: str, challenge: bytes, rp: RelyingParty,
                 fallback: WebAuthnRefused) -> WebAuthnRefused:
        """Which of Okta's messages a refused ceremony gets (py_webauthn has refused it already)."""
        try:
            data = parse_client_data_json(client_data)
        except Exception:  # noqa: BLE001 (py_webauthn raises several types for a broken JSON)
            return WebAuthnRefused("clientdata_parsing_failed", "Client data parsing failed")
        if data.type != expected_type:
            return WebAuthnRefused("clientdata_message_type_mismatch",
                                   "Message type in client data doesn't match expected message type.")
        if data.challenge != challenge:
            return WebAuthnRefused("clientdata_challenge_mismatch",
                                   "Challenge in client data doesn't match with server side value")
        if data.origin not in rp.origins:
            return WebAuthnRefused("clientdata_origin_mismatch", "Origin parameter in client data doesn't "
                                   f"match. clientData origin was {data.origin[:200]}", [data.origin[:200]])
        return fallback

    def register(self, user: User, enrollment_id: str, redirect_uri: str, state_handle: str,
                 creds: object) -> Credential:
        """Verify an attestation (``credentials`` of ``enroll-authenticator``) and keep the passkey.
        Raises :class:`WebAuthnRefused`; the challenge is consumed either way."""
        values = _strings(creds, "clientData", "attestation", "transports")
        challenge = self.challenges.pop(state_handle, b"")
        rp = self.relying_party(redirect_uri)
        client_data, attestation = _b64(values["clientData"]), _b64(values["attestation"])
        invalid = WebAuthnRefused("invalid_enrollment_request_data",
                                  "Invalid data in the WebAuthn enrollment request.")
        try:
            attested = parse_attestation_object(attestation).auth_data.attested_credential_data
        except Exception:  # noqa: BLE001 (a broken CBOR document: many exception types)
            attested = None
        raw_id = attested.credential_id if attested is not None else b""
        transports = _transports(values["transports"])
        try:
            verified = verify_registration_response(
                credential=RegistrationCredential(
                    id=bytes_to_base64url(raw_id), raw_id=raw_id,
                    response=AuthenticatorAttestationResponse(client_data_json=client_data,
                                                              attestation_object=attestation,
                                                              transports=transports)),
                expected_challenge=challenge, expected_rp_id=rp.id, expected_origin=list(rp.origins),
                require_user_verification=self.user_verification == "required")
        except InvalidRegistrationResponse as exc:
            raise self._refusal(client_data, ClientDataType.WEBAUTHN_CREATE, challenge, rp, invalid) from exc
        credential = Credential(id=verified.credential_id, public_key=verified.credential_public_key,
                                sign_count=verified.sign_count, enrollment_id=enrollment_id,
                                transports=tuple(t.value for t in transports))
        self.credentials.setdefault(user.id, []).append(credential)
        return credential

    def authenticate(self, user: User, redirect_uri: str, state_handle: str, creds: object) -> Credential:
        """Verify an assertion (``credentials`` of ``challenge-authenticator``) against each of
        the user's passkeys (IDX's form carries no credential id, as Okta's); the sign count
        must grow. Raises :class:`WebAuthnRefused`; the challenge is consumed either way."""
        values = _strings(creds, "clientData", "authenticatorData", "signatureData")
        challenge = self.challenges.pop(state_handle, b"")
        rp = self.relying_party(redirect_uri)
        client_data = _b64(values["clientData"])
        authenticator_data, signature = _b64(values["authenticatorData"]), _b64(values["signatureData"])
        failed = WebAuthnRefused("assertion_validation_failure", "None of the WebAuthn authenticators the "
                                 "user has enrolled for was able to validate the assertion")
        last: Exception | None = None
        for credential in self.credentials.get(user.id, []):
            try:
                verified = verify_authentication_response(
                    credential=AuthenticationCredential(
                        id=bytes_to_base64url(credential.id), raw_id=credential.id,
                        response=AuthenticatorAssertionResponse(
                            client_data_json=client_data, authenticator_data=authenticator_data,
                            signature=signature)),
                    expected_challenge=challenge, expected_rp_id=rp.id, expected_origin=list(rp.origins),
                    credential_public_key=credential.public_key,
                    credential_current_sign_count=credential.sign_count,
                    require_user_verification=self.user_verification == "required")
            except InvalidAuthenticationResponse as exc:
                last = exc
                continue
            credential.sign_count = verified.new_sign_count
            return credential
        raise self._refusal(client_data, ClientDataType.WEBAUTHN_GET, challenge, rp, failed) from last
