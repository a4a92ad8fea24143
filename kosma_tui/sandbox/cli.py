"""``kosma-tui sandbox``: the Demo Bank portal in the foreground."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import NoReturn

from kosma_tui.sandbox.errors import SandboxStateError

APP_NAME = "kosma-tui"
HOME_ENV = "KOSMA_TUI_HOME"


def default_state_path() -> Path:
    """``$KOSMA_TUI_HOME/data/sandbox/state.json``, else the platform's user data folder."""
    home = os.environ.get(HOME_ENV)
    if home:
        return Path(home).expanduser().resolve() / "data" / "sandbox" / "state.json"
    import platformdirs

    data_dir = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    return data_dir / "sandbox" / "state.json"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"kosma-tui sandbox: {message[0].upper()}{message[1:]}.\n")


def _day(text: str) -> date:
    try:
        # exactly YYYY-MM-DD: fromisoformat alone also takes 20260101 and 2026-W01-1
        if (
            len(text) != 10
            or text[4] != "-"
            or text[7] != "-"
            or not (text[:4] + text[5:7] + text[8:]).isdigit()
        ):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, not {text!r}") from None


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, not {text!r}")
    return int(text)


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"a port is a number from 0 to 65535, not {text!r}")
    return int(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 600:
        raise argparse.ArgumentTypeError(f"expected seconds from 0 to 600, not {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="kosma-tui sandbox",
        description="Run the Demo Bank portal (PROTOCOL.md) in the foreground until Ctrl-C.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--port",
        type=_port,
        default=8765,
        help="port to listen on (0 picks a free one; default 8765)",
    )
    parser.add_argument(
        "--today",
        type=_day,
        default=None,
        help="the portal's date, YYYY-MM-DD (default: the real local date)",
    )
    parser.add_argument(
        "--transaction-limit",
        type=_count,
        default=1_000_000,
        help="transactions per billing period (default 1,000,000)",
    )
    parser.add_argument(
        "--slow-seconds",
        type=_seconds,
        default=2.0,
        help="delay of every response to the 'slow' user's consent (default 2)",
    )
    parser.add_argument(
        "--state",
        type=Path,
        default=None,
        help="state file (default: the data folder's sandbox/state.json)",
    )
    # off by default: a parent that reads only the URL line must never see the portal
    # block on a full pipe
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="log every request (method, status, milliseconds) on stdout",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from kosma_tui.sandbox.server import start_portal

    try:
        args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # --help, or a bad argument already explained on stderr
        return exc.code if isinstance(exc.code, int) else 2
    state_path = args.state if args.state is not None else default_state_path()
    try:
        portal = start_portal(
            state_path,
            host=args.host,
            port=args.port,
            today=args.today,
            transaction_limit=args.transaction_limit,
            slow_seconds=args.slow_seconds,
            log_requests=args.verbose,
        )
    except SandboxStateError as exc:
        print(f"kosma-tui sandbox: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        reason = exc.strerror or str(exc)
        print(
            f"kosma-tui sandbox: Cannot listen on {args.host} port {args.port} ({reason}); "
            "choose another --host or --port.",
            file=sys.stderr,
        )
        return 2
    stop = threading.Event()
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set()) if in_main_thread else None
    today = args.today.isoformat() if args.today else "the real date"
    print(f"Demo Bank portal listening on {portal.url}", flush=True)
    print(
        f"State file {portal.state_path}; today is {today}; "
        f"transaction limit {args.transaction_limit:,}. Ctrl-C stops it.",
        flush=True,
    )
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
        portal.stop()
    print("Demo Bank portal stopped.", flush=True)
    return 0
