"""What loading a part of the package really loads, in a fresh interpreter.

tests/test_import_rules.py checks the import graph read from the source; these
probes check the running result: the core, the Demo Bank portal and the commands
never pay for the UI, and the core and the portal load nothing of each other.
"""

from __future__ import annotations

import subprocess
import sys

PROBE = r"""
import importlib, pkgutil, sys
for pkg in {packages!r}:
    module = importlib.import_module(pkg)
    for info in pkgutil.walk_packages(module.__path__, pkg + "."):
        importlib.import_module(info.name)
{then}
print(sorted(n for n in sys.modules if n.split(".")[:{depth}] == {prefix!r}))
"""


def loaded(packages: tuple[str, ...], prefix: str, then: str = "") -> list[str]:
    """The modules under ``prefix`` loaded by importing every module of ``packages``."""
    code = PROBE.format(
        packages=packages, then=then, depth=prefix.count(".") + 1, prefix=prefix.split(".")
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return eval(result.stdout)  # noqa: S307 - a list literal printed by our own probe


def test_core_sandbox_and_commands_import_without_textual() -> None:
    then = "import kosma_tui.cli, kosma_tui.runtime\nkosma_tui.cli.build_parser()"
    packages = ("kosma_tui.core", "kosma_tui.sandbox", "kosma_tui.commands")
    assert loaded(packages, "textual", then) == []


def test_sandbox_shares_no_code_with_core() -> None:
    assert loaded(("kosma_tui.sandbox",), "kosma_tui.core") == []


def test_loading_all_of_core_starts_no_sandbox_module() -> None:
    assert loaded(("kosma_tui.core",), "kosma_tui.sandbox") == []
