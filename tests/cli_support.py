"""Run ``kosma-tui`` commands in this process, as the command line would run them.

``kosma(home, *args)`` calls ``kosma_tui.cli.main(args)`` with ``KOSMA_TUI_HOME``
set to ``home``, standard input a pipe holding ``stdin`` (not a terminal, as
under cron), and standard output and error captured the way a pipe would
(UTF-8, newlines translated like ``subprocess.run(..., text=True)``). The result is
a ``subprocess.CompletedProcess`` so a test reads the same as one that started
``python -m kosma_tui``; it costs milliseconds instead of an interpreter start.

A few tests still start a real process where the process itself is the point:
a real terminal on stdin, signals and kills, no terminal at all, and the
``python -m kosma_tui`` entry point.
"""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from kosma_tui.cli import main

# ``kosma-tui link`` options that pick the Demo Bank's login of the browser integration
DEMO_BANK_LINK = (
    "--company",
    "Demo Company",
    "--country",
    "DE",
    "--bank",
    "Demo Bank",
    "--method",
    "Demo Bank PSD2",
)

HOME_ENV = "KOSMA_TUI_HOME"
NOW_ENV = "KOSMA_TUI_NOW"


def _pipe(errors: str) -> io.TextIOWrapper:
    # what a Python child writes into a pipe: UTF-8, stderr with backslashreplace
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors=errors, write_through=True)


def _read(stream: io.TextIOWrapper) -> str:
    stream.flush()
    data = stream.buffer.getvalue()  # type: ignore[attr-defined]
    # subprocess.run(text=True) reads with universal newlines
    return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


def kosma(
    home: Path,
    *args: str,
    now: str | None = None,
    stdin: str | None = "",
    extra_env: Mapping[str, str | None] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """``kosma-tui ARGS`` against the store under ``home``; ``now`` freezes the clock
    (``KOSMA_TUI_NOW``, else unset); ``extra_env`` sets variables (``None`` unsets one).

    ``timeout`` is accepted for the callers written against the subprocess version;
    pytest-timeout bounds every test instead.
    """
    del timeout
    argv = [str(a) for a in args]
    stdout, stderr = _pipe("strict"), _pipe("backslashreplace")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(HOME_ENV, str(home))
        patch.delenv(NOW_ENV, raising=False)
        if now:
            patch.setenv(NOW_ENV, now)
        for name, value in (extra_env or {}).items():
            if value is None:
                patch.delenv(name, raising=False)
            else:
                patch.setenv(name, value)
        patch.setattr(sys, "stdin", io.StringIO(stdin or ""))
        patch.setattr(sys, "stdout", stdout)
        patch.setattr(sys, "stderr", stderr)
        try:
            status = main(argv)
        except SystemExit as exc:  # argparse's --help, --version and usage errors
            status = _exit_status(exc.code, stderr)
    return subprocess.CompletedProcess(["kosma-tui", *argv], status, _read(stdout), _read(stderr))


def _exit_status(code: object, stderr: io.TextIOWrapper) -> int:
    """The status the interpreter would exit with for ``SystemExit(code)``."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=stderr)
    return 1
