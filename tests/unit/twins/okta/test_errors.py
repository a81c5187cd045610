from __future__ import annotations

import json

from bff_dev.twins.okta.errors import ApiError, OAuthError


def test_api_error_shape() -> None:
    err = ApiError("E0000001", "login", causes=["login: An object with this field already exists"])
    body = json.loads(err.response().body)
    assert err.status == 400
    assert body["errorSummary"] == "Api validation failed: login"
    assert body["errorCauses"] == [{"errorSummary": "login: An object with this field already exists"}]
    assert body["errorLink"] == "E0000001" and body["errorId"].startswith("oae")
    assert ApiError("E0000047").status == 429 and ApiError("E0000011").summary == "Invalid token provided"


def test_oauth_error_shape() -> None:
    response = OAuthError("invalid_client", "nope", 401).response()
    assert json.loads(response.body) == {"error": "invalid_client", "error_description": "nope"}
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["www-authenticate"].startswith("Basic")
