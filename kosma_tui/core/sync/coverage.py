"""Coverage (DESIGN 8): which days of an account's history were read, and the holes.

Every complete sync adds the days it read (its start date through today) to
the account's ``coverage``, kept as merged ranges. Two ranges that neither
touch nor overlap leave a gap: the days no sync read, for example when a
renewal accepted a later Consent Start Date. A gap is recorded, never hidden.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kosma_tui.core.records import BankAccount, BankConsent
    from kosma_tui.core.store import Store

Range = dict[str, str]  # {"from": YYYY-MM-DD, "to": YYYY-MM-DD}


def extend(ranges: list[Range], start: date, through: date) -> list[Range]:
    """``ranges`` with the days ``start``..``through`` added, merged, oldest first."""
    if through < start:
        return list(ranges)
    spans = [(date.fromisoformat(r["from"]), date.fromisoformat(r["to"])) for r in ranges]
    spans.append((start, through))
    spans.sort()
    merged: list[tuple[date, date]] = []
    for low, high in spans:
        if merged and low <= merged[-1][1] + timedelta(days=1):
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return [{"from": low.isoformat(), "to": high.isoformat()} for low, high in merged]


def leaves_gap(ranges: list[Range], start: date) -> bool:
    """Whether a read from ``start`` leaves unread days after what was read before."""
    return bool(ranges) and start > date.fromisoformat(ranges[-1]["to"]) + timedelta(days=1)


def gaps(ranges: list[Range]) -> list[Range]:
    """The days between consecutive ranges."""
    out = []
    for before, after in itertools.pairwise(ranges):
        low = date.fromisoformat(before["to"]) + timedelta(days=1)
        high = date.fromisoformat(after["from"]) - timedelta(days=1)
        out.append({"from": low.isoformat(), "to": high.isoformat()})
    return out


def as_json(ranges: list[Range]) -> dict[str, Any]:
    """``coverage`` of ``status --json``: from, to (null before the first sync), gaps."""
    if not ranges:
        return {"from": None, "to": None, "gaps": []}
    return {"from": ranges[0]["from"], "to": ranges[-1]["to"], "gaps": gaps(ranges)}


def describe_gaps(ranges: list[Range]) -> str:
    """'2027-01-05 to 2027-02-10, 2027-03-01' for a screen or a line of text."""
    parts = []
    for gap in gaps(ranges):
        parts.append(gap["from"] if gap["from"] == gap["to"] else f"{gap['from']} to {gap['to']}")
    return ", ".join(parts)


def unread_before(store: Store, account: BankAccount, consent: BankConsent) -> Range | None:
    """The days between the end of the account's coverage and where its next sync
    starts, when the next sync would leave them unread (a gap to be recorded)."""
    from kosma_tui.core.sync.rules import start_date

    if not account.coverage or not account.last_integration_date or not consent.consent_start:
        return None
    start = start_date(
        consent.consent_start, account.last_integration_date, store.settings().lookback_days
    )
    low = date.fromisoformat(account.coverage[-1]["to"]) + timedelta(days=1)
    if start <= low:
        return None
    return {"from": low.isoformat(), "to": (start - timedelta(days=1)).isoformat()}
