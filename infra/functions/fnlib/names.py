"""The one place the names the Lambda functions read are defined: environment variables and
the logical names of tables, queues and topics. The SAM template must provide every variable a
function requires (tests/unit/infra/test_template_settings.py checks it).

Add an entry when a function starts reading a new variable; never read os.environ with a
literal name elsewhere.
"""

from __future__ import annotations

import os

# Environment variables each function REQUIRES (the template must set them), by function.
REQUIRED_ENV: dict[str, tuple[str, ...]] = {
    "admin_api": (
        "SECRETS_ARN", "OKTA_ORG_URL", "REVIEW_TABLE", "MARKETO_IDENTITY_URL", "MARKETO_REST_URL",
    ),
    "welcome_email": ("SES_SENDER", "IDEMPOTENCY_TABLE"),
    "account_notices": ("SES_SENDER", "IDEMPOTENCY_TABLE"),
    "account_validation": (
        "SECRETS_ARN", "IDEMPOTENCY_TABLE", "REVIEW_TABLE", "OKTA_ORG_URL",
        "COMPLIANCE_API_URL", "MARKETO_IDENTITY_URL", "MARKETO_REST_URL",
    ),
}

# Optional variables (a default applies when unset), by function.
OPTIONAL_ENV: dict[str, tuple[str, ...]] = {
    # AEM_URL/AEM_CONFIG: fetch the `email` copy from AEM publish first (bundled copy otherwise);
    # APP_URL: the sign-in link in the email; DEFAULT_LOCALE: the last fallback locale.
    "welcome_email": ("AEM_URL", "AEM_CONFIG", "APP_URL", "DEFAULT_LOCALE", "IDEMPOTENCY_TTL_SECONDS"),
    # account_notices: the same as welcome_email (APP_URL: the unlock / sign-in links).
    "account_notices": ("AEM_URL", "AEM_CONFIG", "APP_URL", "DEFAULT_LOCALE", "IDEMPOTENCY_TTL_SECONDS"),
    # COMPLIANCE_TIMEOUT: seconds before a compliance call counts as unavailable (retried).
    "account_validation": ("COMPLIANCE_TIMEOUT", "IDEMPOTENCY_TTL_SECONDS"),
    # ADMINS_GROUP: the Okta group whose members the authorization server grants the admin
    # scope (a group admin is added to / removed from it); default "customer-admins".
    # BFF_INTERNAL_URL: the BFF's base URL as the function reaches it; the invitation actions call
    # its /bff/internal/invitations endpoints (unset: they answer 503 "not configured").
    "admin_api": ("ADMINS_GROUP", "BFF_INTERNAL_URL"),
}

# Keys of the JSON secret named by SECRETS_ARN (Secrets Manager) that account_validation reads
# (Okta: OKTA_API_TOKEN, or OKTA_CLIENT_ID + OKTA_PRIVATE_KEY of a private_key_jwt service app).
ACCOUNT_VALIDATION_SECRET_KEYS: tuple[str, ...] = (
    "OKTA_API_TOKEN", "OKTA_CLIENT_ID", "OKTA_PRIVATE_KEY", "COMPLIANCE_API_KEY", "MARKETO_CLIENT_ID",
    "MARKETO_CLIENT_SECRET",
)

# Keys of the same JSON secret that admin_api reads: the Okta credentials (an API token, or the
# service app's client id + private key for private_key_jwt) and the Marketo client.
# BFF_INVITATIONS_SECRET: the bearer credential of the BFF's invitation endpoints (the newest value
# of the BFF's BFF_INVITATIONS_SECRET).
ADMIN_API_SECRET_KEYS: tuple[str, ...] = (
    "MARKETO_CLIENT_ID", "MARKETO_CLIENT_SECRET", "BFF_INVITATIONS_SECRET")
ADMIN_API_OKTA_SECRET_KEYS: tuple[tuple[str, ...], ...] = (
    ("OKTA_API_TOKEN",), ("OKTA_CLIENT_ID", "OKTA_PRIVATE_KEY"))

# Logical names of the account-created messaging topology (deployed names carry a
# "bff-{stage}-" prefix; the local twins use them bare). dev/bff_dev/twins/aws/topology.py builds
# the local topology from these.
ACCOUNT_EVENTS_TOPIC = "account-events"
ACCOUNT_CREATED = "AccountCreated"
PROFILE_UPDATED = "ProfileUpdated"
WELCOME_EMAIL_QUEUE = "welcome-email"
ACCOUNT_VALIDATION_QUEUE = "account-validation"
ACCOUNT_NOTICES_QUEUE = "account-notices"
#: The account notices (bff/signup/notices.py): the account-notices queue's filter policy.
ACCOUNT_NOTICE_TYPES = ("AccountLocked", "PasswordChanged", "FactorAdded")
MANUAL_REVIEW_TABLE = "manual-review"
IDEMPOTENCY_TABLE = "idempotency"


def env(name: str, default: str | None = None) -> str:
    """Read one of the names above (raises KeyError with the name when a required one is unset)."""
    value = os.environ.get(name, default)
    if value is None:
        raise KeyError(f"environment variable {name} is required")
    return value
