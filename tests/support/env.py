"""Environments for building Settings in tests (no placeholder secrets: production rules)."""

from __future__ import annotations

from bff.settings import Settings

TEST_SECRET = "test-secret-key-0123456789abcdef-0123456789"


def base_env(**overrides: str) -> dict[str, str]:
    env = {
        "BFF_PUBLIC_URL": "https://app.example.test",
        "BFF_SECRET_KEYS": TEST_SECRET,
        "BFF_OKTA_ISSUER": "https://okta.example.test/oauth2/default",
        "BFF_OKTA_CLIENT_ID": "0oatestclient",
        "BFF_OKTA_CLIENT_SECRET": "test-client-secret-value",
        "BFF_SESSION_STORE": "memory://",
        "BFF_OUTBOX": "memory://",
        "BFF_AEM_URL": "https://publish.aem.example.test",
    }
    env.update(overrides)
    return env


def make_settings(**overrides: str) -> Settings:
    return Settings.from_env(base_env(**overrides))


def organisation_settings(**overrides: str) -> Settings:
    """``BFF_SIGNUP_ORG=organisation`` (the typed company name becomes ``orgId``) starts under
    ``bff dev`` only: tests of that mode build their settings as ``bff dev`` does."""
    return Settings.from_env(base_env(**{"BFF_SIGNUP_ORG": "organisation", **overrides}), dev=True)
