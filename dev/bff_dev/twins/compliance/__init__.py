"""A local twin of the third-party name-compliance API (see :mod:`bff_dev.twins.compliance.app`)."""

from bff_dev.twins.compliance.app import ComplianceTwin, create_app, decide

__all__ = ["ComplianceTwin", "create_app", "decide"]
