"""The step translator: an IDX state becomes the BFF's public step JSON (what the SPA renders),
and a step the SPA submits becomes a validated IDX request (what the client sends to Okta).

The public step (issue 10), built by :func:`to_step`::

    {"step": "<remediation name>" | "success" | "terminal" | "unsupported",
     "fields": [{"name": "credentials.passcode", "type": "string", "required": true, "secret": true,
                 "options"?: [...], "minLength"?: n, "maxLength"?: n, "visible"?: false, "value"?: ...}],
     "authenticator"?: {"key", "methods", "profile", "resend": bool, "poll": bool, "pollInterval"?: ms,
                        "settings"?: {...password policy...},
                        "enrollment"?: {"type": "totp", "sharedSecret", "otpauthUri"}
                                     | {"type": "webauthn", "activationData"},
                        "challenge"?: {"type": "webauthn", "challengeData", "credentialIds"}},
     "choices"?: [{"id", "key", "label", "methodTypes", "enrollmentId"?, "profile"?}],
     "alternatives": ["select-authenticator-authenticate", "recover", "resend", "cancel", "redirect", ...],
     "idps"?: [{"id", "name", "type"}],
     "messages": [{"key": "<Okta i18n key>" | null, "class": "ERROR" | "INFO" | "WARNING",
                   "field"?: "credentials.passcode", "params"?: [...]}],
     "unsupported"?: "<authenticator key or remediation name the BFF left out>",
     "location"?: "/returnTo"}

Field names are IDX's, dotted for nested forms (``credentials.passcode``, ``authenticator.id``,
``userProfile.email``). Never in a step: the state handle (a hidden field of every form, and the
``stateToken`` of ``redirect-idp`` hrefs), any ``href``, the interaction code, Okta's message text
and field labels (copy comes from AEM, by field name and message key). Fixed values
(``mutable: false``) stay on the server and are put back into the request by :func:`prepare`.

Choosing the step. Okta lists remediations in the order its own widget shows them: the first is
the step, the others are ``alternatives``, followed by the current authenticator's ``resend`` /
``poll`` / ``recover``, ``cancel``, and ``redirect`` (the redirect flow, ``/bff/login``: the last
resort) whenever something Okta offered was left out. What is supported: the remediations in
:data:`FORM_STEPS`, :data:`AUTHENTICATOR_STEPS` and :data:`SELECT_STEPS` and ``redirect-idp``,
for the authenticators of :attr:`StepPolicy.authenticators` (default
:data:`SUPPORTED_AUTHENTICATORS`; WebAuthn is opt-in because its relying-party id must match the
app's origin). A select step offers only supported choices. When the first remediation is not
supported (``okta_verify``, ``duo``, an unknown name or key), the step becomes the first
supported ``select-authenticator-*`` (Okta's "verify with something else"), marked
``"unsupported": <key>``; without one it is ``"step": "unsupported"`` with the alternatives only.
A state with ``successWithInteractionCode`` is ``success``; one with no remediation ``terminal``.

Submissions (:func:`prepare`): the remediation must be offered by the current state AND
supported, every key must be a declared field of it (dotted), values are type-checked
(``string`` / ``boolean`` / ``integer`` / ``number``), ``required``, ``options``, ``minLength`` /
``maxLength`` and :data:`MAX_VALUE_CHARS` enforced (a WebAuthn ceremony's credential fields:
base64url or JSON within their own bounds, :mod:`bff.signin.passkeys`); an object choice (``authenticator.id``
with its ``enrollmentId`` / ``methodType`` / ``phoneNumber``) must match exactly one supported
option, whose fixed values are filled in. The state handle comes from the state, never from the
submission. Errors never echo a submitted value::

    InvalidSubmission  400 invalid_submission  (+ errors: [{field, code}])
                       codes: not_an_object, too_many_fields, unknown_field, required, type,
                       not_an_option, ambiguous, too_short, too_long,
                       not_base64url, not_json (WebAuthn credentials)
    StepNotSupported   400 step_not_supported  offered by Okta, left out by the BFF
    StepNotOffered     409 step_not_offered    not in the current state (stale tab, finished)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from bff.errors import BadRequest, Conflict
from bff.signin import passkeys
from bff.signin.idx import Authenticator, Field, Form, IdxState, JSONScalar, JSONValue, Message, Option

#: Authenticators the BFF's screens handle by default.
SUPPORTED_AUTHENTICATORS: frozenset[str] = frozenset({
    "okta_password", "okta_email", "google_otp", "phone_number",
})
#: Remediations that are plain forms (no authenticator of their own).
FORM_STEPS: frozenset[str] = frozenset({
    "identify", "identify-recovery", "select-enroll-profile", "enroll-profile", "select-identify",
    "profile-update", "unlock-account", "skip", "cancel",
})
#: Remediations that act on one authenticator (``relatesTo``, else the current one).
AUTHENTICATOR_STEPS: frozenset[str] = frozenset({
    "challenge-authenticator", "enroll-authenticator", "reenroll-authenticator", "reset-authenticator",
    "authenticator-verification-data", "authenticator-enrollment-data", "resend", "poll", "recover",
})
#: Remediations that choose an authenticator among options.
SELECT_STEPS: frozenset[str] = frozenset({
    "select-authenticator-authenticate", "select-authenticator-enroll", "select-authenticator-unlock-account",
})
REDIRECT_IDP = "redirect-idp"
#: The alternative that means "continue with the redirect flow" (``/bff/login``).
REDIRECT = "redirect"
UNSUPPORTED = "unsupported"
MESSAGE_CLASSES = frozenset({"ERROR", "INFO", "WARNING"})

#: Longest accepted string value (a password, a passcode, a profile attribute).
MAX_VALUE_CHARS = 1024
#: Most keys accepted in one submission.
MAX_FIELDS = 64

#: Enrollments sometimes carry only ``type``; these types name one authenticator each.
_KEY_BY_TYPE = {"password": "okta_password", "email": "okta_email", "phone": "phone_number",
                "security_question": "security_question"}
_SAFE_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


@dataclass(frozen=True, slots=True)
class StepPolicy:
    """What the BFF supports. ``totp_issuer`` labels TOTP enrollments in the user's app (the
    ``issuer`` of the otpauth URI); by default Okta's app label, else ``"Okta"``. ``idps``: the
    IdP ids a ``redirect-idp`` may continue with (``/bff/login?idp=`` accepts only configured
    ones); None accepts any. A ``redirect-idp`` outside it is left out like an unsupported
    authenticator."""

    authenticators: frozenset[str] = SUPPORTED_AUTHENTICATORS
    totp_issuer: str | None = None
    idps: frozenset[str] | None = None


DEFAULT_POLICY = StepPolicy()


class InvalidSubmission(BadRequest):
    """The submitted values do not fit the remediation. ``errors`` lists ``{field, code}``;
    no submitted value is ever repeated."""

    code = "invalid_submission"
    title = "Invalid sign-in step"

    def __init__(self, errors: Sequence[Mapping[str, str]], detail: str | None = None) -> None:
        super().__init__(detail or "One or more fields of this step are invalid",
                         errors=[dict(e) for e in errors[:20]])
        self.errors = [dict(e) for e in errors]


class StepNotOffered(Conflict):
    """The current state does not offer that remediation (another tab moved on, or it ended)."""

    code = "step_not_offered"
    title = "This sign-in step is no longer available"


class StepNotSupported(BadRequest):
    """Okta offers the remediation but the BFF does not handle it (see the step's alternatives)."""

    code = "step_not_supported"
    title = "This sign-in step is not supported"


@dataclass(frozen=True, slots=True)
class IdxRequest:
    """A validated submission: the form to post to and its JSON body (state handle included).
    The body holds passwords and passcodes: it is kept out of ``repr``."""

    form: Form
    body: dict[str, JSONValue] = field(repr=False)


# ------------------------------------------------------------------------------------------
# What a remediation accepts
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Input:
    parts: tuple[str, ...]
    type: str
    required: bool
    secret: bool
    visible: bool
    options: tuple[JSONScalar, ...] | None
    default: JSONValue
    min_length: int | None
    max_length: int | None

    @property
    def name(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True, slots=True)
class _Choice:
    option: Option
    key: str | None
    fixed: dict[str, tuple[tuple[str, ...], JSONValue]]
    inputs: dict[str, _Input]


@dataclass(frozen=True, slots=True)
class _Group:
    parts: tuple[str, ...]
    choices: tuple[_Choice, ...]
    dropped: tuple[str, ...]  # keys (or labels) of the options left out

    @property
    def name(self) -> str:
        return ".".join(self.parts)


@dataclass(slots=True)
class _Plan:
    inputs: list[_Input] = field(default_factory=list)
    fixed: list[tuple[tuple[str, ...], JSONValue]] = field(default_factory=list)
    groups: list[_Group] = field(default_factory=list)
    order: list[_Input | _Group] = field(default_factory=list)
    relates_to: list[Authenticator | None] = field(default_factory=list)  # field-level relatesTo


def authenticator_key(auth: Authenticator | None) -> str | None:
    """The authenticator's key, or the one its ``type`` implies when Okta left the key out."""
    if auth is None:
        return None
    return auth.key or _KEY_BY_TYPE.get(auth.type or "")


def _scalar_options(f: Field) -> tuple[JSONScalar, ...] | None:
    values = tuple(o.value for o in f.options
                   if o.form is None and (o.value is None or isinstance(o.value, str | int | float | bool)))
    return values or None


def _input(f: Field, parts: tuple[str, ...]) -> _Input:
    return _Input(parts=parts, type=f.type or "string", required=f.required, secret=f.secret,
                  visible=f.visible, options=_scalar_options(f), default=f.value,
                  min_length=f.min_length, max_length=f.max_length)


def _leaves(fields: Iterable[Field], parts: tuple[str, ...],
            fixed: dict[str, tuple[tuple[str, ...], JSONValue]], inputs: dict[str, _Input]) -> None:
    for f in fields:
        path = (*parts, f.name)
        if f.form is not None:
            _leaves(f.form, path, fixed, inputs)
        elif not f.mutable and f.value is not None:
            fixed[".".join(path)] = (path, f.value)
        else:
            inputs[".".join(path)] = _input(f, path)


def _group(f: Field, parts: tuple[str, ...], policy: StepPolicy) -> _Group:
    choices: list[_Choice] = []
    dropped: list[str] = []
    for option in f.options:
        if option.form is None:
            continue
        key = authenticator_key(option.relates_to)
        if option.relates_to_path is not None and key not in policy.authenticators:
            dropped.append(key or option.label or "unknown")
            continue
        fixed: dict[str, tuple[tuple[str, ...], JSONValue]] = {}
        inputs: dict[str, _Input] = {}
        _leaves(option.form, parts, fixed, inputs)
        choices.append(_Choice(option=option, key=key, fixed=fixed, inputs=inputs))
    return _Group(parts=parts, choices=tuple(choices), dropped=tuple(dropped))


def _walk(fields: Iterable[Field], parts: tuple[str, ...], plan: _Plan, policy: StepPolicy) -> None:
    for f in fields:
        if not parts and f.name == "stateHandle":
            continue  # added from the state by prepare(), never shown
        path = (*parts, f.name)
        if f.relates_to_path is not None:
            plan.relates_to.append(f.relates_to)
        if any(o.form is not None for o in f.options):
            group = _group(f, path, policy)
            plan.groups.append(group)
            plan.order.append(group)
        elif f.form is not None:
            _walk(f.form, path, plan, policy)
        elif not f.mutable and f.value is not None:
            plan.fixed.append((path, f.value))
        else:
            item = _input(f, path)
            plan.inputs.append(item)
            plan.order.append(item)


def _plan(form: Form, policy: StepPolicy) -> _Plan:
    plan = _Plan()
    _walk(form.fields, (), plan, policy)
    return plan


@dataclass(frozen=True, slots=True)
class _Verdict:
    supported: bool
    marker: str | None  # what was left out: an authenticator key or the remediation name
    plan: _Plan


def _related(state: IdxState, form: Form) -> Authenticator | None:
    if form.relates_to:
        return form.relates_to[0]
    return state.current_authenticator_enrollment or state.current_authenticator


def _judge(state: IdxState, form: Form, policy: StepPolicy) -> _Verdict:
    plan = _plan(form, policy)
    name = form.name
    if name in SELECT_STEPS:
        ok = bool(plan.groups) and any(g.choices for g in plan.groups)
        marker = next((d for g in plan.groups for d in g.dropped), name)
        return _Verdict(ok, None if ok else marker, plan)
    if name in AUTHENTICATOR_STEPS:
        key = authenticator_key(_related(state, form))
        ok = key in policy.authenticators and not any(g.dropped and not g.choices for g in plan.groups)
        return _Verdict(ok, None if ok else key or name, plan)
    if name == REDIRECT_IDP:
        ok = form.idp is not None and (policy.idps is None or form.idp.id in policy.idps)
        return _Verdict(ok, None if ok else name, plan)
    if name in FORM_STEPS:
        # A field tied to an authenticator (sign-up's credentials.passcode): that authenticator
        # must be supported, and one that does not resolve is not.
        missing = [k for k in map(authenticator_key, plan.relates_to) if k not in policy.authenticators]
        ok = not missing and not any(g.dropped and not g.choices for g in plan.groups)
        return _Verdict(ok, None if ok else (missing[0] if missing else None) or name, plan)
    rel = form.relates_to[0] if form.relates_to else None
    return _Verdict(False, authenticator_key(rel) or name, plan)


def _actions(state: IdxState, policy: StepPolicy) -> list[Form]:
    """resend / poll / recover of current authenticators the BFF supports."""
    out: list[Form] = []
    for auth in (state.current_authenticator_enrollment, state.current_authenticator):
        if auth is None or authenticator_key(auth) not in policy.authenticators:
            continue
        for form in (auth.resend, auth.poll, auth.recover):
            if form is not None and all(f.name != form.name for f in out):
                out.append(form)
    return out


def _live(state: IdxState) -> bool:
    """A state that can still be posted to (not a success, not terminal, with a handle)."""
    return (state.state_handle is not None and not state.terminal
            and state.success_with_interaction_code is None)


def submittable(state: IdxState, policy: StepPolicy = DEFAULT_POLICY) -> dict[str, Form]:
    """Every form the SPA may post in this state, by name: supported remediations (not
    ``redirect-idp``, a browser redirect), supported authenticator actions, ``cancel``.
    Nothing once the state is a success (the code is redeemed, not submitted) or terminal."""
    if not _live(state):
        return {}
    out: dict[str, Form] = {}
    for form in state.remediations:
        if form.name != REDIRECT_IDP and form.name not in out and _judge(state, form, policy).supported:
            out[form.name] = form
    for form in _actions(state, policy):
        out.setdefault(form.name, form)
    if state.cancel is not None:
        out.setdefault(state.cancel.name, state.cancel)
    return out


# ------------------------------------------------------------------------------------------
# IDX state -> step
# ------------------------------------------------------------------------------------------


def _message(m: Message) -> dict[str, JSONValue]:
    out: dict[str, JSONValue] = {"key": m.key, "class": m.cls if m.cls in MESSAGE_CLASSES else "INFO"}
    if m.field:
        out["field"] = m.field
    if m.params:
        out["params"] = list(m.params)
    return out


def _field_json(item: _Input) -> dict[str, JSONValue]:
    out: dict[str, JSONValue] = {"name": item.name, "type": item.type, "required": item.required,
                                 "secret": item.secret}
    if item.options is not None:
        out["options"] = list(item.options)
    if item.min_length is not None:
        out["minLength"] = item.min_length
    if item.max_length is not None:
        out["maxLength"] = item.max_length
    if not item.visible:
        out["visible"] = False
    if not item.secret and isinstance(item.default, str | int | float | bool):
        out["value"] = item.default
    return out


def _group_fields(group: _Group) -> list[dict[str, JSONValue]]:
    """The union of the choices' fields: fixed values (``authenticator.id``, a fixed
    ``methodType``) are listed as options, and only the ``id`` selector is required (the server
    fills in the rest); a field free in any choice (``authenticator.phoneNumber``) has none."""
    merged: dict[str, dict[str, JSONValue]] = {}
    free: set[str] = set()
    presence: dict[str, int] = {}
    selector = group.name + ".id"
    for choice in group.choices:
        for name, (_, value) in choice.fixed.items():
            entry = merged.setdefault(name, {"name": name, "type": "boolean" if isinstance(value, bool)
                                             else "string", "required": name == selector, "secret": False,
                                             "options": []})
            opts = entry["options"]
            if isinstance(opts, list) and value not in opts:
                opts.append(value)
            presence[name] = presence.get(name, 0) + 1
        for name, item in choice.inputs.items():
            entry = merged.setdefault(name, {"name": name, "type": item.type, "required": item.required,
                                             "secret": item.secret, "options": []})
            entry["required"] = entry["required"] is True and item.required
            opts = entry["options"]
            if item.options is None:
                free.add(name)
            elif isinstance(opts, list):
                opts.extend(v for v in item.options if v not in opts)
            presence[name] = presence.get(name, 0) + 1
    fields: list[dict[str, JSONValue]] = []
    for name, entry in merged.items():
        if presence[name] < len(group.choices):
            entry["required"] = False
        if name in free:
            del entry["options"]
        fields.append(entry)
    return fields


def _choices(group: _Group) -> list[JSONValue]:
    base = group.name
    out: list[JSONValue] = []
    for choice in group.choices:
        auth = choice.option.relates_to
        fixed_method = choice.fixed.get(f"{base}.methodType")
        method_input = choice.inputs.get(f"{base}.methodType")
        if fixed_method is not None:
            methods: list[JSONValue] = [fixed_method[1]]
        elif method_input is not None and method_input.options is not None:
            methods = list(method_input.options)
        else:
            methods = list(auth.methods) if auth is not None else []
        fixed_id = choice.fixed.get(f"{base}.id")
        item: dict[str, JSONValue] = {"id": fixed_id[1] if fixed_id else None, "key": choice.key,
                                      "label": choice.option.label, "methodTypes": methods}
        enrollment = choice.fixed.get(f"{base}.enrollmentId")
        if enrollment is not None:
            item["enrollmentId"] = enrollment[1]
        if auth is not None and auth.profile:
            item["profile"] = dict(auth.profile)
        out.append(item)
    return out


def _otpauth_uri(secret: str, issuer: str, account: str | None) -> str:
    """Google Authenticator's key URI format (SHA-1, 6 digits, 30 s: Okta's TOTP defaults)."""
    label = quote(issuer, safe="") + (":" + quote(account, safe="@") if account else "")
    return f"otpauth://totp/{label}?" + urlencode({"secret": secret, "issuer": issuer}, quote_via=quote)


def _authenticator_view(state: IdxState, form: Form, plan: _Plan, policy: StepPolicy,
                        actions: list[Form]) -> dict[str, JSONValue] | None:
    if form.name in AUTHENTICATOR_STEPS:
        auth = _related(state, form)
    else:
        auth = next((a for a in plan.relates_to if a is not None), None)
    if auth is None:
        return None
    names = {a.name: a for a in actions}
    view: dict[str, JSONValue] = {
        "key": authenticator_key(auth), "methods": list(auth.methods), "profile": dict(auth.profile),
        "resend": "resend" in names, "poll": "poll" in names,
    }
    poll = names.get("poll")
    if poll is not None and poll.refresh is not None:
        view["pollInterval"] = poll.refresh
    if auth.settings:
        view["settings"] = dict(auth.settings)
    data = auth.contextual_data
    if data is not None and data.shared_secret:
        issuer = policy.totp_issuer or (state.app.label if state.app and state.app.label else "Okta")
        account = state.user.identifier if state.user else None
        view["enrollment"] = {"type": "totp", "sharedSecret": data.shared_secret,
                              "otpauthUri": _otpauth_uri(data.shared_secret, issuer, account)}
    elif data is not None and data.activation_data is not None:
        view["enrollment"] = {"type": "webauthn", "activationData": data.activation_data}
    if data is not None and data.challenge_data is not None:
        ids: list[JSONValue] = []
        for enrolled in state.authenticator_enrollments:
            if authenticator_key(enrolled) == auth.key and enrolled.credential_id \
                    and enrolled.credential_id not in ids:
                ids.append(enrolled.credential_id)
        view["challenge"] = {"type": "webauthn", "challengeData": data.challenge_data, "credentialIds": ids}
    return view


def _idps(state: IdxState, policy: StepPolicy) -> list[JSONValue]:
    return [{"id": f.idp.id, "name": f.idp.name, "type": f.type} for f in state.remediations
            if f.name == REDIRECT_IDP and f.idp is not None
            and (policy.idps is None or f.idp.id in policy.idps)]


def redirect_idp(state: IdxState, idp: str, policy: StepPolicy = DEFAULT_POLICY) -> Form:
    """The ``redirect-idp`` remediation of this live state for the IdP ``idp`` (one listed in
    the step's ``idps``), or :class:`InvalidSubmission` (``idp``: ``not_an_option``)."""
    if _live(state):
        for form in state.remediations:
            if form.name == REDIRECT_IDP and form.idp is not None and form.idp.id == idp \
                    and _judge(state, form, policy).supported:
                return form
    raise InvalidSubmission([{"field": "idp", "code": "not_an_option"}])


def to_step(state: IdxState, *, policy: StepPolicy = DEFAULT_POLICY,
            location: str | None = None) -> dict[str, JSONValue]:
    """The public step for ``state``. ``location`` (the local ``returnTo``) is added to a
    ``success`` step only. The result is JSON-ready and holds nothing of Okta's secrets."""
    messages: list[JSONValue] = [_message(m) for m in state.messages]
    if state.success_with_interaction_code is not None:
        step: dict[str, JSONValue] = {"step": "success", "fields": [], "alternatives": [],
                                      "messages": messages}
        if location is not None:
            step["location"] = location
        return step
    if not state.remediations:
        if state.success is None:
            return {"step": "terminal", "fields": [], "alternatives": [], "messages": messages}
        # success-redirect (a non-interaction-code success): nothing to redeem here.
        alternatives: list[JSONValue] = ["cancel"] if state.cancel is not None else []
        return {"step": UNSUPPORTED, "fields": [], "alternatives": [*alternatives, REDIRECT],
                "messages": messages, "unsupported": state.success.name}

    verdicts = [(form, _judge(state, form, policy)) for form in state.remediations]
    first_form, first = verdicts[0]
    primary: Form | None = first_form
    verdict: _Verdict | None = first
    marker = None
    if not first.supported:
        marker = first.marker
        primary, verdict = next(((f, v) for f, v in verdicts if f.name in SELECT_STEPS and v.supported),
                                (None, None))
    dropped = marker is not None or any(not v.supported for _, v in verdicts) or (
        verdict is not None and any(g.dropped for g in verdict.plan.groups))

    actions = _actions(state, policy)
    alternatives = []
    for form, v in verdicts:
        if form is not primary and v.supported and form.name not in alternatives:
            alternatives.append(form.name)
    for form in actions:
        if form.name not in alternatives:
            alternatives.append(form.name)
    if state.cancel is not None and state.cancel.name not in alternatives:
        alternatives.append(state.cancel.name)
    if dropped:
        alternatives.append(REDIRECT)

    fields: list[JSONValue] = []
    step = {"step": primary.name if primary is not None else UNSUPPORTED, "fields": fields}
    if primary is not None and verdict is not None:
        for item in verdict.plan.order:
            if isinstance(item, _Group):
                fields.extend(_group_fields(item))
            else:
                fields.append(_field_json(item))
        view = _authenticator_view(state, primary, verdict.plan, policy, actions)
        if view is not None:
            step["authenticator"] = view
        if verdict.plan.groups:
            step["choices"] = _choices(verdict.plan.groups[0])
        messages.extend(_message(m) for m in primary.all_messages())
    step["alternatives"] = list(alternatives)
    idps = _idps(state, policy)
    if idps:
        step["idps"] = idps
    step["messages"] = messages
    if marker is not None:
        step["unsupported"] = marker
    return step


# ------------------------------------------------------------------------------------------
# Submission -> IDX request
# ------------------------------------------------------------------------------------------


def _same(a: object, b: object) -> bool:
    return type(a) is type(b) and a == b


def _check(item: _Input, value: object, *, webauthn: bool = False) -> str | None:
    """The error code for ``value`` in ``item``, or None. ``webauthn``: the form is a WebAuthn
    ceremony's, whose credential fields have their own encodings and bounds (:mod:`.passkeys`)."""
    kind = item.type
    if kind == "boolean":
        ok = isinstance(value, bool)
    elif kind == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind == "number":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    else:
        ok = isinstance(value, str)
    if not ok:
        return "type"
    if isinstance(value, str):
        if item.required and not value:
            return "required"
        if webauthn and item.name in passkeys.LIMITS:
            problem = passkeys.field_problem(item.name, value) if value else None
            if problem is not None or item.max_length is None or len(value) <= item.max_length:
                return problem
            return "too_long"
        if len(value) > MAX_VALUE_CHARS or (item.max_length is not None and len(value) > item.max_length):
            return "too_long"
        if item.min_length is not None and value and len(value) < item.min_length:
            return "too_short"
    if item.options is not None and not any(_same(value, o) for o in item.options):
        return "not_an_option"
    return None


def _put(body: dict[str, JSONValue], parts: tuple[str, ...], value: JSONValue) -> None:
    node = body
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


def _safe(name: str) -> str:
    return name if _SAFE_NAME.fullmatch(name) else "(invalid name)"


def _fill(item: _Input, values: Mapping[str, object], body: dict[str, JSONValue],
          errors: list[dict[str, str]], *, webauthn: bool = False) -> None:
    if item.name in values:
        value = values[item.name]
        problem = _check(item, value, webauthn=webauthn)
        if problem is not None:
            errors.append({"field": item.name, "code": problem})
        elif isinstance(value, str | int | float | bool):
            _put(body, item.parts, value)
    elif item.default is not None:
        _put(body, item.parts, item.default)
    elif item.required:
        errors.append({"field": item.name, "code": "required"})


def _fill_group(group: _Group, values: Mapping[str, object], body: dict[str, JSONValue],
                errors: list[dict[str, str]]) -> set[str]:
    prefix = group.name + "."
    submitted = {k: v for k, v in values.items() if k.startswith(prefix)}
    if not submitted:  # an object choice is always required: it is what the step is for
        errors.append({"field": group.name + ".id", "code": "required"})
        return set()
    candidates = [c for c in group.choices
                  if all(_same(submitted.get(name, value), value) for name, (_, value) in c.fixed.items())]
    if len(candidates) != 1:
        selector = next((k for k in submitted if any(k in c.fixed for c in group.choices)),
                        group.name + ".id")
        errors.append({"field": selector, "code": "ambiguous" if candidates else "not_an_option"})
        return set(submitted)
    (choice,) = candidates
    for name in submitted:
        if name not in choice.fixed and name not in choice.inputs:
            errors.append({"field": _safe(name), "code": "unknown_field"})
    for parts, value in choice.fixed.values():
        _put(body, parts, value)
    for item in choice.inputs.values():
        _fill(item, values, body, errors)
    return set(submitted)


def prepare(state: IdxState, remediation: str, values: object, *,
            policy: StepPolicy = DEFAULT_POLICY) -> IdxRequest:
    """Validate a submission (``{"credentials.passcode": "123456"}``) against the current state
    and build the request for :meth:`bff.signin.client.IdxClient.remediate`. Raises
    :class:`StepNotOffered`, :class:`StepNotSupported` or :class:`InvalidSubmission`; nothing
    is sent anywhere."""
    offered = submittable(state, policy)
    form = offered.get(remediation)
    if form is None:
        if _live(state) and state.form(remediation) is not None:
            raise StepNotSupported(f"The sign-in step {_safe(remediation)!r} is not supported here")
        raise StepNotOffered(f"The sign-in step {_safe(remediation)!r} is not offered now")
    if not isinstance(values, Mapping) or not all(isinstance(k, str) for k in values):
        raise InvalidSubmission([{"field": "", "code": "not_an_object"}])
    if len(values) > MAX_FIELDS:
        raise InvalidSubmission([{"field": "", "code": "too_many_fields"}])
    plan = _plan(form, policy)
    webauthn = form.name in AUTHENTICATOR_STEPS and authenticator_key(_related(state, form)) == passkeys.KEY
    errors: list[dict[str, str]] = []
    body: dict[str, JSONValue] = {}
    for parts, value in plan.fixed:
        _put(body, parts, value)
    consumed: set[str] = set()
    for item in plan.inputs:
        _fill(item, values, body, errors, webauthn=webauthn)
        consumed.add(item.name)
    for group in plan.groups:
        consumed |= _fill_group(group, values, body, errors)
    errors.extend({"field": _safe(k), "code": "unknown_field"} for k in values if k not in consumed)
    if errors:
        raise InvalidSubmission(errors)
    assert state.state_handle is not None  # submittable() offers nothing without one
    body["stateHandle"] = state.state_handle
    return IdxRequest(form=form, body=body)
