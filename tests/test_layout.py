"""The package's shape, read from its source with `ast` (nothing is imported, so this takes well under a second).

A newcomer should find one direction in the code: no import cycles, no module reaching into
another's private names, answering fed by search rather than calling back into it, modules
short enough to read, and a top level small enough to take in at one look (issue 22).
"""

from __future__ import annotations

import ast
from pathlib import Path

from helpers import ROOT

PACKAGE = ROOT / "assistant"
MAX_LINES = 400
MAX_TOP_LEVEL = 12


def _modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package (a package is its __init__)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _type_checking_only(tree: ast.Module) -> set[int]:
    """ids of import nodes under `if TYPE_CHECKING:`: never run, so never part of a cycle."""
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(inner) for stmt in node.body for inner in ast.walk(stmt)}
    return skipped


def _imports(name: str) -> list[tuple[str, str | None]]:
    """(module imported, name taken from it or None) for every import in a module, at any depth
    (an import inside a function runs too), resolved to the package's own modules."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    skipped = _type_checking_only(tree)
    package = name if _is_package(name) else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names if alias.name in MODULES]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for alias in node.names:
                if f"{base}.{alias.name}" in MODULES:  # `from . import search`: the submodule itself
                    found.append((f"{base}.{alias.name}", None))
                elif base in MODULES:
                    found.append((base, alias.name))
    return found


def _graph() -> dict[str, set[str]]:
    return {name: {target for target, _ in _imports(name) if target != name} for name in MODULES}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
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

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles():
    assert _cycles(_graph()) == []


def test_no_private_name_is_imported_from_another_module():
    borrowed = [f"{name} imports {source}.{taken}" for name in MODULES for source, taken in _imports(name)
                if taken and taken.startswith("_") and not taken.startswith("__") and source != name]
    assert borrowed == []


def test_answering_imports_nothing_from_search():
    assert "assistant.retrieve.search" not in {target for target, _ in _imports("assistant.retrieve.answer")}


def test_no_module_is_over_the_length_limit():
    long = {path.relative_to(ROOT).as_posix() for path in MODULES.values()
            if len(path.read_text(encoding="utf-8").splitlines()) > MAX_LINES}
    assert not long, sorted(long)


def test_the_top_of_the_package_fits_in_one_look():
    top = [p.name for p in PACKAGE.iterdir()
           if (p.suffix == ".py" and p.name != "__init__.py") or (p.is_dir() and (p / "__init__.py").is_file())]
    assert len(top) <= MAX_TOP_LEVEL, sorted(top)


def test_the_checks_see_the_imports_they_check():
    """The resolver itself: a relative, a nested-package and a function-level import are all found."""
    api = {target for target, _ in _imports("assistant.api")}
    assert {"assistant.errors", "assistant.retrieve.answer", "assistant.ingest.reader"} <= api
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
