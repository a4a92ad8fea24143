"""The TUI's import rules, counting imports inside functions (only ``if TYPE_CHECKING``
imports are left out): nothing imports the app but the programs that build it, a screen
imports no other screen, and the TUI's modules form no cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import kosma_tui

PACKAGE = Path(kosma_tui.__file__).parent
# programs that build the app, as the command line does
BUILDS_THE_APP = {"kosma_tui.tui.screenshots"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def type_checking_only(tree: ast.Module) -> set[int]:
    """ids of the import nodes under ``if TYPE_CHECKING:``."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(n) for n in ast.walk(node)}
    return skipped


def runtime_imports(path: Path, known: set[str]) -> set[str]:
    """The modules of ``known`` that ``path`` imports at run time."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = type_checking_only(tree)
    name = module_name(path)
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name.split(".")[:len(name.split(".")) - node.level +
                                         (path.name == "__init__.py")]
                base = ".".join([*package, *([node.module] if node.module else [])])
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}
    return {m for m in found if m in known and m != name}


def tui_graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for p in (PACKAGE / "tui").rglob("*.py")}
    return {name: runtime_imports(path, set(paths)) for name, path in paths.items()}


def test_only_the_programs_that_build_it_import_the_app() -> None:
    graph = tui_graph()
    offenders = sorted(n for n, deps in graph.items()
                       if "kosma_tui.tui.app" in deps and n not in BUILDS_THE_APP)
    assert offenders == []


def test_a_screen_imports_no_other_screen() -> None:
    graph = tui_graph()
    screens = {n for n in graph if n.startswith("kosma_tui.tui.screens.")}
    shared = {"kosma_tui.tui.screens.base"}
    offenders = {n: sorted(deps & (screens - shared)) for n, deps in graph.items()
                 if n in screens and deps & (screens - shared)}
    assert offenders == {}


def test_the_tui_has_no_import_cycle() -> None:
    graph = tui_graph()
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            cycle = [*path[path.index(name):], name]
            raise AssertionError("import cycle: " + " -> ".join(cycle))
        if name in done:
            return
        for dep in sorted(graph.get(name, ())):
            visit(dep, [*path, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])


def test_the_checks_see_imports_inside_functions() -> None:
    """The rule would be empty if function-level imports were missed."""
    graph = tui_graph()
    assert "kosma_tui.tui.app" in graph["kosma_tui.tui.screenshots"]  # imported in functions
    assert "kosma_tui.tui.dialogs.conflict" in graph["kosma_tui.tui.controllers.sync"]
