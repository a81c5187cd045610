"""bff.http.responses: the shared Cache-Control values, and that the error renderer uses them."""

from __future__ import annotations

import pytest

from bff.errors import RateLimited, error_response, problem
from bff.http.responses import NO_STORE, PRIVATE_NO_STORE, PRIVATE_NO_STORE_HEADER


def test_no_store_is_the_one_directive_and_nothing_else() -> None:
    assert dict(NO_STORE) == {"Cache-Control": "no-store"}
    assert PRIVATE_NO_STORE == "private, no-store"
    assert PRIVATE_NO_STORE_HEADER == (b"cache-control", b"private, no-store")


def test_no_store_cannot_be_changed_by_a_caller() -> None:
    with pytest.raises(TypeError):
        NO_STORE["Cache-Control"] = "public"  # type: ignore[index]
    merged = {**NO_STORE, "Vary": "Cookie"}
    assert merged == {"Cache-Control": "no-store", "Vary": "Cookie"}
    assert dict(NO_STORE) == {"Cache-Control": "no-store"}


def test_problems_are_never_stored() -> None:
    response = problem(404, "not_found", "Not found")
    assert response.headers["cache-control"] == "no-store" and "pragma" not in response.headers
    limited = error_response(RateLimited(30))
    assert limited.headers["cache-control"] == "no-store" and limited.headers["retry-after"] == "30"
