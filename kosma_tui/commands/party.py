"""``kosma-tui party``: the parties of automatic party matching."""

from __future__ import annotations

import argparse
from pathlib import Path

from kosma_tui.commands.base import print_header, print_json, safe_text
from kosma_tui.core import parties as party_rules
from kosma_tui.core.errors import UsageError
from kosma_tui.core.matching import rematch_account
from kosma_tui.runtime import Runtime


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("party", help="import, list, add or remove parties; match again")
    psub = p.add_subparsers(
        dest="party_command", metavar="ACTION", required=True, parser_class=type(p)
    )
    imp = psub.add_parser(
        "import",
        help="import parties from a CSV file "
        "(header: party_type,name,iban,account_number) or from ERPNext",
    )
    imp.add_argument("file", metavar="FILE.csv", nargs="?")
    imp.add_argument(
        "--from-erpnext",
        action="store_true",
        help="read Customers, Suppliers and Employees with their bank accounts' "
        "IBANs from the connected ERPNext",
    )
    imp.add_argument("--json", action="store_true", help="machine-readable output")
    imp.set_defaults(func=run_import)
    listing = psub.add_parser("list", help="list parties")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=run_list)
    add = psub.add_parser("add", help="add a party")
    add.add_argument("party_type", metavar="TYPE", help="Customer, Supplier or Employee")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--iban", action="append", default=[], help="an IBAN (repeatable)")
    add.add_argument(
        "--account-number", action="append", default=[], help="an account number (repeatable)"
    )
    add.set_defaults(func=run_add)
    remove = psub.add_parser("remove", help="remove a party (matched transactions keep it)")
    remove.add_argument("party_type", metavar="TYPE", help="Customer, Supplier or Employee")
    remove.add_argument("name", metavar="NAME")
    remove.set_defaults(func=run_remove)
    match = psub.add_parser(
        "match",
        help="match again the transactions of an account that have no party (after adding parties)",
    )
    match.add_argument("--account", required=True, metavar="NAME", help="the bank account")
    match.set_defaults(func=run_match)


def _count(number: int, one: str, many: str) -> str:
    return f"{number:,} {one if number == 1 else many}"


def run_import(args: argparse.Namespace, runtime: Runtime) -> int:
    if args.from_erpnext == bool(args.file):
        raise UsageError("Give either FILE.csv or --from-erpnext.")
    if args.from_erpnext:
        return _import_from_erpnext(args, runtime)
    path = Path(args.file).expanduser()
    parties = party_rules.read_csv(path)  # every line is checked before the store opens
    summary = party_rules.import_parties(runtime.store, parties)
    print(
        f"Imported {_count(summary.parties, 'party', 'parties')} from "
        f"{safe_text(path.name)} ({summary.new:,} new, {summary.parties - summary.new:,} "
        "updated)."
    )
    return 0


def _import_from_erpnext(args: argparse.Namespace, runtime: Runtime) -> int:
    from kosma_tui.core.erpnext.parties import import_from_erpnext

    store = runtime.store
    with runtime.erpnext() as client:
        result = import_from_erpnext(store, client)
    if args.json:
        print_json({"demo": store.settings().demo, **result.as_json()})
        return 0
    by_type = ", ".join(f"{n:,} {t}s" for t, n in result.read.items())
    print(
        f"Imported {_count(result.parties, 'party', 'parties')} from ERPNext ({by_type}; "
        f"{result.new:,} new) with {result.ibans:,} IBANs and {result.account_numbers:,} "
        "account numbers."
    )
    for note in result.notes:
        print(f"  {safe_text(note)}")
    return 0


def run_list(args: argparse.Namespace, runtime: Runtime) -> int:
    store = runtime.store
    parties = sorted(store.parties(), key=lambda p: (p.party_type, p.name.casefold()))
    if args.json:
        print_json({"demo": store.settings().demo, "parties": [p.to_dict() for p in parties]})
        return 0
    print_header(store, "Parties")
    if not parties:
        print(
            "No parties yet: import them with 'kosma-tui party import FILE.csv' or add one "
            "with 'kosma-tui party add TYPE NAME'."
        )
        return 0
    width = min(40, max(len(safe_text(p.name)) for p in parties))
    print(f"  {'TYPE':<9} {'NAME':<{width}}  IBANS / ACCOUNT NUMBERS")
    for p in parties:
        ids = ", ".join(safe_text(v) for v in [*p.ibans, *p.account_numbers]) or "-"
        print(f"  {p.party_type:<9} {safe_text(p.name):<{width}}  {ids}")
    print(_count(len(parties), "party", "parties"))
    return 0


def run_add(args: argparse.Namespace, runtime: Runtime) -> int:
    party = party_rules.make_party(args.party_type, args.name, args.iban, args.account_number)
    store = runtime.store
    party = party_rules.add_party(
        store, party.party_type, party.name, party.ibans, party.account_numbers
    )
    print(f"Added {party.party_type} {safe_text(party.name)}.")
    return 0


def run_remove(args: argparse.Namespace, runtime: Runtime) -> int:
    party_type = party_rules.check_party_type(args.party_type)
    store = runtime.store
    party = party_rules.delete_party(store, party_type, args.name)
    print(
        f"Removed {party.party_type} {safe_text(party.name)}; transactions already matched keep it."
    )
    return 0


def run_match(args: argparse.Namespace, runtime: Runtime) -> int:
    from kosma_tui.core.admin import find_account

    store = runtime.store
    args.account = find_account(store, args.account).name
    count = rematch_account(store, args.account)
    how = (
        ""
        if store.settings().enable_fuzzy_matching
        else (" (by IBAN and account number only: fuzzy matching is off)")
    )
    matched = _count(count, "transaction", "transactions")
    print(f"Matched {matched} of {safe_text(args.account)} to a party{how}.")
    return 0
