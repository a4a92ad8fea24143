"""``kosma-tui sync``: sync accounts now, or every account (the daily job).

Run from a terminal (standard input is a TTY) the sync is attended: the
portal gets the person's address (``SSH_CLIENT``) and no daily read limit
applies. Run from cron or a systemd timer (no TTY) it is unattended
(``ip_address`` null), limited by the bank to 4 reads per account, data type
and day, which a daily job never reaches.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from kosma_tui.commands.base import open_store, print_header, print_json, safe_text
from kosma_tui.core.errors import ConfigurationError, KosmaError, UsageError
from kosma_tui.core.text import raw_stream


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sync", help="sync bank accounts (--all is the daily job)",
        description="Sync the transactions and balances of bank accounts. Exit status: "
        "0 every account synced, 1 an account failed or was refused, 2 usage or "
        "configuration error.",
    )
    p.add_argument("--account", action="append", metavar="NAME", default=[],
                   help="the bank account to sync (repeatable)")
    p.add_argument("--all", action="store_true",
                   help="refresh every consent's accounts and sync them all (the daily job)")
    p.add_argument("--dry-run", action="store_true",
                   help="read like a sync and report what would be new and updated; store "
                   "nothing and move no Last Integration Date")
    p.add_argument("--json", action="store_true", help="machine-readable result")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.all and args.account:
        raise UsageError("Give either --all or --account NAME, not both.")
    if not args.all and not args.account:
        raise UsageError("Say what to sync: --account NAME (repeatable) or --all.")
    from kosma_tui.core.admin import find_accounts
    from kosma_tui.core.sync import settings_refusal

    store = open_store()
    names = [a.name for a in find_accounts(store, args.account)]
    disabled = settings_refusal(store)
    if disabled is not None:
        raise ConfigurationError(disabled.message, disabled.remedy)
    demo = store.settings().demo
    dry_run = args.dry_run
    if not args.json:
        print_header(store, "Sync (dry run: nothing is stored)" if dry_run else "Sync")
    results = asyncio.run(_sync(store, names, progress=not args.json and sys.stdout.isatty(),
                                dry_run=dry_run))
    mailed = _remind(store) if args.all and not dry_run else []
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
            print("No bank accounts yet: link a bank with 'kosma-tui link --company NAME'.")
        for result in results:
            print(_dry_run_line(result) if dry_run else _result_line(result))
        for reminder in mailed:
            if reminder.mail == "sent":
                print(f"✉ reminder mailed: {safe_text(reminder.consent.name)}")
    for result in results:
        if result.push_error is not None:
            print(f"kosma-tui: ERPNext push after syncing '{safe_text(result.name)}' failed: "
                  f"{result.push_error.message} {result.push_error.remedy}".rstrip(),
                  file=sys.stderr)
            break
    return 0 if all(r.ok for r in results) else 1


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
            print(f"kosma-tui: the reminder for '{safe_text(reminder.consent.name)}' was not "
                  f"mailed: {reminder.error.message} {reminder.error.remedy}".rstrip(),
                  file=sys.stderr)
    return mailed


async def _sync(store: Any, names: list[str], *, progress: bool,
                dry_run: bool = False) -> list[Any]:
    from kosma_tui.core.connection import PortalConnection
    from kosma_tui.core.sync import SyncEngine

    attended = sys.stdin.isatty()
    async with PortalConnection(store, attended=attended) as client:
        engine = SyncEngine(store, client, on_progress=_show_progress if progress else None,
                            unattended=not attended, dry_run=dry_run)
        if not names:
            return await engine.sync_all()
        results = []
        for name in names:
            results.append(await engine.sync_account(name, push=False))
        if dry_run:
            return results
        push_error = await engine.auto_push([r.name for r in results if r.ok])
        for r in results:
            if r.ok:
                r.push_error = push_error
        return results


def _show_progress(p: Any) -> None:
    out = raw_stream(sys.stdout)  # the line's own controls; the account name is made safe
    if p.phase == "done":
        out.write("\r\x1b[K")
    else:
        what = {"balances": "balances", "saving": "saving"}.get(p.phase, f"page {p.page}")
        out.write(f"\r\x1b[K  {safe_text(p.account)}: {what}, {p.fetched:,} fetched, "
                  f"{p.new:,} new")
    out.flush()


def _dry_run_line(r: Any) -> str:
    if not r.ok:
        return _result_line(r)
    return (f"~ {safe_text(r.name)}: {r.fetched:,} fetched; would store {r.new:,} new and "
            f"update {r.updated:,}; {r.skipped:,} skipped, {r.matched:,} would be matched; "
            f"Last Integration Date stays {r.last_integration_date or '-'}")


def _result_line(r: Any) -> str:
    name = safe_text(r.name)
    if r.ok:
        return (f"✓ {name}: {r.fetched:,} fetched, {r.new:,} new, {r.updated:,} updated, "
                f"{r.skipped:,} skipped, {r.matched:,} matched; Last Integration Date "
                f"{r.last_integration_date or '-'}")
    word = "refused" if r.status == "refused" else "failed"
    error = r.error
    sentence = f"{error.message} {error.remedy}".rstrip() if error else ""
    if r.stopped:  # what it read is kept: say where the next sync continues
        sentence += f" {r.stopped[0].upper()}{r.stopped[1:]}."
    return f"✗ {name}: {word}. {sentence}"
