"""What a push did, for the commands, the TUI and ``status``: per account and item.

``PushReport.problem`` is the one sentence that sums up what went wrong (none
when all went in); ``record_push`` keeps the last one beside the store
(``core.push_record``) so ``status`` and ``erpnext status`` show a failed
automatic push until a push succeeds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kosma_tui.core import clock, push_record
from kosma_tui.core.errors import Problem


@dataclass
class PushItem:
    action: str  # "create" | "skip" | "cancel" | "failed" | "attention"
    transaction_id: str
    date: str
    amount: int  # signed minor units
    currency: str
    erpnext_name: str = ""
    message: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "transaction_id": self.transaction_id,
            "date": self.date,
            "amount": self.amount,
            "currency": self.currency,
            "erpnext_name": self.erpnext_name or None,
            "message": self.message or None,
        }


@dataclass
class AccountPush:
    name: str
    bank_account: str = ""  # the ERPNext Bank Account
    created: int = 0
    skipped: int = 0  # already in ERPNext
    cancelled: int = 0
    failed: int = 0
    pending: int = 0  # waiting until they settle
    without_id: int = 0  # settled without a transaction id: cannot be pushed safely
    attention: int = 0  # cancelled by the bank, reconciled in ERPNext: left alone
    items: list[PushItem] = field(default_factory=list)
    error: Problem | None = None
    # "Customer 'Globex'" -> how many were pushed without that unknown party
    missing_parties: dict[str, int] = field(default_factory=dict)
    # transaction_id -> the ERPNext names holding it (more than one)
    duplicates: dict[str, list[str]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "erpnext_bank_account": self.bank_account or None,
            "created": self.created,
            "skipped": self.skipped,
            "cancelled": self.cancelled,
            "failed": self.failed,
            "pending": self.pending,
            "without_id": self.without_id,
            "attention": self.attention,
            "missing_parties": [
                {"party": p, "transactions": n} for p, n in self.missing_parties.items()
            ],
            "duplicates": [
                {"transaction_id": t, "erpnext_names": n} for t, n in self.duplicates.items()
            ],
            "error": self.error.as_json() if self.error else None,
            "items": [item.as_json() for item in self.items],
        }


@dataclass
class PushReport:
    dry_run: bool
    accounts: list[AccountPush] = field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0
    settled: int = 0  # of a batch whose answer was lost earlier: found in ERPNext, recorded
    error: Problem | None = None  # the push as a whole could not run (automatic push)

    def total(self, what: str) -> int:
        return sum(getattr(a, what) for a in self.accounts)

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def problem(self) -> Problem | None:
        """What went wrong, as one Problem (the first account error, else a summary)."""
        errors = [a.error for a in self.accounts if a.error]
        if self.error or errors:
            return self.error or errors[0]
        failed, attention = self.total("failed"), self.total("attention")
        duplicates = sum(len(a.duplicates) for a in self.accounts)
        if not (failed or attention or duplicates):
            return None
        parts = [
            f"{n:,} {what}"
            for n, what in (
                (failed, "could not be pushed"),
                (attention, "need attention (reconciled in ERPNext, cancelled by the bank)"),
                (duplicates, "are in ERPNext twice"),
            )
            if n
        ]
        return Problem(
            "ERPNEXT.PUSH",
            f"ERPNext push: {', '.join(parts)}.",
            "'kosma-tui erpnext push' lists them; 'kosma-tui erpnext status' shows the last push.",
        )

    @property
    def changed(self) -> bool:
        """Whether this push created or cancelled anything in ERPNext."""
        return bool(self.total("created") or self.total("cancelled"))

    def as_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "totals": {
                k: self.total(k)
                for k in (
                    "created",
                    "skipped",
                    "cancelled",
                    "failed",
                    "pending",
                    "without_id",
                    "attention",
                )
            },
            "settled": self.settled,
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "accounts": [a.as_json() for a in self.accounts],
        }


@dataclass
class PushProgress:
    account: str
    done: int
    total: int


def item(action: str, row: dict[str, Any], name: str = "", message: str = "") -> PushItem:
    amount = int(row.get("deposit") or 0) - int(row.get("withdrawal") or 0)
    return PushItem(
        action,
        str(row.get("transaction_id") or ""),
        str(row.get("date") or ""),
        amount,
        str(row.get("currency") or ""),
        name,
        message,
    )


ATTENTION_LISTED = 50  # attention items kept in the record for status


def record_push(
    store: Any,
    report: PushReport | None,
    *,
    unattended: bool = False,
    problem: Problem | None = None,
) -> None:
    data: dict[str, Any] = {
        "when": clock.now().isoformat(timespec="seconds"),
        "unattended": unattended,
    }
    if report is not None:
        summary = report.as_json()
        data["totals"] = summary["totals"]
        data["accounts"] = [
            {
                k: a[k]
                for k in ("name", "created", "skipped", "cancelled", "failed", "attention", "error")
            }
            for a in summary["accounts"]
        ]
        data["attention"] = [
            {"account": a.name, "transaction_id": i.transaction_id, "erpnext_name": i.erpnext_name}
            for a in report.accounts
            for i in a.items
            if i.action == "attention"
        ][:ATTENTION_LISTED]
        problem = problem or report.problem
    data["error"] = problem.as_json() if problem else None
    push_record.write(store, data)


def last_push(store: Any) -> dict[str, Any] | None:
    return push_record.read(store)
