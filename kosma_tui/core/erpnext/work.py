"""What an account holds for ERPNext: the rows to create and to cancel, collected
from its book (all of them, or only those a sync just stored), and whether a push
after a sync must look at the whole history."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from kosma_tui.core import push_record
from kosma_tui.core.records import BankAccount

# Set on a row once its Bank Transaction is cancelled in ERPNext as well.
CANCELLED_MARK = "erpnext_cancelled"
# Set on a row the bank cancelled after it was reconciled in ERPNext: the
# ERPNext document name; the reconciliation is left alone for the admin.
ATTENTION_MARK = "erpnext_attention"


@dataclass
class Work:
    """What one account has for ERPNext (collected from its rows)."""

    account: BankAccount
    create: list[dict[str, Any]] = field(default_factory=list)
    cancel: list[dict[str, Any]] = field(default_factory=list)
    pending: int = 0
    without_id: int = 0
    # rows marked ATTENTION_MARK (also in ``cancel``: each push looks again)
    attention: list[dict[str, Any]] = field(default_factory=list)

    @property
    def waiting(self) -> int:
        return len(self.create) + len(self.cancel)


def collect(store: Any, account: BankAccount, ids: Collection[str] | None = None) -> Work:
    """What the account's rows hold for ERPNext: every row, or only those with ``ids``
    (what a sync just stored)."""
    work = Work(account)
    book = store.book(account)
    rows = (
        book.rows(newest_first=False, raw=False) if ids is None else book.rows_with(ids, raw=False)
    )
    for row in rows:
        status = row.get("status")
        if status == "Settled" and not row.get("erpnext_name"):
            if row.get("transaction_id"):
                work.create.append(row)
            else:
                work.without_id += 1
        elif status == "Cancelled" and row.get("erpnext_name") and not row.get(CANCELLED_MARK):
            work.cancel.append(row)
            if row.get(ATTENTION_MARK):
                work.attention.append(row)
        elif status == "Pending":
            work.pending += 1
    return work


def full_scan(store: Any, account: str) -> bool:
    """Whether a push after a sync must look at the account's whole history, not only at
    what the sync stored: unless the last push covered the account and left nothing
    behind (its first push, a failed one, rows that failed or need attention: all are
    looked at again)."""
    last = push_record.read(store)
    if not last or last.get("error"):
        return True
    for entry in last.get("accounts") or ():
        if isinstance(entry, dict) and entry.get("name") == account:
            return bool(entry.get("error") or entry.get("failed") or entry.get("attention"))
    return True
