"""Okta's rules for a user's profile and password: what the Management API (``/api/v1/users``)
and the hosted registration page both enforce, with Okta's error-cause wording."""

from __future__ import annotations

import re
from typing import Any

from bff_dev.twins.okta.directory import ARRAY_ATTRIBUTES, PROFILE_ATTRIBUTES, Directory

REQUIRED = ("login", "email", "firstName", "lastName")
EMAIL = re.compile(r"^[^@\s\"<>()\[\],;:\\]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
POLICY_MESSAGE = ("Password requirements were not met. Password requirements: at least 8 characters, "
                  "a lowercase letter, an uppercase letter, a number, no parts of your username.")


def validate_profile(profile: Any, directory: Directory, *, except_id: str | None = None,
                     partial: bool = False, current: dict[str, Any] | None = None) -> list[str]:
    """The problems of a user profile as Okta's ``errorCauses`` summaries (``"field: message"``),
    none when valid. ``directory`` checks that the login is free (``except_id``: the user being
    updated); ``partial`` (a POST update) validates ``profile`` merged over ``current``."""
    causes: list[str] = []
    if not isinstance(profile, dict):
        return ["profile: The field cannot be left blank"]
    for name, value in profile.items():
        if name not in PROFILE_ATTRIBUTES:
            causes.append(f"{name}: Property name '{name}' is not defined in profile")
        elif value is None:
            if name in REQUIRED:
                causes.append(f"{name}: The field cannot be left blank")
        elif name in ARRAY_ATTRIBUTES:
            if not isinstance(value, list) or len(value) > 100 or \
                    not all(isinstance(v, str) for v in value):
                causes.append(f"{name}: Does not match required type: array of string")
        elif not isinstance(value, str):
            causes.append(f"{name}: Does not match required type: string")
        elif len(value) > 1024 or "\x00" in value:
            causes.append(f"{name}: The field is too long")
    merged = {**(current or {}), **profile} if partial else dict(profile)
    for name in REQUIRED:
        value = merged.get(name)
        if not isinstance(value, str) or not value.strip():
            if not any(c.startswith(f"{name}:") for c in causes):
                causes.append(f"{name}: The field cannot be left blank")
    for name in ("firstName", "lastName"):
        value = merged.get(name)
        if isinstance(value, str) and len(value) > 50:
            causes.append(f"{name}: The field is too long")
    email, login = merged.get("email"), merged.get("login")
    if isinstance(email, str) and email and (not EMAIL.match(email) or len(email) > 100):
        causes.append("email: Does not match required pattern")
    if isinstance(login, str) and login:
        if not EMAIL.match(login) or not 5 <= len(login) <= 100:
            causes.append("login: Username must be in the form of an email address")
        elif directory.login_taken(login, except_id=except_id):
            causes.append("login: An object with this field already exists in the current organization")
    return causes


def password_problems(password: Any, profile: dict[str, Any]) -> list[str]:
    if not isinstance(password, str) or not password:
        return ["password: The field cannot be left blank"]
    if len(password) > 72:
        return ["password: Password cannot exceed 72 characters"]
    parts = re.split(r"[@._\-+]", str(profile.get("login", "")).lower())
    parts += [str(profile.get("firstName", "")).lower(), str(profile.get("lastName", "")).lower()]
    weak = (len(password) < 8 or not re.search(r"[a-z]", password) or not re.search(r"[A-Z]", password)
            or not re.search(r"[0-9]", password)
            or any(len(p) >= 3 and p in password.lower() for p in parts))
    return [f"password: {POLICY_MESSAGE}"] if weak else []
