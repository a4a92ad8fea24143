"""A FINISHED link stored: the Bank (once), its Bank Accounts and the Bank Consent.

Accounts are matched to stored ones by IBAN (else account number); names
follow ERPNext (``alias (holder)``) and stay unique.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from kosma_tui.core import clock, identifiers
from kosma_tui.core.errors import PortalError, UsageError
from kosma_tui.core.linking.company import company_or_error
from kosma_tui.core.records import Bank, BankAccount, BankConsent

if TYPE_CHECKING:
    from kosma_tui.core.portal import BankData, LinkResult, PortalAccount
    from kosma_tui.core.store import Store


@dataclass
class LinkSummary:
    bank: Bank
    added: list[BankAccount]
    updated: list[BankAccount]
    consent: BankConsent
    days_left: int
    bank_created: bool = False
    start: date | None = None  # the Start Date the consent was asked for
    warnings: list[str] = field(default_factory=list)  # sentences to show with the summary
    # stored accounts of this bank and company the new consent does not cover
    not_covered: list[BankAccount] = field(default_factory=list)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _clean(text: str) -> str:
    """Bank text fit for a record name: no control characters, single spaces."""
    return " ".join(_CONTROL.sub(" ", text).split())


def bank_record_name(bank: BankData) -> str:
    """The name of the Bank record for the portal's bank data."""
    return _clean(bank.bank_name) or _clean(bank.bic) or "Bank"


def account_name(account: PortalAccount, tag: str = "") -> str:
    """``alias (holder)`` as in ERPNext; ``tag`` (set apart the same alias at another
    bank or company) goes right after the alias, where a column cut to width still shows it."""
    alias = _clean(account.alias) or _clean(account.account_type).title() or "Account"
    if tag:
        alias = f"{alias} {tag}"
    holder = _clean(account.holder_name)
    return f"{alias} ({holder})" if holder else alias


def _unique_name(account: PortalAccount, taken: set[str]) -> str:
    """The account's name; a taken one gets the end of its IBAN (what an admin tells
    accounts apart by), then a number."""
    base = account_name(account)
    if base not in taken:
        return base
    number = _clean(account.iban or account.account_number).replace(" ", "")
    if len(number) >= 4:
        tagged = account_name(account, f"…{number[-4:]}")
        if tagged not in taken:
            return tagged
    counter = 2
    while account_name(account, str(counter)) in taken:
        counter += 1
    return account_name(account, str(counter))


def _same_account(stored: BankAccount, account: PortalAccount) -> bool:
    return identifiers.same_account(
        stored.iban, stored.bank_account_no, account.iban, account.account_number
    )


def _account_fields(account: PortalAccount, bank: str, currency: str) -> dict[str, Any]:
    return {
        "bank": bank,
        "iban": identifiers.compact(account.iban),
        "bank_account_no": account.account_number,
        "branch_code": account.national_branch_code,
        "kosma_account_id": account.id,
        "currency": account.balance.currency if account.balance else currency,
        "account_type": account.account_type,
    }


def save_link(
    store: Store,
    company: str,
    result: LinkResult,
    account_ids: list[str] | None = None,
    *,
    session_id: str = "",
) -> LinkSummary:
    """Bank (once), Bank Accounts (matched by IBAN) and the Bank Consent of a FINISHED link.

    ``account_ids``: the returned accounts to add (None: all). Accounts already
    stored for this company are always brought up to date, chosen or not: the
    new consent replaces the old one, so their old ``kosma_account_id`` is dead.
    """
    record = company_or_error(store, company)
    bank_name = bank_record_name(result.bank)
    if not result.consent.consent_expiry:
        raise PortalError("PROTOCOL", "The banking portal sent no consent expiry.")
    chosen = None if account_ids is None else set(account_ids)
    known_ids = {a.id for a in result.accounts}
    if chosen is not None and not chosen <= known_ids:
        raise UsageError("Choose accounts among the ones the bank returned.")
    with store.locked():
        bank = store.bank(bank_name)
        created = bank is None
        if bank is None:
            bank = Bank(
                name=bank_name,
                swift_number=result.bank.bic,
                bank_code=result.bank.bank_code,
                country_code=result.bank.country_code,
            )
            store.save_bank(bank)
        stored = store.accounts(company=company)
        taken = {a.name for a in store.accounts()}
        added: list[BankAccount] = []
        updated: list[BankAccount] = []
        for account in result.accounts:
            fields = _account_fields(account, bank.name, record.default_currency)
            match = next((a for a in stored if _same_account(a, account)), None)
            if match is not None:
                for key, value in fields.items():
                    if value or key == "kosma_account_id":
                        setattr(match, key, value)
                store.save_account(match)
                updated.append(match)
            elif chosen is None or account.id in chosen:
                new = BankAccount(
                    name=_unique_name(account, taken),
                    company=company,
                    last_integration_date="",  # the first sync starts at the consent start
                    **fields,
                )
                taken.add(new.name)
                store.save_account(new)
                added.append(store.account(new.name) or new)
        seen = {a.name for a in updated}
        not_covered = [a for a in stored if a.bank == bank.name and a.name not in seen]
        consent = BankConsent(
            name=BankConsent.name_for(bank.name, company),
            bank=bank.name,
            company=company,
            consent_id=result.consent.consent_id,
            consent_start=result.consent.consent_start,
            consent_expiry=result.consent.consent_expiry,
            consent_token=result.consent.consent_token,
            session_id=session_id,
        )
        store.save_consent(consent)
    expiry = datetime.fromisoformat(consent.consent_expiry)
    warnings = []
    if not_covered:
        listed = ", ".join(a.name for a in not_covered)
        warnings.append(
            f"The bank did not return {listed} in this login, and the new Bank Consent "
            f"replaces the old one, so they cannot be synced until a login that returns "
            f"them links {bank.name} again."
        )
    return LinkSummary(
        bank=bank,
        added=added,
        updated=updated,
        consent=consent,
        days_left=clock.days_left(expiry),
        bank_created=created,
        start=date.fromisoformat(consent.consent_start) if consent.consent_start else None,
        warnings=warnings,
        not_covered=not_covered,
    )
