"""The twin's profile enrollment policy on the Identity Engine: self-service registration through
IDX, and progressive profiling at later sign-ins, in Okta's shapes.

    POST /idp/idx/enroll               select-enroll-profile (offered beside ``identify``)
    POST /idp/idx/enroll/new           enroll-profile {"userProfile": {email, firstName, lastName}
                                                       [, "credentials": {"passcode"}]}
    POST /idp/idx/enroll/update        profile-update {"userProfile": {company?, title?, ...}}

The registration (``select-enroll-profile`` → ``enroll-profile`` with :attr:`attributes` →
the email authenticator: ``enroll-authenticator`` for ``okta_email``, a 6-digit code and a
magic link in the twin's outbox → ``enroll-authenticator`` for ``okta_password`` with the
policy's complexity → success). The user is created ``STAGED`` at ``enroll-profile`` (LogEvent
``user.lifecycle.create``) and becomes ``ACTIVE`` only once the email is verified AND the
password set (``user.lifecycle.activate``): an unverified address is never ACTIVE. Policy knobs:

* :attr:`enabled`: ``select-enroll-profile`` is offered (Okta: "Sign-up" in the policy);
* :attr:`attributes`: asked at registration (``enroll-profile-new.json`` shape);
* :attr:`password_with_profile`: the password is asked in the ``enroll-profile`` form
  (``enroll-profile-with-password.json``), before the email;
* :attr:`verification`: ``"inline"`` (the email step in the flow) or ``"terminal"`` (Okta's
  "email verification before access": ``terminal-registration.json``
  ``idx.email.verification.required``, the link in the email activates the account; used with
  :attr:`password_with_profile`, since nothing else asks for the password then);
* :attr:`later`: asked at a LATER sign-in of a self-registered user while missing, through
  ``profile-update`` (``enroll-profile-update-params.json``), with ``skip`` while optional
  (:attr:`later_required` makes them required, no skip). Answers go into the user's profile
  (LogEvent ``user.account.update_profile``).

A taken email answers 400 with ``registration.error.notUniqueWithinOrg`` on
``userProfile.email`` (``error-new-signup-email-exists.json``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bff_dev.twins.okta.directory import User, hash_password, okta_id
from bff_dev.twins.okta.idx import Interaction, idx_message
from bff_dev.twins.okta.profile import validate_profile

if TYPE_CHECKING:
    from bff_dev.twins.okta.hooks import EventHooks
    from bff_dev.twins.okta.idx import IdxEndpoints

#: Labels Okta's profile enrollment shows for each attribute (the BFF ignores them).
LABELS = {"email": "Email", "firstName": "First name", "lastName": "Last name", "company": "Company",
          "title": "Job title", "mobilePhone": "Mobile phone", "countryCode": "Country"}


@dataclass
class Enrollment:
    """One registration in progress (per interaction)."""

    stage: str = "profile"  # profile | email | password | done | terminal
    user_id: str | None = None
    password: bytes | None = field(default=None, repr=False)  # hashed, when asked with the profile


class IdxRegistration:
    """The profile enrollment policy, plugged into :class:`~bff_dev.twins.okta.idx.IdxEndpoints`
    (its ``extension``); ``hooks`` records the LogEvents."""

    def __init__(self, idx: IdxEndpoints, hooks: EventHooks) -> None:
        self.idx = idx
        self.hooks = hooks
        # -- knobs (the policy) --
        self.enabled = True
        self.attributes: tuple[str, ...] = ("email", "firstName", "lastName")
        self.password_with_profile = False
        self.verification = "inline"  # or "terminal"
        self.later: tuple[str, ...] = ("company", "title", "mobilePhone", "countryCode")
        self.later_required = False
        # -- state --
        self.enrollments: dict[str, Enrollment] = {}  # state handle -> registration in progress
        self.registered: set[str] = set()  # user ids who registered here (progressive policy)
        self.profiled: set[str] = set()  # state handles whose profile-update was answered/skipped
        self.activation_tokens: dict[str, str] = {}  # token -> user id ("terminal" verification)

    def routes(self) -> list[BaseRoute]:
        idx = self.idx
        return [
            Route("/idp/idx/enroll", idx._handler(self._select), methods=["POST"]),
            Route("/idp/idx/enroll/new", idx._handler(self._enroll_profile), methods=["POST"]),
            Route("/idp/idx/enroll/update", idx._handler(self._update), methods=["POST"]),
            Route("/idp/idx/enroll/activate/{token}", self.activate_link, methods=["GET"]),
        ]

    # -- hooks called by IdxEndpoints ------------------------------------------------------

    def identify_forms(self, ix: Interaction) -> list[dict[str, Any]]:
        return [self.idx._form(ix, "select-enroll-profile", "enroll", [])] if self.enabled else []

    def registering(self, ix: Interaction) -> bool:
        return ix.state_handle in self.enrollments

    def state(self, ix: Interaction, doc: dict[str, Any], fm: dict[str, list[dict[str, Any]]],
              cancel: dict[str, Any]) -> dict[str, Any]:
        """The state of a registration in progress (``registering(ix)``)."""
        idx = self.idx
        flow = self.enrollments[ix.state_handle]
        user = idx.twin.directory.users.get(flow.user_id or "")
        if flow.stage == "profile":
            fields: list[dict[str, Any]] = []
            for name in self.attributes:
                item: dict[str, Any] = {"name": name, "label": LABELS.get(name, name), "required": True}
                if name in ("firstName", "lastName"):
                    item.update(minLength=1, maxLength=50)
                if f"userProfile.{name}" in fm:
                    item["messages"] = {"type": "array", "value": fm[f"userProfile.{name}"]}
                fields.append(item)
            form_fields: list[dict[str, Any]] = [{"name": "userProfile", "form": {"value": fields}}]
            relates: dict[str, Any] = {}
            if self.password_with_profile:
                passcode: dict[str, Any] = {"name": "passcode", "label": "Enter Password", "required": True,
                                            "secret": True}
                if "credentials.passcode" in fm:
                    passcode["messages"] = {"type": "array", "value": fm["credentials.passcode"]}
                form_fields.append({"name": "credentials", "type": "object", "form": {"value": [passcode]},
                                    "required": True, "relatesTo": "$.currentAuthenticator"})
                current = idx._authenticator("okta_password")
                current["settings"] = idx._password_settings()
                relates = {"currentAuthenticator": {"type": "object", "value": current}}
            doc["remediation"] = {"type": "array", "value": [
                idx._form(ix, "enroll-profile", "enroll/new", form_fields),
                idx._form(ix, "select-identify", "identify", [])]}
            doc.update(relates)
            doc["cancel"] = cancel
            return doc
        assert user is not None
        doc["user"] = {"type": "object", "value": {"id": user.id, "identifier": user.login}}
        if flow.stage == "email":
            current = idx._authenticator("okta_email")
            current["resend"] = idx._form(ix, "resend", "challenge/resend", [])
            current["poll"] = idx._form(ix, "poll", "challenge/poll", [], refresh=4000)
            passcode = {"name": "passcode", "label": "Enter code"}
            if "credentials.passcode" in fm:
                passcode["messages"] = {"type": "array", "value": fm["credentials.passcode"]}
            doc["remediation"] = {"type": "array", "value": [idx._form(
                ix, "enroll-authenticator", "challenge/answer",
                [{"name": "credentials", "type": "object", "form": {"value": [passcode]}, "required": True}],
                ["$.currentAuthenticator"])]}
            doc["currentAuthenticator"] = {"type": "object", "value": current}
            doc["authenticators"] = {"type": "array", "value": [idx._authenticator("okta_email")]}
            doc["cancel"] = cancel
            return doc
        if flow.stage == "password":
            passcode = {"name": "passcode", "label": "Enter password", "secret": True}
            if "credentials.passcode" in fm:
                passcode["messages"] = {"type": "array", "value": fm["credentials.passcode"]}
            current = idx._authenticator("okta_password")
            current["settings"] = idx._password_settings()
            doc["remediation"] = {"type": "array", "value": [idx._form(
                ix, "enroll-authenticator", "challenge/answer",
                [{"name": "credentials", "form": {"value": [passcode]}, "required": True}],
                ["$.currentAuthenticator"])]}
            doc["currentAuthenticator"] = {"type": "object", "value": current}
            doc["authenticators"] = {"type": "array", "value": [idx._authenticator("okta_password")]}
            doc["cancel"] = cancel
            return doc
        # done: the user is ACTIVE and both factors are proven
        return idx._success(ix, user)

    def answer(self, ix: Interaction, passcode: str) -> tuple[int, dict[str, Any]] | None:
        """``challenge/answer`` during a registration (None: not registering)."""
        flow = self.enrollments.get(ix.state_handle)
        if flow is None or flow.stage not in ("email", "password"):
            return None
        idx = self.idx
        t = idx.twin
        user = t.directory.users[flow.user_id or ""]
        if flow.stage == "email":
            fresh = t.now() - ix.email_sent_at <= idx.email_code_ttl
            if not (fresh and ix.email_code and secrets.compare_digest(passcode, ix.email_code)):
                return 401, idx.state(ix, field_messages={"credentials.passcode": [idx_message(
                    "Invalid code. Try again.", "api.authn.error.PASSCODE_INVALID", params=[])]})
            ix.email_code = None
            ix.verified.append("okta_email")
            t.counters["idx:registration_email_verified"] += 1
            if flow.password is not None:
                self._activate(user, flow.password)
                ix.verified.append("okta_password")
                flow.stage = "done"
            else:
                flow.stage = "password"
            ix.current = None
            return 200, idx.state(ix)
        if not idx._complexity_ok(user, passcode):
            return 400, idx.state(ix, field_messages={"credentials.passcode": [idx_message(
                "Password requirements were not met.", "password.passwordRequirementsNotMet", params=[])]})
        self._activate(user, hash_password(passcode))
        ix.verified.append("okta_password")
        flow.stage = "done"
        return 200, idx.state(ix)

    def profile_step(self, ix: Interaction, user: User, doc: dict[str, Any],
                     cancel: dict[str, Any]) -> dict[str, Any] | None:
        """The ``profile-update`` remediation a later sign-in of a self-registered user gets while
        attributes of :attr:`later` are missing (None: nothing to ask)."""
        if user.id not in self.registered or ix.state_handle in self.profiled or self.registering(ix):
            return None
        missing = [n for n in self.later if not user.profile.get(n)]
        if not missing:
            return None
        idx = self.idx
        def item(n: str) -> dict[str, Any]:
            bounds = (2, 2) if n == "countryCode" else (1, 100)
            return {"name": n, "label": LABELS.get(n, n), "required": self.later_required,
                    "minLength": bounds[0], "maxLength": bounds[1]}

        # one userProfile group per attribute, as in enroll-profile-update-params.json
        groups = [{"name": "userProfile", "form": {"value": [item(n)]}} for n in missing]
        forms = [idx._form(ix, "profile-update", "enroll/update", groups)]
        if not self.later_required:
            forms.append(idx._form(ix, "skip", "skip", []))
        doc["user"] = {"type": "object", "value": {"id": user.id, "identifier": ix.identifier}}
        doc["remediation"] = {"type": "array", "value": forms}
        doc["cancel"] = cancel
        return doc

    def skip(self, ix: Interaction) -> bool:
        """``skip`` of an optional ``profile-update`` (False: not this step)."""
        user = self.idx.twin.directory.users.get(ix.user_id or "")
        if user is None or self.later_required or ix.state_handle in self.profiled:
            return False
        if user.id not in self.registered or not any(not user.profile.get(n) for n in self.later):
            return False
        self.profiled.add(ix.state_handle)
        self.idx.twin.counters["idx:profile_skipped"] += 1
        return True

    # -- remediations ------------------------------------------------------------------------

    def _select(self, ix: Interaction, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if not self.enabled or ix.user_id is not None:
            return 400, self.idx.state(ix, messages=[idx_message("Invalid request.", "errors.E0000001")])
        self.enrollments[ix.state_handle] = Enrollment()
        return 200, self.idx.state(ix)

    def _enroll_profile(self, ix: Interaction, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        idx = self.idx
        t = idx.twin
        flow = self.enrollments.get(ix.state_handle)
        if flow is None or flow.stage != "profile":
            return 400, idx.state(ix, messages=[idx_message("Invalid request.", "errors.E0000001")])
        raw = body.get("userProfile")
        values = raw if isinstance(raw, dict) else {}
        fm: dict[str, list[dict[str, Any]]] = {}
        for name in self.attributes:
            value = values.get(name)
            if not isinstance(value, str) or not value.strip():
                fm[f"userProfile.{name}"] = [idx_message("This field cannot be left blank",
                                                         "model.validation.field.blank")]
        if any(k not in self.attributes for k in values):
            return 400, idx.state(ix, messages=[idx_message("Invalid request.", "errors.E0000001")])
        if fm:
            return 400, idx.state(ix, field_messages=fm)
        email = str(values["email"]).strip()
        profile: dict[str, Any] = {k: str(v).strip() for k, v in values.items()}
        profile["login"] = email
        if t.directory.login_taken(email):
            t.counters["idx:registration_taken"] += 1
            return 400, idx.state(ix, field_messages={"userProfile.email": [idx_message(
                "A user with this Email already exists", "registration.error.notUniqueWithinOrg",
                params=["Email"])]})
        causes = validate_profile(profile, t.directory)
        if causes:
            fm = {f"userProfile.{c.split(':')[0]}": [idx_message(c.split(":", 1)[1].strip(),
                                                                 "registration.error.invalid")]
                  for c in causes}
            return 400, idx.state(ix, field_messages=fm)
        password: bytes | None = None
        if self.password_with_profile:
            creds = body.get("credentials")
            passcode = creds.get("passcode") if isinstance(creds, dict) else None
            probe = User(id="", status="STAGED", profile=profile, created=0, last_updated=0)
            if not isinstance(passcode, str) or not idx._complexity_ok(probe, passcode):
                return 400, idx.state(ix, field_messages={"credentials.passcode": [idx_message(
                    "Password requirements were not met.", "password.passwordRequirementsNotMet",
                    params=[])]})
            password = hash_password(passcode)
        now = t.now()
        user = User(id=okta_id("00u"), status="STAGED", profile=profile, created=now, last_updated=now)
        t.directory.add_user(user)
        self.registered.add(user.id)
        t.counters["idx:registered"] += 1
        self.hooks.log_event("user.lifecycle.create", user, actor=self._actor(user),
                             display_message="Create okta user")
        flow.user_id, flow.password = user.id, password
        ix.user_id, ix.identifier, ix.unknown_user = user.id, email, False
        ix.verified.clear()
        if self.verification == "terminal":
            flow.stage = "terminal"
            if password is not None:
                user.password_hash = password
            self._send_activation(ix, user)
            self.enrollments.pop(ix.state_handle, None)
            doc = idx._terminal(ix, idx_message("To finish signing in, check your email.",
                                                "idx.email.verification.required", "INFO"))
            doc["user"] = {"type": "object", "value": {"id": user.id, "identifier": email}}
            return 200, doc
        flow.stage = "email"
        ix.current = "okta_email"
        idx._send_email(ix)
        return 200, idx.state(ix)

    def _update(self, ix: Interaction, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        idx = self.idx
        t = idx.twin
        user = t.directory.users.get(ix.user_id or "")
        if user is None or ix.state_handle in self.profiled:
            return 400, idx.state(ix, messages=[idx_message("Invalid request.", "errors.E0000001")])
        raw = body.get("userProfile")
        values = raw if isinstance(raw, dict) else {}
        missing = [n for n in self.later if not user.profile.get(n)]
        if any(k not in missing for k in values) or not all(isinstance(v, str) for v in values.values()):
            return 400, idx.state(ix, messages=[idx_message("Invalid request.", "errors.E0000001")])
        update = {k: v.strip() for k, v in values.items() if v.strip()}
        if self.later_required:
            blank = [n for n in missing if n not in update]
            if blank:
                return 400, idx.state(ix, field_messages={f"userProfile.{n}": [idx_message(
                    "This field cannot be left blank", "model.validation.field.blank")] for n in blank})
        causes = validate_profile(update, t.directory, except_id=user.id, partial=True, current=user.profile)
        if causes:
            return 400, idx.state(ix, field_messages={f"userProfile.{c.split(':')[0]}": [idx_message(
                c.split(":", 1)[1].strip(), "registration.error.invalid")] for c in causes})
        user.profile.update(update)
        user.last_updated = t.now()
        self.profiled.add(ix.state_handle)
        t.counters["idx:profile_updated"] += 1
        if update:
            self.hooks.log_event("user.account.update_profile", user, actor=self._actor(user),
                                 display_message="Update user profile for Okta")
        return 200, idx.state(ix)

    # -- activation ----------------------------------------------------------------------------

    def _actor(self, user: User) -> dict[str, Any]:
        return {"id": user.id, "type": "User", "alternateId": user.login, "displayName": user.display_name,
                "detailEntry": None}

    def _activate(self, user: User, password: bytes) -> None:
        t = self.idx.twin
        now = t.now()
        user.password_hash = password
        user.password_changed = now
        user.set_status("ACTIVE", now)
        user.activated = now
        self.hooks.log_event("user.lifecycle.activate", user, actor=self._actor(user),
                             display_message="Activate Okta user")

    def _send_activation(self, ix: Interaction, user: User) -> None:
        token = secrets.token_urlsafe(24)
        self.activation_tokens[token] = user.id
        link = f"{self.idx.twin.base_url}/idp/idx/enroll/activate/{token}"
        self.idx.mail({"to": str(user.profile.get("email", user.login)), "subject": "Activate your account",
                       "code": "", "link": link})

    async def activate_link(self, request: Request) -> Response:
        """The link of a ``terminal`` registration's email: verifies the address, activates."""
        user_id = self.activation_tokens.pop(request.path_params["token"], None)
        user = self.idx.twin.directory.users.get(user_id or "")
        if user is None or user.status != "STAGED":
            return self.idx.twin_page(404, "This activation link is invalid or was already used.")
        if user.password_hash is None:  # the policy asks the password with the profile (see above)
            return self.idx.twin_page(409, "This account has no password yet; register again.")
        self._activate(user, user.password_hash)
        return self.idx.twin_page(200, "Your email address is verified. You can sign in now.")

