"""``kosma-tui account``: per-account actions; today the Last Integration Date remedy."""

from __future__ import annotations

import argparse

from kosma_tui.commands.base import open_store, safe_text
from kosma_tui.core import validation


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("account", help="change a bank account (Last Integration Date)")
    asub = p.add_subparsers(dest="account_command", metavar="ACTION", required=True,
                            parser_class=type(p))
    lid = asub.add_parser(
        "set-last-integration-date",
        help="set where the next sync starts (the remedy for the consent-start conflict)",
        description="Set the Last Integration Date of a bank account; the next sync reads "
        "from it (minus the lookback days). Not in the future.",
    )
    lid.add_argument("name", metavar="NAME", help="the bank account")
    lid.add_argument("date", metavar="D", help="the new date, YYYY-MM-DD")
    lid.set_defaults(func=run_set_lid)


def run_set_lid(args: argparse.Namespace) -> int:
    from kosma_tui.core.sync import consent_of, set_last_integration_date

    value = validation.iso_date(args.date, "Last Integration Date")
    store = open_store()
    account = set_last_integration_date(store, args.name, value)
    print(f"Last Integration Date of {safe_text(account.name)} is now "
          f"{account.last_integration_date}.")
    consent = consent_of(store, account)
    if consent is not None and consent.consent_start and \
            account.last_integration_date < consent.consent_start:
        print(f"Note: it is still before the Consent Start Date ({consent.consent_start}), "
              "so a sync stays refused until you re-link or move it.")
    return 0
