"""The filter's words and the search lines kept beside each transaction chunk.

A chunk's ``.find.txt`` holds one line per row, in the rows file's order:
``<doc id>\\t<date>\\t<normalised text> <+|-><amount>``, the doc id's digits
written as control bytes (0x10-0x19): no filter word can contain them, so a
word never matches an id, and a hit names its row without counting lines.
Text is normalised the same way on both sides (accents dropped, case folded,
control characters and line breaks made spaces), so "muller" finds "Müller"
and a row can never split its line. The amount is written once, signed and ungrouped with the
currency's decimals; a filter word that looks like an amount (``1,855.76``,
``1.855,76``, ``-1855.76``) is turned into that form, so any way of writing
it finds the row. A line matches when every word occurs in it (as a
substring: typing "geh" already finds "Gehalt").
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from operator import itemgetter
from typing import Any

from kosma_tui.core.money import exponent

# the text fields a filter word may be found in (the account's name is matched
# once per book, not stored on every line)
TEXT_FIELDS = (
    "bank_party_name",
    "party",
    "party_type",
    "description",
    "reference_number",
    "status",
    "bank_party_iban",
    "bank_party_account_number",
    "transaction_id",
)

_SPACES = re.compile(r"[\s\x00-\x1f\x7f-\x9f]+")
_AMOUNT = re.compile(r"([+-]?)(\d+(?:[.,]\d+)*)([.,]?)")
_DMY = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")

Query = list[list[bytes]]  # every word must match; a word matches by any of its forms


@functools.cache
def _marks() -> re.Pattern[str]:
    """Every combining character (of the Basic Multilingual Plane) as one character
    class: ``forms.fold`` drops them one ``unicodedata.combining`` call at a time,
    which a chunk of 5,000 rows cannot afford; one regex pass drops the same."""
    ranges: list[list[int]] = []
    for code in range(0x300, 0x10000):
        if unicodedata.combining(chr(code)):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    return re.compile("[" + "".join(f"\\u{a:04x}-\\u{b:04x}" for a, b in ranges) + "]")


def normalise(text: str) -> str:
    """Lower case without accents (as ``forms.fold``), on one line: what lines and
    words are compared as."""
    if not text.isascii():
        text = _marks().sub("", unicodedata.normalize("NFKD", text))
    return _SPACES.sub(" ", text).casefold()


_DIGITS = str.maketrans("0123456789", "".join(map(chr, range(0x10, 0x1A))))
_UNDIGITS = bytes.maketrans(bytes(range(0x10, 0x1A)), b"0123456789")
_SEPARATOR = "\ue000"  # between rows while a chunk's text is normalised in one pass
_FIELDS = itemgetter(*TEXT_FIELDS)


def _plain_amount(row: dict[str, Any]) -> str:
    """``-1855.76``: signed, ungrouped, with the currency's decimals (as ``format_amount``
    with ``grouping=False``, without a Decimal for each of a million rows)."""
    amount = int(row.get("deposit") or 0) - int(row.get("withdrawal") or 0)
    digits = exponent(str(row.get("currency") or "EUR"))
    whole, part = divmod(abs(amount), 10**digits)
    text = f"{whole}.{part:0{digits}d}" if digits else str(whole)
    return ("-" if amount < 0 else "+") + text


def _text(row: dict[str, Any]) -> str:
    try:
        return " ".join(_FIELDS(row))  # every field there and text: the usual row
    except (KeyError, TypeError):
        return " ".join([str(row.get(k) or "") for k in TEXT_FIELDS])


def _date_text(row: dict[str, Any]) -> str:
    date = row.get("date") or ""
    return date if type(date) is str and date.isprintable() else _SPACES.sub(" ", str(date))


def search_lines(table: dict[str, dict[str, Any]]) -> bytes:
    """The ``.find.txt`` bytes of a {doc id: row} table (each line ends with a line break).
    Written for speed (a first sync writes a million): the rows with accents or other
    non-ASCII text are decomposed together, as one string, and only a row holding a
    control character or an unusual space goes through the space rule."""
    if not table:
        return b""
    rows = table.values()
    texts = [_text(r) for r in rows]
    for i, text in enumerate(texts):
        if not text.isprintable():
            texts[i] = _SPACES.sub(" ", text)
    wide = [i for i, text in enumerate(texts) if not text.isascii()]
    if wide:
        joined = _SEPARATOR.join([texts[i].replace(_SEPARATOR, " ") for i in wide])
        parts = _marks().sub("", unicodedata.normalize("NFKD", joined)).split(_SEPARATOR)
        if len(parts) == len(wide):
            for i, part in zip(wide, parts, strict=True):
                texts[i] = part
        else:  # decomposing made a separator: one row at a time
            for i in wide:
                texts[i] = normalise(texts[i])
    lines = [
        f"{doc.translate(_DIGITS)}\t{_date_text(row)}\t{text} {_plain_amount(row)}"
        for doc, row, text in zip(table, rows, texts, strict=True)
    ]
    return ("\n".join(lines) + "\n").casefold().encode()


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
    if (
        len(set(grouping)) <= 1
        and point not in grouping
        and len(cents) <= 3
        and all(len(p) == 3 for p in whole[1:])
    ):
        readings.append("".join(whole) + "." + cents)
    # every separator groups thousands (1.855 is 1855 in German)
    if not trailing and len(set(seps)) == 1 and all(len(p) == 3 for p in parts[1:]):
        readings.append("".join(parts))
    signs = [sign] if sign else ["+", "-"]
    return [s + r for r in readings for s in signs]


def matching_lines(
    blob: bytes, query: Query, cancelled: Callable[[], bool] | None = None
) -> list[tuple[bytes, bytes]]:
    """(doc id, date) of the lines of a ``.find.txt`` in which every word occurs, as
    the line has them (see ``doc_id``).

    The longest word (likely the rarest) is looked for with ``bytes.find`` over the
    whole chunk (C speed, one pass), and only the lines it hits are checked for the
    others; a word found in more than about a quarter of the lines is cheaper line by
    line, so the search switches to that.
    """
    if not blob:
        return []
    if not query:
        return [_ref(line, 0) for line in blob.splitlines()]
    lead = max(query, key=lambda forms: min(map(len, forms)))
    rest = [forms for forms in query if forms is not lead]
    most = len(blob) // 600 + 1
    spans = []
    for form in lead:
        at = blob.find(form)
        while at >= 0:
            start = blob.rfind(b"\n", 0, at) + 1
            end = blob.find(b"\n", at)
            end = len(blob) if end < 0 else end
            spans.append((start, end))
            if len(spans) > most:
                return _line_by_line(blob, [lead, *rest], cancelled)
            at = blob.find(form, end)  # the next line: one hit a line is enough
    if len(lead) > 1:
        spans = sorted(set(spans))
    if not rest:
        return [_ref(blob, start) for start, _ in spans]
    found = []
    for start, end in spans:
        line = blob[start:end]
        if all(any(f in line for f in forms) for forms in rest):
            found.append(_ref(line, 0))
    return found


def _line_by_line(
    blob: bytes, query: Query, cancelled: Callable[[], bool] | None
) -> list[tuple[bytes, bytes]]:
    found = blob.splitlines()
    for forms in query:
        if cancelled is not None and cancelled():
            return []
        if len(forms) == 1:
            word = forms[0]
            found = [line for line in found if word in line]
        else:
            found = [line for line in found if any(f in line for f in forms)]
    return [_ref(line, 0) for line in found]


def _ref(text: bytes, start: int) -> tuple[bytes, bytes]:
    """(doc id, date) of the search line starting at ``start``, as written."""
    tab = text.find(b"\t", start)
    return text[start:tab], text[tab + 1 : text.find(b"\t", tab + 1)]


def doc_id(written: bytes) -> str:
    """The doc id of a search line's first field."""
    return written.translate(_UNDIGITS).decode()
