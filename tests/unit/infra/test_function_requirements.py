"""infra/functions/requirements.txt lists exactly the third-party distributions the functions'
code imports (infra/functions/ and the shared Okta client bff/okta/, which the artifact ships
beside them): nothing missing (a function would fail to import on Lambda), nothing unused (a
bigger, slower artifact), and not boto3/botocore, which the Lambda runtime provides."""

from __future__ import annotations

import ast
import importlib.metadata
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[3]
FUNCTIONS = REPO / "infra" / "functions"
REQUIREMENTS = FUNCTIONS / "requirements.txt"
#: Shipped in the functions' artifact besides infra/functions/ (Makefile: functions-source);
#: tests/integration/ops/test_packaging.py checks the artifact holds exactly these.
SHARED = (REPO / "bff" / "okta",)
#: Provided by the Lambda Python runtime: imported, never bundled.
RUNTIME_PROVIDED = {"boto3", "botocore"}


def _requirements() -> dict[str, Requirement]:
    out: dict[str, Requirement] = {}
    for line in REQUIREMENTS.read_text().splitlines():
        text = line.split("#", 1)[0].strip()
        if text:
            req = Requirement(text)
            out[canonicalize_name(req.name)] = req
    return out


def _sources() -> list[Path]:
    return [*FUNCTIONS.rglob("*.py"), *(path for shared in SHARED for path in shared.rglob("*.py"))]


def _all_imports() -> set[str]:
    """Absolute imports (dotted names) of the code the artifact ships."""
    names: set[str] = set()
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module)
    return names


def _imports() -> set[str]:
    """The third-party imports: shipped packages and the standard library excluded."""
    local = {p.parent.name for p in FUNCTIONS.glob("*/__init__.py")} | {"bff"}
    skip = local | set(sys.stdlib_module_names) | {"__future__"}
    return {n for n in _all_imports() if n.split(".")[0] not in skip}


def _distributions(modules: set[str]) -> set[str]:
    owners = importlib.metadata.packages_distributions()
    out: set[str] = set()
    for module in modules:
        top = module.split(".")[0]
        assert top in owners, f"{module}: not installed here, so its distribution is unknown"
        out.update(canonicalize_name(d) for d in owners[top])
    return out


def test_requirements_are_exactly_the_third_party_imports() -> None:
    imported = _distributions(_imports())
    listed = set(_requirements())
    assert RUNTIME_PROVIDED <= imported  # the functions do use them ...
    assert not listed & RUNTIME_PROVIDED  # ... from the runtime
    assert listed == imported - RUNTIME_PROVIDED


def test_the_only_bff_code_the_functions_import_is_the_shipped_okta_client() -> None:
    shipped = {".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
               for shared in SHARED for path in shared.rglob("*.py")}
    from_bff = {name for name in _all_imports() if name.split(".")[0] == "bff"}
    assert "bff.okta" in from_bff and from_bff <= shipped, from_bff - shipped


def test_powertools_extras_cover_the_utilities_used() -> None:
    used = {m for m in _imports() if m.startswith("aws_lambda_powertools.utilities.parser")}
    assert used, "the functions use the Powertools parser (fnlib.account_events)"
    assert "parser" in _requirements()["aws-lambda-powertools"].extras


def test_the_installed_versions_satisfy_the_requirements() -> None:
    """The versions the tests run with are inside the ranges the artifact is built from."""
    for name, req in _requirements().items():
        version = importlib.metadata.version(name)
        inside = req.specifier.contains(version, prereleases=True)
        assert inside, f"{name} {version} is outside {req.specifier}"
