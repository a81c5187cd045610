"""The typed parser of Okta Identity Engine states (IDX, ``application/ion+json; okta-version=1.0.0``).

:func:`parse_state` turns one decoded IDX response into an immutable :class:`IdxState`. It is
the only code that reads Okta's ion documents; the step translator and the client work on the
types below. Shape of a state (``../shared/reference/okta-idx.md``)::

    IdxState
    ├── state_handle, expires_at, intent, version
    ├── remediations: Form...           remediation.value[]
    │   └── Form: name, href, method, accepts, relates_to (resolved), refresh, type, idp
    │       └── fields: Field...        value[]
    │           ├── form: Field...      form.value[] (nested: credentials.passcode)
    │           ├── options: Option...  each with its own nested form and relates_to
    │           └── messages            field-level messages (field = dotted name)
    ├── current_authenticator / current_authenticator_enrollment: Authenticator
    │   └── key, methods, profile, settings, contextual_data, resend / poll / recover forms
    ├── authenticators / authenticator_enrollments: Authenticator...
    ├── user, app, messages (global), cancel, success (success-redirect)
    └── success_with_interaction_code: Form (``issue``) -> interaction_code

Strict where the flow depends on it, tolerant elsewhere. :class:`IdxParseError` (a 502: Okta
answered something unusable) is raised when the document is not an object or holds none of the
IDX members; when the remediation collection, a form, a field or an option is not an object or
lacks its ``name``; when a member the flow uses has the wrong JSON type (``stateHandle``,
``href``, ``method``, a form's ``value``, ``form``, ``options``, the ``required`` / ``secret`` /
``visible`` / ``mutable`` flags, ``relatesTo``, a message's ``i18n.key`` / ``class``); when a
``successWithInteractionCode`` carries no string ``interaction_code``. Any ``KeyError`` /
``TypeError`` / ``ValueError`` left in the walk is converted to it too (``raise ... from exc``):
a hostile or broken document never crashes the caller. Tolerated: unknown members anywhere,
unknown remediation names and authenticator keys (new ones appear over time), ``relatesTo``
paths that do not resolve, non-object entries in ``authenticators`` / ``authenticatorEnrollments``
(Okta's own mocks hold one), informational members of an unexpected shape (``user``, ``app``,
``profile``, ``settings``, ``contextualData``: dropped), an ``expiresAt`` that is not a date (None).

Sensitive values are kept out of ``repr`` (so out of logs and tracebacks): the state handle,
every form ``href`` (a ``redirect-idp`` href holds the state handle as ``stateToken``), every
field and option ``value`` (forms repeat the state handle; ``issue`` holds the interaction code)
and the TOTP shared secret. Okta's message ``text`` is in the org's language: the BFF translates by
``key`` and never forwards the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeAlias

from bff.errors import BadGateway

JSONScalar: TypeAlias = str | int | float | bool | None
JSONValue: TypeAlias = JSONScalar | list["JSONValue"] | dict[str, "JSONValue"]

#: The media type of every IDX request and response.
ION_MEDIA_TYPE = "application/ion+json; okta-version=1.0.0"

#: The members at least one of which makes a JSON object an IDX state (a 429 body holds only
#: ``version`` and ``messages``).
_STATE_MARKERS = ("stateHandle", "remediation", "messages", "successWithInteractionCode", "success")

#: ``relatesTo`` paths Okta uses: ``$.currentAuthenticator``, ``$.authenticators.value[2]``.
_RELATES_TO = re.compile(r"\$\.([A-Za-z]{1,64})(?:\.value\[(\d{1,4})\])?")
_AUTHENTICATOR_OBJECTS = ("currentAuthenticator", "currentAuthenticatorEnrollment")
_AUTHENTICATOR_ARRAYS = ("authenticators", "authenticatorEnrollments")


class IdxParseError(BadGateway):
    """Okta answered something that is not a usable IDX state. ``where`` is a JSON path such as
    ``remediation.value[1].value[0].name``; neither it nor ``detail`` holds a value from the
    document (state handles and codes stay out of errors)."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"Okta IDX response is malformed at {where}: {problem}", code="idx_malformed")
        self.where = where


# ------------------------------------------------------------------------------------------
# The types
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Message:
    """An IDX message. ``key`` is Okta's stable i18n key (None when Okta gave none); ``cls`` is
    ``ERROR`` / ``INFO`` / ``WARNING`` as Okta wrote it; ``field`` the dotted name of the field
    it is attached to (None for a global message); ``text`` Okta's own wording (logs only)."""

    text: str
    key: str | None
    cls: str
    params: tuple[JSONValue, ...] = ()
    field: str | None = None


@dataclass(frozen=True, slots=True)
class Idp:
    """The identity provider of a ``redirect-idp`` remediation."""

    id: str
    name: str | None


@dataclass(frozen=True, slots=True)
class ContextualData:
    """``contextualData`` of an authenticator: a TOTP enrollment's QR code (a ``data:`` URI) and
    shared secret, a WebAuthn enrollment's ``activationData`` (creation options) or a WebAuthn
    challenge's ``challengeData`` (request options). ``raw`` keeps the whole object."""

    qrcode_href: str | None = None
    qrcode_type: str | None = None
    shared_secret: str | None = field(default=None, repr=False)
    activation_data: dict[str, JSONValue] | None = None
    challenge_data: dict[str, JSONValue] | None = None
    raw: dict[str, JSONValue] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, slots=True)
class Authenticator:
    """An entry of ``authenticators`` / ``authenticatorEnrollments`` or a current authenticator.
    ``key`` is None when Okta left it out (some enrollments carry only ``type``); ``methods``
    are method types (``email``, ``sms``, ``otp``...), from ``type`` or ``methodType``;
    ``profile`` keeps string values only (masked email / phone as Okta gives them)."""

    key: str | None
    type: str | None
    id: str | None
    authenticator_id: str | None = None
    display_name: str | None = None
    methods: tuple[str, ...] = ()
    profile: dict[str, str] = field(default_factory=dict)
    settings: dict[str, JSONValue] = field(default_factory=dict)
    contextual_data: ContextualData | None = None
    credential_id: str | None = None
    resend: Form | None = None
    poll: Form | None = None
    recover: Form | None = None


@dataclass(frozen=True, slots=True)
class Option:
    """One choice of a field. ``value`` is the scalar value of a simple option (``"sms"``);
    an object choice (an authenticator) has a nested ``form`` instead. ``relates_to`` is the
    authenticator ``relates_to_path`` resolves to, or None."""

    label: str | None
    value: JSONValue = field(default=None, repr=False)
    form: tuple[Field, ...] | None = None
    relates_to: Authenticator | None = None
    relates_to_path: str | None = None


@dataclass(frozen=True, slots=True)
class Field:
    """A form field. ``path`` is the dotted name from the remediation's root
    (``credentials.passcode``). ``type`` is Okta's (None when absent: a string, or an object
    when the field has a ``form``). ``value`` is a fixed (``mutable: false``) or default value."""

    name: str
    path: str
    type: str | None = None
    label: str | None = None
    required: bool = False
    secret: bool = False
    visible: bool = True
    mutable: bool = True
    value: JSONValue = field(default=None, repr=False)
    form: tuple[Field, ...] | None = None
    options: tuple[Option, ...] = ()
    messages: tuple[Message, ...] = ()
    relates_to: Authenticator | None = None
    relates_to_path: str | None = None
    min_length: int | None = None
    max_length: int | None = None

    def all_messages(self) -> Iterator[Message]:
        """This field's messages, then those of its nested form and of its options' forms."""
        yield from self.messages
        for sub in self.form or ():
            yield from sub.all_messages()
        for option in self.options:
            for sub in option.form or ():
                yield from sub.all_messages()


@dataclass(frozen=True, slots=True)
class Form:
    """A remediation (or ``cancel``, ``resend``, ``poll``, ``recover``, ``issue``...).
    ``href`` is None only when Okta left it out (such a form cannot be submitted).
    ``relates_to`` holds the authenticators ``relates_to_paths`` resolve to; ``refresh`` is a
    poll form's interval in milliseconds; ``type`` / ``idp`` describe a ``redirect-idp``."""

    name: str
    href: str | None = field(repr=False)  # a redirect-idp href carries the state handle
    method: str = "POST"
    accepts: str | None = None
    fields: tuple[Field, ...] = ()
    relates_to: tuple[Authenticator, ...] = ()
    relates_to_paths: tuple[str, ...] = ()
    refresh: int | None = None
    type: str | None = None
    idp: Idp | None = None

    def field(self, name: str) -> Field | None:
        """The top-level field called ``name`` (the first, when Okta repeats a name)."""
        return next((f for f in self.fields if f.name == name), None)

    def all_messages(self) -> Iterator[Message]:
        """Every field-level message of this form, nested ones included."""
        for f in self.fields:
            yield from f.all_messages()


@dataclass(frozen=True, slots=True)
class User:
    id: str | None
    identifier: str | None
    profile: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class App:
    id: str | None
    name: str | None
    label: str | None


@dataclass(frozen=True, slots=True)
class IdxState:
    """One IDX response. ``state_handle`` is None only in bodies that carry none (a 429)."""

    state_handle: str | None = field(repr=False)
    version: str | None
    expires_at: datetime | None
    intent: str | None
    remediations: tuple[Form, ...] = ()
    messages: tuple[Message, ...] = ()
    current_authenticator: Authenticator | None = None
    current_authenticator_enrollment: Authenticator | None = None
    authenticators: tuple[Authenticator, ...] = ()
    authenticator_enrollments: tuple[Authenticator, ...] = ()
    user: User | None = None
    app: App | None = None
    cancel: Form | None = None
    success: Form | None = None
    success_with_interaction_code: Form | None = None
    #: The decoded document itself (state handle, secrets and all): what a transaction stores,
    #: encrypted, to validate the next submission without asking Okta again.
    raw: Mapping[str, object] = field(default_factory=dict, repr=False, compare=False)

    @property
    def interaction_code(self) -> str | None:
        """The code to redeem at ``/v1/token`` (``grant_type=interaction_code``), when done."""
        issue = self.success_with_interaction_code
        code = issue.field("interaction_code") if issue is not None else None
        return code.value if code is not None and isinstance(code.value, str) else None

    @property
    def terminal(self) -> bool:
        """Nothing left to do in this transaction: no remediation, no success of any kind."""
        return not self.remediations and self.success is None and self.success_with_interaction_code is None

    def remediation(self, name: str) -> Form | None:
        """The first offered remediation called ``name``."""
        return next((f for f in self.remediations if f.name == name), None)

    def authenticator_actions(self) -> tuple[Form, ...]:
        """``resend`` / ``poll`` / ``recover`` of the current authenticator (enrollment)."""
        forms: list[Form] = []
        for auth in (self.current_authenticator_enrollment, self.current_authenticator):
            if auth is None:
                continue
            for form in (auth.resend, auth.poll, auth.recover):
                if form is not None and all(f.name != form.name for f in forms):
                    forms.append(form)
        return tuple(forms)

    def form(self, name: str) -> Form | None:
        """Any form this state offers by that name: a remediation, ``cancel``, or an action of
        the current authenticator (``resend``, ``poll``, ``recover``)."""
        found = self.remediation(name)
        if found is not None:
            return found
        if self.cancel is not None and self.cancel.name == name:
            return self.cancel
        return next((f for f in self.authenticator_actions() if f.name == name), None)


# ------------------------------------------------------------------------------------------
# Reading JSON
# ------------------------------------------------------------------------------------------


def _obj(value: object, where: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise IdxParseError(where, "expected an object")
    return value


def _opt_str(d: Mapping[str, object], key: str, where: str) -> str | None:
    value = d.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise IdxParseError(f"{where}.{key}", "expected a string")
    return value


def _loose_str(d: Mapping[str, object], key: str) -> str | None:
    """Informational strings: anything else is dropped, not an error."""
    value = d.get(key)
    return value if isinstance(value, str) else None


def _flag(d: Mapping[str, object], key: str, where: str, default: bool) -> bool:
    value = d.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise IdxParseError(f"{where}.{key}", "expected a boolean")
    return value


def _loose_int(d: Mapping[str, object], key: str) -> int | None:
    value = d.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _json(value: object, where: str) -> JSONValue:
    """``value`` as a typed JSON value (json.loads output always is one; anything else is not)."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, list):
        return [_json(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {str(k): _json(v, f"{where}.{k}") for k, v in value.items()}
    raise IdxParseError(where, "not a JSON value")


def _json_object(value: object, where: str) -> dict[str, JSONValue] | None:
    return {str(k): _json(v, f"{where}.{k}") for k, v in value.items()} if isinstance(value, dict) else None


def _ion_array(d: Mapping[str, object], key: str, where: str) -> list[object]:
    """An ion collection ``{"type": "array", "value": [...]}`` (a bare list is accepted)."""
    value = d.get(key)
    if value is None:
        return []
    if isinstance(value, dict):
        value = value.get("value", [])
    if not isinstance(value, list):
        raise IdxParseError(f"{where}.{key}", "expected an array")
    return value


def _ion_object(d: Mapping[str, object], key: str) -> dict[str, object] | None:
    """An ion object ``{"type": "object", "value": {...}}``; any other shape is None."""
    value = d.get(key)
    inner = value.get("value") if isinstance(value, dict) else None
    return inner if isinstance(inner, dict) else None


def _parse_date(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


# ------------------------------------------------------------------------------------------
# The parser
# ------------------------------------------------------------------------------------------


class _Parser:
    def __init__(self, doc: dict[str, object]) -> None:
        self.doc = doc
        self.objects: dict[str, Authenticator] = {}
        self.arrays: dict[str, dict[int, Authenticator]] = {}

    # -- relatesTo -----------------------------------------------------------------------

    def resolve(self, path: str) -> Authenticator | None:
        match = _RELATES_TO.fullmatch(path)
        if match is None:
            return None
        name, index = match.group(1), match.group(2)
        if index is None:
            return self.objects.get(name)
        return self.arrays.get(name, {}).get(int(index))

    def relates_to(self, d: Mapping[str, object],
                   where: str) -> tuple[tuple[str, ...], tuple[Authenticator, ...]]:
        raw = d.get("relatesTo")
        if raw is None:
            return (), ()
        paths = [raw] if isinstance(raw, str) else raw
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            raise IdxParseError(f"{where}.relatesTo", "expected a string or an array of strings")
        resolved = (self.resolve(p) for p in paths)
        return tuple(paths), tuple(a for a in resolved if a is not None)

    # -- messages ------------------------------------------------------------------------

    def messages(self, d: Mapping[str, object], where: str, field_path: str | None) -> tuple[Message, ...]:
        out: list[Message] = []
        for i, raw in enumerate(_ion_array(d, "messages", where)):
            at = f"{where}.messages.value[{i}]"
            m = _obj(raw, at)
            i18n = m.get("i18n")
            key: str | None = None
            params: tuple[JSONValue, ...] = ()
            if i18n is not None:
                i18n_obj = _obj(i18n, f"{at}.i18n")
                key = _opt_str(i18n_obj, "key", f"{at}.i18n")
                raw_params = i18n_obj.get("params")
                if isinstance(raw_params, list):
                    params = tuple(_json(p, f"{at}.i18n.params") for p in raw_params)
            out.append(Message(
                text=_loose_str(m, "message") or "",
                key=key,
                cls=_opt_str(m, "class", at) or "ERROR",
                params=params,
                field=field_path,
            ))
        return tuple(out)

    # -- forms ---------------------------------------------------------------------------

    def fields(self, raw: object, where: str, prefix: str) -> tuple[Field, ...]:
        if not isinstance(raw, list):
            raise IdxParseError(where, "expected an array of fields")
        return tuple(self.field(item, f"{where}[{i}]", prefix) for i, item in enumerate(raw))

    def nested_form(self, raw: object, where: str, prefix: str) -> tuple[Field, ...]:
        form = _obj(raw, where)
        return self.fields(form.get("value", []), f"{where}.value", prefix)

    def field(self, raw: object, where: str, prefix: str) -> Field:
        d = _obj(raw, where)
        name = _opt_str(d, "name", where)
        if not name:
            raise IdxParseError(f"{where}.name", "a field needs a name")
        path = f"{prefix}{name}"
        form = self.nested_form(d["form"], f"{where}.form", f"{path}.") if d.get("form") is not None else None
        raw_options = d.get("options")
        if raw_options is not None and not isinstance(raw_options, list):
            raise IdxParseError(f"{where}.options", "expected an array")
        options = tuple(self.option(o, f"{where}.options[{i}]", f"{path}.")
                        for i, o in enumerate(raw_options or ()))
        rel_paths, rel = self.relates_to(d, where)
        return Field(
            name=name,
            path=path,
            type=_opt_str(d, "type", where),
            label=_loose_str(d, "label"),
            required=_flag(d, "required", where, False),
            secret=_flag(d, "secret", where, False),
            visible=_flag(d, "visible", where, True),
            mutable=_flag(d, "mutable", where, True),
            value=_json(d.get("value"), f"{where}.value"),
            form=form,
            options=options,
            messages=self.messages(d, where, path),
            relates_to=rel[0] if rel else None,
            relates_to_path=rel_paths[0] if rel_paths else None,
            min_length=_loose_int(d, "minLength"),
            max_length=_loose_int(d, "maxLength"),
        )

    def option(self, raw: object, where: str, prefix: str) -> Option:
        d = _obj(raw, where)
        value = d.get("value")
        form: tuple[Field, ...] | None = None
        if isinstance(value, dict) and value.get("form") is not None:
            form = self.nested_form(value["form"], f"{where}.value.form", prefix)
            value = None
        rel_paths, rel = self.relates_to(d, where)
        return Option(
            label=_loose_str(d, "label"),
            value=_json(value, f"{where}.value"),
            form=form,
            relates_to=rel[0] if rel else None,
            relates_to_path=rel_paths[0] if rel_paths else None,
        )

    def form(self, raw: object, where: str) -> Form:
        d = _obj(raw, where)
        name = _opt_str(d, "name", where)
        if not name:
            raise IdxParseError(f"{where}.name", "a form needs a name")
        rel_paths, rel = self.relates_to(d, where)
        idp_raw = d.get("idp")
        idp: Idp | None = None
        if isinstance(idp_raw, dict) and isinstance(idp_raw.get("id"), str):
            idp = Idp(id=idp_raw["id"], name=_loose_str(idp_raw, "name"))
        return Form(
            name=name,
            href=_opt_str(d, "href", where),
            method=(_opt_str(d, "method", where) or "POST").upper(),
            accepts=_loose_str(d, "accepts"),
            fields=self.fields(d.get("value", []), f"{where}.value", ""),
            relates_to=rel,
            relates_to_paths=rel_paths,
            refresh=_loose_int(d, "refresh"),
            type=_loose_str(d, "type"),
            idp=idp,
        )

    def optional_form(self, d: Mapping[str, object], key: str, where: str) -> Form | None:
        raw = d.get(key)
        return None if raw is None else self.form(raw, f"{where}.{key}")

    # -- authenticators ------------------------------------------------------------------

    def authenticator(self, d: dict[str, object], where: str) -> Authenticator:
        methods: list[str] = []
        raw_methods = d.get("methods")
        for m in raw_methods if isinstance(raw_methods, list) else ():
            if isinstance(m, dict):
                kind = m.get("type", m.get("methodType"))
                if isinstance(kind, str):
                    methods.append(kind)
        raw_profile = d.get("profile")
        profile = {str(k): v for k, v in raw_profile.items() if isinstance(v, str)} \
            if isinstance(raw_profile, dict) else {}
        return Authenticator(
            key=_loose_str(d, "key"),
            type=_loose_str(d, "type"),
            id=_loose_str(d, "id"),
            authenticator_id=_loose_str(d, "authenticatorId"),
            display_name=_loose_str(d, "displayName") or _loose_str(d, "label"),
            methods=tuple(methods),
            profile=profile,
            settings=_json_object(d.get("settings"), f"{where}.settings") or {},
            contextual_data=self.contextual_data(d.get("contextualData"), f"{where}.contextualData"),
            credential_id=_loose_str(d, "credentialId"),
            resend=self.optional_form(d, "resend", where),
            poll=self.optional_form(d, "poll", where),
            recover=self.optional_form(d, "recover", where),
        )

    @staticmethod
    def contextual_data(raw: object, where: str) -> ContextualData | None:
        data = _json_object(raw, where)
        if data is None:
            return None
        qrcode = data.get("qrcode")
        qr = qrcode if isinstance(qrcode, dict) else {}
        href, kind, secret = qr.get("href"), qr.get("type"), data.get("sharedSecret")
        activation, challenge = data.get("activationData"), data.get("challengeData")
        return ContextualData(
            qrcode_href=href if isinstance(href, str) else None,
            qrcode_type=kind if isinstance(kind, str) else None,
            shared_secret=secret if isinstance(secret, str) else None,
            activation_data=activation if isinstance(activation, dict) else None,
            challenge_data=challenge if isinstance(challenge, dict) else None,
            raw=data,
        )

    def load_authenticators(self) -> None:
        for name in _AUTHENTICATOR_OBJECTS:
            value = _ion_object(self.doc, name)
            if value is not None:
                self.objects[name] = self.authenticator(value, name)
        for name in _AUTHENTICATOR_ARRAYS:
            raw = self.doc.get(name)
            entries = raw.get("value") if isinstance(raw, dict) else raw
            indexed: dict[int, Authenticator] = {}
            for i, entry in enumerate(entries if isinstance(entries, list) else ()):
                if isinstance(entry, dict):  # Okta's own mocks hold a stray string entry
                    indexed[i] = self.authenticator(entry, f"{name}.value[{i}]")
            self.arrays[name] = indexed

    # -- the state -----------------------------------------------------------------------

    def state(self) -> IdxState:
        doc = self.doc
        self.load_authenticators()
        remediations = tuple(self.form(raw, f"remediation.value[{i}]")
                             for i, raw in enumerate(_ion_array(doc, "remediation", "$")))
        issue = self.optional_form(doc, "successWithInteractionCode", "$")
        if issue is not None:
            code = issue.field("interaction_code")
            if code is None or not isinstance(code.value, str) or not code.value:
                raise IdxParseError("successWithInteractionCode", "no interaction_code value")
        user_raw, app_raw = _ion_object(doc, "user"), _ion_object(doc, "app")
        user: User | None = None
        if user_raw is not None:
            profile_raw = user_raw.get("profile")
            user = User(id=_loose_str(user_raw, "id"), identifier=_loose_str(user_raw, "identifier"),
                        profile={str(k): v for k, v in profile_raw.items() if isinstance(v, str)}
                        if isinstance(profile_raw, dict) else {})
        app = App(id=_loose_str(app_raw, "id"), name=_loose_str(app_raw, "name"),
                  label=_loose_str(app_raw, "label")) if app_raw is not None else None
        return IdxState(
            state_handle=_opt_str(doc, "stateHandle", "$"),
            version=_loose_str(doc, "version"),
            expires_at=_parse_date(_opt_str(doc, "expiresAt", "$")),
            intent=_opt_str(doc, "intent", "$"),
            remediations=remediations,
            messages=self.messages(doc, "$", None),
            current_authenticator=self.objects.get("currentAuthenticator"),
            current_authenticator_enrollment=self.objects.get("currentAuthenticatorEnrollment"),
            authenticators=tuple(self.arrays.get("authenticators", {}).values()),
            authenticator_enrollments=tuple(self.arrays.get("authenticatorEnrollments", {}).values()),
            user=user,
            app=app,
            cancel=self.optional_form(doc, "cancel", "$"),
            success=self.optional_form(doc, "success", "$"),
            success_with_interaction_code=issue,
            raw=doc,
        )


def parse_state(doc: object) -> IdxState:
    """Parse one decoded IDX response (the JSON of an introspect or remediation answer, whatever
    its HTTP status). Raises :class:`IdxParseError` and nothing else."""
    if not isinstance(doc, dict):
        raise IdxParseError("$", "an IDX state is a JSON object")
    if not any(doc.get(marker) is not None for marker in _STATE_MARKERS):
        raise IdxParseError("$", "not an IDX state (no stateHandle, remediation or messages)")
    try:
        return _Parser(doc).state()
    except IdxParseError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, RecursionError) as exc:
        raise IdxParseError("$", f"unexpected structure ({type(exc).__name__})") from exc
