"""The copy shipped with the BFF (``content/``): journeys, bundled strings per locale, drafts.

``content/copy/{locale}/{journey}.json`` holds a flat ``{key: string}`` map per journey and
locale (``en`` complete; ``fr-CA`` only overrides). It seeds the local AEM twin and is the
last-resort fallback when AEM is unreachable and nothing is cached. ``content/drafts/`` is the
overlay the twin's author tier serves (unpublished copy, for preview).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from bff.http.negotiation import language_tag
from bff.settings import REPO_ROOT

JOURNEYS: tuple[str, ...] = ("signin", "signup", "profile", "admin", "common", "email")
CONTENT_DIR = REPO_ROOT / "content"

#: ``{name}`` parameters inside a copy string.
PLACEHOLDER = re.compile(r"\{([A-Za-z][A-Za-z0-9_]*)\}")

Strings = Mapping[str, str]


def placeholders(text: str) -> frozenset[str]:
    return frozenset(PLACEHOLDER.findall(text))


class BundleError(Exception):
    """The bundled copy is unreadable (a deployment error: fail at start-up)."""


def _load_tree(root: Path, variations: set[str] | None = None) -> dict[str, dict[str, Strings]]:
    """``{locale: {journey: strings}}``; ``{journey}@{variation}.json`` files only add the
    variation's name to ``variations`` (their strings are AEM's to serve)."""
    tree: dict[str, dict[str, Strings]] = {}
    if not root.is_dir():
        return tree
    for locale_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        locale = language_tag(locale_dir.name)
        if locale is None:
            raise BundleError(f"{locale_dir}: folder name is not a language tag")
        for file in sorted(locale_dir.glob("*.json")):
            journey, at, variation = file.stem.partition("@")
            if at:
                from bff.content.variations import is_variation

                if journey not in JOURNEYS or not is_variation(variation):
                    raise BundleError(f"{file}: expected {{journey}}@{{variation}}.json")
                if variations is not None:
                    variations.add(variation)
                continue
            if journey not in JOURNEYS:
                raise BundleError(f"{file}: unknown journey {journey!r}")
            try:
                data = json.loads(file.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise BundleError(f"{file}: {exc}") from exc
            if not isinstance(data, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in data.items()
            ):
                raise BundleError(f"{file}: must be a flat JSON object of strings")
            tree.setdefault(locale, {})[journey] = MappingProxyType(dict(data))
    return tree


@dataclass(frozen=True)
class CopyBundle:
    copy: Mapping[str, Mapping[str, Strings]]  # locale -> journey -> strings
    drafts: Mapping[str, Mapping[str, Strings]] = field(default_factory=dict)
    variations: frozenset[str] = frozenset()  # named by {journey}@{variation}.json files

    @classmethod
    def load(cls, root: Path = CONTENT_DIR) -> CopyBundle:
        names: set[str] = set()
        copy = _load_tree(root / "copy", names)
        return cls(copy=copy, drafts=_load_tree(root / "drafts"), variations=frozenset(names))

    @property
    def locales(self) -> tuple[str, ...]:
        return tuple(self.copy)

    def strings(self, locale: str, journey: str) -> Strings | None:
        return self.copy.get(locale, {}).get(journey)

    def draft(self, locale: str, journey: str) -> Strings | None:
        return self.drafts.get(locale, {}).get(journey)
