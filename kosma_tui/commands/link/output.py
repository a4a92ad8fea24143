"""What ``kosma-tui link`` prints when linking is done: the summary, or its JSON."""

from __future__ import annotations

from typing import Any

from kosma_tui.commands.base import safe_text
from kosma_tui.commands.link.terminal import Terminal
from kosma_tui.core.linking import LinkSummary


def print_summary(term: Terminal, summary: LinkSummary, note: str | None) -> None:
    bank = summary.bank
    codes = ", ".join(
        x
        for x in (
            f"BIC {bank.swift_number}" if bank.swift_number else "",
            f"code {bank.bank_code}" if bank.bank_code else "",
        )
        if x
    )
    state = "created" if summary.bank_created else "already known"
    term.say(f"Bank: {safe_text(bank.name)}{f' ({codes})' if codes else ''}, {state}.")
    for title, accounts, mark in (("Added", summary.added, "+"), ("Updated", summary.updated, "~")):
        if accounts:
            noun = "Bank Account" if len(accounts) == 1 else "Bank Accounts"
            term.say(f"{title} {len(accounts)} {noun}:")
            for a in accounts:
                term.say(
                    f"  {mark} {safe_text(a.name)}  {safe_text(a.iban or a.bank_account_no)}"
                    f"  {a.currency}"
                )
    if not summary.added and not summary.updated:
        term.say(
            "The bank returned no account for this login, so none was added; the Bank "
            "Consent is kept. Link again with a login that has accounts, or revoke it "
            "with 'kosma-tui consent revoke'."
        )
    consent = summary.consent
    expiry = consent.consent_expiry[:10]
    days = "day" if summary.days_left == 1 else "days"
    term.say(
        f"Bank Consent {safe_text(consent.name)}: from {consent.consent_start}, "
        f"expires {expiry} ({summary.days_left} {days} left)."
    )
    for warning in ([note] if note else []) + summary.warnings:
        term.say(f"Note: {safe_text(warning)}")
    if summary.added or summary.updated:
        which = "new" if summary.added else "updated"
        term.say(f"Sync the {which} accounts with 'kosma-tui sync --all' (or from the TUI).")


def summary_json(summary: LinkSummary, notes: list[str]) -> dict[str, Any]:
    """``link --json`` (DESIGN 8): what was linked; no secret."""

    def accounts(items: list[Any]) -> list[dict[str, Any]]:
        return [{"name": a.name, "iban": a.iban, "currency": a.currency} for a in items]

    consent = summary.consent
    return {
        "bank": {
            "name": summary.bank.name,
            "bic": summary.bank.swift_number,
            "bank_code": summary.bank.bank_code,
            "created": summary.bank_created,
        },
        "company": consent.company,
        "added": accounts(summary.added),
        "updated": accounts(summary.updated),
        "consent": {
            "name": consent.name,
            "consent_start": consent.consent_start,
            "consent_expiry": consent.consent_expiry,
            "days_left": summary.days_left,
        },
        "notes": notes,
    }
