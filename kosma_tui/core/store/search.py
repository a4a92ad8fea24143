"""The filter's words and the search lines kept beside each transaction chunk.

A chunk's ``.find.txt`` holds one line per row, in the rows file's order:
``<date>\\t<normalised text> <+|-><amount>``. Text is normalised
the same way on both sides (accents dropped, case folded, control characters
and line breaks made spaces), so "muller" finds "Müller" and a row can never
split its line. The amount is written once, signed and ungrouped with the
currency's decimals; a filter word that looks like an amount (``1,855.76``,
``1.855,76``, ``-1855.76``) is turned into that form, so any way of writing
it finds the row. A line matches when every word occurs in it (as a
substring: typing "geh" already finds "Gehalt").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any

from kosma_tui.core.money import format_amount

# the text fields a filter word may be found in (the account's name is matched
# once per book, not stored on every line)
TEXT_FIELDS = ("bank_party_name", "party", "party_type", "description", "reference_number",
               "status", "bank_party_iban", "bank_party_account_number", "transaction_id")

_MARKS = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_SPACES = re.compile(r"[\s\x00-\x1f\x7f-\x9f]+")
_AMOUNT = re.compile(r"([+-]?)(\d+(?:[.,]\d+)*)([.,]?)")
_DMY = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")

Query = list[list[bytes]]  # every word must match; a word matches by any of its forms


def normalise(text: str) -> str:
    """Lower case without accents, on one line: what lines and words are compared as."""
    if not text.isascii():
        text = _MARKS.sub("", unicodedata.normalize("NFKD", text))
    return _SPACES.sub(" ", text).casefold()


def search_line(row: dict[str, Any]) -> str:
    """The line of one row (without its line break)."""
    text = " ".join([str(row.get(k) or "") for k in TEXT_FIELDS])
    deposit, withdrawal = int(row.get("deposit") or 0), int(row.get("withdrawal") or 0)
    amount = deposit - withdrawal
    plain = format_amount(abs(amount), str(row.get("currency") or "EUR"), grouping=False)
    date = _SPACES.sub(" ", str(row.get("date") or ""))
    return f"{date}\t{normalise(text)} {'-' if amount < 0 else '+'}{plain}"


def search_lines(rows: list[dict[str, Any]]) -> bytes:
    """The ``.find.txt`` bytes of rows (each line ends with a line break)."""
    if not rows:
        return b""
    return ("\n".join(map(search_line, rows)) + "\n").encode()


def parse_query(text: str) -> Query:
    """The filter text as words, each with the forms it may take in a line."""
    return [_forms(word) for word in text.split()]


def _forms(word: str) -> list[bytes]:
    amount = _amount_forms(word)
    if amount:
        return [f.encode() for f in amount]
    dmy = _DMY.fullmatch(word)
    if dmy:  # 01.05.2024: the stored dates are ISO
        day, month, year = dmy.groups()
        return [f"{year}-{int(month):02d}-{int(day):02d}".encode(), normalise(word).encode()]
    return [normalise(word).encode()]


def _amount_forms(word: str) -> list[str]:
    """``1,855.76`` -> ``+1855.76`` and ``-1855.76``; [] when it is no amount with
    separators (plain digits are matched as text: they are in the amount too)."""
    match = _AMOUNT.fullmatch(word)
    if match is None:
        return []
    sign, number, trailing = match.groups()
    parts = re.split(r"[.,]", number)
    seps = re.findall(r"[.,]", number)
    if not seps and not trailing:
        return [sign + number] if sign else []
    readings = []
    # the last separator is the decimal point, any before it group thousands
    if trailing:
        grouping, point, whole, cents = seps, trailing, parts, ""
    else:
        grouping, point, whole, cents = seps[:-1], seps[-1], parts[:-1], parts[-1]
    if (len(set(grouping)) <= 1 and point not in grouping and len(cents) <= 3
            and all(len(p) == 3 for p in whole[1:])):
        readings.append("".join(whole) + "." + cents)
    # every separator groups thousands (1.855 is 1855 in German)
    if not trailing and len(set(seps)) == 1 and all(len(p) == 3 for p in parts[1:]):
        readings.append("".join(parts))
    signs = [sign] if sign else ["+", "-"]
    return [s + r for r in readings for s in signs]


def matching_lines(blob: bytes, query: Query, cancelled: Callable[[], bool] | None = None
                   ) -> list[tuple[int, str]]:
    """(position, date) of the lines of a ``.find.txt`` in which every word occurs."""
    if not blob:
        return []
    for forms in query:  # a word found nowhere in the chunk: no line can match
        if not any(f in blob for f in forms):
            return []
    lines = blob.splitlines()
    found = list(range(len(lines)))
    for forms in query:
        if cancelled is not None and cancelled():
            return []
        if len(forms) == 1:
            word = forms[0]
            found = [i for i in found if word in lines[i]]
        else:
            found = [i for i in found if any(f in lines[i] for f in forms)]
    return [(i, lines[i][:lines[i].find(b"\t")].decode()) for i in found]
