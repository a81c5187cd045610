"""``bff publish-spa`` against moto in server mode: S3 objects' headers, upload order, stale files,
and the ONE CloudFront invalidation (through the real CLI entry point and boto3)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from bff.cli import main
from bff.ops.publish import IMMUTABLE, Publisher, scan_dist
from bff_dev.serving import free_port

BUCKET = "bff-test-spa"


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(autouse=True)
def _fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")


def _clients(moto_url: str) -> tuple[Any, Any]:
    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="eu-west-1")
    cloudfront = boto3.client("cloudfront", endpoint_url=moto_url, region_name="us-east-1")
    return s3, cloudfront


@pytest.fixture
def aws(moto_url: str) -> tuple[Any, Any, str, str]:
    s3, cloudfront = _clients(moto_url)
    bucket = f"{BUCKET}-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    dist = cloudfront.create_distribution(DistributionConfig={
        "CallerReference": uuid.uuid4().hex,
        "Comment": "spa",
        "Enabled": True,
        "DefaultRootObject": "index.html",
        "Origins": {"Quantity": 1, "Items": [{
            "Id": "spa", "DomainName": f"{bucket}.s3.eu-west-1.amazonaws.com",
            "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {
            "TargetOriginId": "spa", "ViewerProtocolPolicy": "redirect-to-https", "MinTTL": 0,
            "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
            "TrustedSigners": {"Enabled": False, "Quantity": 0}},
    })
    return s3, cloudfront, bucket, dist["Distribution"]["Id"]


def write_release(dist: Path, version: str, *, extra_views: tuple[str, ...] = ()) -> dict[str, str]:
    """A dist/ shaped like `bff build-spa`: hashed assets, manifest.json, index.html (+ the two
    build outputs that must never be uploaded)."""
    if dist.exists():
        for path in sorted(dist.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
    import hashlib
    h = {"main": hashlib.sha256(version.encode()).hexdigest()[:8] + "3f9a1c2b", "css": "0c1d2e3f4a5b6c7d",
         "logo": "e95f95daff9f8aba"}
    files = {
        f"assets/js/main.{h['main']}.js": f"import './views/home.js'; // {version}\n",
        f"assets/css/app.{h['css']}.css": "body{margin:0}\n",
        f"assets/img/logo.{h['logo']}.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>\n",
    }
    for view in ("home",) + extra_views:
        files[f"assets/js/views/{view}.{h['main'][:8]}aaaa0000.js"] = f"export default '{view} {version}';\n"
    imports = {f"/assets/{k[7:].rsplit('.', 2)[0]}.js": "/" + k for k in files if k.endswith(".js")}
    import json
    files["manifest.json"] = json.dumps({"assets": {k[7:]: k[7:] for k in files if k.startswith("assets/")}})
    files["index.html"] = (
        "<!doctype html><html><head>"
        f"<link rel=\"stylesheet\" href=\"/assets/css/app.{h['css']}.css\">"
        f"<script type=\"importmap\">{json.dumps({'imports': imports})}</script>"
        f"<script type=\"module\" src=\"/assets/js/main.{h['main']}.js\"></script>"
        f"</head><body data-version=\"{version}\"></body></html>\n")
    files["index.template.html"] = "{{ nonce }}"
    files["csp.txt"] = "default-src 'self'"
    files["robots.txt"] = "User-agent: *\n"
    for key, text in files.items():
        path = dist / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return files


def publish(dist: Path, bucket: str, distribution: str, moto_url: str, *extra: str) -> int:
    return main(["publish-spa", "--bucket", bucket, "--distribution", distribution, "--dist", str(dist),
                 "--endpoint-url", moto_url, "--region", "eu-west-1", *extra])


def invalidations(cloudfront: Any, distribution: str) -> list[list[str]]:
    items = cloudfront.list_invalidations(DistributionId=distribution)["InvalidationList"].get("Items") or []
    out = []
    for item in sorted(items, key=lambda i: i["CreateTime"]):
        inv = cloudfront.get_invalidation(DistributionId=distribution, Id=item["Id"])["Invalidation"]
        out.append(sorted(inv["InvalidationBatch"]["Paths"].get("Items") or []))
    return out


def keys(s3: Any, bucket: str) -> set[str]:
    return {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}


def test_first_publish_uploads_with_headers_and_invalidates_once(tmp_path: Path, aws: Any, moto_url: str,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    s3, cloudfront, bucket, distribution = aws
    files = write_release(tmp_path / "dist", "v1")

    assert publish(tmp_path / "dist", bucket, distribution, moto_url) == 0

    published = {k for k in files if k not in ("index.template.html", "csp.txt")}
    assert keys(s3, bucket) == published
    for key in published:
        head = s3.head_object(Bucket=bucket, Key=key)
        if key.startswith("assets/"):
            assert head["CacheControl"] == IMMUTABLE
        else:
            assert head["CacheControl"] == "no-cache"
    assert s3.head_object(Bucket=bucket, Key="index.html")["ContentType"] == "text/html; charset=utf-8"
    main_js = next(k for k in published if "/main." in k)
    assert s3.head_object(Bucket=bucket, Key=main_js)["ContentType"] == "text/javascript; charset=utf-8"
    css = next(k for k in published if k.endswith(".css"))
    assert s3.head_object(Bucket=bucket, Key=css)["ContentType"] == "text/css; charset=utf-8"
    svg = next(k for k in published if k.endswith(".svg"))
    assert s3.head_object(Bucket=bucket, Key=svg)["ContentType"] == "image/svg+xml"
    assert s3.head_object(Bucket=bucket, Key="manifest.json")["ContentType"] == "application/json"
    assert s3.get_object(Bucket=bucket, Key="index.html")["Body"].read().decode() == files["index.html"]

    # ONE invalidation, for the unhashed files only (hashed names are new and need none).
    assert invalidations(cloudfront, distribution) == [["/", "/index.html", "/manifest.json", "/robots.txt"]]
    out = capsys.readouterr().out
    assert out.index("upload     assets/") < out.index("upload     index.html")


def test_second_publish_without_changes_uploads_and_invalidates_nothing(tmp_path: Path, aws: Any,
                                                                        moto_url: str) -> None:
    s3, cloudfront, bucket, distribution = aws
    write_release(tmp_path / "dist", "v1")
    assert publish(tmp_path / "dist", bucket, distribution, moto_url) == 0
    before = {o["Key"]: o["LastModified"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}

    publisher = Publisher(s3, cloudfront, bucket, distribution, out=lambda line: None)
    plan = publisher.run(tmp_path / "dist")

    assert plan.uploads == [] and plan.deletes == [] and plan.invalidation_paths == []
    assert sorted(plan.unchanged) == sorted(scan_dist(tmp_path / "dist"))
    after = {o["Key"]: o["LastModified"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert after == before
    assert len(invalidations(cloudfront, distribution)) == 1


def test_new_release_keeps_the_previous_assets_one_release_then_removes_them(tmp_path: Path, aws: Any,
                                                                             moto_url: str) -> None:
    s3, cloudfront, bucket, distribution = aws
    dist = tmp_path / "dist"
    v1 = write_release(dist, "v1", extra_views=("admin",))
    assert publish(dist, bucket, distribution, moto_url) == 0
    v1_assets = {k for k in v1 if k.startswith("assets/")}

    v2 = write_release(dist, "v2")  # new main + home hashes; the admin view is gone
    assert publish(dist, bucket, distribution, moto_url) == 0
    v2_assets = {k for k in v2 if k.startswith("assets/")}
    # v1's files stay (a page loaded before the release still lazy-loads its views) ...
    assert v1_assets | v2_assets <= keys(s3, bucket)
    assert invalidations(cloudfront, distribution)[-1] == ["/", "/index.html", "/manifest.json"]

    v3 = write_release(dist, "v3")
    assert publish(dist, bucket, distribution, moto_url) == 0
    # ... and go one release later; v2's files are now the previous release and stay.
    remaining = keys(s3, bucket)
    v3_assets = {k for k in v3 if k.startswith("assets/")}
    assert (v1_assets - v2_assets - v3_assets).isdisjoint(remaining)
    assert v2_assets | v3_assets <= remaining
    assert len(invalidations(cloudfront, distribution)) == 3


def test_changed_headers_alone_cause_a_reupload(tmp_path: Path, aws: Any, moto_url: str) -> None:
    s3, cloudfront, bucket, distribution = aws
    files = write_release(tmp_path / "dist", "v1")
    assert publish(tmp_path / "dist", bucket, distribution, moto_url) == 0
    # Someone uploaded index.html by hand with the wrong caching headers (same bytes).
    s3.put_object(Bucket=bucket, Key="index.html", Body=files["index.html"].encode(), ContentType="text/html",
                  CacheControl="max-age=86400")

    publisher = Publisher(s3, cloudfront, bucket, distribution, out=lambda line: None)
    plan = publisher.run(tmp_path / "dist")

    assert [f.key for f in plan.uploads] == ["index.html"]
    assert s3.head_object(Bucket=bucket, Key="index.html")["CacheControl"] == "no-cache"
    assert plan.invalidation_paths == ["/", "/index.html"]


def test_an_interrupted_publish_is_invalidated_by_the_next_run(tmp_path: Path, aws: Any,
                                                               moto_url: str) -> None:
    s3, cloudfront, bucket, distribution = aws
    write_release(tmp_path / "dist", "v1")
    assert publish(tmp_path / "dist", bucket, distribution, moto_url) == 0
    write_release(tmp_path / "dist", "v2")

    class DiesBeforeInvalidating(Publisher):
        def invalidate(self, paths: list[str]) -> str:
            raise RuntimeError("network down")

    import time
    time.sleep(1.1)  # S3 LastModified has one-second resolution
    with pytest.raises(RuntimeError):
        dying = DiesBeforeInvalidating(s3, cloudfront, bucket, distribution, out=lambda line: None)
        dying.run(tmp_path / "dist")
    assert len(invalidations(cloudfront, distribution)) == 1

    plan = Publisher(s3, cloudfront, bucket, distribution, out=lambda line: None).run(tmp_path / "dist")
    assert plan.uploads == []
    assert "/index.html" in plan.invalidation_paths
    assert len(invalidations(cloudfront, distribution)) == 2


def test_many_changed_paths_collapse_to_one_wildcard(tmp_path: Path, aws: Any, moto_url: str) -> None:
    s3, cloudfront, bucket, distribution = aws
    dist = tmp_path / "dist"
    write_release(dist, "v1")
    for i in range(20):
        (dist / f"page{i}.txt").write_text(str(i))
    assert publish(dist, bucket, distribution, moto_url) == 0
    assert invalidations(cloudfront, distribution) == [["/*"]]


def test_dry_run_changes_nothing(tmp_path: Path, aws: Any, moto_url: str,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    s3, cloudfront, bucket, distribution = aws
    write_release(tmp_path / "dist", "v1")
    assert publish(tmp_path / "dist", bucket, distribution, moto_url, "--dry-run") == 0
    assert keys(s3, bucket) == set()
    assert invalidations(cloudfront, distribution) == []
    assert "would upload     index.html" in capsys.readouterr().out


def test_a_build_whose_page_names_a_missing_asset_is_refused(tmp_path: Path, aws: Any, moto_url: str,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    s3, cloudfront, bucket, distribution = aws
    files = write_release(tmp_path / "dist", "v1")
    main_js = next(k for k in files if "/main." in k)
    (tmp_path / "dist" / main_js).unlink()
    assert publish(tmp_path / "dist", bucket, distribution, moto_url) == 2
    assert f"index.html refers to /{main_js}" in capsys.readouterr().err
    assert keys(s3, bucket) == set()


def test_missing_bucket_is_a_clean_error(tmp_path: Path, aws: Any, moto_url: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    _, _, _, distribution = aws
    write_release(tmp_path / "dist", "v1")
    assert publish(tmp_path / "dist", "no-such-bucket-here", distribution, moto_url) == 1
    assert "NoSuchBucket" in capsys.readouterr().err


def test_the_real_spa_build_publishes(tmp_path: Path, aws: Any, moto_url: str) -> None:
    from bff.spa.build import SOURCE_DIR, build
    from tests.support.env import make_settings

    s3, cloudfront, bucket, distribution = aws
    build(SOURCE_DIR, tmp_path / "dist", make_settings())
    assert publish(tmp_path / "dist", bucket, distribution, moto_url) == 0
    published = keys(s3, bucket)
    assert "index.html" in published and "index.template.html" not in published
    hashed = [k for k in published if k.startswith("assets/")]
    assert hashed
    assert all(s3.head_object(Bucket=bucket, Key=k)["CacheControl"] == IMMUTABLE for k in hashed[:5])
