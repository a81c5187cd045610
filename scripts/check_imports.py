#!/usr/bin/env python3
"""Fail on import cycles between the modules of the given packages, and on forbidden imports.

    scripts/check_imports.py [--forbid IMPORTER:IMPORTED]... PACKAGE_DIR...

Each PACKAGE_DIR is the folder of a top-level package (``bff``, ``dev/bff_dev``); its modules are
named from the folder's name down. The graph is read from the source with :mod:`ast`, never by
importing it, and takes EVERY import statement into account: module level, inside functions
(the lazy imports that hide a cycle until the function runs) and under ``if TYPE_CHECKING:`` (a
cycle of types is still a cycle for a reader). ``from pkg import name`` is an edge to the module
``pkg.name`` when that is a module, else to ``pkg``; relative imports are resolved first.
Importing a module does not count as importing its parent packages (as in import-linter).

``--forbid bff:bff_dev`` fails when any module under ``bff`` imports ``bff_dev`` or anything
under it (whether or not that package is scanned): the layering rule, checked statically.

Exit status 0 when clean; 1 with every cycle (one per strongly connected component, as a path
``a -> b -> a``) and every forbidden import printed, one per line. Standard library only: it runs
before anything is installed (``scripts/test`` runs it first).
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str  # the dotted name as written (resolved when relative), maybe outside the graph
    line: int


def module_files(package_dir: Path) -> dict[str, Path]:
    """Module name -> source file, for every ``.py`` under ``package_dir`` (a package)."""
    root = package_dir.resolve()
    if not (root / "__init__.py").is_file():
        raise SystemExit(f"check_imports: {package_dir} is not a package (no __init__.py)")
    out: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imports_of(module: str, path: Path) -> Iterator[Import]:
    is_package = path.name == "__init__.py"
    package = module if is_package else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                if node.level - 1 > len(base_parts) - 1:
                    raise SystemExit(f"check_imports: {path}:{node.lineno}: relative import beyond the top")
                base = ".".join(base_parts[: len(base_parts) - (node.level - 1)])
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            for alias in node.names:
                yield Import(module, f"{source}.{alias.name}" if alias.name != "*" else source, node.lineno)


def _target(name: str, modules: set[str]) -> str | None:
    """The scanned module ``name`` refers to: itself, else its longest scanned prefix."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def collect(package_dirs: Iterable[Path]) -> tuple[dict[str, set[str]], list[Import]]:
    """The module graph (importer -> imported modules, scanned ones only) and every import."""
    files: dict[str, Path] = {}
    for package_dir in package_dirs:
        files.update(module_files(package_dir))
    modules = set(files)
    graph: dict[str, set[str]] = {m: set() for m in modules}
    imports: list[Import] = []
    for module, path in files.items():
        for imp in _imports_of(module, path):
            imports.append(imp)
            target = _target(imp.imported, modules)
            # ``from pkg import name`` inside pkg/__init__.py names an attribute: not an edge.
            if target is not None and target != module:
                graph[module].add(target)
    return graph, imports


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (deep graphs do not hit the recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return sorted(out)


def cycle_in(component: Sequence[str], graph: dict[str, set[str]]) -> list[str]:
    """A shortest cycle through the component's first module: ``[a, b, ..., a]``."""
    members = set(component)
    start = component[0]
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for child in sorted(graph[node] & members):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"{start} is in a strongly connected component but on no cycle")


def _under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def forbidden(imports: Iterable[Import], rules: Iterable[tuple[str, str]]) -> list[Import]:
    return [imp for imp in imports for importer, imported in rules
            if _under(imp.importer, importer) and _under(imp.imported, imported)]


def check(package_dirs: Sequence[Path], rules: Sequence[tuple[str, str]] = ()) -> list[str]:
    """The problems found, one line each (empty when clean)."""
    graph, imports = collect(package_dirs)
    lines = [f"import cycle: {' -> '.join(cycle_in(c, graph))}"
             + (f" (one of the cycles among {len(c)} modules: {', '.join(c)})" if len(c) > 2 else "")
             for c in strongly_connected(graph)]
    for imp in forbidden(imports, rules):
        lines.append(f"forbidden import: {imp.importer} (line {imp.line}) imports {imp.imported}")
    return lines


def _rule(text: str) -> tuple[str, str]:
    importer, sep, imported = text.partition(":")
    if not sep or not importer or not imported:
        raise argparse.ArgumentTypeError(f"expected IMPORTER:IMPORTED, got {text!r}")
    return importer, imported


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("packages", nargs="+", type=Path, help="folders of top-level packages")
    parser.add_argument("--forbid", action="append", type=_rule, default=[], metavar="IMPORTER:IMPORTED")
    args = parser.parse_args(argv)
    problems = check(args.packages, args.forbid)
    for line in problems:
        print(line)
    graph, _ = collect(args.packages)
    edges = sum(len(v) for v in graph.values())
    status = f"{len(problems)} problem(s)" if problems else "no cycle, no forbidden import"
    print(f"check_imports: {len(graph)} modules, {edges} edges: {status}",
          file=sys.stderr if problems else sys.stdout)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
