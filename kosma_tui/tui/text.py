"""Bank text for the terminal: literal (never markup) and free of control characters.

Everything a bank or the portal sends (names, references, counterparties) goes
through ``clean``/``literal`` before it reaches a widget, so ``[bold]ACME[/]``
keeps its brackets and an ESC never reaches the terminal. ``clean`` is the
core's ``safe_text``: the commands and the TUI render outside text one way.
"""

from __future__ import annotations

from datetime import date, datetime

from rich.text import Text

from kosma_tui.core import identifiers
from kosma_tui.core.money import format_amount
from kosma_tui.core.text import safe_text as clean

__all__ = ["clean", "day", "literal", "money", "plural", "short_iban", "spaced_iban"]


def literal(value: object, style: str = "") -> Text:
    """A table cell holding ``value`` verbatim (no markup parsing), cleaned, on one line:
    cut with an ellipsis when the column is narrower, never wrapped out of sight."""
    return Text(clean(value), style=style, no_wrap=True, overflow="ellipsis")


def money(minor: int | None, currency: str, *, sign: bool = False) -> str:
    if minor is None:
        return "-"
    return f"{format_amount(minor, currency, sign=sign)}"


def short_iban(iban: str) -> str:
    """``DE89 …3000``: country and check digits, then the last four characters."""
    return identifiers.short(clean(iban))


def spaced_iban(iban: str) -> str:
    """``DE89 3704 0044 0532 0130 00``: groups of four, as printed on paper."""
    return identifiers.spaced(clean(iban))


def day(value: str | date | datetime | None) -> str:
    """``YYYY-MM-DD`` of a date, datetime or ISO text; ``-`` when empty."""
    if not value:
        return "-"
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return clean(value)[:10]


def plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count:,} {word if count == 1 else (words or word + 's')}"
