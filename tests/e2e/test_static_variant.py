"""The static index.html of ``bff build-spa`` (what S3/CloudFront serves) boots the same SPA:
its hash-based CSP allows its inline scripts, it asks /bff/user and /bff/content itself."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Route, expect

from bff.spa.build import SOURCE_DIR, build
from tests.e2e.conftest import Spa

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory, stack_thread: object) -> Path:
    from bff_dev.devstack import StackInfo

    info: StackInfo = stack_thread.info  # type: ignore[attr-defined]
    out = tmp_path_factory.mktemp("static") / "dist"
    build(SOURCE_DIR, out, info.settings)
    return out


def test_the_static_page_boots_signed_out_and_signed_in(spa: Spa, dist: Path) -> None:
    html = (dist / "index.html").read_text()
    csp = (dist / "csp.txt").read_text().strip()

    def cloudfront(route: Route) -> None:  # the document as S3 + CloudFront would serve it
        route.fulfill(status=200, body=html, headers={
            "Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": csp,
            "Cache-Control": "no-cache"})

    # The documents only (not /bff/signin, the embedded sign-in's API).
    spa.context.route(lambda url: urlsplit(url).path in ("/signin", "/home-static"), cloudfront)
    page = spa.open("/signin")
    expect(page.locator("h1")).to_have_text("Sign in")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    spa.shot("static-signin", page)

    spa.sign_in("bob@acme.test")  # through the BFF's own pages
    page.goto(spa.url + "/home-static")  # the static document again, now with a session
    spa.ready(page)
    expect(page.locator(".user-name")).to_have_text("Bob Brown")
