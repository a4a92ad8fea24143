"""``kosma-tui sync``: sync accounts now, or every account (the daily job).

Run from a terminal (standard input is a TTY) the sync is attended: the
portal gets the person's address (``SSH_CLIENT``) and no daily read limit
applies. Run from cron or a systemd timer (no TTY) it is unattended
(``ip_address`` null), limited by the bank to 4 reads per account, data type
and day, which a daily job never reaches.

SIGTERM, SIGINT (Ctrl-C) and SIGHUP (the SSH session dropped) never cut a
consent call in half: the call in flight finishes and its outcome (the
rotated token, the page) reaches the disk, the sync stops at that page
boundary keeping its progress, and the command ends within ``STOP_SECONDS``
with one sentence. Should a call hang past that, it is abandoned: the replay
journal has it written down and the next sync sends it again.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from dataclasses import dataclass, field
from typing import Any

from kosma_tui.commands.base import print_header, print_json, safe_text
from kosma_tui.core import messages
from kosma_tui.core.errors import ConfigurationError, KosmaError, UsageError
from kosma_tui.core.text import raw_stream
from kosma_tui.runtime import Runtime


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sync",
        help="sync bank accounts (--all is the daily job)",
        description="Sync the transactions and balances of bank accounts. Exit status: "
        "0 every account synced, 1 an account failed or was refused, 2 usage or "
        "configuration error.",
    )
    p.add_argument(
        "--account",
        action="append",
        metavar="NAME",
        default=[],
        help="the bank account to sync (repeatable)",
    )
    p.add_argument(
        "--all",
        action="store_true",
        help="refresh every consent's accounts and sync them all (the daily job)",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="read like a sync and report what would be new and updated; store "
        "nothing and move no Last Integration Date",
    )
    p.add_argument("--json", action="store_true", help="machine-readable result")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, runtime: Runtime) -> int:
    if args.all and args.account:
        raise UsageError("Give either --all or --account NAME, not both.")
    if not args.all and not args.account:
        raise UsageError("Say what to sync: --account NAME (repeatable) or --all.")
    from kosma_tui.core.admin import find_accounts
    from kosma_tui.core.sync import settings_refusal

    store = runtime.store
    names = [a.name for a in find_accounts(store, args.account)]
    disabled = settings_refusal(store)
    if disabled is not None:
        raise ConfigurationError(disabled.message, disabled.remedy)
    demo = store.settings().demo
    dry_run = args.dry_run
    if not args.json:
        print_header(store, "Sync (dry run: nothing is stored)" if dry_run else "Sync")
    stop = _Stop()
    results = asyncio.run(
        _sync(runtime, names, stop, progress=not args.json and sys.stdout.isatty(), dry_run=dry_run)
    )
    mailed = _remind(store) if args.all and not dry_run and stop.signal is None else []
    try:
        _report(args, demo, dry_run, results, mailed)
    except OSError:  # the terminal went away (SIGHUP): the results are in the store
        pass
    if stop.signal is not None:
        _say(
            f"kosma-tui: Stopped by {stop.signal.name} after {len(results)} account(s); "
            "what was read is kept and the next sync continues from there."
        )
        return 1
    # A failed automatic push leaves the sync done, but must not pass unnoticed.
    return 0 if all(r.ok and r.push_error is None for r in results) else 1


def _say(line: str) -> None:
    try:
        print(line, file=sys.stderr, flush=True)
    except OSError:
        pass


def _report(
    args: argparse.Namespace, demo: bool, dry_run: bool, results: list[Any], mailed: list[Any]
) -> None:
    if args.json:
        output: dict[str, Any] = {"demo": demo}
        if dry_run:
            output["dry_run"] = True
        output["accounts"] = [r.as_json() for r in results]
        if mailed:
            output["reminders"] = [r.as_json() for r in mailed]
        print_json(output)
    else:
        if not results:
            print(messages.NO_ACCOUNTS_YET)
        for result in results:
            print(_dry_run_line(result) if dry_run else _result_line(result))
        for reminder in mailed:
            if reminder.mail == "sent":
                print(f"✉ reminder mailed: {safe_text(reminder.consent.name)}")
    for result in results:
        if result.push_error is not None:
            print(
                f"kosma-tui: ERPNext push after syncing '{safe_text(result.name)}' failed: "
                f"{result.push_error.message} {result.push_error.remedy}".rstrip(),
                file=sys.stderr,
            )
            break


def _remind(store: Any) -> list[Any]:
    """The daily job's reminder mails (once a day per consent); a mail that fails is
    said on stderr and never fails the sync."""
    from kosma_tui.core import reminders

    try:
        mailed = reminders.send_due(store)
    except KosmaError as exc:
        print(f"kosma-tui: reminder mails were not sent: {exc.sentence()}", file=sys.stderr)
        return []
    for reminder in mailed:
        if reminder.error is not None:
            print(
                f"kosma-tui: the reminder for '{safe_text(reminder.consent.name)}' was not "
                f"mailed: {reminder.error.message} {reminder.error.remedy}".rstrip(),
                file=sys.stderr,
            )
    return mailed


# after a stop signal: time for the call in flight to finish before it is abandoned
STOP_SECONDS = 8.0
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


@dataclass
class _Stop:
    """A stop signal turned into the engine's cancel event (set at the next page)."""

    cancel: asyncio.Event = field(default_factory=asyncio.Event)
    signal: signal.Signals | None = None

    def install(self, task: asyncio.Task[Any]) -> None:
        loop = asyncio.get_running_loop()

        def received(number: int) -> None:
            if self.signal is None:
                self.signal = signal.Signals(number)
                self.cancel.set()
                loop.call_later(STOP_SECONDS, task.cancel)  # a call that hangs is abandoned

        for number in STOP_SIGNALS:
            loop.add_signal_handler(number, received, number)

    def uninstall(self) -> None:
        loop = asyncio.get_running_loop()
        for number in STOP_SIGNALS:
            loop.remove_signal_handler(number)


async def _sync(
    runtime: Runtime, names: list[str], stop: _Stop, *, progress: bool, dry_run: bool = False
) -> list[Any]:
    from kosma_tui.core.sync import SyncEngine
    from kosma_tui.core.usecases.sync import sync_accounts

    task = asyncio.current_task()
    assert task is not None
    stop.install(task)
    attended = sys.stdin.isatty()
    results: list[Any] = []

    def show(p: Any) -> None:
        if stop.signal is None:  # after SIGHUP there may be no terminal to draw on
            try:
                _show_progress(p)
            except OSError:  # it went away before the signal arrived: the sync goes on
                pass

    try:
        async with runtime.portal(attended=attended) as client:
            engine = SyncEngine(
                runtime.store,
                client,
                hooks=runtime.after_sync(),
                attended=attended,
                on_progress=show if progress else None,
                dry_run=dry_run,
            )
            # ``results`` keeps the accounts done should the run be abandoned
            return await sync_accounts(engine, names, stop.cancel, into=results)
    except asyncio.CancelledError:
        if stop.signal is None:
            raise
        return results  # abandoned after STOP_SECONDS; the journal replays the call
    finally:
        stop.uninstall()


def _show_progress(p: Any) -> None:
    out = raw_stream(sys.stdout)  # the line's own controls; the account name is made safe
    if p.phase == "done":
        out.write("\r\x1b[K")
    else:
        what = {"balances": "balances", "saving": "saving"}.get(p.phase, f"page {p.page}")
        out.write(f"\r\x1b[K  {safe_text(p.account)}: {what}, {p.fetched:,} fetched, {p.new:,} new")
    out.flush()


def _dry_run_line(r: Any) -> str:
    if not r.ok:
        return _result_line(r)
    return (
        f"~ {safe_text(r.name)}: {r.fetched:,} fetched; would store {r.new:,} new and "
        f"update {r.updated:,}; {r.skipped:,} skipped, {r.matched:,} would be matched; "
        f"Last Integration Date stays {r.last_integration_date or '-'}"
    )


def _result_line(r: Any) -> str:
    name = safe_text(r.name)
    if r.ok:
        return (
            f"✓ {name}: {r.fetched:,} fetched, {r.new:,} new, {r.updated:,} updated, "
            f"{r.skipped:,} skipped, {r.matched:,} matched; Last Integration Date "
            f"{r.last_integration_date or '-'}"
        )
    word = "refused" if r.status == "refused" else "failed"
    error = r.error
    sentence = f"{error.message} {error.remedy}".rstrip() if error else ""
    if r.stopped:  # what it read is kept: say where the next sync continues
        sentence += f" {r.stopped[0].upper()}{r.stopped[1:]}."
    return f"✗ {name}: {word}. {sentence}"
