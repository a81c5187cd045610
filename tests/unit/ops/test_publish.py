"""The publish plan: headers per file, what is skipped, kept, deleted and invalidated."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bff.ops.publish import (
    IMMUTABLE,
    NO_CACHE,
    LocalFile,
    PublishError,
    RemoteObject,
    cache_control,
    check_build,
    content_type,
    is_hashed,
    manifest_references,
    plan_publish,
    references,
    scan_dist,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(("key", "hashed"), [
    ("assets/js/main.3f9a1c2b.js", True),
    ("assets/js/views/home.1d3ebb797e5994cc.js", True),
    ("assets/css/app.C188F799.css", False),  # upper-case is not what builds emit
    ("assets/js/main.js", False),
    ("index.html", False),
    ("assets/js/main.3f9a1c2.js", False),  # 7 hex digits: too short to be a content hash
    ("assets/js/vendor.deadbeefcafe.min", True),
])
def test_hashed_names(key: str, hashed: bool) -> None:
    assert is_hashed(key) is hashed
    assert cache_control(key) == (IMMUTABLE if hashed else NO_CACHE)


@pytest.mark.parametrize(("key", "ctype"), [
    ("index.html", "text/html; charset=utf-8"),
    ("a.3f9a1c2b.js", "text/javascript; charset=utf-8"),
    ("a.css", "text/css; charset=utf-8"),
    ("m.json", "application/json"),
    ("logo.svg", "image/svg+xml"),
    ("f.woff2", "font/woff2"),
    ("site.webmanifest", "application/manifest+json"),
    ("blob.unknownext", "application/octet-stream"),
])
def test_content_types(key: str, ctype: str) -> None:
    assert content_type(key) == ctype


def test_references_of_a_page_and_a_manifest() -> None:
    page = ('<link href="/assets/css/app.0c1d2e3f.css">'
            '<script src="/assets/js/main.3f9a1c2b.js?x=1"></script>'
            '<script type="importmap">{"imports":{"/assets/js/a.js":"/assets/js/a.11112222.js"}}</script>'
            '<a href="//cdn.example.com/x.js">')
    assert references(page) == {"assets/css/app.0c1d2e3f.css", "assets/js/main.3f9a1c2b.js", "assets/js/a.js",
                                "assets/js/a.11112222.js"}
    assert manifest_references('{"assets": {"js/a.js": "js/a.11112222.js"}}') >= {"assets/js/a.11112222.js"}
    assert manifest_references("not json") == set()


def _local(tmp_path: Path, files: dict[str, str]) -> dict[str, LocalFile]:
    for key, text in files.items():
        (tmp_path / key).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / key).write_text(text)
    return scan_dist(tmp_path)


def _remote(local: Mapping[str, LocalFile], *, when: datetime = T0, **etags: str) -> dict[str, RemoteObject]:
    return {k: RemoteObject(k, f'"{etags.get(k.replace("/", "_").replace(".", "_"), f.md5)}"', when)
            for k, f in local.items()}


def _headers_of(local: Mapping[str, LocalFile]) -> object:
    def headers(keys: Iterable[str]) -> dict[str, tuple[str, str]]:
        return {k: (local[k].content_type, local[k].cache_control) for k in keys}
    return headers


def test_scan_skips_build_only_files_and_dotfiles(tmp_path: Path) -> None:
    local = _local(tmp_path, {"index.html": "x", "index.template.html": "t", "csp.txt": "c", ".DS_Store": "",
                              "assets/js/a.11112222.js": "a"})
    assert set(local) == {"index.html", "assets/js/a.11112222.js"}


def test_unchanged_files_are_skipped_and_nothing_is_invalidated(tmp_path: Path) -> None:
    local = _local(tmp_path, {"index.html": "x", "assets/js/a.11112222.js": "a"})
    plan = plan_publish(local, _remote(local), headers=_headers_of(local),  # type: ignore[arg-type]
                        previous_release=set(), last_invalidation=T0 + timedelta(seconds=1))
    assert plan.uploads == [] and plan.invalidation_paths == []
    assert sorted(plan.unchanged) == ["assets/js/a.11112222.js", "index.html"]


def test_upload_order_and_invalidation_paths(tmp_path: Path) -> None:
    local = _local(tmp_path, {"index.html": "x", "about.html": "y", "manifest.json": "{}",
                              "assets/js/b.22223333.js": "b", "assets/js/a.11112222.js": "a"})
    plan = plan_publish(local, {}, headers=lambda keys: {}, previous_release=set(), last_invalidation=None)
    assert [f.key for f in plan.uploads] == ["assets/js/a.11112222.js", "assets/js/b.22223333.js",
                                             "manifest.json", "about.html", "index.html"]
    assert plan.invalidation_paths == ["/", "/about.html", "/index.html", "/manifest.json"]


def test_stale_files_are_deleted_unless_the_previous_release_named_them(tmp_path: Path) -> None:
    local = _local(tmp_path, {"index.html": "new", "assets/js/a.33334444.js": "a3"})
    remote = {
        "index.html": RemoteObject("index.html", '"old"', T0),
        "assets/js/a.22223333.js": RemoteObject("assets/js/a.22223333.js", '"x"', T0),  # previous release
        "assets/js/a.11112222.js": RemoteObject("assets/js/a.11112222.js", '"y"', T0),  # two releases ago
        "old.txt": RemoteObject("old.txt", '"z"', T0),
    }
    plan = plan_publish(local, remote, headers=lambda keys: {}, previous_release={"assets/js/a.22223333.js"},
                        last_invalidation=T0)
    assert plan.kept == ["assets/js/a.22223333.js"]
    assert plan.deletes == ["assets/js/a.11112222.js", "old.txt"]
    # Deleted unhashed files are invalidated; deleted hashed ones need not be.
    assert plan.invalidation_paths == ["/", "/index.html", "/old.txt"]

    keep_all = plan_publish(local, remote, headers=lambda keys: {}, previous_release=set(),
                            last_invalidation=T0, delete=False)
    assert keep_all.deletes == [] and len(keep_all.kept) == 3


def test_files_newer_than_the_last_invalidation_are_invalidated_again(tmp_path: Path) -> None:
    local = _local(tmp_path, {"index.html": "x", "assets/js/a.11112222.js": "a"})
    plan = plan_publish(local, _remote(local, when=T0 + timedelta(seconds=5)), headers=_headers_of(local),  # type: ignore[arg-type]
                        previous_release=set(), last_invalidation=T0)
    assert plan.uploads == []
    assert plan.invalidation_paths == ["/", "/index.html"]


def test_many_paths_become_one_wildcard(tmp_path: Path) -> None:
    local = _local(tmp_path, {f"p{i}.txt": str(i) for i in range(4)} | {"index.html": "x"})
    plan = plan_publish(local, {}, headers=lambda keys: {}, previous_release=set(), last_invalidation=None,
                        max_paths=3)
    assert plan.invalidation_paths == ["/*"]


def test_check_build_needs_index_and_the_hashed_files_it_names(tmp_path: Path) -> None:
    with pytest.raises(PublishError, match="index.html is missing"):
        check_build(tmp_path, _local(tmp_path, {"assets/js/a.11112222.js": "a"}))
    local = _local(tmp_path, {"index.html": '<script src="/assets/js/gone.99998888.js"></script>'})
    with pytest.raises(PublishError, match="gone.99998888.js"):
        check_build(tmp_path, local)
    with pytest.raises(PublishError, match="not a directory"):
        check_build(tmp_path / "nope", {})
