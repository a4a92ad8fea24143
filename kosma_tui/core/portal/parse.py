"""Protocol objects read into results: accounts, balances, transaction pages.

Each reader is strict (``core.reader``): a field of the wrong type is a
PortalProtocolError naming where it was found.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kosma_tui.core.errors import PortalProtocolError
from kosma_tui.core.portal.results import (
    Amount,
    Balances,
    NextPage,
    PortalAccount,
    TransactionPage,
)
from kosma_tui.core.reader import Reader


def amount(reader: Reader | None) -> Amount | None:
    if reader is None:
        return None
    value = reader.data.get("amount")
    if type(value) is not int:
        raise reader.fail("amount", "not a whole number of minor units")
    return Amount(value, reader.text("currency"))


def parse_account(raw: Any, where: str = "account") -> PortalAccount:
    r = Reader(raw, where)
    available = True
    capabilities = r.opt_obj("capabilities")
    if capabilities is not None:
        transactions = capabilities.opt_obj("transactions")
        if transactions is not None and "available" in transactions.data:
            flag = transactions.data["available"]
            if not isinstance(flag, bool):
                raise transactions.fail("available", "not true or false")
            available = flag
    return PortalAccount(
        id=r.text("id"),
        alias=r.opt_text("alias"),
        iban=r.opt_text("iban"),
        account_number=r.opt_text("account_number"),
        holder_name=r.opt_text("holder_name"),
        bank_code=r.opt_text("bank_code"),
        bic=r.opt_text("bic"),
        national_branch_code=r.opt_text("national_branch_code"),
        bank_name=r.opt_text("bank_name"),
        account_type=r.opt_text("account_type"),
        transfer_type=r.opt_text("transfer_type"),
        balance=amount(r.opt_obj("balance")),
        transactions_available=available,
        raw=r.data,
    )


def accounts(items: list[Any], where: str) -> list[PortalAccount]:
    return [parse_account(item, f"{where}[{i}]") for i, item in enumerate(items)]


def consent_accounts(result: Reader) -> list[PortalAccount]:
    return accounts(result.items("accounts"), "result.accounts")


def balances(result: Reader) -> Balances:
    return Balances(
        available=amount(result.opt_obj("available")),
        booked=amount(result.opt_obj("booked")),
        date=result.opt_text("date"),
    )


def transaction_page(result: Reader) -> TransactionPage:
    transactions = result.items("transactions")
    for i, item in enumerate(transactions):
        if type(item) is not dict:
            raise PortalProtocolError(f"result.transactions[{i}] is not an object")
    pagination = result.opt_obj("pagination")
    if pagination is None:
        return TransactionPage(transactions, None)
    offset = pagination.obj("next").data.get("offset")
    if offset is None or isinstance(offset, bool) or not isinstance(offset, int | str):
        raise pagination.fail("next.offset", "missing or not a number or text")
    return TransactionPage(transactions, NextPage(pagination.text("url"), offset))


# the consent calls a journalled call may be replayed as, by name
CONSENT_PARSERS: dict[str, Callable[[Reader], Any]] = {
    "fetch_consent_accounts": consent_accounts,
    "fetch_consent_balances": balances,
    "fetch_consent_transactions": transaction_page,
}
