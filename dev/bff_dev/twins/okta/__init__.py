"""The local Okta twin (see docs/okta-twin.md)."""

from bff.twins.okta.twin import EventHook, OktaTwin, SsoSession

__all__ = ["EventHook", "OktaTwin", "SsoSession"]
