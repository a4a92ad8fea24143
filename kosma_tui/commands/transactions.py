"""``kosma-tui transactions``: list or export Bank Transactions.

``table`` is for people (newest first, amounts signed with the currency's
exponent, bank text made safe for the terminal); ``csv`` and ``json`` are
Bank Transaction records with the field names of DESIGN 1: JSON keeps
amounts in minor units and bank text exactly, CSV formats amounts with the
currency's exponent and writes control characters in bank text as escapes.
"""

from __future__ import annotations

import argparse
import csv
import heapq
import sys
from collections.abc import Iterator
from typing import Any

from kosma_tui.commands.base import fit, print_header
from kosma_tui.core import validation
from kosma_tui.core.money import format_amount
from kosma_tui.core.records import TRANSACTION_FIELDS
from kosma_tui.core.text import safe_json, safe_text
from kosma_tui.runtime import Runtime


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "transactions",
        help="list or export Bank Transactions",
        description="List or export Bank Transactions, newest first.",
    )
    p.add_argument("--account", metavar="NAME", help="one bank account (default: all)")
    p.add_argument("--since", metavar="D", help="only transactions dated D (YYYY-MM-DD) or later")
    p.add_argument(
        "--format",
        choices=("table", "csv", "json"),
        default="table",
        help="table (default), csv or json",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace, runtime: Runtime) -> int:
    since = (
        validation.iso_date(args.since, "--since date").isoformat()
        if args.since is not None
        else ""
    )
    store = runtime.store
    if args.account is not None:
        from kosma_tui.core.admin import find_account

        accounts = [find_account(store, args.account)]
    else:
        accounts = store.accounts()
    rows = _rows(store, accounts, since)
    out = sys.stdout
    if args.format == "json":
        _write_json(rows, out)
    elif args.format == "csv":
        _write_csv(rows, out)
    else:
        print_header(store, "Transactions")
        several = len(accounts) > 1  # then each line says whose it is
        out.write((f"{'account':<{ACCOUNT_CELLS}} " if several else "") + TABLE_HEADING + "\n")
        count = 0
        for row in rows:
            whose = f"{fit(row.get('bank_account', ''), ACCOUNT_CELLS)} " if several else ""
            out.write(whose + _table_line(row) + "\n")
            count += 1
        out.write(f"{count:,} transaction(s)" + (f" since {since}" if since else "") + ".\n")
    return 0


def _rows(store: Any, accounts: list[Any], since: str) -> Iterator[dict[str, Any]]:
    """Every row of ``accounts``, newest first, dated ``since`` or later."""

    def one(account: Any) -> Iterator[dict[str, Any]]:
        for row in store.book(account).rows(newest_first=True):
            if since and row["date"] < since:
                return
            yield row

    streams = [one(a) for a in accounts]
    if len(streams) == 1:
        return streams[0]
    return heapq.merge(*streams, key=lambda r: r["date"], reverse=True)


def _record(row: dict[str, Any]) -> dict[str, Any]:
    return {name: row.get(name, "") for name in TRANSACTION_FIELDS}


def _write_json(rows: Iterator[dict[str, Any]], out: Any) -> None:
    import orjson

    out.write("[")
    first = True
    for row in rows:
        out.write("\n  " if first else ",\n  ")
        out.write(safe_json(orjson.dumps(_record(row)).decode()))
        first = False
    out.write("\n]\n" if not first else "]\n")


# every text in CSV with control characters as \xNN escapes, so a CSV shown on a
# terminal cannot drive it: ids, currencies and dates come from the bank too (``raw``
# is JSON with them as JSON escapes; the JSON export is exact)
_CSV_TEXT = tuple(
    name for name in TRANSACTION_FIELDS if name not in ("deposit", "withdrawal", "raw")
)


def _write_csv(rows: Iterator[dict[str, Any]], out: Any) -> None:
    import orjson

    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(TRANSACTION_FIELDS)
    for row in rows:
        record = _record(row)
        currency = record["currency"] or "EUR"
        for name in ("deposit", "withdrawal"):
            record[name] = format_amount(int(record[name] or 0), currency, grouping=False)
        for name in _CSV_TEXT:
            record[name] = safe_text(record[name])
        record["raw"] = safe_json(orjson.dumps(record["raw"]).decode()) if record["raw"] else ""
        writer.writerow(record.values())


def _table_line(row: dict[str, Any]) -> str:
    currency = row.get("currency") or "EUR"
    deposit, withdrawal = int(row.get("deposit") or 0), int(row.get("withdrawal") or 0)
    amount = f"{format_amount(deposit - withdrawal, currency, sign=True)} {safe_text(currency)}"
    party = f"{row.get('party_type', '')}: {row['party']}" if row.get("party") else ""
    return (
        f"{fit(row['date'], 10)} {amount:>17}"
        f" {fit(row.get('bank_party_name', ''), 18)}"
        f" {fit(row.get('description', ''), 18)} {fit(row.get('status', ''), 9)}"
        f" {fit(party, 22)}"
    ).rstrip()


ACCOUNT_CELLS = 16
TABLE_HEADING = (
    f"{'date':<10} {'amount':>17} {'counterparty':<18} {'reference':<18} {'status':<9} party"
)
