"""Serving the SPA: the HTML (nonce, CSP, bootstrap), the history fallback, assets, CSP reports."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import pytest

from bff.errors import Unavailable
from bff.spa.assets import IMMUTABLE
from tests.support.fake_sessions import principal
from tests.unit.spa.support import BOOTSTRAP, csp_directives, harness

pytestmark = pytest.mark.asyncio

COOKIE = {"Cookie": "__Host-bff=c1"}
SCRIPT_OR_PRELOAD = re.compile(r"<(script|link)\b([^>]*)>", re.S)


def _bootstrap(html: str) -> tuple[str, dict[str, Any]]:
    m = BOOTSTRAP.search(html)
    assert m, "no bootstrap block"
    return m.group(1), json.loads(m.group(2))


def _problem(response: Any, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == status


# -------------------------------------------------------------------------------- the HTML


async def test_every_response_gets_a_fresh_nonce_that_matches_every_script() -> None:
    async with harness() as h:
        first = await h.client.get("/")
        second = await h.client.get("/")
    nonces = []
    for response in (first, second):
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        script_src = csp_directives(response.headers["content-security-policy"])["script-src"]
        nonce_sources = [s for s in script_src if s.startswith("'nonce-")]
        assert len(nonce_sources) == 1
        nonce = nonce_sources[0][len("'nonce-"):-1]
        assert len(nonce) >= 22  # 128 bits
        tags = [(kind, attrs) for kind, attrs in SCRIPT_OR_PRELOAD.findall(response.text)
                if kind == "script" or "modulepreload" in attrs]
        assert len(tags) >= 4  # import map, bootstrap, entry module, preloads
        for _, attrs in tags:
            assert f'nonce="{nonce}"' in attrs, attrs
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


async def test_the_policy_is_strict() -> None:
    async with harness() as h:
        response = await h.client.get("/signin")
    header = response.headers["content-security-policy"]
    d = csp_directives(header)
    assert "'unsafe-inline'" not in header and "'unsafe-eval'" not in header
    assert d["script-src"][-1] == "'strict-dynamic'"
    assert d["default-src"] == ["'self'"]
    assert d["style-src"] == ["'self'"]
    assert d["img-src"] == ["'self'", "data:"]
    assert d["connect-src"] == ["'self'"]
    assert d["frame-ancestors"] == ["'none'"]
    assert d["base-uri"] == ["'none'"]
    assert d["object-src"] == ["'none'"]
    assert d["form-action"] == ["'self'", "https://okta.example.test"]
    assert d["require-trusted-types-for"] == ["'script'"]
    assert "report-uri" in d
    assert response.headers["reporting-endpoints"] == 'csp="/bff/csp-report"'
    # The shared middleware adds the rest and does not replace the page's own policy.
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "strict-transport-security" in response.headers


async def test_the_html_is_revalidated_and_never_shared() -> None:
    async with harness() as h:
        response = await h.client.get("/profile")
    cache_control = [p.strip() for p in response.headers["cache-control"].split(",")]
    assert "no-cache" in cache_control and "private" in cache_control
    assert "Cookie" in response.headers["vary"]


async def test_signed_out_bootstrap_has_locale_copy_and_no_user() -> None:
    async with harness() as h:
        response = await h.client.get("/", headers={"Accept-Language": "de-CH, fr;q=0.5"})
    _, boot = _bootstrap(response.text)
    assert boot["user"] is None
    assert boot["locale"] == "de"
    assert '<html lang="de" dir="ltr">' in response.text
    assert set(boot["copy"]) == {"common", "signin"}
    assert boot["copy"]["signin"]["strings"]["title"] == "Anmelden"
    assert boot["settings"]["csrf"] == {"header": "X-CSRF", "value": "1"}
    assert {"code": "fr-CA", "name": "Français (Canada)", "dir": "ltr"} in boot["locales"]
    assert "<title>Anmelden · " in response.text


async def test_signed_in_bootstrap_has_the_public_view_of_the_user_and_the_home_copy() -> None:
    async with harness() as h:
        p = principal(name="Alice Anders", admin_role="org_admin", admin_groups=("acme-sales",),
                      access_claims={"secret": "never"})
        h.sessions.add("c1", p, token="at-must-not-leak")
        response = await h.client.get("/", headers={**COOKIE, "Cookie": "__Host-bff=c1; bff_locale=fr-CA"})
    _, boot = _bootstrap(response.text)
    assert boot["user"] == p.public_view()
    assert boot["locale"] == "fr-CA"
    assert set(boot["copy"]) == {"common", "profile"}
    assert "at-must-not-leak" not in response.text and "never" not in response.text


async def test_a_malformed_locale_parameter_does_not_break_the_page() -> None:
    async with harness() as h:
        response = await h.client.get("/signin?locale=%3Cscript%3E")
    assert response.status_code == 200
    assert _bootstrap(response.text)[1]["locale"] == "en"


async def test_bootstrap_cannot_be_broken_out_of() -> None:
    hostile = "</script><script>alert(1)</script><!-- '&\u2028"
    copy = {"common": {"journey": "common", "locale": "en", "strings": {"app.name": hostile}},
            "profile": {"journey": "profile", "locale": "en", "strings": {"home.title": hostile}}}
    async with harness(copy=copy) as h:
        h.sessions.add("c1", principal(name=hostile, email="x@acme.test"))
        response = await h.client.get("/", headers=COOKIE)
    html = response.text
    assert "<script>alert(1)" not in html
    assert html.count("</script>") == html.count("<script")  # every script closes where it should
    _, boot = _bootstrap(html)  # the block still parses and round-trips the text exactly
    assert boot["user"]["name"] == hostile
    assert boot["copy"]["common"]["strings"]["app.name"] == hostile
    assert "<title>&lt;/script&gt;&lt;script&gt;" in html  # the title is HTML-escaped


async def test_the_page_renders_signed_out_when_the_session_store_is_down() -> None:
    async with harness() as h:
        async def broken(conn: Any) -> None:
            raise Unavailable("store down", code="session_store_unavailable")

        h.sessions.load = broken  # type: ignore[method-assign]
        response = await h.client.get("/", headers=COOKIE)
    assert response.status_code == 200
    assert _bootstrap(response.text)[1]["user"] is None


# ------------------------------------------------------------------------- history fallback


@pytest.mark.parametrize("path", ["/", "/signin", "/signup", "/profile", "/admin", "/admin/users",
                                  "/admin/users/00ubob00000000000001", "/admin/reviews", "/email-preview",
                                  "/signin/", "/signin?returnTo=%2Fprofile"])
async def test_spa_routes_render_the_shell(path: str) -> None:
    async with harness() as h:
        response = await h.client.get(path)
    assert response.status_code == 200
    assert 'id="bootstrap"' in response.text


@pytest.mark.parametrize("path", ["/nope", "/admin/nope", "/signin/extra", "/profile/x/y"])
async def test_unknown_screens_are_404_but_still_the_spa(path: str) -> None:
    async with harness() as h:
        response = await h.client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert _bootstrap(response.text)[1]["page"] == "not-found"


@pytest.mark.parametrize("path", ["/bff/nope", "/bff/", "/bff", "/bff/user/extra", "/api/anything",
                                  "/api/", "/__dev/x", "/__dev", "/assets/js/none.js",
                                  "/favicon.ico", "/robots.txt", "/some/file.php"])
async def test_bff_and_file_paths_never_fall_back_to_the_html(path: str) -> None:
    async with harness() as h:
        response = await h.client.get(path)
    _problem(response, 404)


async def test_other_methods_are_not_swallowed() -> None:
    async with harness() as h:
        _problem(await h.client.post("/bff/nope", headers={"X-CSRF": "1"}), 404)
        _problem(await h.client.delete("/api/x"), 404)
        _problem(await h.client.post("/signin"), 405)


async def test_bff_routes_keep_answering_themselves() -> None:
    async with harness() as h:
        health = await h.client.get("/healthz")
        user = await h.client.get("/bff/user")
        preview = await h.client.get("/preview")
    assert health.json() == {"status": "ok"}
    _problem(user, 401)
    assert not preview.headers["content-type"].startswith("text/html")


# ---------------------------------------------------------------------------------- assets


async def test_hashed_assets_are_immutable_and_logical_ones_revalidate() -> None:
    async with harness() as h:
        item = h.spa.catalog.assets["js/main.js"]
        hashed = await h.client.get(item.url, headers={"Accept-Encoding": "identity"})
        logical = await h.client.get(item.logical_url, headers={"Accept-Encoding": "identity"})
    assert hashed.status_code == 200 and hashed.content == item.body
    assert hashed.headers["cache-control"] == IMMUTABLE == "public, max-age=31536000, immutable"
    assert hashed.headers["content-type"] == "text/javascript; charset=utf-8"
    assert hashed.headers["etag"] == item.etag
    assert logical.status_code == 200 and logical.headers["cache-control"] == "no-cache"


async def test_assets_are_gzipped_when_accepted_and_revalidate_with_304() -> None:
    async with harness() as h:
        item = h.spa.catalog.assets["css/app.css"]
        gz = await h.client.get(item.url, headers={"Accept-Encoding": "gzip"})
        not_modified = await h.client.get(item.url, headers={"If-None-Match": gz.headers["etag"],
                                                             "Accept-Encoding": "gzip"})
        refused = await h.client.get(item.url, headers={"Accept-Encoding": "gzip;q=0"})
    assert gz.headers["content-encoding"] == "gzip"
    assert gz.content == item.body  # httpx decoded it
    assert gz.headers["vary"] == "Accept-Encoding"
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified.headers["cache-control"] == IMMUTABLE
    assert "content-encoding" not in refused.headers


async def test_a_stale_or_forged_hash_is_404_never_other_content() -> None:
    async with harness() as h:
        item = h.spa.catalog.assets["js/main.js"]
        stale = item.url.replace(item.hashed.split(".")[-2], "0" * 16)
        _problem(await h.client.get(stale), 404)
        _problem(await h.client.get("/assets/../bff/spa/component.py"), 404)
        _problem(await h.client.get("/assets/%2e%2e/%2e%2e/pyproject.toml"), 404)


# ------------------------------------------------------------------------------ CSP reports


async def test_csp_reports_are_accepted_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    legacy = {"csp-report": {"document-uri": "https://app.example.test/", "violated-directive": "script-src",
                             "effective-directive": "script-src-elem", "blocked-uri": "inline",
                             "source-file": "https://app.example.test/", "line-number": 3}}
    modern = [{"type": "csp-violation", "url": "https://app.example.test/",
               "body": {"effectiveDirective": "img-src", "blockedURL": "https://evil.test/x.png",
                        "documentURL": "https://app.example.test/profile"}}]
    logging.getLogger("bff.spa").addHandler(caplog.handler)
    try:
        async with harness() as h:
            a = await h.client.post("/bff/csp-report", content=json.dumps(legacy),
                                    headers={"Content-Type": "application/csp-report"})
            b = await h.client.post("/bff/csp-report", content=json.dumps(modern),
                                    headers={"Content-Type": "application/reports+json"})
    finally:
        logging.getLogger("bff.spa").removeHandler(caplog.handler)
    assert a.status_code == 204 and b.status_code == 204
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("CSP violation")]
    assert any("script-src-elem" in line and "inline" in line for line in lines)
    assert any("img-src" in line and "evil.test" in line for line in lines)


async def test_csp_reports_reject_bad_input() -> None:
    async with harness() as h:
        _problem(await h.client.post("/bff/csp-report", content="{}",
                                     headers={"Content-Type": "text/plain"}), 415)
        _problem(await h.client.post("/bff/csp-report", content="x" * 20000,
                                     headers={"Content-Type": "application/csp-report"}), 413)
        _problem(await h.client.post("/bff/csp-report", content="{nope",
                                     headers={"Content-Type": "application/csp-report"}), 400)
        _problem(await h.client.post("/bff/csp-report", content=b"\xff\xfe",
                                     headers={"Content-Type": "application/csp-report"}), 400)
        # Nested deeper than the JSON parser recurses (RecursionError, not ValueError): still a 400.
        _problem(await h.client.post("/bff/csp-report", content="[" * 5000,
                                     headers={"Content-Type": "application/csp-report"}), 400)
        # Read strictly (bff.http.body): repeated keys and NaN are refused, not logged.
        _problem(await h.client.post("/bff/csp-report", content='{"csp-report": {}, "csp-report": {}}',
                                     headers={"Content-Type": "application/csp-report"}), 400)
        _problem(await h.client.post("/bff/csp-report", content='{"csp-report": {"line-number": NaN}}',
                                     headers={"Content-Type": "application/csp-report"}), 400)
