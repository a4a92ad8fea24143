"""``erpnext dedupe``: the later copies of a ``transaction_id`` ERPNext holds twice.

ERPNext does not keep ``transaction_id`` unique, so older clients (or a push
that lost an answer before the journal existed) may have left copies. Of each
id the copy to keep is a reconciled one if there is one, else the oldest; the
others are cancelled and deleted, unless they are reconciled: those are never
touched, only reported, since removing them would undo the admin's work. The
local row ends up pointing at the kept copy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kosma_tui.core.erpnext.client import ErpnextClient, ErpnextRejected
from kosma_tui.core.erpnext.documents import DOCTYPE, reconciled
from kosma_tui.core.erpnext.mapping import BankAccounts
from kosma_tui.core.records import BankAccount

FIELDS = ("name", "transaction_id", "docstatus", "status", "allocated_amount", "creation")


@dataclass
class Copies:
    transaction_id: str
    keep: str
    remove: list[str] = field(default_factory=list)
    reconciled: list[str] = field(default_factory=list)  # later copies left alone
    removed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # name -> ERPNext's message

    def as_json(self) -> dict[str, Any]:
        return {
            "transaction_id": self.transaction_id,
            "keep": self.keep,
            "remove": self.remove,
            "removed": self.removed,
            "left_reconciled": self.reconciled,
            "failed": [{"erpnext_name": n, "message": m} for n, m in self.failed.items()],
        }


@dataclass
class AccountCopies:
    name: str
    bank_account: str
    copies: list[Copies] = field(default_factory=list)
    problem: str = ""  # why it could not be checked (unmapped)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "erpnext_bank_account": self.bank_account or None,
            "problem": self.problem or None,
            "duplicates": [c.as_json() for c in self.copies],
        }


def find(client: ErpnextClient, accounts: list[BankAccount]) -> list[AccountCopies]:
    """Every id held more than once in each account's ERPNext Bank Account."""
    known = BankAccounts(client)
    out = []
    for account in accounts:
        mapping = known.resolve(account)
        result = AccountCopies(account.name, mapping.bank_account, problem=mapping.reason)
        out.append(result)
        if not mapping.bank_account:
            continue
        held: dict[str, list[dict[str, Any]]] = {}
        for row in client.get_list(
            DOCTYPE,
            fields=FIELDS,
            order_by="creation asc",
            filters=[
                ["bank_account", "=", mapping.bank_account],
                ["docstatus", "<", 2],
                ["transaction_id", "is", "set"],
            ],
            page_length=5000,
        ):
            held.setdefault(str(row["transaction_id"]), []).append(row)
        for tid, rows in held.items():
            if len(rows) > 1:
                result.copies.append(plan(tid, rows))
    return out


def plan(tid: str, rows: list[dict[str, Any]]) -> Copies:
    """Keep a reconciled copy (else the oldest); never remove a reconciled one."""
    keep = next((r for r in rows if reconciled(r)), rows[0])
    copies = Copies(tid, str(keep["name"]))
    for row in rows:
        if row is keep:
            continue
        (copies.reconciled if reconciled(row) else copies.remove).append(str(row["name"]))
    return copies


def remove(store: Any, client: ErpnextClient, found: list[AccountCopies]) -> None:
    """Cancel and delete the planned copies; the local rows point at the kept ones."""
    for account_copies in found:
        account = store.account(account_copies.name)
        changes: dict[str, dict[str, Any]] = {}
        for copies in account_copies.copies:
            for name in copies.remove:
                try:
                    doc = client.get_doc(DOCTYPE, name)
                    if doc is not None and int(doc.get("docstatus") or 0) == 1:
                        client.cancel(DOCTYPE, name)
                    if doc is not None:
                        client.delete(DOCTYPE, name)
                    copies.removed.append(name)
                except ErpnextRejected as exc:
                    copies.failed[name] = exc.erpnext_message
            changes[copies.transaction_id] = {"erpnext_name": copies.keep}
        if account is not None and changes:
            book = store.book(account)
            present = {
                r["transaction_id"] for r in book.rows() if r.get("transaction_id") in changes
            }
            book.update({tid: c for tid, c in changes.items() if tid in present})
