"""ERPNext Companies become (or update) local Companies.

Name, country (ERPNext's country name mapped to its ISO code), default
currency, and the start of the fiscal year that contains today, so the Link
wizard's Start Date default matches ERPNext. A Fiscal Year whose Companies
table lists the company wins over one that applies to every company (an
empty table), as in ERPNext's own ``get_fiscal_years``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from kosma_tui.core import clock
from kosma_tui.core.erpnext.client import ErpnextClient
from kosma_tui.core.erpnext.countries import iso_code
from kosma_tui.core.records import Company
from kosma_tui.core.validation import company_key


@dataclass
class CompanyImport:
    name: str
    country: str
    default_currency: str
    fiscal_year_start: str
    fiscal_year: str  # the ERPNext Fiscal Year it came from, "" if none contains today
    action: str  # "created" | "updated" | "unchanged" | "skipped"
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "country": self.country,
            "default_currency": self.default_currency,
            "fiscal_year_start": self.fiscal_year_start,
            "fiscal_year": self.fiscal_year or None,
            "action": self.action,
            "note": self.note or None,
        }


def current_fiscal_years(client: ErpnextClient, today: date) -> list[tuple[dict, list[str]]]:
    """Enabled Fiscal Years containing ``today`` with the companies each is limited to."""
    rows = client.get_list(
        "Fiscal Year",
        fields=("name", "year_start_date", "year_end_date", "disabled"),
        filters=[
            ["year_start_date", "<=", today.isoformat()],
            ["year_end_date", ">=", today.isoformat()],
            ["disabled", "=", 0],
        ],
        order_by="year_start_date desc",
    )
    out = []
    for row in rows:
        # The Companies child table only comes with the whole document.
        doc = client.get_doc("Fiscal Year", row["name"]) or {}
        companies = [c.get("company") for c in doc.get("companies") or [] if c.get("company")]
        out.append((row, companies))
    return out


def fiscal_year_for(company: str, years: list[tuple[dict, list[str]]]) -> dict | None:
    own = [row for row, companies in years if company in companies]
    shared = [row for row, companies in years if not companies]
    found = own or shared
    return found[0] if found else None


def import_companies(
    store: Any, client: ErpnextClient, *, today: date | None = None
) -> list[CompanyImport]:
    today = today or clock.today()
    rows = client.get_list("Company", fields=("name", "country", "default_currency"))
    years = current_fiscal_years(client, today)
    site_codes: dict[str, str] | None = None
    results: list[CompanyImport] = []
    plans: list[tuple[Company, CompanyImport]] = []
    existing_by_key = {company_key(c.name): c for c in store.companies()}
    for row in rows:
        name = str(row["name"])
        country_name = str(row.get("country") or "")
        code = iso_code(country_name)
        if code is None and country_name and site_codes is None:
            site_codes = {
                r["name"]: r.get("code") or ""
                for r in client.get_list("Country", fields=("name", "code"))
            }
        code = code or iso_code(country_name, site_codes)
        existing = existing_by_key.get(company_key(name))
        if existing is not None and existing.name != name:
            # Company names are unique regardless of case here; a second 'ACME GmbH' beside
            # 'acme gmbh' would split one company's accounts and consents in two.
            results.append(
                CompanyImport(
                    name,
                    existing.country,
                    existing.default_currency,
                    existing.fiscal_year_start,
                    "",
                    "skipped",
                    f"a company '{existing.name}' exists here already and names are compared "
                    "regardless of case; it is kept as it is",
                )
            )
            continue
        year = fiscal_year_for(name, years)
        start = existing.fiscal_year_start if existing else "01-01"
        note = ""
        if year is not None:
            start = str(year["year_start_date"])[5:10]
        else:
            note = f"no enabled Fiscal Year in ERPNext contains {today.isoformat()}; kept {start}"
        currency = str(
            row.get("default_currency") or (existing.default_currency if existing else "EUR")
        )
        if code is None:
            results.append(
                CompanyImport(
                    name,
                    "",
                    currency,
                    start,
                    "",
                    "skipped",
                    f"ERPNext's country '{country_name}' has no known ISO code; add the company "
                    "with 'kosma-tui company add'"
                    if country_name
                    else "it has no country in ERPNext; set one there first",
                )
            )
            continue
        company = Company(
            name=name, country=code, fiscal_year_start=start, default_currency=currency
        )
        if existing is None:
            action = "created"
        elif existing.to_dict() == company.to_dict():
            action = "unchanged"
        else:
            action = "updated"
        item = CompanyImport(
            name, code, currency, start, str(year["name"]) if year else "", action, note
        )
        results.append(item)
        if action != "unchanged":
            plans.append((company, item))
    with store.locked():
        for company, _item in plans:
            store.save_company(company)
    return results
