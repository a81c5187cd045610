"""scripts/check_imports.py: the module graph from source (every import statement, relative ones
resolved), cycles reported as paths, forbidden imports reported, exit status."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "scripts" / "check_imports.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_imports", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["check_imports"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


ci = _load()


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60)


def test_a_cycle_through_a_function_level_import_fails_with_its_path(tmp_path: Path) -> None:
    write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "from pkg.b import thing\n",
        "pkg/b.py": "thing = 1\n\ndef later():\n    from pkg import a\n    return a\n",
        "pkg/c.py": "import pkg.a\n",  # depends on the cycle, is not in it
    })
    result = run(str(tmp_path / "pkg"))
    assert result.returncode == 1
    assert result.stdout.splitlines() == ["import cycle: pkg.a -> pkg.b -> pkg.a"]


def test_type_checking_and_relative_imports_count(tmp_path: Path) -> None:
    write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/sub/__init__.py": "",
        "pkg/sub/x.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..y import Y\n",
        "pkg/y.py": "from .sub import x\n",
        "pkg/z.py": "from . import y\n",
    })
    assert ci.check([tmp_path / "pkg"]) == ["import cycle: pkg.sub.x -> pkg.y -> pkg.sub.x"]


def test_a_long_cycle_is_named_with_every_member(tmp_path: Path) -> None:
    write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "import pkg.b\n",
        "pkg/b.py": "import pkg.c\n",
        "pkg/c.py": "import pkg.a\nimport pkg.b\n",
    })
    [line] = ci.check([tmp_path / "pkg"])
    assert line.startswith("import cycle: pkg.a -> pkg.b -> pkg.c -> pkg.a")
    assert line.endswith("(one of the cycles among 3 modules: pkg.a, pkg.b, pkg.c)")


def test_forbidden_imports_are_reported_even_lazy_ones_of_unscanned_packages(tmp_path: Path) -> None:
    write(tmp_path, {
        "app/__init__.py": "",
        "app/cli.py": "def dev():\n    import app_dev.stack\n",
        "app/ok.py": "import app_devtools\n",  # a prefix of the name is not the package
        "app_dev/__init__.py": "",
        "app_dev/stack.py": "import app.ok\n",  # the dev package may import the product
    })
    problems = ci.check([tmp_path / "app", tmp_path / "app_dev"], [("app", "app_dev")])
    assert problems == ["forbidden import: app.cli (line 2) imports app_dev.stack"]
    result = run(str(tmp_path / "app"), "--forbid", "app:app_dev")
    assert result.returncode == 1 and "forbidden import: app.cli" in result.stdout


def test_a_clean_tree_passes_and_package_attributes_are_not_edges(tmp_path: Path) -> None:
    write(tmp_path, {
        "pkg/__init__.py": "from pkg.a import A\n\n__all__ = ['A']\n",
        "pkg/a.py": "A = 1\n",
        "pkg/b.py": "from pkg import A, a\n",  # the package and the module a, no cycle
    })
    graph, _ = ci.collect([tmp_path / "pkg"])
    assert graph == {"pkg": {"pkg.a"}, "pkg.a": set(), "pkg.b": {"pkg", "pkg.a"}}
    result = run(str(tmp_path / "pkg"))
    assert result.returncode == 0 and "3 modules, 3 edges: no cycle" in result.stdout


def test_a_folder_that_is_not_a_package_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="not a package"):
        ci.check([tmp_path])


def test_this_repository_is_clean() -> None:
    """What scripts/test runs before pytest, here too so a plain pytest run catches a cycle."""
    packages = [REPO / "bff", REPO / "dev" / "bff_dev",
                *sorted(p.parent for p in (REPO / "infra" / "functions").glob("*/__init__.py"))]
    rules = [("bff", "bff_dev"), ("bff", "moto"), ("bff", "aws_lambda_powertools")]
    assert ci.check(packages, rules) == []
