"""Embedded sign-in: the BFF drives Okta's Identity Engine (Interaction Code flow, IDX API) on
behalf of the SPA, so every Okta handle stays on the server.

Modules, each importing only downward:

* :mod:`bff.signin.idx`: the typed parser of IDX states (``application/ion+json``).
* :mod:`bff.signin.steps`: IDX state -> the BFF's public step JSON, and a submitted step
  -> a validated IDX request body.
* :mod:`bff.signin.client`: the async IDX HTTP client (interact, introspect, remediate,
  cancel, the ``interaction_code`` grant).
* :mod:`bff.signin.transactions`: the encrypted, browser-bound transactions in the session store.
* :mod:`bff.signin.service`: the flow step by step (``service(request, SIGNIN)``), attempt limits, the
  session established by :mod:`bff.auth.completion`.
* :mod:`bff.signin.endpoints` / :mod:`bff.signin.component`: the ``/bff/signin`` routes and
  their start-up wiring. docs/signin.md describes the whole area.
"""
