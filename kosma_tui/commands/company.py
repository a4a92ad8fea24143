"""``kosma-tui company``: the companies that own bank accounts."""

from __future__ import annotations

import argparse
from typing import Any

from kosma_tui.commands.base import print_header, print_json, safe_text
from kosma_tui.core import messages, validation
from kosma_tui.core.errors import UsageError
from kosma_tui.core.records import Company
from kosma_tui.runtime import Runtime


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("company", help="add, change or list companies")
    csub = p.add_subparsers(
        dest="company_command", metavar="ACTION", required=True, parser_class=type(p)
    )
    add = csub.add_parser("add", help="add a company")
    add.add_argument("name")
    add.add_argument("--country", required=True, help="ISO 3166 country code, e.g. DE")
    add.add_argument("--fiscal-year-start", default="01-01", help="MM-DD (default 01-01)")
    add.add_argument("--currency", default="EUR", help="default currency (default EUR)")
    add.set_defaults(func=run_add)
    change = csub.add_parser("set", help="change a company's country, fiscal year or currency")
    change.add_argument("name")
    change.add_argument("--country")
    change.add_argument("--fiscal-year-start")
    change.add_argument("--currency")
    change.set_defaults(func=run_set)
    listing = csub.add_parser("list", help="list companies")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=run_list)


def _find(store: Any, name: str) -> Company | None:
    """The company called ``name``, compared regardless of case (names are unique so)."""
    wanted = validation.company_key(name)
    return next((c for c in store.companies() if validation.company_key(c.name) == wanted), None)


def run_add(args: argparse.Namespace, runtime: Runtime) -> int:
    name = validation.company_name(args.name)
    company = Company(
        name=name,
        country=validation.country(args.country),
        fiscal_year_start=validation.fiscal_year_start(args.fiscal_year_start),
        default_currency=validation.currency(args.currency),
    )
    store = runtime.store
    with store.locked():
        existing = _find(store, name)
        if existing is not None:
            same = "" if existing.name == name else " (names are compared regardless of case)"
            raise UsageError(
                f"Company '{existing.name}' already exists{same}; change it with "
                f"'kosma-tui company set'."
            )
        store.save_company(company)
    print(
        f"Added company {name} ({company.country}, fiscal year from "
        f"{company.fiscal_year_start}, {company.default_currency})."
    )
    return 0


def run_set(args: argparse.Namespace, runtime: Runtime) -> int:
    store = runtime.store
    with store.locked():
        company = store.company(args.name) or _find(store, args.name)
        if company is None:
            raise messages.no_company(args.name)
        if args.country is not None:
            company.country = validation.country(args.country)
        if args.fiscal_year_start is not None:
            company.fiscal_year_start = validation.fiscal_year_start(args.fiscal_year_start)
        if args.currency is not None:
            company.default_currency = validation.currency(args.currency)
        store.save_company(company)
    print(
        f"Saved company {company.name} ({company.country}, fiscal year from "
        f"{company.fiscal_year_start}, {company.default_currency})."
    )
    return 0


def run_list(args: argparse.Namespace, runtime: Runtime) -> int:
    store = runtime.store
    companies = sorted(store.companies(), key=lambda c: c.name.casefold())
    if args.json:
        print_json({"demo": store.settings().demo, "companies": [c.to_dict() for c in companies]})
        return 0
    print_header(store, "Companies")
    if not companies:
        print("No companies yet: add one with 'kosma-tui company add NAME --country CC'.")
    for c in companies:
        print(
            f"  {safe_text(c.name):<30} {c.country}  fiscal year from {c.fiscal_year_start}  "
            f"{c.default_currency}"
        )
    return 0
