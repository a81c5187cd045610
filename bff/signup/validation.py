"""Field validation for sign-up and progressive profiling.

Everything that comes from the browser goes through here before it reaches Okta. Each
problem becomes a :class:`FieldError` whose ``code`` is a key of the ``signup`` copy journey
(``error.<field>.<reason>``), so the SPA shows the localized sentence next to the field; the
complete list of codes is :data:`ERROR_CODES` (and docs/signup.md).

Hostile input is expected: wrong JSON types, oversized strings, markup or script in names,
control and bidi-override characters, full-width look-alikes (NFKC folds ``＜`` into ``<``
before the check), unknown fields. None of it may raise anything but :class:`ValidationFailed`.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from babel import Locale, UnknownLocaleError

from bff.errors import ValidationFailed

#: Okta's limits on the base profile: login/email 100 characters, names 50.
EMAIL_MAX = 100
NAME_MAX = 50
TEXT_MAX = 100
ORG_MAX = 64
INVITATION_MAX = 1024
PASSWORD_MIN = 12  # the copy says "at least 12"; Okta's default policy asks for 8
PASSWORD_MAX = 72  # longer passwords are truncated by bcrypt-style hashes; refuse instead

# Okta's default password policy (a lowercase and an uppercase letter, a number, no part of
# the username), with the longer minimum the sign-up copy promises. Mirrored here so the user
# hears about it before Okta does (Okta may still refuse, e.g. a common password: that also
# maps to error.password.weak).
PASSWORD_POLICY: dict[str, Any] = {
    "minLength": PASSWORD_MIN,
    "maxLength": PASSWORD_MAX,
    "minLowerCase": 1,
    "minUpperCase": 1,
    "minNumber": 1,
    "excludeUsername": True,
    "excludeAttributes": ["firstName", "lastName"],
}

#: Every code ``POST /bff/signup`` can answer (keys of the ``signup`` copy journey; a test
#: checks that the validators emit nothing else and that the copy has every one).
ERROR_CODES: tuple[str, ...] = (
    "error.field.unknown",
    "error.email.required", "error.email.invalid", "error.email.tooLong", "error.email.taken",
    "error.email.domain",
    "error.firstName.required", "error.firstName.invalid", "error.firstName.tooLong",
    "error.lastName.required", "error.lastName.invalid", "error.lastName.tooLong",
    "error.company.required", "error.company.invalid", "error.company.tooLong",
    # the same under the accepted alias ``organisation`` (errors use the name the client sent)
    "error.organisation.required", "error.organisation.invalid", "error.organisation.tooLong",
    "error.invitationCode.required", "error.invitationCode.unknown", "error.invitationCode.expired",
    "error.invitationCode.revoked", "error.invitationCode.used", "error.invitationCode.email",
    "error.password.weak",  # Okta's verdict (bff.signup.okta_users); the form has no password
    "error.terms.required",
    "error.locale.invalid",
)

# An email the way Okta and mail systems actually accept it: ASCII dot-atom local part, a
# hostname with at least two labels and an alphabetic TLD (or an xn-- IDN TLD).
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TLD = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")
_ORG = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$")
_LOCALE_TAG = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8}){0,3}$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ().-]{4,28}[0-9]$")
_NAME_PUNCT = frozenset("'’-‐.")  # apostrophes, hyphens, period (O'Brien, Jean-Luc, Jr.)
_JOINERS = frozenset("\u200c\u200d")  # ZWNJ/ZWJ are letters' glue in Persian, Indic scripts
_MARKUP = frozenset("<>&\"`{}[]\\/;=")


@dataclass(frozen=True)
class FieldError:
    field: str
    code: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code}


@dataclass
class Errors:
    items: list[FieldError] = field(default_factory=list)

    def add(self, name: str, reason: str) -> None:
        self.items.append(FieldError(name, f"error.{name}.{reason}"))

    def unknown(self, name: str) -> None:
        self.items.append(FieldError(_printable(name)[:64], "error.field.unknown"))

    def raise_if_any(self) -> None:
        if self.items:
            raise ValidationFailed([e.as_dict() for e in self.items])

    def __bool__(self) -> bool:
        return bool(self.items)


def _printable(text: str) -> str:
    """A field name safe to echo back: no control or format characters."""
    return "".join(ch for ch in text if unicodedata.category(ch)[0] not in {"C", "Z"} or ch == " ")


def normalize_text(value: str) -> str:
    """NFKC (folds full-width and compatibility look-alikes), trimmed, inner whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", value).split())


def is_clean_text(value: str) -> bool:
    """No control/format/private-use/unassigned characters and no markup characters."""
    for ch in value:
        cat = unicodedata.category(ch)
        if ch in _MARKUP:
            return False
        if cat in {"Cc", "Co", "Cs", "Cn", "Zl", "Zp"}:
            return False
        if cat == "Cf" and ch not in _JOINERS:
            return False
    return True


def is_name(value: str) -> bool:
    """Letters of any script, combining marks, single spaces and name punctuation only."""
    if not value or value[0] in _NAME_PUNCT | _JOINERS or value[-1] in _JOINERS:
        return False
    if not any(unicodedata.category(ch).startswith("L") for ch in value):
        return False
    for ch in value:
        cat = unicodedata.category(ch)
        if cat.startswith(("L", "M")) or ch == " " or ch in _NAME_PUNCT or ch in _JOINERS:
            continue
        return False
    return True


def check_name(errors: Errors, name: str, raw: Any) -> str | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        errors.add(name, "required")
        return None
    if not isinstance(raw, str):
        errors.add(name, "invalid")
        return None
    if len(raw) > NAME_MAX * 4:  # before normalising: bounds the work on hostile input
        errors.add(name, "tooLong")
        return None
    value = normalize_text(raw)
    if not value:
        errors.add(name, "required")
    elif not is_name(value):
        errors.add(name, "invalid")
    elif len(value) > NAME_MAX:
        errors.add(name, "tooLong")
    else:
        return value
    return None


def normalize_email(raw: str) -> str | None:
    """The canonical (lower-case) address, or None when it is not one Okta would accept."""
    value = raw.strip()
    if not value.isascii() or any(ch.isspace() or ord(ch) < 0x20 or ch == "\x7f" for ch in value):
        return None
    local, sep, domain = value.rpartition("@")
    if not sep or not local or not domain or len(local) > 64:
        return None
    if not _LOCAL.match(local):
        return None
    domain = domain.lower()
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or not _TLD.match(labels[-1]):
        return None
    return f"{local.lower()}@{domain}"


def check_email(errors: Errors, raw: Any) -> str | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        errors.add("email", "required")
        return None
    if not isinstance(raw, str):
        errors.add("email", "invalid")
        return None
    if len(raw.strip()) > EMAIL_MAX:
        errors.add("email", "tooLong")
        return None
    email = normalize_email(raw)
    if email is None:
        errors.add("email", "invalid")
    return email


def org_slug(name: str) -> str:
    """The organisation id derived from its name: ``"Acme Société"`` → ``"acme-societe"``."""
    ascii_only = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_only).strip("-")[:ORG_MAX].strip("-")
    if len(slug) * 2 < len(name.replace(" ", "")):
        # Mostly non-Latin (株式会社アクメ): a stable id from the name itself.
        slug = "org-" + hashlib.sha256(name.casefold().encode()).hexdigest()[:12]
    return slug


def check_organisation(errors: Errors, raw: Any, name: str = "company") -> tuple[str, str] | None:
    """The customer organisation as typed (kept as Okta's ``company``) and its id (``orgId``).

    An id such as ``acme`` stays ``acme``; a name such as ``Acme Ltd`` becomes ``acme-ltd``."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        errors.add(name, "required")
        return None
    if not isinstance(raw, str):
        errors.add(name, "invalid")
        return None
    if len(raw) > TEXT_MAX * 4:
        errors.add(name, "tooLong")
        return None
    value = normalize_text(raw)
    slug = org_slug(value)
    if not is_clean_text(value) or not any(ch.isalnum() for ch in value) or not _ORG.match(slug):
        errors.add(name, "invalid")
        return None
    if len(value) > TEXT_MAX:
        errors.add(name, "tooLong")
        return None
    return value, slug


def _username_parts(email: str) -> list[str]:
    """Okta's "parts of the username": the login split at , . - _ # @ (and +), 3+ characters."""
    return [p for p in re.split(r"[.,_#@+-]", email) if len(p) >= 3]


def password_problem(password: str, *, email: str | None, first: str | None, last: str | None) -> str | None:
    """The reason (``tooShort``, ``tooLong``, ``weak``) or None. A password containing part of
    the username or the names is ``weak`` (Okta's ``excludeUsername``/``excludeAttributes``)."""
    if len(password) < PASSWORD_MIN:
        return "tooShort"
    if len(password) > PASSWORD_MAX:
        return "tooLong"
    if any(unicodedata.category(ch).startswith("C") for ch in password):
        return "weak"
    if not (any(c.islower() for c in password) and any(c.isupper() for c in password)
            and any(c.isdigit() for c in password)):
        return "weak"
    lowered = password.lower()
    personal: list[str] = []
    if email:
        personal.extend(_username_parts(email))
    personal.extend(n for n in (first, last) if n and len(n) >= 3)
    if any(p.lower() in lowered for p in personal if len(p) >= 3):
        return "weak"
    return None


def supported_locale(raw: str, supported: Iterable[str]) -> str | None:
    """The best supported BCP 47 tag for ``raw`` (``fr-BE`` → ``fr``), or None."""
    options = list(supported)
    tag = raw.replace("_", "-")
    by_lower = {s.lower(): s for s in options}
    if tag.lower() in by_lower:
        return by_lower[tag.lower()]
    try:
        parsed = Locale.parse(tag, sep="-")
    except (UnknownLocaleError, ValueError, TypeError):
        return None
    return by_lower.get(parsed.language.lower())


def check_locale(errors: Errors, raw: Any, supported: Iterable[str], name: str = "locale", *,
                 strict: bool = False) -> str | None:
    """A supported locale. Malformed → ``invalid``; well-formed but unsupported → ``invalid``
    when ``strict`` (a language the user picks), else None (the caller falls back)."""
    if raw is None:
        return None
    if not isinstance(raw, str) or not _LOCALE_TAG.match(raw):
        errors.add(name, "invalid")
        return None
    found = supported_locale(raw, supported)
    if found is None and strict:
        errors.add(name, "invalid")
    return found


# ---------------------------------------------------------------------------------------------
# Progressive profiling: the configured optional fields
# ---------------------------------------------------------------------------------------------


def check_profile_value(errors: Errors, name: str, raw: Any, supported_locales: Iterable[str]) -> Any:
    """Validate one profile field. ``None`` (or an empty string) clears the attribute."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if name in {"firstName", "lastName"}:
            errors.add(name, "required")
        return None
    if not isinstance(raw, str):
        errors.add(name, "invalid")
        return None
    if name in {"firstName", "lastName"}:
        return check_name(errors, name, raw)
    if name in {"preferredLanguage", "locale"}:
        return check_locale(errors, raw, supported_locales, name, strict=True)
    if name in {"mobilePhone", "primaryPhone"}:
        value = raw.strip()
        digits = sum(ch.isdigit() for ch in value)
        if len(value) > 32 or not _PHONE.match(value) or not 6 <= digits <= 15:
            errors.add(name, "invalid")
            return None
        return value
    if name == "countryCode":
        value = raw.strip().upper()
        if not re.fullmatch(r"[A-Z]{2}", value) or value not in Locale("en").territories:
            errors.add(name, "invalid")
            return None
        return value
    if len(raw) > TEXT_MAX * 4:
        errors.add(name, "tooLong")
        return None
    value = normalize_text(raw)
    if not is_clean_text(value):
        errors.add(name, "invalid")
        return None
    if len(value) > TEXT_MAX:
        errors.add(name, "tooLong")
        return None
    return value


#: The profile attributes the bundled ``profile`` copy carries a label and error sentences for
#: (the validator's special cases plus the free-text defaults). ``BFF_PROFILE_FIELDS`` may name
#: others (validated as free text); their ``field.<name>.label``, ``error.<name>.invalid`` and
#: ``error.<name>.tooLong`` must then be added to the copy (docs/signup.md).
KNOWN_PROFILE_FIELDS: tuple[str, ...] = (
    "company", "title", "mobilePhone", "primaryPhone", "preferredLanguage", "locale",
    "firstName", "lastName", "countryCode",
)


def profile_error_codes(fields: Iterable[str]) -> list[str]:
    """Every code ``POST /bff/profile`` can answer with these fields configured (keys of the
    ``profile`` copy journey)."""
    out: list[str] = ["error.field.unknown"]
    for name in fields:
        reasons: tuple[str, ...] = ("invalid", "tooLong")
        if name in {"firstName", "lastName"}:
            reasons = ("required", "invalid", "tooLong")
        elif name in {"preferredLanguage", "locale", "mobilePhone", "primaryPhone", "countryCode"}:
            reasons = ("invalid",)
        out.extend(f"error.{name}.{r}" for r in reasons)
    return out


def reject_unknown(errors: Errors, body: Mapping[str, Any], allowed: Iterable[str], limit: int = 10) -> None:
    allowed_set = set(allowed)
    unknown = [k for k in body if k not in allowed_set]
    for name in unknown[:limit]:
        errors.unknown(name)
