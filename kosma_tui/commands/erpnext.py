"""``kosma-tui erpnext``: companies in, Bank Transactions out (ERPNext's REST API).

Exit status: 0 done, 1 some transaction or company could not be handled (each
is listed with ERPNext's message) or needs attention, 2 bad input or
configuration (unreachable URL, refused key, unknown or unmapped account,
unknown GL account), or a push that failed without changing anything: one
sentence, nothing changed. With ``--json`` an error is
``{"error": {"code", "message", "remedy"}}`` on stdout.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from kosma_tui.commands.base import DEMO_BANNER, print_json, safe_text
from kosma_tui.core.errors import UsageError
from kosma_tui.core.money import format_amount
from kosma_tui.core.text import raw_stream
from kosma_tui.runtime import Runtime

SHOWN_ITEMS = 20


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("erpnext", help="ERPNext bridge: companies in, Bank Transactions out")
    esub = p.add_subparsers(
        dest="erpnext_command", metavar="ACTION", required=True, parser_class=type(p)
    )

    connect = esub.add_parser("connect", help="connect to ERPNext with an API key and secret")
    connect.add_argument("--url", required=True, help="ERPNext's address (https://)")
    connect.add_argument("--api-key", required=True, help="the API key of the ERPNext user")
    connect.add_argument(
        "--api-secret-stdin",
        action="store_true",
        help="read the API secret from standard input (never from arguments)",
    )
    connect.add_argument("--site", help="the site name, when the bench's host name differs")
    connect.add_argument(
        "--server-timeout",
        type=int,
        metavar="SECONDS",
        help="gunicorn's --timeout on the ERPNext server (default 120): the "
        "push waits that long for a request whose answer was lost",
    )
    connect.add_argument("--json", action="store_true", help="machine-readable output")
    connect.set_defaults(func=run_connect)

    status = esub.add_parser("status", help="connection, account mapping, waiting transactions")
    status.add_argument("--offline", action="store_true", help="do not contact ERPNext")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(func=run_status)

    companies = esub.add_parser(
        "import-companies", help="create or update local Companies from ERPNext"
    )
    companies.add_argument("--json", action="store_true", help="machine-readable output")
    companies.set_defaults(func=run_import_companies)

    mapping = esub.add_parser(
        "map", help="map Bank Accounts to ERPNext Bank Accounts (by IBAN unless told)"
    )
    mapping.add_argument("account", nargs="?", help="the local Bank Account (default: all)")
    how = mapping.add_mutually_exclusive_group()
    how.add_argument("--bank-account", metavar="NAME", help="an existing ERPNext Bank Account")
    how.add_argument(
        "--create",
        action="store_true",
        help="create the Bank (if missing) and the Bank Account in ERPNext",
    )
    mapping.add_argument(
        "--gl-account", metavar="NAME", help="with --create: the GL Account (account type Bank)"
    )
    mapping.add_argument("--json", action="store_true", help="machine-readable output")
    mapping.set_defaults(func=run_map)

    push = esub.add_parser("push", help="push Settled transactions as Bank Transactions")
    push.add_argument(
        "--account",
        action="append",
        metavar="NAME",
        help="only this Bank Account (repeatable; default: all)",
    )
    push.add_argument(
        "--dry-run",
        action="store_true",
        help="show what would be created, skipped and cancelled; change nothing",
    )
    push.add_argument("--json", action="store_true", help="machine-readable output")
    push.set_defaults(func=run_push)

    dedupe = esub.add_parser(
        "dedupe",
        help="cancel and delete later copies of a transaction id ERPNext holds "
        "twice (never a reconciled one)",
    )
    dedupe.add_argument("--account", metavar="NAME", help="only this Bank Account")
    dedupe.add_argument(
        "--yes", action="store_true", help="remove without asking (needed without a terminal)"
    )
    dedupe.add_argument("--json", action="store_true", help="machine-readable output")
    dedupe.set_defaults(func=run_dedupe)


def _header(store: Any, title: str) -> None:
    url = store.erpnext().url or "not connected"
    demo = f" · {DEMO_BANNER}" if store.settings().demo else ""
    print(f"Kosma TUI · ERPNext {title} · {url}{demo}")


def read_secret() -> str:
    if sys.stdin is None:
        raise UsageError(
            "--api-secret-stdin reads the secret from standard input, which is closed."
        )
    if sys.stdin.isatty():
        return getpass.getpass("ERPNext API secret: ")
    return sys.stdin.readline().strip()


def run_connect(args: argparse.Namespace, runtime: Runtime) -> int:
    from kosma_tui.core.erpnext import connect

    if not args.api_secret_stdin:
        raise UsageError(
            "The API secret is read from standard input only; add "
            "--api-secret-stdin and pipe it in, e.g. "
            "kosma-tui erpnext connect ... --api-secret-stdin < secret.txt"
        )
    secret = read_secret()
    store = runtime.store
    connection, user = connect(
        store, args.url, args.api_key, secret, args.site, args.server_timeout
    )
    if args.json:
        print_json(
            {
                "connected": True,
                "url": connection.url,
                "site": connection.site or None,
                "user": user,
                "demo": store.settings().demo,
            }
        )
        return 0
    _header(store, "connect")
    site = f" (site {connection.site})" if connection.site else ""
    print(
        f"Connected to ERPNext at {connection.url}{site} as {safe_text(user)}; "
        "the API secret is stored encrypted."
    )
    return 0


def run_status(args: argparse.Namespace, runtime: Runtime) -> int:
    from kosma_tui.core.erpnext import status

    store = runtime.store
    result = status(store, check=not args.offline, client=runtime.erpnext)
    if args.json:
        data = result.as_json()
        data["demo"] = store.settings().demo
        print_json(data)
        return status_exit(result)
    _header(store, "status")
    if not result.connected:
        print(
            "Not connected. Run 'kosma-tui erpnext connect --url URL --api-key KEY "
            "--api-secret-stdin'."
        )
    else:
        site = f", site {result.site}" if result.site else ""
        print(f"Connection: {result.url}{site}, API key {result.api_key}")
        if result.user:
            print(f"  ERPNext answers: logged in as {safe_text(result.user)}")
        elif result.problem:
            print(f"  ERPNext check failed: {result.problem.message} {result.problem.remedy}")
    print(f"Automatic push after sync: {'on' if result.auto_push else 'off'}")
    if result.accounts:
        print(
            f"{'Account':<30} {'ERPNext Bank Account':<30} {'waiting':>8} {'cancel':>7} "
            f"{'pending':>8}"
        )
        for a in result.accounts:
            mapped = a.erpnext_bank_account or "(by IBAN at push)"
            print(
                f"{safe_text(a.name)[:30]:<30} {safe_text(mapped)[:30]:<30} {a.waiting:>8,} "
                f"{a.to_cancel:>7,} {a.pending:>8,}"
            )
    else:
        print("No Bank Accounts yet.")
    print(f"Waiting to be pushed: {result.waiting:,}")
    last = result.last_push
    if last:
        totals = last.get("totals") or {}
        how = "automatic" if last.get("unattended") else "manual"
        line = (
            f"Last push ({how}, {last.get('when')}): {totals.get('created', 0):,} created, "
            f"{totals.get('cancelled', 0):,} cancelled, {totals.get('failed', 0):,} failed"
        )
        print(line if totals else f"Last push ({how}, {last.get('when')})")
        if last.get("error"):
            error = last["error"]
            print(safe_text(f"  {error.get('message')} {error.get('remedy') or ''}".rstrip()))
        for entry in last.get("attention") or []:
            print(
                f"  needs attention: {safe_text(entry.get('erpnext_name'))} "
                f"({safe_text(entry.get('account'))}, {safe_text(entry.get('transaction_id'))})"
                " was cancelled by the bank but is reconciled in ERPNext"
            )
    return status_exit(result)


def status_exit(result: Any) -> int:
    """1 while ERPNext cannot be reached or the last push failed, until one succeeds."""
    return 1 if result.problem or (result.last_push or {}).get("error") else 0


def run_import_companies(args: argparse.Namespace, runtime: Runtime) -> int:
    from kosma_tui.core.erpnext import import_companies

    store = runtime.store
    with runtime.erpnext() as client:
        results = import_companies(store, client)
    skipped = [r for r in results if r.action == "skipped"]
    if args.json:
        print_json({"companies": [r.as_json() for r in results], "demo": store.settings().demo})
        return 1 if skipped else 0
    _header(store, "import-companies")
    if not results:
        print("ERPNext has no Companies.")
    for r in results:
        fy = f"fiscal year from {r.fiscal_year_start}" + (
            f" ({r.fiscal_year})" if r.fiscal_year else ""
        )
        print(f"{r.action:<9} {safe_text(r.name)} ({r.country or '?'}, {fy}, {r.default_currency})")
        if r.note:
            print(f"          {safe_text(r.note)}")
    counts = {
        a: sum(1 for r in results if r.action == a)
        for a in ("created", "updated", "unchanged", "skipped")
    }
    print(", ".join(f"{n} {a}" for a, n in counts.items()) + ".")
    return 1 if skipped else 0


def run_map(args: argparse.Namespace, runtime: Runtime) -> int:
    from kosma_tui.core.erpnext import (
        BankAccounts,
        create_and_map,
        map_by_iban,
        map_to,
    )

    if args.gl_account and not args.create:
        raise UsageError(
            "--gl-account goes with --create (the GL Account of the new ERPNext Bank Account)."
        )
    if args.create and not args.gl_account:
        raise UsageError(
            "--create needs --gl-account NAME: the GL Account (account type Bank) "
            "the new ERPNext Bank Account posts to."
        )
    if (args.create or args.bank_account) and not args.account:
        raise UsageError(
            "Name the local Bank Account to map, e.g. "
            'kosma-tui erpnext map "Main (ACME GmbH)" --bank-account NAME.'
        )
    store = runtime.store
    if args.account:
        from kosma_tui.core.admin import find_account

        args.account = find_account(store, args.account).name
    with runtime.erpnext() as client:
        if args.account and args.create:
            mappings = [create_and_map(store, client, args.account, args.gl_account)]
        elif args.account and args.bank_account:
            mappings = [map_to(store, client, args.account, args.bank_account)]
        elif args.account:
            mappings = [map_by_iban(store, client, args.account)]
        else:
            known = BankAccounts(client)
            mappings = []
            for account in store.accounts():
                mapping = known.resolve(account)
                if mapping.how == "iban":
                    store.update_account(account.name, erpnext_bank_account=mapping.bank_account)
                mappings.append(mapping)
    if args.json:
        print_json({"mappings": [m.as_json() for m in mappings], "demo": store.settings().demo})
        return 0
    _header(store, "map")
    if not mappings:
        print("No Bank Accounts yet.")
    words = {
        "stored": "mapped to",
        "iban": "mapped by IBAN to",
        "manual": "mapped to",
        "created": "created in ERPNext and mapped to",
        "adopted": "mapped to the existing ERPNext Bank Account",
    }
    for m in mappings:
        if m.bank_account:
            print(f"{safe_text(m.account)} {words[m.how]} {safe_text(m.bank_account)}")
        else:
            print(f"{safe_text(m.account)}: not mapped, {safe_text(m.reason)}")
    return 0


def run_push(args: argparse.Namespace, runtime: Runtime) -> int:
    from kosma_tui.core.admin import find_accounts
    from kosma_tui.core.erpnext import push

    store = runtime.store
    names = [a.name for a in find_accounts(store, args.account or [])]
    progress = None
    if not args.json and sys.stderr.isatty():

        def progress(p: Any) -> None:
            end = "\n" if p.done == p.total else ""
            print(
                f"\r  {safe_text(p.account)}: {p.done:,} of {p.total:,}",
                end=end,
                file=raw_stream(sys.stderr),
                flush=True,
            )

    with runtime.erpnext() as client:
        report = push(store, client, names or None, dry_run=args.dry_run, on_progress=progress)
    status = push_status(report)
    if args.json:
        data = report.as_json()
        data["demo"] = store.settings().demo
        print_json(data)
        return status
    _header(store, "push (dry run)" if args.dry_run else "push")
    if report.settled:
        print(
            f"{report.settled:,} transactions of a push interrupted earlier were found in "
            "ERPNext and recorded."
        )
    if args.dry_run:
        print("Dry run: nothing was changed in ERPNext or here.")
    for a in report.accounts:
        target = f" -> {safe_text(a.bank_account)}" if a.bank_account else ""
        if args.dry_run:
            counts = (
                f"would create {a.created:,}, skip {a.skipped:,} (already there), "
                f"cancel {a.cancelled:,}"
            )
        else:
            counts = (
                f"{a.created:,} created, {a.skipped:,} already there, "
                f"{a.cancelled:,} cancelled, {a.failed:,} failed"
            )
        extra = f"; {a.pending:,} pending (pushed once settled)" if a.pending else ""
        if a.without_id:
            extra += f"; {a.without_id:,} without a transaction id (not pushed)"
        print(f"{safe_text(a.name)}{target}: {counts}{extra}")
        if a.error:
            print(f"  {a.error.message} {a.error.remedy}".rstrip())
        _notes(a)
        shown = [
            i for i in a.items if args.dry_run or i.action in ("failed", "cancel", "attention")
        ]
        for i in shown[:SHOWN_ITEMS]:
            amount = format_amount(i.amount, i.currency, sign=True) if i.currency else ""
            line = (
                f"  {i.action:<7} {i.date}  {safe_text(i.transaction_id)[:26]:<26} "
                f"{amount:>14} {i.currency}"
            )
            if i.erpnext_name:
                line += f"  {safe_text(i.erpnext_name)}"
            print(line)
            if i.message:
                print(f"          {safe_text(i.message)}")
        if len(shown) > SHOWN_ITEMS:
            print(f"  … and {len(shown) - SHOWN_ITEMS:,} more (--json lists them all)")
    verb = "Would create" if args.dry_run else "Created"
    print(
        f"{verb} {report.total('created'):,}, already there {report.total('skipped'):,}, "
        f"{'would cancel' if args.dry_run else 'cancelled'} {report.total('cancelled'):,}, "
        f"failed {report.total('failed'):,} ({report.requests:,} requests, "
        f"{report.seconds:.1f} s)."
    )
    return status


def push_status(report: Any) -> int:
    """0 all done; 1 something failed or needs attention; 2 it failed and nothing changed."""
    if report.ok:
        return 0
    return 1 if report.changed or report.settled else 2


def _notes(a: Any) -> None:
    """Unknown parties, duplicates and reconciled cancellations of one account's push."""
    if a.missing_parties:
        names = ", ".join(safe_text(p) for p in list(a.missing_parties)[:5])
        more = f" and {len(a.missing_parties) - 5:,} more" if len(a.missing_parties) > 5 else ""
        count = sum(a.missing_parties.values())
        print(
            f"  {count:,} pushed without a party ERPNext does not know: {names}{more}. "
            "Create them in ERPNext, or run 'kosma-tui party import --from-erpnext' to "
            "match against ERPNext's parties."
        )
    if a.duplicates:
        first = ", ".join(safe_text(t) for t in list(a.duplicates)[:3])
        print(
            f"  {len(a.duplicates):,} transaction ids are in ERPNext more than once "
            f"({first}). Run 'kosma-tui erpnext dedupe --account \"{safe_text(a.name)}\"'."
        )
    if a.attention:
        print(
            f"  {a.attention:,} cancelled by the bank but reconciled in ERPNext: left as "
            "they are, see below."
        )


def run_dedupe(args: argparse.Namespace, runtime: Runtime) -> int:
    from kosma_tui.core.admin import find_account
    from kosma_tui.core.erpnext.dedupe import find, remove

    store = runtime.store
    accounts = [find_account(store, args.account)] if args.account else store.accounts()
    with runtime.erpnext() as client:
        found = find(client, accounts)
        planned = sum(len(c.remove) for a in found for c in a.copies)
        if planned and not args.yes:
            if args.json or not sys.stdin.isatty():
                raise UsageError(
                    f"{planned:,} later copies would be cancelled and deleted in "
                    "ERPNext; nothing was changed.",
                    "Add --yes to remove them (run without --json on a terminal "
                    "to see them first).",
                )
            _show_copies(store, found)
            answer = input(f"Cancel and delete these {planned:,} copies in ERPNext? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                print("Nothing was changed.")
                return 0
        if planned:
            remove(store, client, found)
    left = sum(len(c.reconciled) + len(c.failed) for a in found for c in a.copies)
    if args.json:
        print_json({"accounts": [a.as_json() for a in found], "demo": store.settings().demo})
        return 1 if left else 0
    _show_copies(store, found)
    removed = sum(len(c.removed) for a in found for c in a.copies)
    print(f"Removed {removed:,} later copies; {left:,} left (reconciled or refused).")
    return 1 if left else 0


def _show_copies(store: Any, found: list[Any]) -> None:
    _header(store, "dedupe")
    for a in found:
        if a.problem:
            print(f"{safe_text(a.name)}: not checked, {safe_text(a.problem)}")
            continue
        print(
            f"{safe_text(a.name)} -> {safe_text(a.bank_account)}: "
            f"{len(a.copies):,} transaction ids held more than once"
        )
        for c in a.copies[:SHOWN_ITEMS]:
            line = f"  {safe_text(c.transaction_id)[:26]:<26} keep {safe_text(c.keep)}"
            if c.remove:
                line += f", remove {', '.join(safe_text(n) for n in c.remove)}"
            if c.reconciled:
                line += (
                    f", left alone (reconciled): {', '.join(safe_text(n) for n in c.reconciled)}"
                )
            print(line)
            for name, message in c.failed.items():
                print(f"    {safe_text(name)} refused: {safe_text(message)}")
        if len(a.copies) > SHOWN_ITEMS:
            print(f"  … and {len(a.copies) - SHOWN_ITEMS:,} more (--json lists them all)")
