"""The shape of the house (docs/design.md): which way imports point, no import circle, short functions.

Every module of the package is read with :mod:`ast`, so imports made inside functions count as much
as those at the top of a module.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "nnkit"

#: What each folder (or top-level module) may import from the rest of the package. cli may import
#: everything and nothing imports cli; nn, the network's maths, imports only the errors.
ALLOWED = {
    "errors": set(),
    "nnkit": set(),  # nnkit/__init__.py: the version
    "nn": {"errors"},
    "term": {"errors"},
    "course": {"errors", "nn"},
    "files": {"errors", "nnkit", "nn", "course", "term"},
    "data": {"errors", "nn", "term", "files"},
    "plots": {"errors", "nn", "course", "term"},
    "cli": {"errors", "nnkit", "nn", "course", "term", "files", "data", "plots"},
    "__main__": {"cli"},
}

#: The longest function body (lines of code, without signature, docstring and comments).
MAX_LINES = 60
#: Functions allowed to be longer: none (a Typer command's signature does not count).
LONG_FUNCTIONS_ALLOWED: set[str] = set()

def module_names() -> dict[str, Path]:
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def imports_of(name: str, path: Path, known) -> set[str]:
    """The package's modules that ``name`` imports anywhere in its file (``from a import b`` counts
    ``a.b`` when that is a module, else ``a``)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            submodules = {f"{base}.{alias.name}" for alias in node.names} & set(known)
            found.update(submodules or {base})
    return {target for target in found if target in known and target != name}


def import_graph() -> dict[str, set[str]]:
    names = module_names()
    return {name: imports_of(name, path, names) for name, path in names.items()}


def folder(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "nnkit"


def circles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected groups of more than one module (Tarjan), i.e. the import circles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_imports_inside_functions_and_relative_ones(tmp_path):
    (tmp_path / "a.py").write_text("def f():\n    from pkg.b import g\n    from . import c\n")
    known = {"pkg.a", "pkg.b", "pkg.c"}
    assert imports_of("pkg.a", tmp_path / "a.py", known) == {"pkg.b", "pkg.c"}


def test_the_circle_finder_finds_a_circle_through_three_modules():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [{"a", "b", "c"}]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle_anywhere_in_the_package():
    assert [sorted(group) for group in circles(import_graph())] == []


def test_every_import_points_the_way_the_design_says():
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in import_graph().items()
        for target in targets
        if folder(target) != folder(module) and folder(target) not in ALLOWED[folder(module)]
    )
    assert wrong == []


def code_lines(function: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str]) -> int:
    """Lines of code in a function's body: without its signature, docstring, blank and comment lines."""
    body = function.body
    if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and len(body) > 1:
        body = body[1:]
    elif isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        return 0
    text = lines[body[0].lineno - 1 : function.end_lineno]
    return sum(1 for line in text if line.strip() and not line.strip().startswith("#"))


def long_functions(limit: int) -> list[str]:
    found = []
    for name, path in module_names().items():
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and code_lines(node, lines) > limit \
                    and f"{name}.{node.name}" not in LONG_FUNCTIONS_ALLOWED:
                found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {node.name} "
                             f"({code_lines(node, lines)} lines)")
    return found


def test_the_line_count_skips_the_signature_docstring_and_comments():
    source = 'def f(\n    a,\n    b,\n):\n    """Doc.\n\n    More.\n    """\n    # why\n    x = a\n\n    return x\n'
    (function,) = ast.parse(source).body
    assert code_lines(function, source.splitlines()) == 2


def test_no_function_body_is_longer_than_the_limit():
    assert long_functions(MAX_LINES) == []
