"""``kosma-tui link``'s options: the parser, and the checks made before the portal is asked."""

from __future__ import annotations

import argparse
from typing import Any

from kosma_tui.core import validation
from kosma_tui.core.errors import UsageError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--company", required=True, help="the company that owns the accounts")
    p.add_argument(
        "--start-date",
        metavar="D",
        help="YYYY-MM-DD (default today; on a renewal with --bank the oldest Last Integration "
        "Date); an empty value means the start of the company's current fiscal year",
    )
    p.add_argument("--country", metavar="CC", help="the bank's country, by code or name")
    p.add_argument("--bank", metavar="NAME", help="the bank, by name, bank code or BIC")
    p.add_argument("--method", metavar="NAME", help="the login method, e.g. 'Demo Bank PSD2'")
    p.add_argument(
        "--accounts", choices=["all"], help="add every account the bank returns without asking"
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print the summary as JSON on standard output (the questions and "
        "notes go to standard error)",
    )


def stored_bank(store: Any, text: str | None) -> str | None:
    """The stored Bank named by ``text`` (name, bank code or BIC): a renewal."""
    if not text:
        return None
    wanted = text.strip().casefold()
    for bank in store.banks():
        if wanted in (
            bank.name.casefold(),
            bank.bank_code.casefold(),
            bank.swift_number.casefold(),
        ):
            return str(bank.name)
    return None


def check_country(text: str | None) -> None:
    """A two-letter --country must be an ISO code (checked before the portal is asked)."""
    if text is None:
        return
    value = text.strip()
    if not value:
        raise UsageError("--country is empty.", "Give a country code such as DE, or its name.")
    if len(value) == 2 and value.isalpha():
        validation.country(value)
