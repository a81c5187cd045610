"""Rendering the SPA's ``index.html`` (a Jinja2 template) for one response or for S3.

The template receives:

- ``asset(name)``: the hashed URL of ``assets/<name>``;
- ``import_map``: the ``<script type="importmap">`` body (logical → hashed module URLs);
- ``preload``: the hashed URLs of every module (``<link rel="modulepreload">``);
- ``nonce``: the response's CSP nonce, or None in the static variant (whose inline scripts are
  allowed by hash instead);
- ``bootstrap``: the escaped bootstrap JSON (:mod:`bff.spa.bootstrap`);
- ``lang``, ``dir``, ``title``, ``noscript``: from the locale and the copy.

Jinja's autoescaping is on for everything; only the two pre-escaped JSON blocks are Markup.
"""

from __future__ import annotations

import html.parser
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2

from bff.spa.assets import AssetCatalog
from bff.spa.bootstrap import script_json

#: Template names: the source tree's ``index.html`` is the template itself; ``bff build-spa``
#: writes the template as ``index.template.html`` and a rendered static ``index.html`` for S3.
TEMPLATE_NAMES = ("index.template.html", "index.html")

DEFAULT_TITLE = "…"


def _copy_string(copy: Mapping[str, Any], journey: str, key: str) -> str | None:
    block = copy.get(journey)
    if isinstance(block, Mapping):
        strings = block.get("strings")
        if isinstance(strings, Mapping):
            value = strings.get(key)
            if isinstance(value, str):
                return value
    return None


class Shell:
    def __init__(self, spa_dir: Path, catalog: AssetCatalog) -> None:
        self.catalog = catalog
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(spa_dir)),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.globals["asset"] = catalog.url
        for name in TEMPLATE_NAMES:
            if (spa_dir / name).is_file():
                self.template = env.get_template(name)
                break
        else:
            raise FileNotFoundError(f"no index template in {spa_dir} (expected one of {TEMPLATE_NAMES})")
        self._import_map = script_json(catalog.import_map())
        self._preload = [a.url for a in catalog.modules()]

    def render(self, *, nonce: str | None, bootstrap: Mapping[str, Any],
               title_key: tuple[str, str] | None = None) -> str:
        """``title_key`` = (journey, key) of the screen's title, shown before the app name."""
        copy = bootstrap.get("copy") or {}
        app_name = _copy_string(copy, "common", "app.name")
        screen = _copy_string(copy, *title_key) if title_key else None
        title = " · ".join(t for t in (screen, app_name) if t) or DEFAULT_TITLE
        return self.template.render(
            nonce=nonce,
            bootstrap=script_json(bootstrap),
            import_map=self._import_map,
            preload=self._preload if nonce else [],
            lang=bootstrap.get("locale") or "en",
            dir=bootstrap.get("dir") or "ltr",
            title=title,
            noscript=_copy_string(copy, "common", "noscript"),
        )


class _InlineScripts(html.parser.HTMLParser):
    """Collects the text of inline executable scripts (for CSP hashes of the static variant)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.scripts: list[str] = []
        self._current: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "script":
            return
        attributes = dict(attrs)
        kind = (attributes.get("type") or "").lower()
        executable = kind in {"", "module", "importmap", "text/javascript"}
        self._current = [] if executable and "src" not in attributes else None

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._current.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._current is not None:
            self.scripts.append("".join(self._current))
            self._current = None


def inline_scripts(document: str) -> list[str]:
    parser = _InlineScripts()
    parser.feed(document)
    parser.close()
    return parser.scripts
