"""The SPA's static assets, addressed by content hash.

An :class:`AssetCatalog` holds every file under ``<spa_dir>/assets/`` in memory (with a gzip
variant for text), keyed by its *logical* name (``js/main.js``) and by its *hashed* name
(``js/main.3f2a9c0d1b7e6a54.js``). It is built once at start-up, from either layout of
``BFF_SPA_DIR``:

- the source tree (``spa-shell/``): names are hashed at start-up, no build step needed;
- a ``bff build-spa`` output (``dist/``, recognised by its ``manifest.json``): the files are
  already hashed and the manifest maps logical to hashed names.

Hashed URLs never change meaning, so they are served ``immutable`` for a year; the logical
URLs (source tree only, for a developer poking around) are served ``no-cache`` with an ETag.
ES modules import each other by relative logical path; the page's import map
(:meth:`AssetCatalog.import_map`) points each logical URL at its hashed URL, so a change in one
module changes only that module's URL.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

#: URL prefix of every asset.
ASSET_PREFIX = "/assets/"
#: Name of the manifest ``bff build-spa`` writes next to the hashed files.
MANIFEST_NAME = "manifest.json"
#: Length of the content hash in file names (hex digits of SHA-256: 64 bits).
HASH_LENGTH = 16

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

_MEDIA_TYPES: dict[str, str] = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".webp": "image/webp",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}
_COMPRESSIBLE = {".js", ".mjs", ".css", ".json", ".webmanifest", ".svg", ".txt"}


class AssetError(Exception):
    """The SPA directory is unusable (missing, or a manifest that does not match the files)."""


def media_type(name: str) -> str | None:
    return _MEDIA_TYPES.get(PurePosixPath(name).suffix.lower())


def content_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:HASH_LENGTH]


def hashed_name(logical: str, body: bytes) -> str:
    """``js/main.js`` + body → ``js/main.<hash>.js``."""
    path = PurePosixPath(logical)
    return str(path.with_name(f"{path.stem}.{content_hash(body)}{path.suffix}"))


@dataclass(frozen=True)
class Asset:
    logical: str
    hashed: str
    body: bytes
    gzipped: bytes | None
    media_type: str
    etag: str  # strong ETag of the identity encoding (quoted)

    @property
    def url(self) -> str:
        return ASSET_PREFIX + self.hashed

    @property
    def logical_url(self) -> str:
        return ASSET_PREFIX + self.logical


def _make_asset(logical: str, hashed: str, body: bytes) -> Asset:
    kind = media_type(logical)
    if kind is None:
        raise AssetError(f"unsupported asset type: {logical}")
    gz: bytes | None = None
    if PurePosixPath(logical).suffix.lower() in _COMPRESSIBLE and len(body) > 256:
        candidate = gzip.compress(body, compresslevel=9, mtime=0)
        if len(candidate) < len(body) * 0.9:
            gz = candidate
    return Asset(logical=logical, hashed=hashed, body=body, gzipped=gz, media_type=kind,
                 etag=f'"{hashlib.sha256(body).hexdigest()[:32]}"')


def _walk(root: Path) -> Iterable[tuple[str, Path]]:
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_file() and not any(part.startswith(".") for part in rel.parts):
            yield rel.as_posix(), path


class AssetCatalog:
    def __init__(self, assets: Mapping[str, Asset], *, serve_logical: bool) -> None:
        self.assets = dict(assets)  # by logical name
        self.serve_logical = serve_logical  # source tree: also answer the unhashed URLs (no-cache)
        self._by_hashed = {a.hashed: a for a in self.assets.values()}

    # -- construction ---------------------------------------------------------------------

    @classmethod
    def from_source(cls, spa_dir: Path) -> AssetCatalog:
        """Hash every file under ``spa_dir/assets`` (the no-build-step layout)."""
        root = spa_dir / "assets"
        if not root.is_dir():
            raise AssetError(f"{root} is not a directory")
        assets = {}
        for logical, path in _walk(root):
            if media_type(logical) is None:
                continue  # editor leftovers, READMEs: not part of the app
            body = path.read_bytes()
            assets[logical] = _make_asset(logical, hashed_name(logical, body), body)
        return cls(assets, serve_logical=True)

    @classmethod
    def from_dist(cls, dist_dir: Path) -> AssetCatalog:
        """Load a ``bff build-spa`` output, checking every hash against the file's bytes."""
        try:
            manifest = json.loads((dist_dir / MANIFEST_NAME).read_text("utf-8"))
            mapping = manifest["assets"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise AssetError(f"{dist_dir / MANIFEST_NAME} is unreadable: {exc}") from exc
        if not isinstance(mapping, dict):
            raise AssetError(f"{dist_dir / MANIFEST_NAME}: 'assets' must be an object")
        assets = {}
        for logical, hashed in mapping.items():
            path = dist_dir / "assets" / str(hashed)
            try:
                body = path.read_bytes()
            except OSError as exc:
                raise AssetError(f"{path} listed in the manifest is missing") from exc
            if hashed != hashed_name(logical, body):
                raise AssetError(f"{path} does not match its content hash")
            assets[logical] = _make_asset(logical, hashed, body)
        return cls(assets, serve_logical=False)

    @classmethod
    def load(cls, spa_dir: Path) -> AssetCatalog:
        if (spa_dir / MANIFEST_NAME).is_file():
            return cls.from_dist(spa_dir)
        return cls.from_source(spa_dir)

    # -- queries --------------------------------------------------------------------------

    def url(self, logical: str) -> str:
        """The hashed URL of a logical asset name; a missing asset is a template bug."""
        try:
            return self.assets[logical].url
        except KeyError:
            raise AssetError(f"unknown asset {logical!r}") from None

    def modules(self) -> list[Asset]:
        return [a for a in self.assets.values() if a.logical.startswith("js/") and a.logical.endswith(".js")]

    def import_map(self) -> dict[str, dict[str, str]]:
        """Logical module URL → hashed module URL, for ``<script type="importmap">``."""
        return {"imports": {a.logical_url: a.url for a in self.modules()}}

    def find(self, name: str) -> tuple[Asset, bool] | None:
        """The asset answering ``/assets/<name>`` and whether that URL is immutable."""
        asset = self._by_hashed.get(name)
        if asset is not None:
            return asset, True
        if self.serve_logical:
            asset = self.assets.get(name)
            if asset is not None:
                return asset, False
        return None

    def manifest(self) -> dict[str, object]:
        ordered = sorted(self.assets.values(), key=lambda a: a.logical)
        return {"assets": {a.logical: a.hashed for a in ordered}}
