"""The asset catalog: content hashes, the two layouts, the import map."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bff.settings import REPO_ROOT
from bff.spa.assets import AssetCatalog, AssetError, content_hash, hashed_name


def _tree(root: Path, files: dict[str, bytes]) -> Path:
    for name, body in files.items():
        path = root / "assets" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    return root


def test_hashed_names_change_with_the_content_only() -> None:
    a = hashed_name("js/main.js", b"one")
    assert a == f"js/main.{content_hash(b'one')}.js"
    assert hashed_name("js/main.js", b"one") == a
    assert hashed_name("js/main.js", b"two") != a
    assert hashed_name("js/views/admin.js", b"one").startswith("js/views/admin.")


def test_source_tree_is_hashed_and_serves_both_urls(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"js/main.js": b"import './a.js';", "js/a.js": b"export {}",
                            "css/app.css": b"a{}" * 200, ".hidden/x.js": b"", "js/README": b"not an asset"})
    catalog = AssetCatalog.from_source(root)
    assert set(catalog.assets) == {"js/main.js", "js/a.js", "css/app.css"}
    main = catalog.assets["js/main.js"]
    assert catalog.url("js/main.js") == "/assets/" + main.hashed
    assert catalog.find(main.hashed) == (main, True)
    assert catalog.find("js/main.js") == (main, False)
    assert catalog.find("js/none.js") is None
    assert catalog.assets["css/app.css"].gzipped is not None  # compressible and worth it
    assert catalog.assets["js/a.js"].gzipped is None  # too small to bother
    with pytest.raises(AssetError):
        catalog.url("js/none.js")


def test_import_map_points_each_logical_module_at_its_hashed_url(tmp_path: Path) -> None:
    catalog = AssetCatalog.from_source(_tree(tmp_path, {"js/main.js": b"1", "js/views/x.js": b"2",
                                                        "img/logo.svg": b"<svg/>"}))
    imports = catalog.import_map()["imports"]
    assert imports == {"/assets/js/main.js": catalog.url("js/main.js"),
                       "/assets/js/views/x.js": catalog.url("js/views/x.js")}


def test_dist_layout_serves_hashed_urls_only_and_checks_every_hash(tmp_path: Path) -> None:
    body = b"export const x = 1;"
    hashed = hashed_name("js/main.js", body)
    (tmp_path / "assets" / "js").mkdir(parents=True)
    (tmp_path / "assets" / hashed).write_bytes(body)
    (tmp_path / "manifest.json").write_text(json.dumps({"assets": {"js/main.js": hashed}}))
    catalog = AssetCatalog.load(tmp_path)
    assert catalog.find(hashed) is not None
    assert catalog.find("js/main.js") is None
    (tmp_path / "assets" / hashed).write_bytes(b"tampered")
    with pytest.raises(AssetError, match="content hash"):
        AssetCatalog.load(tmp_path)
    (tmp_path / "manifest.json").write_text("{broken")
    with pytest.raises(AssetError):
        AssetCatalog.load(tmp_path)


def test_the_real_shell_has_the_assets_the_template_names() -> None:
    catalog = AssetCatalog.load(REPO_ROOT / "spa-shell")
    for name in ("js/main.js", "css/app.css", "img/favicon.svg", "img/logo.svg"):
        assert name in catalog.assets
