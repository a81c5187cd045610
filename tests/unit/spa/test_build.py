"""``bff build-spa``: the dist layout, the static variant's CSP, and serving a build."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest

from bff.spa.assets import AssetCatalog, hashed_name
from bff.spa.build import SOURCE_DIR, BuildError, build, build_spa_cli, meta_policy
from bff.spa.csp import script_hash
from bff.spa.shell import inline_scripts
from tests.support.env import make_settings
from tests.unit.spa.support import BOOTSTRAP, csp_directives, harness


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("build") / "dist"
    build(SOURCE_DIR, out, make_settings())
    return out


def test_every_asset_is_written_under_its_hash_and_listed(dist: Path) -> None:
    manifest = json.loads((dist / "manifest.json").read_text())["assets"]
    source = AssetCatalog.from_source(SOURCE_DIR)
    assert set(manifest) == set(source.assets)
    for logical, hashed in manifest.items():
        body = (dist / "assets" / hashed).read_bytes()
        assert hashed == hashed_name(logical, body)
        assert not (dist / "assets" / logical).exists()  # only immutable names are published


def test_the_static_variant_allows_exactly_its_inline_scripts_by_hash(dist: Path) -> None:
    page = (dist / "index.html").read_text()
    policy = (dist / "csp.txt").read_text().strip()
    scripts = inline_scripts(page)
    assert len(scripts) == 2  # the import map and the entry import
    d = csp_directives(policy)
    assert d["script-src"] == ["'self'"] + [script_hash(s) for s in scripts]
    assert "nonce" not in page
    meta = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page)
    assert meta is not None
    meta_value = meta.group(1).replace("&#39;", "'")
    assert meta_value == meta_policy(policy)
    assert "frame-ancestors" not in meta_value and "frame-ancestors" in policy
    block = re.search(r'<script type="application/json" id="bootstrap">(.*?)</script>', page, re.S)
    assert block is not None
    data = json.loads(block.group(1))
    assert data["static"] is True and data["user"] is None and data["copy"] == {}


def test_the_template_is_kept_for_the_bff(dist: Path) -> None:
    assert (dist / "index.template.html").read_text() == (SOURCE_DIR / "index.html").read_text()


async def test_a_bff_serves_the_build(dist: Path) -> None:
    catalog = AssetCatalog.load(dist)
    async with harness(BFF_SPA_DIR=str(dist)) as h:
        item = catalog.assets["js/main.js"]
        page = await h.client.get("/signin")
        hashed = await h.client.get(item.url)
        logical = await h.client.get(item.logical_url)
    assert page.status_code == 200 and item.url in page.text
    assert BOOTSTRAP.search(page.text) is not None
    assert hashed.status_code == 200 and hashed.content == item.body
    assert logical.status_code == 404  # a build publishes hashed names only


def test_a_rebuild_replaces_the_previous_build(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    build(SOURCE_DIR, out, make_settings())
    (out / "assets" / "js" / "stale.0000000000000000.js").write_text("old")
    build(SOURCE_DIR, out, make_settings())
    assert not (out / "assets" / "js" / "stale.0000000000000000.js").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["dist"]  # no staging left behind


def test_it_refuses_to_replace_a_directory_that_is_not_a_build(tmp_path: Path) -> None:
    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.txt").write_text("keep me")
    with pytest.raises(BuildError):
        build(SOURCE_DIR, out, make_settings())
    assert (out / "thesis.txt").read_text() == "keep me"
    assert build_spa_cli(argparse.Namespace(out=out)) == 1


def test_the_cli_builds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert build_spa_cli(argparse.Namespace(out=tmp_path / "dist")) == 0
    assert (tmp_path / "dist" / "index.html").is_file()
    assert "assets" in capsys.readouterr().out
