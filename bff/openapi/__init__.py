"""The BFF's HTTP contract: an OpenAPI 3.1 document of every ``/bff/*`` route and the admin API
(:mod:`bff.openapi.document`, its schemas in :mod:`bff.openapi.schemas`), served at
``GET /bff/openapi.json`` (:mod:`bff.openapi.endpoints`) and written by ``bff openapi``."""
