"""The core, the Demo Bank portal and the commands never pay for the UI."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import kosma_tui

CORE = Path(kosma_tui.__file__).parent / "core"

PROBE = r"""
import importlib, pkgutil, sys
for pkg in ("kosma_tui.core", "kosma_tui.sandbox", "kosma_tui.commands"):
    module = importlib.import_module(pkg)
    for info in pkgutil.walk_packages(module.__path__, pkg + "."):
        importlib.import_module(info.name)
import kosma_tui.cli
import kosma_tui.runtime
kosma_tui.cli.build_parser()
loaded = sorted(n for n in sys.modules if n.split(".")[0] == "textual")
print("TEXTUAL:" + ",".join(loaded))
"""


def test_core_sandbox_and_commands_import_without_textual() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    assert "TEXTUAL:\n" in result.stdout + "\n", result.stdout


def test_sandbox_shares_no_code_with_core() -> None:
    probe = (
        "import importlib, pkgutil, sys\n"
        "import kosma_tui.sandbox as s\n"
        "for i in pkgutil.walk_packages(s.__path__, 'kosma_tui.sandbox.'):\n"
        "    importlib.import_module(i.name)\n"
        "print(sorted(n for n in sys.modules if n.startswith('kosma_tui.core')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


def test_no_sandbox_module_imports_its_own_package() -> None:
    """The package's ``__init__`` only re-exports: a module importing it (even inside a
    function) would close a cycle through ``__init__`` -> cli/server -> api -> consents."""
    import ast
    from pathlib import Path

    import kosma_tui.sandbox as sandbox

    offenders = []
    for path in sorted(Path(sandbox.__file__).parent.glob("*.py")):
        if path.name == "__init__.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (
                node.module == "kosma_tui.sandbox" or (node.level and not node.module)
            ):
                offenders.append(f"{path.name}:{node.lineno}")
            elif isinstance(node, ast.Import) and any(
                alias.name == "kosma_tui.sandbox" for alias in node.names
            ):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []


def _imports(path: Path) -> list[str]:
    """Every module a file imports, at the top or inside a function."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append(node.module)
    return found


def test_core_imports_neither_the_sandbox_nor_the_interfaces() -> None:
    """The core works without the Demo Bank portal, the TUI and the commands: whoever
    runs it (the runtime) starts the portal and hands the core its URL."""
    outside = ("kosma_tui.sandbox", "kosma_tui.tui", "kosma_tui.commands", "kosma_tui.runtime")
    wrong = {f"{path.relative_to(CORE.parent)}: {name}"
             for path in CORE.rglob("*.py") for name in _imports(path)
             if name.startswith(outside)}
    assert not wrong


def test_core_finds_nothing_by_reflection() -> None:
    """What the core calls is imported or handed to it, never looked up by name."""
    users = {str(path.relative_to(CORE.parent)) for path in CORE.rglob("*.py")
             if "import_module" in path.read_text(encoding="utf-8")}
    assert not users


def test_loading_all_of_core_starts_no_sandbox_module() -> None:
    probe = (
        "import importlib, pkgutil, sys\n"
        "import kosma_tui.core as c\n"
        "for i in pkgutil.walk_packages(c.__path__, 'kosma_tui.core.'):\n"
        "    importlib.import_module(i.name)\n"
        "print(sorted(n for n in sys.modules if n.startswith('kosma_tui.sandbox')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
