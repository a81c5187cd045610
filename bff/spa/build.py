"""``bff build-spa --out dist``: the SPA as deployable files.

The source tree (``spa-shell/``) runs as it is (the BFF hashes it at start-up); a build writes
the same thing to disk for S3/CloudFront and for BFFs that should not hash at start-up::

    dist/
      assets/js/main.3f2a9c0d1b7e6a54.js   every asset under its content-hashed name
      manifest.json                         logical name → hashed name
      index.template.html                   the Jinja2 template (BFF_SPA_DIR=dist renders it)
      index.html                            the static variant for S3 (no nonce, no user)
      csp.txt                               the static variant's Content-Security-Policy
                                            header (CloudFront response headers policy)

The static ``index.html`` cannot carry a per-response nonce: its two inline scripts (the
import map and a one-line module importing the hashed entry point) are allowed by their
SHA-256 hashes and the modules by ``'self'`` (see :mod:`bff.spa.csp`), in ``csp.txt`` and in a
``<meta http-equiv>`` copy (which browsers apply even if the CDN forgets the header;
``frame-ancestors`` and reporting only work as a header). Its
bootstrap carries no user and no copy (``"static": true``): the SPA asks ``/bff/user`` and
``/bff/content`` on start, through the same origin.

Hashed assets are uploaded with ``Cache-Control: public, max-age=31536000, immutable``;
``index.html`` with ``no-cache`` (see ``bff publish-spa`` / docs/spa.md).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from markupsafe import escape

from bff.config import ConfigError
from bff.settings import PLACEHOLDER_MARKER, REPO_ROOT, Settings
from bff.spa.assets import MANIFEST_NAME, AssetCatalog, AssetError
from bff.spa.bootstrap import build_bootstrap
from bff.spa.csp import build_policy, script_hash
from bff.spa.shell import Shell, inline_scripts

SOURCE_DIR = REPO_ROOT / "spa-shell"
TEMPLATE_OUT = "index.template.html"
STATIC_OUT = "index.html"
CSP_OUT = "csp.txt"
#: Directives a ``<meta http-equiv>`` policy may not contain (CSP3 §3.3).
_HEADER_ONLY = ("frame-ancestors", "report-uri", "report-to", "sandbox")
#: The settings of a build from an incomplete ``BFF_*`` environment: the client-visible parts
#: of the local stack's (``bff dev``: the BFF on :8000, the Okta twin on :9001, IdP discovery
#: on), so such a build runs against it. tests/unit/dev/test_environment.py keeps them equal.
BUILD_DEFAULTS: dict[str, str] = {
    "BFF_PUBLIC_URL": "http://localhost:8000",
    "BFF_SECRET_KEYS": f"{PLACEHOLDER_MARKER}-build-defaults-secret-key-0123456789",
    "BFF_OKTA_ISSUER": "http://localhost:9001/oauth2/default",
    "BFF_OKTA_CLIENT_ID": "0oabffdevclient",
    "BFF_OKTA_CLIENT_SECRET": f"{PLACEHOLDER_MARKER}-build-defaults",
    "BFF_OKTA_IDP_DISCOVERY": "partner.test=0oapartneridp",
    "BFF_AEM_URL": "http://localhost:9002",
    "BFF_SIGNUP_ORG": "organisation",  # as the local stack (bff_dev.environment); dev=True only
}


class BuildError(Exception):
    pass


@dataclass(frozen=True)
class BuildResult:
    out: Path
    catalog: AssetCatalog
    csp: str

    @property
    def total_bytes(self) -> int:
        return sum(len(a.body) for a in self.catalog.assets.values())

    @property
    def total_gzip_bytes(self) -> int:
        return sum(len(a.gzipped or a.body) for a in self.catalog.assets.values())


def meta_policy(policy: str) -> str:
    kept = [d.strip() for d in policy.split(";") if d.strip().split(" ", 1)[0] not in _HEADER_ONLY]
    return "; ".join(kept)


def render_static(source: Path, catalog: AssetCatalog, settings: Settings) -> tuple[str, str]:
    """The static ``index.html`` and its CSP header value."""
    shell = Shell(source, catalog)
    bootstrap = build_bootstrap(settings, locale=settings.content.default_locale, page="root", copy={},
                                user=None, static=True,
                                assets={a.logical: a.url for a in catalog.assets.values()
                                        if a.logical.startswith("img/")})
    draft = shell.render(nonce=None, bootstrap=bootstrap)
    hashes = [script_hash(s) for s in inline_scripts(draft)]
    if not hashes:
        raise BuildError("the static page has no inline script to allow (template changed?)")
    policy = build_policy(settings, hashes=hashes)
    meta = f'<meta http-equiv="Content-Security-Policy" content="{escape(meta_policy(policy))}">'
    marker = '<meta charset="utf-8">'
    if marker not in draft:
        raise BuildError(f"the template has no {marker!r} to put the CSP after")
    page = draft.replace(marker, f"{marker}\n  {meta}", 1)
    # Inserting the meta tag must not change the hashed scripts.
    if [script_hash(s) for s in inline_scripts(page)] != hashes:
        raise BuildError("inline scripts changed while adding the CSP meta tag")
    return page, policy


def build(source: Path, out: Path, settings: Settings) -> BuildResult:
    """Write the build to ``out`` (replaced as a whole; refuses a non-build directory)."""
    if out.exists() and any(out.iterdir()) and not (out / MANIFEST_NAME).is_file():
        raise BuildError(f"{out} exists and is not a previous build (no {MANIFEST_NAME}); "
                         "refusing to replace it")
    try:
        catalog = AssetCatalog.from_source(source)
    except AssetError as exc:
        raise BuildError(str(exc)) from exc
    page, policy = render_static(source, catalog, settings)
    template = next((source / n for n in ("index.html",) if (source / n).is_file()), None)
    if template is None:
        raise BuildError(f"{source} has no index.html template")

    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        for item in catalog.assets.values():
            target = staging / "assets" / item.hashed
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(item.body)
        (staging / MANIFEST_NAME).write_text(json.dumps(catalog.manifest(), indent=2) + "\n", "utf-8")
        shutil.copyfile(template, staging / TEMPLATE_OUT)
        (staging / STATIC_OUT).write_text(page, "utf-8")
        (staging / CSP_OUT).write_text(policy + "\n", "utf-8")
        AssetCatalog.from_dist(staging)  # self-check: every hash matches its bytes
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return BuildResult(out=out, catalog=AssetCatalog.from_dist(out), csp=policy)


def _client_settings() -> tuple[Settings, str]:
    """The deployment's settings when the BFF_* environment is complete, else the defaults
    (only the client-visible parts matter here: CSRF header, forms, locales, IdP origin)."""
    try:
        return Settings.from_env(), "the BFF_* environment"
    except ConfigError:
        return Settings.from_env(BUILD_DEFAULTS, dev=True), "built-in defaults (BFF_* environment incomplete)"


def build_spa_cli(args: argparse.Namespace) -> int:
    out = Path(args.out)
    settings, origin = _client_settings()
    try:
        result = build(SOURCE_DIR, out, settings)
    except (BuildError, OSError) as exc:
        print(f"build-spa: {exc}", file=sys.stderr)
        return 1
    count = len(result.catalog.assets)
    print(f"build-spa: {count} assets, {result.total_bytes} bytes "
          f"({result.total_gzip_bytes} gzipped) -> {out}")
    print(f"build-spa: {STATIC_OUT} (static variant for S3), {TEMPLATE_OUT} (for BFF_SPA_DIR), "
          f"{MANIFEST_NAME}, {CSP_OUT}")
    print(f"build-spa: client settings from {origin}")
    return 0
