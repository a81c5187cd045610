"""A local twin of Marketo's identity and lead REST endpoints (see :mod:`bff_dev.twins.marketo.app`)."""

from bff_dev.twins.marketo.app import MarketoTwin, create_app

__all__ = ["MarketoTwin", "create_app"]
