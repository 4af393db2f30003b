"""The import graph of ``src/gandoctor``: cycles, and packages that must stay torch-free.

    python -m tools.import_graph          # prints the package-level graph; exit 1 on a cycle

Every ``import`` and ``from ... import`` statement counts, wherever it stands: at module
level, inside a function, and under ``if TYPE_CHECKING:`` (a cycle that only type
checking closes is still a cycle for a reader). ``from pkg import name`` is an edge to
``pkg.name`` where that is a module, else to ``pkg``. tests/test_architecture.py runs the
same checks, and also imports the torch-free packages in a fresh interpreter.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent.parent / "src" / "gandoctor"

TORCH_FREE = (
    "gandoctor.report",
    "gandoctor.judge",
    "gandoctor.results",
    "gandoctor.report.merge",
    "gandoctor.enums",
    "gandoctor.config",
    "gandoctor.errors",
    "gandoctor.paths",
    "gandoctor.cli",
)
"""Modules and packages whose whole import closure must not load torch: the JSON model,
the judging rules, the records between them, and the command line's start."""


def module_name(path: Path, root: Path = PACKAGE_ROOT) -> str:
    parts = ["gandoctor", *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(root: Path = PACKAGE_ROOT) -> dict[str, Path]:
    return {module_name(p, root): p for p in sorted(root.rglob("*.py"))}


def _imported(tree: ast.AST, here: str, is_package: bool, known: set[str]) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                package = here.split(".") if is_package else here.split(".")[:-1]
                package = package[: len(package) - node.level + 1]
                base = ".".join([*package, base] if base else package)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                yield submodule if submodule in known else base


def graph(root: Path = PACKAGE_ROOT) -> dict[str, set[str]]:
    """Module -> the gandoctor modules it imports."""
    known = modules(root)
    edges: dict[str, set[str]] = {}
    for name, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found = _imported(tree, name, path.name == "__init__.py", set(known))
        edges[name] = {target for target in found if target in known} - {name}
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def packages_graph(edges: dict[str, set[str]]) -> dict[str, set[str]]:
    """The same graph between top-level parts (``gandoctor.judge``, ``gandoctor.api``).

    The root package ``gandoctor`` only re-exports the public API lazily; its edges are left
    out here (its module-level cycle check above still counts them)."""

    def part(name: str) -> str:
        return ".".join(name.split(".")[:2])

    result: dict[str, set[str]] = {}
    for source, targets in edges.items():
        if source == "gandoctor":
            continue
        result.setdefault(part(source), set()).update(
            part(t) for t in targets if part(t) != part(source)
        )
    return result


def main() -> int:
    edges = graph()
    for source, targets in sorted(packages_graph(edges).items()):
        shown = ", ".join(t.removeprefix("gandoctor.") for t in sorted(targets)) or "-"
        print(f"{source.removeprefix('gandoctor.'):12} -> {shown}")
    found = cycles(edges) + cycles(packages_graph(edges))
    for component in found:
        print("cycle:", " <-> ".join(component))
    print(f"{len(edges)} modules, {len(found)} cycles (between modules or between packages)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
