"""Local twin of AEM headless delivery (publish + author tiers) for ``bff dev`` and tests."""

from bff_dev.twins.aem.twin import AemTwin, Knobs, Webhook

__all__ = ["AemTwin", "Knobs", "Webhook"]
