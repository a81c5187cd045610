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
    "admin_api": (),
    "welcome_email": (),
    "account_validation": (),
}


def env(name: str, default: str | None = None) -> str:
    """Read one of the names above (raises KeyError with the name when a required one is unset)."""
    value = os.environ.get(name, default)
    if value is None:
        raise KeyError(f"environment variable {name} is required")
    return value
