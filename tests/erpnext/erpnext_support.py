"""Helpers for the ERPNext tests: the seeded site, accounts and transaction rows."""

from __future__ import annotations

from typing import Any

from frappe_double import API_KEY, API_SECRET, FrappeDouble

COMPANY = "ACME GmbH"
IBAN = "DE89370400440532013000"
IBAN_SPACED = "DE89 3704 0044 0532 0130 00"
OTHER_IBAN = "DE02120300000000202051"
ACCOUNT = "Main (ACME GmbH)"
BANK = "Demo Bank"
ERP_BANK_ACCOUNT = "Main - Demo Bank"


def seed_site(double: FrappeDouble) -> None:
    double.seed_company(COMPANY, "AG", country="Germany", currency="EUR")
    double.seed_fiscal_year("2025-2026", "2025-04-01", "2026-03-31")
    double.seed_account("Bank - AG", COMPANY, "Bank", "EUR")
    double.seed_account("Second Bank - AG", COMPANY, "Bank", "EUR")
    double.seed_account("Debtors - AG", COMPANY, "Receivable", "EUR")
    double.seed_bank(BANK)
    double.seed_bank_account("Main", BANK, COMPANY, IBAN_SPACED, "Bank - AG")
    double.seed("Customer", "Globex", customer_name="Globex")


def connect_store(store: Any, double: FrappeDouble) -> None:
    from kosma_tui.core.records import ErpnextConnection

    store.save_erpnext(
        ErpnextConnection(url=double.url, api_key=API_KEY, api_secret=API_SECRET, server_timeout=1)
    )


def add_account(
    store: Any, name: str = ACCOUNT, iban: str = IBAN, currency: str = "EUR", company: str = COMPANY
) -> Any:
    from kosma_tui.core.records import Bank, BankAccount, Company

    if store.company(company) is None:
        store.save_company(Company(company, "DE", "01-01", "EUR"))
    if store.bank(BANK) is None:
        store.save_bank(Bank(BANK, swift_number="DEMODEFFXXX", country_code="DE"))
    account = BankAccount(name=name, bank=BANK, company=company, iban=iban, currency=currency)
    store.save_account(account)
    return store.account(name)


def row(
    account: str,
    n: int,
    *,
    status: str = "Settled",
    deposit: int = 0,
    withdrawal: int = 0,
    currency: str = "EUR",
    tid: str | None = None,
    day: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A Bank Transaction row as sync stores it (INTERFACES "Transaction row")."""
    if not deposit and not withdrawal:
        deposit = 1000 + n
    data = {
        "bank_account": account,
        "date": day or f"2025-{1 + n % 12:02d}-{1 + n % 28:02d}",
        "deposit": deposit,
        "withdrawal": withdrawal,
        "currency": currency,
        "transaction_id": f"tx-{n:06d}" if tid is None else tid,
        "reference_number": f"E2E-{n}",
        "description": f"Invoice {n}",
        "bank_party_name": "Globex Corp",
        "bank_party_iban": OTHER_IBAN,
        "bank_party_account_number": "",
        "status": status,
        "party_type": "",
        "party": "",
        "erpnext_name": "",
        "raw": {"transaction_id": f"tx-{n:06d}"},
    }
    data.update(extra)
    return data


def add_rows(store: Any, rows: list[dict[str, Any]], account: str = ACCOUNT) -> None:
    store.book(store.account(account)).append(rows)


def rows_of(store: Any, account: str = ACCOUNT) -> dict[str, dict[str, Any]]:
    return {r["transaction_id"]: r for r in store.book(store.account(account)).rows()}
