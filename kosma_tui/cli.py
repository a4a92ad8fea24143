"""Argument parsing for ``kosma-tui`` and dispatch to the plain-terminal commands.

``kosma-tui`` with no command starts the TUI; every other command lives in
``kosma_tui.commands`` and never imports Textual. Exit status: 0 success,
1 a failure the command reports (see each command), 2 bad input or
configuration; no traceback ever reaches the user.
"""

from __future__ import annotations

import argparse
import importlib
import itertools
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from kosma_tui import __version__

if TYPE_CHECKING:
    from kosma_tui.runtime import Runtime

# Each module provides ``add_parser(subparsers)`` (setting ``func`` on its
# parser) and the command functions it points at.
COMMAND_MODULES: tuple[str, ...] = (
    "kosma_tui.commands.settings",
    "kosma_tui.commands.company",
    "kosma_tui.commands.link",
    "kosma_tui.commands.sync",
    "kosma_tui.commands.remind",
    "kosma_tui.commands.status",
    "kosma_tui.commands.transactions",
    "kosma_tui.commands.account",
    "kosma_tui.commands.consent",
    "kosma_tui.commands.party",
    "kosma_tui.commands.erpnext",
)


class _Parser(argparse.ArgumentParser):
    """argparse that answers bad usage with one sentence and exit status 2."""

    # set by main(): a usage error of a ``--json`` run is answered in JSON too
    json_requested = False

    def error(self, message: str) -> None:  # type: ignore[override]
        sentence = f"{message[0].upper()}{message[1:]}."
        if _Parser.json_requested:
            from kosma_tui.commands.base import report_error
            from kosma_tui.core.errors import UsageError

            self.exit(
                report_error(
                    UsageError(sentence, f"Run '{self.prog} --help' for the options."), True
                )
            )
        self.exit(2, f"kosma-tui: {sentence}\nRun '{self.prog} --help' for the options.\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="kosma-tui",
        description="Link bank accounts through a PSD2 banking portal and sync their "
        "transactions for ERPNext bank reconciliation. Without a command, starts the TUI.",
    )
    parser.add_argument("--version", action="version", version=f"kosma-tui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sandbox = sub.add_parser(
        "sandbox", help="run the Demo Bank portal in the foreground", add_help=False
    )
    sandbox.set_defaults(func=None)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["sandbox"]:
        from kosma_tui.sandbox import main as sandbox_main

        return sandbox_main(args_list[1:])
    _Parser.json_requested = (
        "--json" in args_list
        or "--format=json" in args_list
        or any(a == "--format" and b == "json" for a, b in itertools.pairwise(args_list))
    )
    parser = build_parser()
    args = parser.parse_args(args_list)
    if args.command is None:
        return _run_tui()
    from kosma_tui.commands.base import run_command

    return run_command(args.func, args)


def _run_tui() -> int:
    from kosma_tui.commands.base import run_command

    def start(_args: argparse.Namespace, runtime: Runtime) -> int:
        from kosma_tui.tui.app import run_app

        return run_app(runtime)

    return run_command(start, argparse.Namespace(), guard=False)


if __name__ == "__main__":
    raise SystemExit(main())
