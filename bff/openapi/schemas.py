"""The JSON Schemas (2020-12, OpenAPI 3.1's dialect) of the bodies the BFF answers and accepts.

Each schema is the shape its handler really builds, read from the code named beside it; a
change there must change the schema here (the schema-fuzzing test, ``tests/integration/openapi``,
validates every answer of the running app against these). Objects the BFF builds itself are
closed (``additionalProperties: false``) so a new member shows up as a failure, not as drift;
objects that carry Okta's or AEM's data through (a step's ``profile``, an authenticator's
``settings``) stay open.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
BOOLEAN: Schema = {"type": "boolean"}
INTEGER: Schema = {"type": "integer"}
NULLABLE_STRING: Schema = {"type": ["string", "null"]}
STRINGS: Schema = {"type": "array", "items": STRING}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def closed(properties: dict[str, Schema], required: list[str] | None = None) -> Schema:
    """An object with exactly these members (``required``: all of them unless given)."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }


#: RFC 9457 problem details, as :func:`bff.errors.problem` draws them (and the admin function's
#: ``problem``). Extra members: ``errors`` (422, sign-in 400s), ``review`` (admin 409),
#: ``missingScopes`` / ``requiredRoles`` (proxy 403), ``checks``.
PROBLEM: Schema = {
    "type": "object",
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string", "format": "uri", "pattern": "^https://bff\\.dev/problems/"},
        "title": STRING,
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "code": {"type": "string", "pattern": "^[a-z0-9_]+$"},
        "detail": STRING,
        "errors": {"type": "array", "items": closed({"field": STRING, "code": STRING})},
        "missingScopes": STRINGS,
        "requiredRoles": STRINGS,
        "review": {"oneOf": [ref("AdminReview"), {"type": "null"}]},
    },
    "additionalProperties": True,
}

#: ``GET /healthz``; ``GET /readyz`` (bff.app).
HEALTH: Schema = closed({"status": {"const": "ok"}})
READY: Schema = closed(
    {"status": {"enum": ["ok", "unavailable"]}, "checks": {"type": "object", "additionalProperties": BOOLEAN}}
)

#: ``GET /bff/user``: :meth:`bff.auth.api.Principal.public_view`.
USER: Schema = closed(
    {
        "sub": STRING,
        "login": STRING,
        "name": NULLABLE_STRING,
        "email": NULLABLE_STRING,
        "groups": STRINGS,
        "orgId": NULLABLE_STRING,
        "scopes": STRINGS,
        "expiresAt": INTEGER,
        "preview": BOOLEAN,
        "admin": BOOLEAN,  # the admin step-up is in force (BFF_ADMIN_SCOPE_TTL)
        "adminRole": STRING,
        "adminGroups": STRINGS,
    },
    required=["sub", "login", "name", "email", "groups", "orgId", "scopes", "expiresAt", "preview", "admin"],
)

LOGOUT: Schema = closed({"logoutUrl": STRING})

#: ``GET /bff/sessions`` (bff.auth.session_endpoints): the user's own sessions; a handle is an
#: HMAC of the session id, never the id.
SESSION_VIEW: Schema = closed(
    {
        "handle": {"type": "string", "pattern": "^[A-Za-z0-9_-]+$"},
        "createdAt": INTEGER,
        "lastSeenAt": INTEGER,
        "device": NULLABLE_STRING,
        "network": NULLABLE_STRING,
        "current": BOOLEAN,
    }
)
SESSIONS: Schema = closed({"sessions": {"type": "array", "items": ref("SessionView")}})
SESSIONS_ENDED: Schema = closed({"ended": INTEGER})
#: ``POST /api/admin/users/{userId}/sessions/revoke``
ADMIN_SESSIONS_REVOKED: Schema = closed({"userId": STRING, "sessionsRevoked": BOOLEAN})

#: ``GET /bff/content/{journey}``: :func:`bff.content.service.merge`.
COPY: Schema = closed(
    {
        "journey": STRING,
        "requested": STRING,
        "locale": STRING,
        "strings": {"type": "object", "additionalProperties": STRING},
        "fallbacks": {"type": "object", "additionalProperties": STRING},
        "missing": STRINGS,
        "source": {"enum": ["cache", "aem", "stale", "bundled"]},
        "preview": BOOLEAN,
    }
)

PREVIEW_STATE: Schema = closed({"enabled": BOOLEAN, "allowed": BOOLEAN})
PREVIEW_TOGGLE: Schema = closed({"enabled": BOOLEAN})

#: ``GET|POST /bff/hooks/aem``: :meth:`bff.content.hooks.HookProcessor.process`.
AEM_HOOK_RESULT: Schema = closed(
    {
        "received": INTEGER,
        "evicted": {"type": "array", "items": closed({"journey": STRING, "locale": STRING})},
        "duplicates": INTEGER,
        "ignored": INTEGER,
        "cdnInvalidation": {"type": ["string", "null"]},
    }
)

#: ``GET /bff/signup``: :func:`bff.signup.forms.describe_signup`.
SIGNUP_FORM: Schema = closed(
    {
        "fields": STRINGS,
        "required": STRINGS,
        "orgMode": {"enum": ["organisation", "invitation", "none"]},
        "passwordMode": {"enum": ["optional", "required", "none"]},
        "passwordPolicy": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "additionalProperties": True,
                    "properties": {"minLength": INTEGER, "maxLength": INTEGER},
                },
            ]
        },
        "nameMaxLength": INTEGER,
        "locales": STRINGS,
    }
)
SIGNUP_REQUEST: Schema = {
    "type": "object",
    "properties": {
        "email": {"type": "string", "format": "email", "maxLength": 100},
        "firstName": {"type": "string", "minLength": 1, "maxLength": 50},
        "lastName": {"type": "string", "minLength": 1, "maxLength": 50},
        "company": {"type": "string", "maxLength": 200},
        "organisation": {"type": "string", "maxLength": 200},
        "invitationCode": {"type": "string", "maxLength": 1024},
        "password": {"type": "string", "maxLength": 72},
        "terms": BOOLEAN,
        "locale": STRING,
    },
    "required": ["email", "firstName", "lastName"],
    "additionalProperties": False,
}
#: ``POST /bff/signup`` (bff.signup.endpoints.signup).
SIGNUP_CREATED: Schema = closed(
    {
        "status": {"const": "created"},
        "login": STRING,
        "accountStatus": STRING,
        "next": {"enum": ["signIn", "activateByEmail"]},
    }
)
#: ``GET|POST /bff/profile``: :meth:`bff.signup.service.SignupService.profile_view`.
PROFILE: Schema = closed(
    {
        "fields": STRINGS,
        "values": {"type": "object", "additionalProperties": {"type": ["string", "null"]}},
        "missing": STRINGS,
        "email": NULLABLE_STRING,
        "firstName": NULLABLE_STRING,
        "lastName": NULLABLE_STRING,
    }
)
PROFILE_UPDATE: Schema = {"type": "object", "additionalProperties": {"type": ["string", "null"]}}
OKTA_VERIFICATION: Schema = closed({"verification": STRING})
OKTA_HOOK_RESULT: Schema = closed({"received": INTEGER, "accepted": INTEGER, "duplicates": INTEGER})

# -- the embedded sign-in step (bff.signin.steps, its module docstring) ------------------------

_SCALAR: Schema = {"type": ["string", "integer", "number", "boolean", "null"]}
STEP_FIELD: Schema = closed(
    {
        "name": STRING,
        "type": STRING,
        "required": BOOLEAN,
        "secret": BOOLEAN,
        "options": {"type": "array", "items": _SCALAR},
        "minLength": INTEGER,
        "maxLength": INTEGER,
        "visible": {"const": False},
        "value": {"type": ["string", "integer", "number", "boolean"]},
    },
    required=["name", "type", "required", "secret"],
)
STEP_AUTHENTICATOR: Schema = closed(
    {
        "key": NULLABLE_STRING,
        "methods": {"type": "array"},
        "profile": {"type": "object"},
        "resend": BOOLEAN,
        "poll": BOOLEAN,
        "pollInterval": {"type": "number"},
        "settings": {"type": "object"},
        "enrollment": {
            "oneOf": [
                closed({"type": {"const": "totp"}, "sharedSecret": STRING, "otpauthUri": STRING}),
                closed({"type": {"const": "webauthn"}, "activationData": {}}),
            ]
        },
        "challenge": closed(
            {"type": {"const": "webauthn"}, "challengeData": {}, "credentialIds": {"type": "array"}}
        ),
    },
    required=["key", "methods", "profile", "resend", "poll"],
)
STEP_CHOICE: Schema = closed(
    {
        "id": {},
        "key": NULLABLE_STRING,
        "label": NULLABLE_STRING,
        "methodTypes": {"type": "array"},
        "enrollmentId": {},
        "profile": {"type": "object"},
    },
    required=["id", "key", "label", "methodTypes"],
)
STEP_MESSAGE: Schema = closed(
    {
        "key": NULLABLE_STRING,
        "class": {"enum": ["ERROR", "INFO", "WARNING"]},
        "field": STRING,
        "params": {"type": "array"},
    },
    required=["key", "class"],
)
STEP: Schema = closed(
    {
        "step": STRING,
        "fields": {"type": "array", "items": ref("SigninField")},
        "authenticator": ref("SigninAuthenticator"),
        "choices": {"type": "array", "items": ref("SigninChoice")},
        "alternatives": STRINGS,
        "idps": {"type": "array", "items": closed({"id": {}, "name": {}, "type": {}})},
        "messages": {"type": "array", "items": ref("SigninMessage")},
        "unsupported": STRING,
        "location": STRING,
        "transaction": STRING,
    },
    required=["step", "fields", "alternatives", "messages"],
)
SIGNIN_START: Schema = {
    "type": "object",
    "properties": {"returnTo": STRING, "scope": STRING, "identifier": STRING},
    "additionalProperties": False,
}
SIGNIN_SUBMISSION: Schema = {
    "type": "object",
    "maxProperties": 64,
    "additionalProperties": {"type": ["string", "integer", "number", "boolean"]},
}

# -- the admin API (infra/functions/admin_api: service.user_view, group_view, Review.public) ----

ADMIN_GROUP: Schema = closed({"id": NULLABLE_STRING, "name": NULLABLE_STRING, "description": STRING})
ADMIN_USER: Schema = closed(
    {
        "id": NULLABLE_STRING,
        "status": NULLABLE_STRING,
        "login": NULLABLE_STRING,
        "email": NULLABLE_STRING,
        "firstName": NULLABLE_STRING,
        "lastName": NULLABLE_STRING,
        "orgId": NULLABLE_STRING,
        "adminRole": {"type": ["string", "null"], "enum": ["org_admin", "group_admin", None]},
        "adminGroups": STRINGS,
        "complianceStatus": NULLABLE_STRING,
        "created": NULLABLE_STRING,
        "lastLogin": NULLABLE_STRING,
        "groups": {"type": "array", "items": ref("AdminGroup")},
    },
    required=[
        "id",
        "status",
        "login",
        "email",
        "firstName",
        "lastName",
        "orgId",
        "adminRole",
        "adminGroups",
        "complianceStatus",
        "created",
        "lastLogin",
    ],
)
ADMIN_USERS: Schema = closed({"users": {"type": "array", "items": ref("AdminUser")}, "next": NULLABLE_STRING})
ADMIN_GROUPS: Schema = closed({"groups": {"type": "array", "items": ref("AdminGroup")}})
ADMIN_REVIEW: Schema = closed(
    {
        "reviewId": STRING,
        "orgId": STRING,
        "userId": NULLABLE_STRING,
        "login": NULLABLE_STRING,
        "email": NULLABLE_STRING,
        "firstName": NULLABLE_STRING,
        "lastName": NULLABLE_STRING,
        "reason": NULLABLE_STRING,
        "reasons": {"type": "array", "items": {"type": "object"}},
        "status": {"enum": ["pending", "approved", "rejected"]},
        "createdAt": NULLABLE_STRING,
        "decidedAt": NULLABLE_STRING,
        "decidedBy": NULLABLE_STRING,
    }
)
ADMIN_REVIEWS: Schema = closed(
    {"reviews": {"type": "array", "items": ref("AdminReview")}, "next": NULLABLE_STRING}
)
ADMIN_ROLE: Schema = {
    "type": "object",
    "properties": {
        "role": {"const": "group_admin"},
        "groups": {
            "type": "array",
            "minItems": 1,
            "maxItems": 50,
            "items": {"type": "string", "pattern": "^\\S{1,255}$"},
        },
    },
    "required": ["groups"],
    "additionalProperties": False,
}

#: An invitation as the admin screen sees it (bff.signup.invitations.Invitation.public): never the code.
INVITATION: Schema = closed({
    "id": {"type": "string", "description": "The first 16 hex digits of the code's SHA-256"},
    "email": STRING, "orgId": STRING,
    "status": {"type": "string", "enum": ["pending", "reserved", "redeemed", "revoked", "expired"]},
    "invitedBy": STRING, "createdAt": STRING, "expiresAt": STRING,
    "redeemedBy": NULLABLE_STRING, "redeemedAt": NULLABLE_STRING,
    "revokedBy": NULLABLE_STRING, "revokedAt": NULLABLE_STRING,
})
INVITATIONS: Schema = closed({"invitations": {"type": "array", "items": ref("Invitation")}})
INVITATION_ISSUED: Schema = closed({
    "code": {"type": "string", "description": "Shown once: the store keeps only its hash"},
    "invitation": ref("Invitation"),
})
INVITATION_ONE: Schema = closed({"invitation": ref("Invitation")})
ADMIN_INVITE: Schema = closed({"email": {"type": "string", "maxLength": 100}})
#: The admin API's call of the BFF (bff/signup/invitation_endpoints.py).
INTERNAL_INVITE: Schema = closed({
    "orgId": {"type": "string", "pattern": "^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"},
    "email": {"type": "string", "maxLength": 100},
    "invitedBy": {"type": "string", "pattern": "^[\\w.@+:-]{1,100}$"},
    "ttl": {"type": "integer", "minimum": 60, "maximum": 7776000},
}, required=["orgId", "email", "invitedBy"])
INTERNAL_REVOKE: Schema = closed({
    "orgId": {"type": "string", "pattern": "^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"},
    "revokedBy": {"type": "string", "pattern": "^[\\w.@+:-]{1,100}$"},
})

#: Every named schema of the document (``#/components/schemas``).
COMPONENTS: dict[str, Schema] = {
    "Problem": PROBLEM,
    "Health": HEALTH,
    "Ready": READY,
    "User": USER,
    "Logout": LOGOUT,
    "SessionView": SESSION_VIEW,
    "Sessions": SESSIONS,
    "SessionsEnded": SESSIONS_ENDED,
    "AdminSessionsRevoked": ADMIN_SESSIONS_REVOKED,
    "Copy": COPY,
    "PreviewState": PREVIEW_STATE,
    "PreviewToggle": PREVIEW_TOGGLE,
    "AemHookResult": AEM_HOOK_RESULT,
    "SignupForm": SIGNUP_FORM,
    "SignupRequest": SIGNUP_REQUEST,
    "SignupCreated": SIGNUP_CREATED,
    "Profile": PROFILE,
    "ProfileUpdate": PROFILE_UPDATE,
    "OktaVerification": OKTA_VERIFICATION,
    "OktaHookResult": OKTA_HOOK_RESULT,
    "SigninStep": STEP,
    "SigninField": STEP_FIELD,
    "SigninAuthenticator": STEP_AUTHENTICATOR,
    "SigninChoice": STEP_CHOICE,
    "SigninMessage": STEP_MESSAGE,
    "SigninStart": SIGNIN_START,
    "SigninSubmission": SIGNIN_SUBMISSION,
    "AdminUser": ADMIN_USER,
    "AdminUsers": ADMIN_USERS,
    "AdminGroup": ADMIN_GROUP,
    "AdminGroups": ADMIN_GROUPS,
    "AdminReview": ADMIN_REVIEW,
    "AdminReviews": ADMIN_REVIEWS,
    "AdminRoleRequest": ADMIN_ROLE,
    "Invitation": INVITATION,
    "Invitations": INVITATIONS,
    "InvitationIssued": INVITATION_ISSUED,
    "InvitationResult": INVITATION_ONE,
    "AdminInviteRequest": ADMIN_INVITE,
    "InternalInviteRequest": INTERNAL_INVITE,
    "InternalRevokeRequest": INTERNAL_REVOKE,
}
