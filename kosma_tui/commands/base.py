"""What every command shares: the store, output, logging and error handling."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import unicodedata
from collections.abc import Callable
from logging.handlers import RotatingFileHandler
from typing import Any, TextIO

from kosma_tui.core.connection import DEMO_BANNER
from kosma_tui.core.errors import KosmaError
from kosma_tui.core.paths import Paths, make_private_dir, resolve_paths
from kosma_tui.core.text import SafeStream, safe_json, safe_lines, safe_text
from kosma_tui.runtime import Runtime

# A command: its parsed arguments and the run's runtime in, its exit status out.
Command = Callable[[argparse.Namespace, Runtime], int]

__all__ = ["safe_text"]  # the one rendering of outside text, re-exported for the commands

log = logging.getLogger("kosma_tui")


def setup_logging(paths: Paths) -> None:
    """Rotated log file in the platform's log folder; never on the terminal.

    One handler per process, bound to this run's log file: a later run in the same
    process with another data folder (``main()`` called twice) logs into its own."""
    for handler in [h for h in log.handlers if isinstance(h, RotatingFileHandler)]:
        if handler.baseFilename == os.path.abspath(paths.log_file):
            return
        log.removeHandler(handler)
        handler.close()
    try:
        make_private_dir(paths.log_dir)
        handler = RotatingFileHandler(
            paths.log_file, maxBytes=1_000_000, backupCount=3, encoding="utf-8"
        )
        paths.log_file.chmod(0o600)
    except OSError:
        return
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


def wants_json(args: argparse.Namespace) -> bool:
    """Whether the command was asked for machine-readable output."""
    return bool(getattr(args, "json", False)) or getattr(args, "format", None) == "json"


def report_error(error: KosmaError, as_json: bool) -> int:
    """The one place a failed command speaks: a sentence on stderr and, for ``--json``,
    ``{"error": {"code", "message", "remedy"}}`` on stdout. Returns the exit status."""
    print(f"kosma-tui: {safe_lines(error.sentence())}", file=sys.stderr)
    if as_json:
        print_json({"error": error.as_json()})
    return error.exit_status


def run_command(func: Command, args: argparse.Namespace, *, guard: bool = True) -> int:
    """Run one command: errors become one sentence on stderr and an exit status.

    The run's Runtime is built here, once, and closed when the command ends (which
    stops the embedded Demo Bank portal if the command started it), so a second run
    in the same process starts its own on that run's data folder.

    With ``guard`` (every command but the TUI, which draws its own screen)
    stdout and stderr are SafeStreams: whatever a command prints, no control
    character of outside origin reaches the terminal raw.
    """
    paths = resolve_paths()
    setup_logging(paths)
    streams = sys.stdout, sys.stderr
    if guard:
        sys.stdout, sys.stderr = SafeStream(sys.stdout), SafeStream(sys.stderr)
    runtime = Runtime(paths)
    try:
        return _run(func, args, runtime)
    finally:
        sys.stdout, sys.stderr = streams


def _run(func: Command, args: argparse.Namespace, runtime: Runtime) -> int:
    as_json = wants_json(args)
    paths = runtime.paths
    try:
        return func(args, runtime)
    except KosmaError as exc:
        log.info("command refused: %s %s", exc.code, exc.message)
        return report_error(exc, as_json)
    except KeyboardInterrupt:
        report_error(KosmaError("Interrupted.", code="INTERRUPTED"), as_json)
        return 130
    except BrokenPipeError:
        return 0
    except Exception:
        log.exception("unexpected error")
        return report_error(
            KosmaError(
                "Something unexpected went wrong; nothing more was changed.",
                f"The details are in {paths.log_file}.",
                code="UNEXPECTED",
            ),
            as_json,
        )
    finally:
        runtime.close()


def confirm(question: str, stdin: TextIO | None = None, out: TextIO | None = None) -> bool:
    """Ask a yes/no question on the terminal; anything but y/yes (or end of input) is no."""
    stdin, out = stdin or sys.stdin, out or sys.stdout
    out.write(f"{question} [y/N] ")
    out.flush()
    answer = stdin.readline()
    if not answer:
        out.write("\n")
    return answer.strip().casefold() in ("y", "yes")


def print_json(data: Any, out: TextIO | None = None) -> None:
    out = out or sys.stdout
    out.write(safe_json(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False)) + "\n")


def print_header(store: Any, title: str, out: TextIO | None = None) -> None:
    """First line of every text output: what this is and whether it is demo mode."""
    out = out or sys.stdout
    mode = DEMO_BANNER if store.settings().demo else store.settings().admin_url
    out.write(f"Kosma TUI · {title} · {mode}\n")


def _cell_width(ch: str) -> int:
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def fit(value: object, width: int) -> str:
    """Bank text cut or padded to ``width`` terminal cells (wide CJK glyphs count twice)."""
    text = safe_text(value)
    used, out = 0, list[str]()
    for ch in text:
        cells = _cell_width(ch)
        if used + cells > width:
            while out and used + 1 > width:
                used -= _cell_width(out.pop())
            out.append("…")
            used += 1
            break
        out.append(ch)
        used += cells
    return "".join(out) + " " * (width - used)
