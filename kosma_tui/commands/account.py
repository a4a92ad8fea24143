"""``kosma-tui account``: list, rename, disable/enable and remove Bank Accounts, and the
Last Integration Date remedy (DESIGN 4 and 8).

An account is named by its name, its IBAN or a case-insensitive beginning of its
name that fits exactly one account; anything else exits 2 listing the candidates.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from kosma_tui.commands.base import confirm, fit, print_header, print_json, safe_text
from kosma_tui.core import messages, validation
from kosma_tui.core.records import BankAccount
from kosma_tui.runtime import Runtime

NAME_HELP = "the bank account: its name, IBAN, or a unique beginning of its name"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("account", help="list, rename, disable, enable or remove bank accounts")
    asub = p.add_subparsers(
        dest="account_command", metavar="ACTION", required=True, parser_class=type(p)
    )
    listing = asub.add_parser("list", help="every bank account with its bank, consent and state")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=run_list)

    rename = asub.add_parser(
        "rename",
        help="give a bank account another name",
        description="Rename a bank account; its transactions and sync history follow it.",
    )
    rename.add_argument("name", metavar="NAME", help=NAME_HELP)
    rename.add_argument("new", metavar="NEW", help="the new name")
    rename.add_argument("--json", action="store_true", help="machine-readable output")
    rename.set_defaults(func=run_rename)

    for action, text in (
        ("disable", "keep a bank account but stop syncing it; 'status' ignores it"),
        ("enable", "sync a disabled bank account again"),
    ):
        toggle = asub.add_parser(action, help=text, description=text[0].upper() + text[1:] + ".")
        toggle.add_argument("name", metavar="NAME", help=NAME_HELP)
        toggle.add_argument("--json", action="store_true", help="machine-readable output")
        toggle.set_defaults(func=run_toggle, enable=action == "enable")

    remove = asub.add_parser(
        "remove",
        help="remove a bank account and its local transactions",
        description="Remove a bank account and its local transactions (ERPNext is never "
        "touched). Asks first on a terminal; without one, refuses unless --yes.",
    )
    remove.add_argument("name", metavar="NAME", help=NAME_HELP)
    remove.add_argument("--yes", action="store_true", help="do not ask")
    remove.add_argument("--json", action="store_true", help="machine-readable output")
    remove.set_defaults(func=run_remove)

    lid = asub.add_parser(
        "set-last-integration-date",
        help="set where the next sync starts (the remedy for the consent-start conflict)",
        description="Set the Last Integration Date of a bank account; the next sync reads "
        "from it (minus the lookback days). Not in the future.",
    )
    lid.add_argument("name", metavar="NAME", help=NAME_HELP)
    lid.add_argument("date", metavar="D", help="the new date, YYYY-MM-DD")
    lid.set_defaults(func=run_set_lid)


def account_json(account: BankAccount, consent: str | None) -> dict[str, Any]:
    """One item of ``account list --json`` (DESIGN 8)."""
    return {
        "name": account.name,
        "bank": account.bank,
        "company": account.company,
        "iban": account.iban,
        "currency": account.currency,
        "enabled": account.enabled,
        "consent": consent,
        "last_integration_date": account.last_integration_date or None,
    }


def run_list(args: argparse.Namespace, runtime: Runtime) -> int:
    from kosma_tui.core.records import BankConsent

    store = runtime.store
    consents = {c.name for c in store.consents()}
    accounts = sorted(store.accounts(), key=lambda a: a.name.casefold())
    items = []
    for a in accounts:
        name = BankConsent.name_for(a.bank, a.company)
        items.append(account_json(a, name if name in consents else None))
    if args.json:
        print_json({"demo": store.settings().demo, "accounts": items})
        return 0
    print_header(store, "Bank Accounts")
    if not items:
        print(messages.NO_ACCOUNTS_YET)
        return 0
    width = min(40, max(len(a.name) for a in accounts))
    print(
        f"{fit('Account', width)}  {fit('Bank', 16)}  {fit('IBAN', 22)}  Cur  "
        f"{'Last int.':<10}  State"
    )
    for item in items:
        state = "enabled" if item["enabled"] else "disabled"
        if item["consent"] is None:
            state += ", no consent"
        print(
            f"{fit(item['name'], width)}  {fit(item['bank'], 16)}  {fit(item['iban'], 22)}  "
            f"{safe_text(item['currency']):<3}  {item['last_integration_date'] or '-':<10}  "
            f"{state}"
        )
    return 0


def run_rename(args: argparse.Namespace, runtime: Runtime) -> int:
    from kosma_tui.core.admin import rename_account

    store = runtime.store
    old, account = rename_account(store, args.name, args.new)
    if args.json:
        print_json({"renamed": {"from": old, "to": account.name}})
    elif old == account.name:
        print(f"'{safe_text(old)}' already has that name; nothing changed.")
    else:
        print(f"Renamed '{safe_text(old)}' to '{safe_text(account.name)}'.")
    return 0


def run_toggle(args: argparse.Namespace, runtime: Runtime) -> int:
    from kosma_tui.core.admin import set_enabled

    store = runtime.store
    account = set_enabled(store, args.name, args.enable)
    if args.json:
        print_json({"name": account.name, "enabled": account.enabled})
    elif account.enabled:
        print(f"'{safe_text(account.name)}' is enabled: 'sync --all' syncs it again.")
    else:
        print(
            f"'{safe_text(account.name)}' is disabled: 'sync --all' skips it and 'status' "
            "no longer counts it. 'kosma-tui account enable' turns it back on."
        )
    return 0


def run_remove(args: argparse.Namespace, runtime: Runtime) -> int:
    from kosma_tui.core.admin import find_account, remove_account
    from kosma_tui.core.errors import UsageError

    store = runtime.store
    account = find_account(store, args.name)
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError(
                f"Removing '{account.name}' deletes its local transactions, and "
                "there is no terminal to ask.",
                "Add --yes to remove it.",
            )
        count = store.book(account).count()
        question = (
            f"Remove '{safe_text(account.name)}' and its {count:,} local "
            "transactions? ERPNext is not touched."
        )
        if not confirm(question):
            print("Nothing was removed.")
            return 0
    removed, count = remove_account(store, account.name)
    if args.json:
        print_json({"removed": removed.name, "transactions": count})
    else:
        print(
            f"Removed '{safe_text(removed.name)}' and its {count:,} local transactions; "
            "ERPNext was not touched."
        )
    return 0


def run_set_lid(args: argparse.Namespace, runtime: Runtime) -> int:
    from kosma_tui.core.admin import find_account
    from kosma_tui.core.sync import consent_of, set_last_integration_date

    value = validation.iso_date(args.date, "Last Integration Date")
    store = runtime.store
    account = set_last_integration_date(store, find_account(store, args.name).name, value)
    print(
        f"Last Integration Date of {safe_text(account.name)} is now "
        f"{account.last_integration_date}."
    )
    consent = consent_of(store, account)
    if (
        consent is not None
        and consent.consent_start
        and account.last_integration_date < consent.consent_start
    ):
        print(
            f"Note: it is still before the Consent Start Date ({consent.consent_start}), "
            "so a sync stays refused until you re-link or move it."
        )
    elif consent is not None:
        from kosma_tui.core.sync.coverage import unread_before

        gap = unread_before(store, account, consent)
        if gap is not None:
            print(
                f"The days {gap['from']} to {gap['to']} were never read; the next sync "
                "records them as a gap in the account's coverage ('kosma-tui status')."
            )
    return 0
