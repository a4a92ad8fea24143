"""ERPNext results as text: the pushed column of Transactions, a push summary, an error."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from kosma_tui.core.errors import KosmaError, Problem
from kosma_tui.tui.text import clean


def pushed_label(row: dict[str, Any]) -> Text:
    """The pushed column of the Transactions screen for one row."""
    name = row.get("erpnext_name") or ""
    if not name:
        waiting = row.get("status") == "Settled"
        return Text("waiting" if waiting else "", style="dim")
    if row.get("status") == "Cancelled" and row.get("erpnext_attention"):
        # cancelled by the bank, reconciled in ERPNext: left for a person
        return Text(f"! {clean(name)} reconciled", style="#ffaf00")
    if row.get("status") == "Cancelled":
        cancelled = bool(row.get("erpnext_cancelled"))
        return Text(f"{'✗' if cancelled else '!'} {clean(name)}", style="red")
    return Text(f"✓ {clean(name)}", style="green")


def error_text(error: KosmaError | Problem) -> Text:
    return Text(f"✗ {clean(error.message)} {clean(error.remedy)}".rstrip(), style="red")


def push_summary(report: Any) -> Text:
    """One line per account, then the totals (text of the core's PushReport)."""
    text = Text()
    for a in report.accounts:
        line = (
            f"{clean(a.name)}: {a.created:,} created, {a.skipped:,} already there, "
            f"{a.cancelled:,} cancelled, {a.failed:,} failed"
        )
        if a.pending:
            line += f", {a.pending:,} pending"
        text.append(line + "\n", style="red" if a.failed or a.error else "")
        if a.error:
            text.append(f"  {clean(a.error.message)} {clean(a.error.remedy)}\n", style="red")
        for item in [i for i in a.items if i.action in ("failed", "attention")][:5]:
            text.append(f"  {clean(item.transaction_id)}: {clean(item.message)}\n", style="red")
        if a.missing_parties:
            text.append(
                f"  without a party ERPNext does not know: {clean(', '.join(a.missing_parties))}\n",
                style="#ffaf00",
            )
        if a.duplicates:
            text.append(
                f"  {len(a.duplicates):,} transaction ids are in ERPNext more than "
                "once: run 'kosma-tui erpnext dedupe'\n",
                style="red",
            )
    text.append(
        f"{report.total('created'):,} created, {report.total('cancelled'):,} "
        f"cancelled, {report.total('failed'):,} failed."
    )
    return text
