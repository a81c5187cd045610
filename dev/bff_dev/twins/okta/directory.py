"""Users and groups of the twin's Okta org (the Universal Directory), seeded from a JSON file.

The seed file (``data/users.json``) lists groups and users with stable ids; each user carries a
plaintext password only in the file: in memory it is a salted PBKDF2 hash. ``orgId`` is a custom
profile attribute naming the CUSTOMER organisation (tenant) a user belongs to; all users live in
the one Okta org, as with a real multi-tenant Okta set-up.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import string
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DEFAULT_USERS_FILE = Path(__file__).parent / "data" / "users.json"

#: Okta's base profile attributes the twin knows plus this project's custom ones.
BASE_ATTRIBUTES = (
    "login", "email", "secondEmail", "firstName", "lastName", "middleName", "honorificPrefix",
    "honorificSuffix", "title", "displayName", "nickName", "profileUrl", "primaryPhone",
    "mobilePhone", "streetAddress", "city", "state", "zipCode", "postalAddress", "countryCode",
    "preferredLanguage", "locale", "timezone", "userType", "employeeNumber", "costCenter",
    "organization", "division", "department", "managerId", "manager",
)
CUSTOM_ATTRIBUTES = ("orgId", "adminRole", "adminGroups", "complianceStatus", "company")
ARRAY_ATTRIBUTES = frozenset({"adminGroups"})
PROFILE_ATTRIBUTES = frozenset(BASE_ATTRIBUTES + CUSTOM_ATTRIBUTES)

_ID_ALPHABET = string.ascii_letters + string.digits
_PBKDF2_ROUNDS = 2_000  # a twin: cheap on purpose, but never plaintext in memory


def okta_id(prefix: str) -> str:
    """A new Okta-style object id: 3-char type prefix + 17 random alphanumerics (20 chars)."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(17))


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ts * 1000) % 1000:03d}Z"


def hash_password(password: str) -> bytes:
    salt = secrets.token_bytes(16)
    return salt + hashlib.pbkdf2_hmac("sha256", password.encode(), salt, _PBKDF2_ROUNDS)


def check_password(stored: bytes | None, password: str) -> bool:
    if not stored:
        return False
    salt, digest = stored[:16], stored[16:]
    candidate = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, _PBKDF2_ROUNDS)
    return hmac.compare_digest(digest, candidate)


@dataclass
class User:
    id: str
    status: str  # STAGED | PROVISIONED | ACTIVE | SUSPENDED | DEPROVISIONED | ...
    profile: dict[str, Any]
    created: float
    last_updated: float
    activated: float | None = None
    status_changed: float | None = None
    last_login: float | None = None
    password_changed: float | None = None
    password_hash: bytes | None = field(default=None, repr=False)

    @property
    def login(self) -> str:
        return str(self.profile.get("login", ""))

    @property
    def display_name(self) -> str:
        return f"{self.profile.get('firstName', '')} {self.profile.get('lastName', '')}".strip()

    def set_status(self, status: str, now: float) -> None:
        self.status = status
        self.status_changed = now
        self.last_updated = now


@dataclass
class Group:
    id: str
    name: str
    description: str
    created: float
    last_updated: float
    last_membership_updated: float
    type: str = "OKTA_GROUP"  # or BUILT_IN (Everyone)
    org_id: str | None = None  # custom group profile attribute: the customer org owning it
    members: dict[str, None] = field(default_factory=dict)  # ordered set of user ids


class Directory:
    """In-memory users and groups with lookups by id and (case-insensitive) login."""

    def __init__(self) -> None:
        self.users: dict[str, User] = {}
        self.groups: dict[str, Group] = {}
        self._by_login: dict[str, str] = {}

    # -- loading -------------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path | None = None, *, now: float | None = None) -> Directory:
        data = json.loads((path or DEFAULT_USERS_FILE).read_text(encoding="utf-8"))
        return cls.from_seed(data, now=now)

    @classmethod
    def from_seed(cls, data: dict[str, Any], *, now: float | None = None) -> Directory:
        now = time.time() if now is None else now
        d = cls()
        everyone = Group(id=data.get("everyoneGroupId", "00geveryone00000000"), name="Everyone",
                         description="All users in your organization", created=now, last_updated=now,
                         last_membership_updated=now, type="BUILT_IN")
        d.groups[everyone.id] = everyone
        for g in data.get("groups", []):
            d.groups[g["id"]] = Group(id=g["id"], name=g["name"], description=g.get("description", ""),
                                      created=now, last_updated=now, last_membership_updated=now,
                                      org_id=g.get("orgId"))
        by_name = {g.name: g for g in d.groups.values()}
        default_password = data.get("defaultPassword")
        for u in data.get("users", []):
            password = u.get("password", default_password)
            profile = {k: v for k, v in u["profile"].items() if v is not None}
            user = User(id=u["id"], status=u.get("status", "ACTIVE"), profile=profile,
                        created=now, last_updated=now, activated=now, status_changed=now,
                        password_changed=now if password else None,
                        password_hash=hash_password(password) if password else None)
            d.add_user(user)
            for name in u.get("groups", []):
                by_name[name].members[user.id] = None
        return d

    # -- users ---------------------------------------------------------------------------
    def add_user(self, user: User) -> None:
        self.users[user.id] = user
        self._by_login[user.login.lower()] = user.id
        self.everyone.members[user.id] = None

    @property
    def everyone(self) -> Group:
        return next(g for g in self.groups.values() if g.type == "BUILT_IN")

    def user(self, id_or_login: str) -> User | None:
        """A user by id, or by login (case-insensitive) as Okta's ``/api/v1/users/{idOrLogin}``."""
        if id_or_login in self.users:
            return self.users[id_or_login]
        uid = self._by_login.get(id_or_login.lower())
        return self.users.get(uid) if uid else None

    def login_taken(self, login: str, *, except_id: str | None = None) -> bool:
        uid = self._by_login.get(login.lower())
        return uid is not None and uid != except_id

    def relogin(self, user: User, old_login: str) -> None:
        self._by_login.pop(old_login.lower(), None)
        self._by_login[user.login.lower()] = user.id

    def remove_user(self, user: User) -> None:
        self.users.pop(user.id, None)
        self._by_login.pop(user.login.lower(), None)
        for g in self.groups.values():
            g.members.pop(user.id, None)

    def authenticate(self, login: str, password: str) -> User | None:
        """The ACTIVE user with this login and password, else None (no hint which part failed)."""
        user = self.user(login) if login and "\x00" not in login else None
        if user is None or user.status != "ACTIVE":
            check_password(None, password)
            return None
        return user if check_password(user.password_hash, password) else None

    def set_password(self, user: User, password: str, now: float) -> None:
        user.password_hash = hash_password(password)
        user.password_changed = now

    # -- groups --------------------------------------------------------------------------
    def groups_of(self, user_id: str) -> Iterator[Group]:
        return (g for g in self.groups.values() if user_id in g.members)

    def group_names(self, user_id: str) -> list[str]:
        """The ``groups`` claim: OKTA_GROUP names (Everyone filtered out), capped at 100 as Okta."""
        return [g.name for g in self.groups_of(user_id) if g.type == "OKTA_GROUP"][:100]

    def group_by_name(self, name: str) -> Group | None:
        return next((g for g in self.groups.values() if g.name == name), None)

    def in_group(self, user_id: str, name: str) -> bool:
        group = self.group_by_name(name)
        return group is not None and user_id in group.members

    def seeded_summary(self) -> Iterable[User]:
        return self.users.values()
