"""The package's layers, checked on its import graph (tests/import_graph.py).

    cli ──> commands ──┐
     │                 ├──> runtime ──> core
     └───> tui ────────┘       └──────> sandbox

- no import cycle anywhere, counting imports inside functions;
- ``core`` imports neither the Demo Bank portal, nor the runtime, nor an
  interface, and finds nothing by name (no ``import_module``);
- the TUI and the commands do not import each other;
- the Demo Bank portal imports nothing else of the package, and nothing in it
  imports its own ``__init__`` (which only re-exports);
- in the TUI, only the programs that build the app import it, and a screen
  imports no other screen: screens ask the app through messages.
"""

from __future__ import annotations

from import_graph import GRAPH, MODULES, cycles, imports_into, within

INTERFACES = ("kosma_tui.cli", "kosma_tui.commands", "kosma_tui.tui")
# programs that build the app, as the command line does
BUILD_THE_APP = {"kosma_tui.cli", "kosma_tui.tui.screenshots"}


def test_the_graph_sees_imports_inside_functions() -> None:
    """The rules would pass vacuously if function-level imports were missed."""
    assert "kosma_tui.tui.app" in GRAPH["kosma_tui.cli"]  # imported inside _run_tui
    assert "kosma_tui.sandbox" in GRAPH["kosma_tui.runtime"]  # started on first need


def test_no_import_cycle() -> None:
    assert cycles() == []


def test_core_imports_no_sandbox_runtime_or_interface() -> None:
    assert (
        imports_into("kosma_tui.core", ("kosma_tui.sandbox", "kosma_tui.runtime", *INTERFACES))
        == []
    )


def test_core_finds_nothing_by_name() -> None:
    users = [
        name
        for name, path in MODULES.items()
        if within(name, "kosma_tui.core") and "import_module" in path.read_text("utf-8")
    ]
    assert users == []


def test_the_runtime_imports_no_interface() -> None:
    assert imports_into("kosma_tui.runtime", INTERFACES) == []


def test_tui_and_commands_do_not_import_each_other() -> None:
    assert imports_into("kosma_tui.tui", ("kosma_tui.commands", "kosma_tui.cli")) == []
    assert imports_into("kosma_tui.commands", ("kosma_tui.tui", "kosma_tui.cli")) == []


def test_the_sandbox_stands_alone() -> None:
    assert (
        imports_into("kosma_tui.sandbox", ("kosma_tui.core", "kosma_tui.runtime", *INTERFACES))
        == []
    )
    own_init = [
        name
        for name, imported in GRAPH.items()
        if within(name, "kosma_tui.sandbox")
        and name != "kosma_tui.sandbox"
        and "kosma_tui.sandbox" in imported
    ]
    assert own_init == []


def test_only_the_programs_that_build_the_app_import_it() -> None:
    importers = sorted(n for n, imported in GRAPH.items() if "kosma_tui.tui.app" in imported)
    assert set(importers) <= BUILD_THE_APP, importers


def test_a_screen_imports_no_other_screen() -> None:
    screens = {n for n in MODULES if within(n, "kosma_tui.tui.screens")}
    shared = {"kosma_tui.tui.screens", "kosma_tui.tui.screens.base"}
    offenders = {
        n: sorted(GRAPH[n] & (screens - shared))
        for n in screens - shared
        if GRAPH[n] & (screens - shared)
    }
    assert offenders == {}
