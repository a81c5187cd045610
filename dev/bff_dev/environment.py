"""The dev port layout and the embedded defaults of ``bff dev``.

:class:`DevPorts` says where each local server listens (the BFF on 8000, the twins from 9001);
:func:`dev_environment` is the BFF's ``BFF_*`` environment pointing at them, with the
placeholder secrets below. Every placeholder contains :data:`bff.settings.PLACEHOLDER_MARKER`,
so a BFF started outside dev (``Settings.from_env(env)`` without ``dev=True``) refuses them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bff.settings import REPO_ROOT

DEV_SECRET_KEY = "dev-only-insecure-secret-key-0123456789abcdef"  # noqa: S105 (dev placeholder, refused outside dev)
DEV_OKTA_CLIENT_SECRET = "dev-only-insecure-client-secret"  # noqa: S105 (dev placeholder, refused outside dev)
DEV_HOOK_SECRET = "dev-only-insecure-hook-secret"  # noqa: S105 (dev placeholder, refused outside dev)
DEV_OKTA_API_TOKEN = "dev-only-insecure-okta-api-token"  # noqa: S105 (dev placeholder, refused outside dev)
DEV_AEM_AUTHOR_TOKEN = "dev-only-insecure-aem-author-token"  # noqa: S105 (dev placeholder, refused outside dev)
AEM_EVENTS_CLIENT_ID = "bff-dev-aem-events-client"  # an id, not a secret
DEV_COMPLIANCE_KEY = "dev-only-insecure-compliance-key"  # noqa: S105 (dev placeholder, refused outside dev)


@dataclass(frozen=True)
class DevPorts:
    bff: int = 8000
    okta: int = 9001
    aem: int = 9002
    apigw: int = 9003
    moto: int = 9004
    compliance: int = 9005
    marketo: int = 9006


def dev_environment(ports: DevPorts, data_dir: Path) -> dict[str, str]:
    """The embedded defaults of ``bff dev``: every URL points at a local twin on loopback."""
    okta = f"http://localhost:{ports.okta}"
    return {
        "BFF_PUBLIC_URL": f"http://localhost:{ports.bff}",
        "BFF_SECRET_KEYS": DEV_SECRET_KEY,
        "BFF_OKTA_ISSUER": f"{okta}/oauth2/default",
        "BFF_OKTA_CLIENT_ID": "0oabffdevclient",
        "BFF_OKTA_CLIENT_SECRET": DEV_OKTA_CLIENT_SECRET,
        "BFF_OKTA_API_TOKEN": DEV_OKTA_API_TOKEN,
        "BFF_OKTA_HOOK_SECRET": DEV_HOOK_SECRET,
        "BFF_OKTA_IDP_DISCOVERY": "partner.test=0oapartneridp",
        # passkeys: the twin's RP id is the app's host (localhost), as a custom domain would allow
        "BFF_SIGNIN_WEBAUTHN": "on",
        "BFF_SESSION_STORE": f"sqlite:///{data_dir / 'sessions.sqlite3'}",
        "BFF_OUTBOX": f"sqlite:///{data_dir / 'outbox.sqlite3'}",
        # The typed company name becomes orgId: allowed under `bff dev` only (the seeded
        # journeys and their tests use it); production's default is `invitation`.
        "BFF_SIGNUP_ORG": "organisation",
        "BFF_AEM_URL": f"http://localhost:{ports.aem}",
        "BFF_AEM_AUTHOR_URL": f"http://localhost:{ports.aem}/author",
        "BFF_AEM_AUTHOR_TOKEN": DEV_AEM_AUTHOR_TOKEN,
        "BFF_AEM_WEBHOOK_SECRET": DEV_HOOK_SECRET,
        "BFF_API_ROUTES": str(REPO_ROOT / "infra" / "routes.dev.toml"),
        "BFF_ACCOUNT_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:account-events",
        "BFF_AWS_REGION": "eu-west-1",
        "BFF_AWS_ENDPOINT_URL": f"http://localhost:{ports.moto}",
        # the twin's events name this recipient (bff/content/hooks.py: only events for us count)
        "BFF_AEM_EVENTS_CLIENT_ID": AEM_EVENTS_CLIENT_ID,
        "BFF_CONTENT_VARIATIONS": "summer",
    }
