"""``bff publish-spa``: upload a built SPA (``bff build-spa``) to S3 and invalidate CloudFront.

What it does, in this order (each step only starts when the previous one succeeded):

1. **Check the build.** ``dist/index.html`` must exist and every content-hashed file it refers
   to must be in ``dist/``: a new ``index.html`` never points at a missing asset.
2. **Compare with the bucket.** One listing gives each object's ETag (the MD5 of a single-part
   upload to an SSE-S3 bucket); objects whose MD5 matches are HEADed to check their
   ``Content-Type`` and ``Cache-Control``. A file is skipped only when its bytes and both
   headers already match.
3. **Upload** what differs: content-hashed files (``name.<hex>.ext``) first with
   ``Cache-Control: public, max-age=31536000, immutable``, then the other files with
   ``no-cache`` (CloudFront and browsers revalidate them), HTML last. Until ``index.html`` is
   replaced, the old page keeps working; once it is, everything it names is already there.
4. **Invalidate** the unhashed paths that changed or were removed, in ONE CloudFront
   invalidation (``/*`` when more than ``--max-invalidation-paths`` changed; hashed files are
   new names and need none). Unhashed objects modified after the last invalidation this
   command created (an earlier run that died between upload and invalidation) are included.
5. **Remove stale files**: objects no longer in ``dist/`` are deleted, EXCEPT the files the
   previous release referred to (its ``index.html`` and ``manifest.json``, read from the bucket
   before anything is replaced). A browser that loaded the previous ``index.html`` a minute ago
   still lazy-loads its view modules; they disappear one release later. The bucket is
   versioned, so a deletion is a delete marker, not a loss.

``index.template.html`` and ``csp.txt`` are build outputs for the BFF and for the infrastructure,
not for browsers: they are never uploaded.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import mimetypes
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

#: ``name.<8-64 lower-case hex>.ext``: what ``bff build-spa`` (and most bundlers) emit.
HASHED_NAME = re.compile(r"\.[0-9a-f]{8,64}\.[A-Za-z0-9]+$")
IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"
#: Build outputs that are not for browsers.
NOT_PUBLISHED = frozenset({"index.template.html", "csp.txt"})
CALLER_PREFIX = "bff-publish-"
DEFAULT_MAX_INVALIDATION_PATHS = 15

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
    ".xml": "application/xml",
    ".ico": "image/x-icon",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".wasm": "application/wasm",
}
_REFERENCE = re.compile(r"""["'(](/[A-Za-z0-9._~!$&*+,;=:@%/-]+)""")


class PublishError(Exception):
    """The build cannot be published as it is (one line per problem)."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def content_type(name: str) -> str:
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in _TYPES:
        return _TYPES[suffix]
    guessed, _ = mimetypes.guess_type(name)
    return guessed or "application/octet-stream"


def is_hashed(key: str) -> bool:
    return bool(HASHED_NAME.search(PurePosixPath(key).name))


def cache_control(key: str) -> str:
    return IMMUTABLE if is_hashed(key) else NO_CACHE


@dataclass(frozen=True)
class LocalFile:
    key: str
    path: Path
    md5: str
    size: int
    content_type: str
    cache_control: str

    @property
    def hashed(self) -> bool:
        return self.cache_control == IMMUTABLE

    @property
    def rank(self) -> int:
        """Upload order: hashed assets, then other unhashed files, HTML last."""
        if self.hashed:
            return 0
        return 2 if self.content_type.startswith("text/html") else 1


@dataclass(frozen=True)
class RemoteObject:
    key: str
    etag: str
    last_modified: datetime


@dataclass
class PublishPlan:
    uploads: list[LocalFile] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    invalidation_paths: list[str] = field(default_factory=list)


def scan_dist(dist: Path) -> dict[str, LocalFile]:
    """Every publishable file under ``dist`` by its S3 key (POSIX path relative to ``dist``)."""
    files: dict[str, LocalFile] = {}
    for path in sorted(dist.rglob("*")):
        if not path.is_file() or path.is_symlink():
            continue
        rel = path.relative_to(dist)
        if any(part.startswith(".") for part in rel.parts) or rel.as_posix() in NOT_PUBLISHED:
            continue
        key = rel.as_posix()
        body = path.read_bytes()
        md5 = hashlib.md5(body, usedforsecurity=False).hexdigest()
        files[key] = LocalFile(key=key, path=path, md5=md5, size=len(body), content_type=content_type(key),
                               cache_control=cache_control(key))
    return files


def references(text: str) -> set[str]:
    """Keys of the same-origin files a page or manifest names (``/assets/...`` → ``assets/...``)."""
    out = set()
    for match in _REFERENCE.finditer(text):
        path = match.group(1).split("?", 1)[0].split("#", 1)[0]
        if not path.startswith("//"):
            out.add(path.lstrip("/"))
    return out


def manifest_references(text: str) -> set[str]:
    """Every string value of a ``manifest.json``, as a key and as a key under ``assets/``."""
    try:
        data = json.loads(text)
    except ValueError:
        return set()
    out: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str):
            name = value.lstrip("/")
            out.update({name, f"assets/{name}"})
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(data)
    return out


def check_build(dist: Path, files: Mapping[str, LocalFile]) -> None:
    problems = []
    if not dist.is_dir():
        raise PublishError([f"{dist} is not a directory (run `bff build-spa --out {dist}` first)"])
    if "index.html" not in files:
        problems.append(f"{dist}/index.html is missing (run `bff build-spa --out {dist}` first)")
    else:
        text = files["index.html"].path.read_text(encoding="utf-8", errors="replace")
        for ref in sorted(references(text)):
            # Only content-hashed names: an import map's keys (``/assets/js/main.js``) are
            # module specifiers, not files.
            if is_hashed(ref) and ref not in files:
                problems.append(f"index.html refers to /{ref}, which is not in {dist}")
    if problems:
        raise PublishError(problems)


def plan_publish(local: Mapping[str, LocalFile], remote: Mapping[str, RemoteObject], *,
                 headers: Callable[[Iterable[str]], Mapping[str, tuple[str, str]]],
                 previous_release: set[str], last_invalidation: datetime | None,
                 max_paths: int = DEFAULT_MAX_INVALIDATION_PATHS, delete: bool = True) -> PublishPlan:
    """What to upload, delete, keep and invalidate. ``headers(keys)`` returns the current
    ``(Content-Type, Cache-Control)`` of existing objects (HEAD requests)."""
    plan = PublishPlan()
    same_bytes = [k for k, f in local.items() if k in remote and remote[k].etag.strip('"') == f.md5]
    current = headers(same_bytes)
    for key in sorted(local, key=lambda k: (local[k].rank, k)):
        f = local[key]
        if key in same_bytes and current.get(key) == (f.content_type, f.cache_control):
            plan.unchanged.append(key)
        else:
            plan.uploads.append(f)
    for key in sorted(set(remote) - set(local)):
        if key in previous_release or not delete:
            plan.kept.append(key)
        else:
            plan.deletes.append(key)

    changed = [f.key for f in plan.uploads if not f.hashed] + [k for k in plan.deletes if not is_hashed(k)]
    # An earlier run that uploaded but died before invalidating: its unhashed files are newer
    # than the last invalidation this command made (or there never was one).
    for key in plan.unchanged:
        if is_hashed(key):
            continue
        obj = remote[key]
        if last_invalidation is None or obj.last_modified > last_invalidation:
            changed.append(key)
    paths = sorted({"/" + k for k in changed})
    if "/index.html" in paths:
        paths.insert(0, "/")
    if len(paths) > max_paths:
        paths = ["/*"]
    plan.invalidation_paths = paths
    return plan


class Publisher:
    """Runs a publish against one bucket and one distribution (boto3 clients injected)."""

    def __init__(self, s3: Any, cloudfront: Any, bucket: str, distribution: str, *,
                 out: Callable[[str], None] = print, workers: int = 8) -> None:
        self.s3 = s3
        self.cloudfront = cloudfront
        self.bucket = bucket
        self.distribution = distribution
        self.out = out
        self.workers = workers

    # -- reading ------------------------------------------------------------------------------
    def remote_objects(self) -> dict[str, RemoteObject]:
        objects: dict[str, RemoteObject] = {}
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            for item in page.get("Contents", []):
                objects[item["Key"]] = RemoteObject(item["Key"], item["ETag"], item["LastModified"])
        return objects

    def headers(self, keys: Iterable[str]) -> dict[str, tuple[str, str]]:
        def head(key: str) -> tuple[str, tuple[str, str]]:
            meta = self.s3.head_object(Bucket=self.bucket, Key=key)
            return key, (meta.get("ContentType", ""), meta.get("CacheControl", ""))

        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            return dict(pool.map(head, list(keys)))

    def _text(self, key: str) -> str | None:
        from botocore.exceptions import ClientError

        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return None
            raise
        return bytes(body).decode("utf-8", errors="replace")

    def previous_release(self, remote: Mapping[str, RemoteObject]) -> set[str]:
        """The files the live ``index.html`` and ``manifest.json`` refer to (kept one more release)."""
        keys: set[str] = set()
        if "index.html" in remote:
            keys |= references(self._text("index.html") or "")
        if "manifest.json" in remote:
            keys |= manifest_references(self._text("manifest.json") or "")
        return {k for k in keys if k in remote}

    def last_invalidation(self) -> datetime | None:
        """Creation time of the newest invalidation this command made (within the last 25)."""
        listing = self.cloudfront.list_invalidations(DistributionId=self.distribution, MaxItems="25")
        items = sorted(listing.get("InvalidationList", {}).get("Items", []) or [],
                       key=lambda i: i["CreateTime"], reverse=True)
        for item in items:
            inv = self.cloudfront.get_invalidation(DistributionId=self.distribution, Id=item["Id"])
            if inv["Invalidation"]["InvalidationBatch"]["CallerReference"].startswith(CALLER_PREFIX):
                return item["CreateTime"]  # type: ignore[no-any-return]
        return None

    # -- writing ------------------------------------------------------------------------------
    def upload(self, f: LocalFile) -> None:
        # Content-MD5: S3 refuses a body that was corrupted on the way.
        self.s3.put_object(Bucket=self.bucket, Key=f.key, Body=f.path.read_bytes(),
                           ContentType=f.content_type, CacheControl=f.cache_control,
                           ContentMD5=_b64(bytes.fromhex(f.md5)))

    def invalidate(self, paths: list[str]) -> str:
        reference = f"{CALLER_PREFIX}{int(time.time())}-{uuid.uuid4().hex[:12]}"
        result = self.cloudfront.create_invalidation(DistributionId=self.distribution, InvalidationBatch={
            "Paths": {"Quantity": len(paths), "Items": paths}, "CallerReference": reference})
        return str(result["Invalidation"]["Id"])

    def delete(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):
            batch = keys[start:start + 1000]
            result = self.s3.delete_objects(Bucket=self.bucket, Delete={
                "Objects": [{"Key": k} for k in batch], "Quiet": True})
            errors = result.get("Errors") or []
            if errors:
                raise PublishError([f"could not delete {e.get('Key')}: {e.get('Code')}" for e in errors])

    # -- the whole thing -----------------------------------------------------------------------
    def run(self, dist: Path, *, dry_run: bool = False, delete: bool = True,
            max_paths: int = DEFAULT_MAX_INVALIDATION_PATHS) -> PublishPlan:
        local = scan_dist(dist) if dist.is_dir() else {}
        check_build(dist, local)
        remote = self.remote_objects()
        plan = plan_publish(local, remote, headers=self.headers,
                            previous_release=self.previous_release(remote),
                            last_invalidation=self.last_invalidation(), max_paths=max_paths, delete=delete)
        verb = "would " if dry_run else ""
        for f in plan.uploads:
            policy = "immutable" if f.hashed else f.cache_control
            self.out(f"  {verb}upload     {f.key}  ({f.content_type}; {policy})")
        for key in plan.kept:
            self.out(f"  keep       {key}  (previous release)" if delete else f"  keep       {key}")
        for key in plan.deletes:
            self.out(f"  {verb}delete     {key}")
        if plan.invalidation_paths:
            self.out(f"  {verb}invalidate {' '.join(plan.invalidation_paths)}")
        if dry_run:
            return plan
        hashed = [f for f in plan.uploads if f.rank == 0]
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            list(pool.map(self.upload, hashed))  # list(): re-raise the first failure
        for f in sorted((f for f in plan.uploads if f.rank > 0), key=lambda f: (f.rank, f.key)):
            self.upload(f)
        if plan.invalidation_paths:
            inv = self.invalidate(plan.invalidation_paths)
            self.out(f"  invalidation {inv} ({len(plan.invalidation_paths)} path(s))")
        if plan.deletes:
            self.delete(plan.deletes)
        return plan


def _b64(raw: bytes) -> str:
    import base64

    return base64.b64encode(raw).decode()


def publish_spa_cli(args: argparse.Namespace) -> int:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    config = Config(retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=16)
    session = boto3.session.Session(region_name=args.region)
    s3 = session.client("s3", endpoint_url=args.endpoint_url, config=config)
    # CloudFront is a global service with its endpoint in us-east-1.
    cloudfront = session.client("cloudfront", endpoint_url=args.endpoint_url, region_name="us-east-1",
                                config=config)
    dist = Path(args.dist)
    dry_run = bool(getattr(args, "dry_run", False))
    print(f"publish-spa: {dist} -> s3://{args.bucket} (CloudFront {args.distribution})"
          f"{' [dry run]' if dry_run else ''}")
    publisher = Publisher(s3, cloudfront, args.bucket, args.distribution)
    try:
        plan = publisher.run(dist, dry_run=dry_run, delete=not getattr(args, "keep_stale", False),
                             max_paths=getattr(args, "max_invalidation_paths",
                                               DEFAULT_MAX_INVALIDATION_PATHS))
    except PublishError as exc:
        for line in exc.lines:
            print(f"publish-spa: {line}", file=sys.stderr)
        return 2
    except ClientError as exc:
        error = exc.response.get("Error", {})
        print(f"publish-spa: {exc.operation_name} failed: {error.get('Code')}: {error.get('Message')}",
              file=sys.stderr)
        return 1
    except BotoCoreError as exc:
        print(f"publish-spa: AWS call failed: {exc}", file=sys.stderr)
        return 1
    print(f"publish-spa: {'would upload' if dry_run else 'uploaded'} {len(plan.uploads)}, "
          f"unchanged {len(plan.unchanged)}, {'would delete' if dry_run else 'deleted'} {len(plan.deletes)}, "
          f"kept {len(plan.kept)}, invalidated {len(plan.invalidation_paths)} path(s)")
    return 0
