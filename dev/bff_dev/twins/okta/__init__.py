"""The local Okta twin (see docs/okta-twin.md)."""

from bff_dev.twins.okta.model import EventHook, SsoSession
from bff_dev.twins.okta.twin import OktaTwin

__all__ = ["EventHook", "OktaTwin", "SsoSession"]
