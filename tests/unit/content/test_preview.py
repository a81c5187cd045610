"""Preview for content authors: the toggle (session + CSRF + group), draft copy from the author
tier with the server-held credential, bypassing the shared cache, and the /preview entry point."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from bff.errors import Unavailable
from tests.unit.content.conftest import AUTHOR_TOKEN, PUBLIC, Harness

CSRF = {"X-CSRF": "1", "Content-Type": "application/json"}


def cookie(value: str) -> dict[str, str]:
    return {"Cookie": f"__Host-bff={value}"}


async def enable(h: Harness, value: str, enabled: bool = True) -> None:
    r = await h.client.post("/bff/preview", json={"enabled": enabled}, headers={**CSRF, **cookie(value)})
    assert r.status_code == 200, r.text
    assert r.json() == {"enabled": enabled}


async def test_author_switches_preview_on_and_sees_drafts(h: Harness) -> None:
    carol = h.author_cookie()
    state = await h.client.get("/bff/preview", headers=cookie(carol))
    assert state.json() == {"enabled": False, "allowed": True}
    assert state.headers["cache-control"] == "no-store"
    await enable(h, carol)
    assert h.sessions.by_cookie[carol].principal.preview is True
    assert (await h.client.get("/bff/preview", headers=cookie(carol))).json()["enabled"] is True

    r = await h.client.get("/bff/content/signin?locale=en&preview=1", headers=cookie(carol))
    doc = r.json()
    assert doc["preview"] is True
    assert doc["strings"]["title"] == "Welcome back"  # content/drafts/en/signin.json
    assert doc["strings"]["submit"] == "Continue"  # published copy under the drafts
    assert r.headers["cache-control"] == "private, no-store"
    assert "etag" not in r.headers
    assert AUTHOR_TOKEN not in r.text
    assert h.twin.count("author", journey="signin") == 1

    # No shared cache: every preview request reads the author tier; the public copy is untouched.
    await h.client.get("/bff/content/signin?locale=en&preview=1", headers=cookie(carol))
    assert h.twin.count("author", journey="signin") == 2
    public = await h.client.get("/bff/content/signin?locale=en")
    assert public.json()["strings"]["title"] == "Sign in" and public.json()["preview"] is False

    await enable(h, carol, False)
    r = await h.client.get("/bff/content/signin?locale=en", headers=cookie(carol))
    assert r.json()["preview"] is False and r.json()["strings"]["title"] == "Sign in"


async def test_preview_follows_the_locale_chain_on_the_author_tier(h: Harness) -> None:
    carol = h.author_cookie()
    await enable(h, carol)
    doc = (await h.client.get("/bff/content/signin?locale=fr-CA", headers=cookie(carol))).json()
    assert doc["strings"]["title"] == "Bon retour parmi nous"  # fr draft
    assert doc["strings"]["email.label"] == "Courriel professionnel"  # fr-CA published
    assert doc["fallbacks"]["title"] == "fr"


async def test_author_tier_down_falls_back_to_published_copy(h: Harness) -> None:
    carol = h.author_cookie()
    await enable(h, carol)
    h.twin.knobs["author"].mode = "down"
    r = await h.client.get("/bff/content/signin?locale=en", headers=cookie(carol))
    assert r.status_code == 200
    doc = r.json()
    assert doc["preview"] is True and doc["strings"]["title"] == "Sign in" and doc["source"] == "aem"
    assert r.headers["cache-control"] == "private, no-store"


async def test_wrong_author_credential_never_leaks_and_degrades(h: Harness) -> None:
    carol = h.author_cookie()
    await enable(h, carol)
    h.twin.author_token = "rotated-token"
    r = await h.client.get("/bff/content/common?locale=en", headers=cookie(carol))
    assert r.status_code == 200 and r.json()["preview"] is True
    assert AUTHOR_TOKEN not in r.text and [c.status for c in h.twin.calls if c.tier == "author"] == [401, 401]


async def test_non_authors_get_403_and_never_preview(h: Harness) -> None:
    bob = h.user_cookie()
    r = await h.client.post("/bff/preview", json={"enabled": True}, headers={**CSRF, **cookie(bob)})
    assert r.status_code == 403 and r.json()["code"] == "preview_forbidden"
    assert (await h.client.get("/bff/preview", headers=cookie(bob))).json() == {
        "enabled": False,
        "allowed": False,
    }
    # A stale flag (the user left the authors group) does not open the author tier.
    await h.sessions.by_cookie[bob].set_flag("preview", True)
    r = await h.client.get("/bff/content/signin?locale=en", headers=cookie(bob))
    assert r.json()["preview"] is False and r.headers["cache-control"].startswith("public")
    assert h.twin.count("author") == 0


@pytest.mark.parametrize(
    ("headers", "body", "status", "code"),
    [
        ({"Content-Type": "application/json"}, b'{"enabled": true}', 403, "csrf"),
        ({**CSRF, "Origin": "https://evil.example"}, b'{"enabled": true}', 403, "csrf"),
        ({**CSRF, "Sec-Fetch-Site": "cross-site"}, b'{"enabled": true}', 403, "csrf"),
        ({"X-CSRF": "1", "Content-Type": "text/plain"}, b'{"enabled": true}', 415, "unsupported_media_type"),
        (CSRF, b'{"enabled": "yes"}', 422, "validation_failed"),
        (CSRF, b"[true]", 422, "validation_failed"),
        (CSRF, b"{not json", 422, "validation_failed"),
        (CSRF, b"[" * 1000, 422, "validation_failed"),  # deeper than the JSON parser recurses
        # read strictly (bff.http.body): a body the JSON peers would disagree about is refused
        (CSRF, b'{"enabled": false, "enabled": true}', 422, "validation_failed"),
        (CSRF, b'{"enabled": true, "x": NaN}', 422, "validation_failed"),
        (CSRF, '{"enabled": true}'.encode("utf-16"), 422, "validation_failed"),
        (CSRF, b'{"enabled": true, "pad": "' + b"x" * 2000 + b'"}', 413, "payload_too_large"),
    ],
)
async def test_toggle_rejects_bad_requests(
    h: Harness, headers: dict[str, str], body: bytes, status: int, code: str
) -> None:
    carol = h.author_cookie()
    r = await h.client.post("/bff/preview", content=body, headers={**headers, **cookie(carol)})
    assert r.status_code == status, r.text
    assert r.json()["code"] == code
    assert h.sessions.by_cookie[carol].principal.preview is False


async def test_toggle_and_state_need_a_session(h: Harness) -> None:
    r = await h.client.post("/bff/preview", json={"enabled": True}, headers=CSRF)
    assert r.status_code == 401
    assert (await h.client.get("/bff/preview")).status_code == 401
    r = await h.client.post("/bff/preview", json={"enabled": True}, headers={**CSRF, **cookie("forged")})
    assert r.status_code == 401


# -- GET /preview (AEM's Preview URL) -------------------------------------------------------------


async def test_entry_point_redirects_an_author_to_the_spa_route(h: Harness) -> None:
    carol = h.author_cookie()
    r = await h.client.get(
        "/preview",
        params={"path": "/content/dam/bff/fr_ca/ui-copy/signup", "variation": "summer"},
        headers=cookie(carol),
    )
    assert r.status_code == 303
    target = urlsplit(r.headers["location"])
    assert target.path == "/signup" and not target.netloc
    assert parse_qs(target.query) == {"locale": ["fr-CA"], "preview": ["1"], "variation": ["summer"]}
    r = await h.client.get(
        "/preview",
        params={"path": "/content/dam/bff/en/ui-copy/common", "variation": "master"},
        headers=cookie(carol),
    )
    assert r.headers["location"] == "/?locale=en&preview=1"
    r = await h.client.get(
        "/preview", params={"path": "/content/dam/bff/de/ui-copy/email"}, headers=cookie(carol)
    )
    assert r.headers["location"] == "/email-preview?locale=de&preview=1"


async def test_entry_point_signs_in_first(h: Harness) -> None:
    r = await h.client.get("/preview?path=/content/dam/bff/de/ui-copy/admin&variation=master")
    assert r.status_code == 303
    target = urlsplit(r.headers["location"])
    assert target.path == "/bff/login"
    return_to = parse_qs(target.query)["returnTo"][0]
    assert return_to == "/preview?path=/content/dam/bff/de/ui-copy/admin&variation=master"


async def test_entry_point_refuses_non_authors_and_bad_paths(h: Harness) -> None:
    bob = h.user_cookie()
    r = await h.client.get("/preview?path=/content/dam/bff/en/ui-copy/signin", headers=cookie(bob))
    assert r.status_code == 403
    carol = h.author_cookie()
    for path in (
        "/content/dam/other-site/en/ui-copy/signin",
        "/content/dam/bff/en/ui-copy/checkout",
        "/content/dam/bff/en/ui-copy/signin/../admin",
        "https://evil.example/",
        "",
    ):
        r = await h.client.get("/preview", params={"path": path}, headers=cookie(carol))
        assert r.status_code == 400 and r.json()["code"] == "invalid_preview_path", path
    r = await h.client.get(
        "/preview",
        params={"path": "/content/dam/bff/en/ui-copy/signin", "variation": "<x>"},
        headers=cookie(carol),
    )
    assert r.status_code == 400


def test_public_url() -> None:
    assert PUBLIC.startswith("https://")


async def test_preview_urls_are_never_shared_cacheable(h: Harness) -> None:
    # A CDN keys on the URL: a public answer to ?preview=1 must never be stored, or an author
    # with preview on would be handed it from the CDN.
    for _ in range(3):
        r = await h.client.get("/bff/content/signin?locale=en&preview=1")
        assert r.status_code == 200 and r.json()["preview"] is False
        assert r.headers["cache-control"] == "private, no-store" and "etag" not in r.headers
    bob = h.user_cookie()
    r = await h.client.get("/bff/content/signin?locale=en&preview=1", headers=cookie(bob))
    assert r.headers["cache-control"] == "private, no-store"


async def test_session_store_down_still_serves_the_published_copy_never_stored(h: Harness) -> None:
    carol = h.author_cookie()
    await enable(h, carol)

    async def broken(conn: object) -> None:
        raise Unavailable("store down", code="session_store_unavailable")

    h.sessions.load = broken  # type: ignore[method-assign]
    r = await h.client.get("/bff/content/signin?locale=en", headers=cookie(carol))
    assert r.status_code == 200, r.text
    assert r.json()["preview"] is False and r.json()["strings"]
    # Who asked is unknown (maybe a previewer): never kept by a browser or a shared cache.
    assert r.headers["cache-control"] == "private, no-store"
    assert h.twin.count("author") == 0
