"""The modules of sqlflow.compile import each other without a circle.

Every import of a sqlflow.compile module counts: at module level, inside functions, and under
`if TYPE_CHECKING:` too (a circle there still means two modules that cannot be read apart).
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import sqlflow.compile

PACKAGE = "sqlflow.compile"
ROOT = Path(sqlflow.compile.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((PACKAGE, *parts))


def imported(tree: ast.Module, name: str, is_package: bool, known: set[str]) -> set[str]:
    """The sqlflow.compile modules the module `name` imports, anywhere in its body."""
    package = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # `from pkg import module`
    out = set()
    for target in found:
        while target and target not in known:  # `import a.b.c` names a, a.b and a.b.c
            target = target.rpartition(".")[0]
        if target and target != name:
            out.add(target)
    return out


def import_graph() -> dict[str, set[str]]:
    paths = sorted(ROOT.rglob("*.py"))
    known = {module_name(p) for p in paths}
    graph: dict[str, set[str]] = {}
    for path in paths:
        name = module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        graph[name] = imported(tree, name, path.name == "__init__.py", known)
    return graph


def test_the_graph_sees_the_compile_modules() -> None:
    graph = import_graph()
    assert "sqlflow.compile.context" in graph["sqlflow.compile.nodes.models"]
    assert "sqlflow.compile.sql.querying" in graph["sqlflow.compile.context"]  # inside a function


def test_no_import_circle_inside_compile() -> None:
    graph = import_graph()
    # a package imports its own modules only through its __init__; a module importing its package's
    # __init__ is the package being imported first, not a dependency on its modules
    edges = {name: {t for t in targets if not name.startswith(t + ".")} for name, targets in graph.items()}
    try:
        list(graphlib.TopologicalSorter(edges).static_order())
    except graphlib.CycleError as exc:
        cycle = exc.args[1]
        raise AssertionError("import circle: " + " -> ".join(reversed(cycle))) from None
