"""A production install (``pip install .`` at the root: the Dockerfile, the Makefile's Lambda
artifact) is the product alone: it imports nothing from the dev package nor from libraries only
dev and tests install, and it installs what it imports.

The dev stack (``dev/``, the ``bff-dev`` distribution) and the test extra are checked here too:
they carry what the Lambda functions they run in-process need, at infra/functions' ranges.
"""

from __future__ import annotations

import ast
import importlib.metadata
import subprocess
import sys
import textwrap
import tomllib
from collections.abc import Iterable
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
ROOT = tomllib.loads((REPO / "pyproject.toml").read_text())
DEV = tomllib.loads((REPO / "dev" / "pyproject.toml").read_text())
#: Top-level modules a production install does not have: the dev package and what only the dev
#: package or the test extra installs.
DEV_ONLY = ("bff_dev", "moto", "aws_lambda_powertools", "pytest", "playwright")
#: Runtime dependencies the product's code never names: each one's reason.
USED_INDIRECTLY = {
    "python-multipart": "Starlette's form parser (request.form() in the sign-up and hook endpoints)",
}

# Imports every module under bff/ (as uvicorn, the Lambda handler or a CLI command would) with
# the DEV_ONLY packages made unimportable, whether or not they are installed in this environment.
PROBE = textwrap.dedent("""
    import importlib, importlib.abc, pkgutil, sys

    BLOCKED = set(sys.argv[2].split(","))

    class Blocked(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"{name} is not part of a production install", name=name)
            return None

    sys.meta_path.insert(0, Blocked())
    package = importlib.import_module(sys.argv[1])
    names = [sys.argv[1]] + [m.name for m in pkgutil.walk_packages(package.__path__, sys.argv[1] + ".")]
    for name in names:
        importlib.import_module(name)
    print(len(names), "modules imported")
""")


def _probe(package: str, cwd: Path, pythonpath: Iterable[Path]) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONPATH": ":".join(str(p) for p in pythonpath)}
    return subprocess.run([sys.executable, "-c", PROBE, package, ",".join(DEV_ONLY)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_every_product_module_imports_without_the_dev_stack(tmp_path: Path) -> None:
    result = _probe("bff", tmp_path, [REPO])
    assert result.returncode == 0, result.stderr
    count = int(result.stdout.split()[0])
    assert count == len(list((REPO / "bff").rglob("*.py")))  # every module, packages included


def test_the_probe_fails_on_dev_code(tmp_path: Path) -> None:
    """The control: the same probe over the dev package fails on its first blocked import."""
    result = _probe("bff_dev", tmp_path, [REPO, REPO / "dev"])
    assert result.returncode == 1
    assert "ModuleNotFoundError: bff_dev is not part of a production install" in result.stderr


def _third_party_imports(package: Path) -> set[str]:
    """Top-level names imported at run time (``if TYPE_CHECKING:`` blocks left out)."""

    class Visitor(ast.NodeVisitor):
        def __init__(self) -> None:
            self.names: set[str] = set()

        def visit_If(self, node: ast.If) -> None:
            test = node.test
            if (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
                    isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"):
                for child in node.orelse:
                    self.visit(child)
                return
            self.generic_visit(node)

        def visit_Import(self, node: ast.Import) -> None:
            self.names.update(alias.name.split(".")[0] for alias in node.names)

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            if node.level == 0 and node.module:
                self.names.add(node.module.split(".")[0])

    visitor = Visitor()
    for path in package.rglob("*.py"):
        visitor.visit(ast.parse(path.read_text(), str(path)))
    return visitor.names - set(sys.stdlib_module_names) - {"__future__", package.name}


def _distributions(modules: set[str]) -> set[str]:
    owners = importlib.metadata.packages_distributions()
    missing = sorted(m for m in modules if m not in owners)
    assert not missing, f"imported but not installed here: {missing}"
    return {canonicalize_name(d) for m in modules for d in owners[m]}


def _closure(requirements: Iterable[Requirement]) -> set[str]:
    """The distributions these requirements install, their own requirements included."""
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = list(requirements)
    while todo:
        req = todo.pop()
        key = (canonicalize_name(req.name), frozenset(req.extras))
        if key in seen:
            continue
        seen.add(key)
        try:
            requires = importlib.metadata.requires(req.name) or []
        except importlib.metadata.PackageNotFoundError:
            continue  # not installed here (a marker for another platform): nothing to follow
        for text in requires:
            sub = Requirement(text)
            if sub.marker is None or any(sub.marker.evaluate({"extra": e}) for e in req.extras or {""}):
                todo.append(sub)
    return {name for name, _ in seen}


def _runtime() -> list[Requirement]:
    return [Requirement(text) for text in ROOT["project"]["dependencies"]]


def test_the_runtime_dependencies_cover_what_the_product_imports() -> None:
    imported = _distributions(_third_party_imports(REPO / "bff"))
    uncovered = imported - _closure(_runtime())
    assert not uncovered, f"bff imports these, which `pip install .` would not install: {sorted(uncovered)}"


def test_every_runtime_dependency_is_used_by_the_product() -> None:
    imported = _distributions(_third_party_imports(REPO / "bff"))
    declared = {canonicalize_name(r.name) for r in _runtime()}
    assert declared - imported == set(USED_INDIRECTLY)


@pytest.mark.parametrize("name", ["moto", "aws-lambda-powertools", "pydantic", "pytest", "playwright"])
def test_dev_and_test_libraries_are_not_runtime_dependencies(name: str) -> None:
    assert name not in {canonicalize_name(r.name) for r in _runtime()}


def test_the_root_packages_only_the_product() -> None:
    assert ROOT["tool"]["setuptools"]["packages"]["find"]["include"] == ["bff", "bff.*"]
    assert not (REPO / "bff" / "twins").exists() and not (REPO / "bff" / "devstack.py").exists()
    assert DEV["tool"]["setuptools"]["packages"]["find"]["include"] == ["bff_dev", "bff_dev.*"]


def _functions_requirements() -> dict[str, Requirement]:
    out: dict[str, Requirement] = {}
    for line in (REPO / "infra" / "functions" / "requirements.txt").read_text().splitlines():
        text = line.split("#", 1)[0].strip()
        if text:
            req = Requirement(text)
            out[canonicalize_name(req.name)] = req
    return out


@pytest.mark.parametrize("where", ["dev package", "test extra"])
def test_what_runs_the_functions_installs_their_requirements(where: str) -> None:
    """The workers and API Gateway twins (dev) and the function tests (test extra) run
    infra/functions in-process: Powertools and pydantic at the ranges the artifact is built from."""
    texts = DEV["project"]["dependencies"] if where == "dev package" else ROOT["project"][
        "optional-dependencies"]["test"]
    listed = {canonicalize_name(r.name): r for r in map(Requirement, texts)}
    for name in ("aws-lambda-powertools", "pydantic"):
        want = _functions_requirements()[name]
        assert name in listed, f"the {where} does not install {name}"
        assert (listed[name].specifier, listed[name].extras) == (want.specifier, want.extras), name


def test_the_dev_package_never_names_the_product_as_a_requirement() -> None:
    """`bff` on PyPI is an unrelated project: bff-dev is installed beside the checkout's root
    (scripts/bootstrap.sh), so no resolver may look the name up."""
    assert "bff" not in {canonicalize_name(Requirement(t).name) for t in DEV["project"]["dependencies"]}
    assert "moto" in {canonicalize_name(Requirement(t).name) for t in DEV["project"]["dependencies"]}
