"""Every string the screens show comes from the copy: each literal 'journey:key' the SPA's
modules use must exist in the bundled en copy (content/copy/en/<journey>.json), the contract
the content service serves from AEM."""

from __future__ import annotations

import json
import re

from bff.settings import REPO_ROOT

JS = REPO_ROOT / "spa-shell" / "assets" / "js"
COPY = REPO_ROOT / "content" / "copy" / "en"
REF = re.compile(r"""['"`](common|signin|signup|profile|admin|email):([A-Za-z0-9_.\-]+)['"`]""")


def _used() -> set[tuple[str, str, str]]:
    found = set()
    for path in JS.rglob("*.js"):
        for journey, key in REF.findall(path.read_text("utf-8")):
            found.add((journey, key, path.relative_to(JS).as_posix()))
    return found


def test_every_static_copy_reference_exists_in_the_contract() -> None:
    used = _used()
    assert len(used) > 80, "the reference pattern no longer matches the screens' code"
    strings = {j: json.loads((COPY / f"{j}.json").read_text("utf-8")) for j in {u[0] for u in used}}
    missing = sorted(f"{journey}:{key} ({where})" for journey, key, where in used
                     if key not in strings[journey])
    assert not missing, "keys the SPA uses but the copy does not have:\n" + "\n".join(missing)
