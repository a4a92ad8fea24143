"""The core, the Demo Bank portal and the commands never pay for the UI."""

from __future__ import annotations

import subprocess
import sys

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
