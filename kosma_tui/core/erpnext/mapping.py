"""Which ERPNext Bank Account each local Bank Account feeds.

Found by IBAN by default (spaces and case ignored, since ERPNext keeps the
IBAN as typed), set by hand, or created in ERPNext: the Bank if missing, then
a company Bank Account on a GL Account of type Bank. The mapping is stored on
``BankAccount.erpnext_bank_account``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kosma_tui.core import messages
from kosma_tui.core.erpnext.client import ErpnextAuthError, ErpnextClient, ErpnextRejected
from kosma_tui.core.errors import UsageError
from kosma_tui.core.identifiers import compact
from kosma_tui.core.records import BankAccount

BANK_ACCOUNT_FIELDS = (
    "name",
    "account_name",
    "bank",
    "account",
    "company",
    "is_company_account",
    "iban",
    "bank_account_no",
    "disabled",
)


@dataclass
class Mapping:
    account: str
    bank_account: str  # ERPNext Bank Account name, "" when unmapped
    how: str  # "stored" | "iban" | "manual" | "created" | "adopted" | "unmapped"
    reason: str = ""  # why it is unmapped

    @property
    def problem(self) -> str:
        """The sentence (without its full stop) when unmapped."""
        if self.bank_account:
            return ""
        return f"Account '{self.account}' is not mapped to an ERPNext Bank Account: {self.reason}"

    def as_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "erpnext_bank_account": self.bank_account or None,
            "how": self.how,
            "problem": self.reason or None,
        }


class BankAccounts:
    """ERPNext's Bank Accounts, read once (a site has a handful)."""

    def __init__(self, client: ErpnextClient) -> None:
        self.rows = client.get_list("Bank Account", fields=BANK_ACCOUNT_FIELDS)
        self.by_name = {row["name"]: row for row in self.rows}

    def with_iban(self, iban: str) -> list[dict[str, Any]]:
        wanted = compact(iban)
        if not wanted:
            return []
        return [
            row
            for row in self.rows
            if compact(row.get("iban")) == wanted and not row.get("disabled")
        ]

    def resolve(self, account: BankAccount) -> Mapping:
        """The stored mapping if ERPNext still has it, else the one company account by IBAN.

        Never a Bank Account of another company: its transactions would be booked there.
        """
        if account.erpnext_bank_account:
            row = self.by_name.get(account.erpnext_bank_account)
            if row is None:
                return Mapping(
                    account.name,
                    "",
                    "unmapped",
                    f"it was mapped to '{account.erpnext_bank_account}', which "
                    "ERPNext does not have (any more)",
                )
            if not same_company(row, account):
                return Mapping(
                    account.name,
                    "",
                    "unmapped",
                    f"it is mapped to '{row['name']}', which belongs to company "
                    f"'{row.get('company')}', not to '{account.company}'",
                )
            return Mapping(account.name, account.erpnext_bank_account, "stored")
        everywhere = self.with_iban(account.iban)
        found = [row for row in everywhere if same_company(row, account)]
        if everywhere and not found:
            return Mapping(
                account.name,
                "",
                "unmapped",
                f"the ERPNext Bank Account with its IBAN ('{everywhere[0]['name']}') "
                f"belongs to company '{everywhere[0].get('company')}', not to "
                f"'{account.company}'",
            )
        company = [row for row in found if row.get("is_company_account")]
        candidates = company or found
        if len(candidates) == 1:
            return Mapping(account.name, candidates[0]["name"], "iban")
        if not candidates:
            why = (
                f"no ERPNext Bank Account has its IBAN {account.iban}"
                if account.iban
                else "it has no IBAN to find it by"
            )
        else:
            names = ", ".join(f"'{row['name']}'" for row in candidates)
            why = f"several ERPNext Bank Accounts have its IBAN ({names})"
        return Mapping(account.name, "", "unmapped", why)


def same_company(row: dict[str, Any], account: BankAccount) -> bool:
    """An ERPNext Bank Account without a company (a party's) is left to the other checks."""
    return not row.get("company") or row.get("company") == account.company


def unmapped_remedy(names: list[str]) -> str:
    first = names[0] if names else "ACCOUNT"
    return (
        f"Map it with 'kosma-tui erpnext map \"{first}\" --bank-account NAME', or create "
        "it in ERPNext with '--create --gl-account NAME'."
    )


def local_account(store: Any, name: str) -> BankAccount:
    account = store.account(name)
    if account is None:
        raise messages.no_bank_account(name, [a.name for a in store.accounts()])
    return account


def map_by_iban(store: Any, client: ErpnextClient, name: str) -> Mapping:
    """Find the account's ERPNext Bank Account by IBAN and store it."""
    account = local_account(store, name)
    mapping = BankAccounts(client).resolve(
        BankAccount.from_dict({**account.to_dict(), "erpnext_bank_account": ""})
    )
    if not mapping.bank_account:
        raise UsageError(mapping.problem + ".", unmapped_remedy([name]))
    store.update_account(account.name, erpnext_bank_account=mapping.bank_account)
    return mapping


def map_to(store: Any, client: ErpnextClient, name: str, bank_account: str) -> Mapping:
    """Map by hand to an existing ERPNext Bank Account."""
    account = local_account(store, name)
    doc = client.get_doc("Bank Account", bank_account)
    if doc is None:
        raise UsageError(
            f"ERPNext has no Bank Account named '{bank_account}'; nothing was changed.",
            "Check the name in ERPNext under Accounting > Bank Account.",
        )
    if not doc.get("is_company_account"):
        raise UsageError(
            f"ERPNext Bank Account '{bank_account}' is not a company account, so "
            "Bank Reconciliation will not use it; nothing was changed.",
            "Tick 'Is Company Account' on it in ERPNext, or choose another.",
        )
    if doc.get("company") != account.company:
        raise UsageError(
            f"ERPNext Bank Account '{bank_account}' belongs to company "
            f"'{doc.get('company')}', not to '{account.company}' (the company of "
            f"'{account.name}'); nothing was changed.",
            "Choose a Bank Account of that company.",
        )
    store.update_account(account.name, erpnext_bank_account=doc["name"])
    return Mapping(account.name, doc["name"], "manual")


def create_and_map(store: Any, client: ErpnextClient, name: str, gl_account: str) -> Mapping:
    """Create the Bank (if missing) and a company Bank Account in ERPNext, then map it.

    Every check runs before anything is created.
    """
    account = local_account(store, name)
    gl = client.get_doc("Account", gl_account)
    if gl is None:
        raise UsageError(
            f"ERPNext has no Account named '{gl_account}'; nothing was created.",
            "Use the full account name as ERPNext shows it, e.g. 'Bank - AC'.",
        )
    if gl.get("account_type") != "Bank" or gl.get("is_group"):
        raise UsageError(
            f"ERPNext Account '{gl_account}' is not a ledger of account type "
            f"Bank (it is {gl.get('account_type') or 'untyped'}"
            f"{', a group' if gl.get('is_group') else ''}); nothing was created.",
            "Choose a Bank account from the Chart of Accounts.",
        )
    if gl.get("company") != account.company:
        raise UsageError(
            f"ERPNext Account '{gl_account}' belongs to company "
            f"'{gl.get('company')}', not to '{account.company}'; nothing was "
            "created.",
            "Choose a Bank account of that company.",
        )
    if gl.get("account_currency") and gl["account_currency"] != account.currency:
        raise UsageError(
            f"ERPNext Account '{gl_account}' is kept in "
            f"{gl['account_currency']}, the bank account in {account.currency}; "
            "nothing was created.",
            "Choose an account in the same currency.",
        )
    if client.get_doc("Company", account.company) is None:
        raise UsageError(
            f"ERPNext has no Company named '{account.company}'; nothing was created.",
            "Run 'kosma-tui erpnext import-companies' to use ERPNext's company names.",
        )
    existing = BankAccounts(client)
    wanted = f"{account.name} - {account.bank}"  # the name ERPNext gives the new one
    same_name = existing.by_name.get(wanted)
    if same_name is not None:
        if (
            same_name.get("account") == gl_account
            and same_name.get("is_company_account")
            and same_company(same_name, account)
        ):
            store.update_account(account.name, erpnext_bank_account=wanted)
            return Mapping(account.name, wanted, "adopted")
        raise UsageError(
            f"ERPNext already has a Bank Account named '{wanted}' (on GL account "
            f"'{same_name.get('account') or 'none'}' of company "
            f"'{same_name.get('company') or 'none'}'); nothing was created.",
            f'If it is this account, map to it with --bank-account "{wanted}"; '
            "otherwise rename one of them.",
        )
    for row in existing.with_iban(account.iban):
        if row.get("is_company_account"):
            raise UsageError(
                f"ERPNext already has Bank Account '{row['name']}' with IBAN "
                f"{account.iban}; nothing was created.",
                f'Map to it with --bank-account "{row["name"]}".',
            )
    for row in existing.rows:
        if row.get("account") == gl_account:
            raise UsageError(
                f"ERPNext Account '{gl_account}' is already used by Bank Account "
                f"'{row['name']}'; nothing was created.",
                f'Map to that one with --bank-account "{row["name"]}", or use another GL account.',
            )
    doc = {
        "doctype": "Bank Account",
        "account_name": account.name,
        "bank": account.bank,
        "account": gl_account,
        "company": account.company,
        "is_company_account": 1,
        "iban": compact(account.iban),
        "bank_account_no": account.bank_account_no,
        "branch_code": account.branch_code,
    }
    doc = {k: v for k, v in doc.items() if v not in ("", None)}
    try:
        try:
            created = client.insert(doc)
        except ErpnextRejected as exc:
            # Reading Bank needs System Manager; the missing link is how we learn of it.
            if exc.exc_type != "LinkValidationError" or "Bank:" not in exc.erpnext_message:
                raise
            create_bank(store, client, account)
            created = client.insert(doc)
    except ErpnextRejected as exc:
        raise UsageError(f"ERPNext refused the Bank Account: {exc.erpnext_message}.") from None
    store.update_account(account.name, erpnext_bank_account=created["name"])
    return Mapping(account.name, created["name"], "created")


def create_bank(store: Any, client: ErpnextClient, account: BankAccount) -> None:
    bank = store.bank(account.bank)
    doc = {"doctype": "Bank", "bank_name": account.bank}
    if bank is not None and bank.swift_number:
        doc["swift_number"] = bank.swift_number
    try:
        client.insert(doc)
    except ErpnextAuthError:
        raise UsageError(
            f"ERPNext has no Bank named '{account.bank}', and only a System "
            "Manager may create one; nothing was created.",
            f"Ask a System Manager to create Bank '{account.bank}' in ERPNext "
            "(Accounting > Bank), then run this again.",
        ) from None
