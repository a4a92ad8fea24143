"""One rendering for every string of outside origin on its way to a terminal.

Banks, the portal, ERPNext, CSV files and store files can all carry ESC,
BEL, NUL, CR, DEL, C1 controls or bidi overrides (U+202E). Shown raw, they
drive the admin's terminal: recolour it, hide a line, reverse an IBAN.
``safe_text`` writes each such character as a visible escape (``\\x1b``,
``\\u202e``), tabs and line breaks as a space, and leaves everything else
(accents, CJK, brackets) untouched. ``safe_json`` keeps JSON exact (every
such character as a JSON escape, which decodes to the very same text) and
terminal-safe at once.
"""

from __future__ import annotations

import re
from typing import TextIO


def safe_text(value: object) -> str:
    """``value`` as text with every non-printable character shown as a visible escape."""
    text = "" if value is None else str(value)
    if text.isprintable():
        return text
    out: list[str] = []
    for ch in text:
        if ch.isprintable():
            out.append(ch)
        elif ch in "\t\n\r":
            out.append(" ")
        elif ord(ch) < 0x100:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append("\ufffd")
    return "".join(out)


_UNPRINTABLE = re.compile(r"[^\n]")  # candidates; filtered by isprintable below


def _json_escape(match: re.Match[str]) -> str:
    ch = match.group()
    if ch.isprintable():
        return ch
    code = ord(ch)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # a UTF-16 surrogate pair, as JSON spells characters beyond the BMP
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def safe_json(text: str) -> str:
    """Serialised JSON with every non-printable character inside it as a ``\\uXXXX`` escape.

    Outside strings JSON holds only spaces and line breaks, which stay; inside
    them an escape decodes to the same character, so the data stays exact.
    """
    if text.isprintable() or text.replace("\n", "").isprintable():
        return text
    return _UNPRINTABLE.sub(_json_escape, text)


def safe_lines(text: str) -> str:
    """``safe_text`` for output that may span lines: the line breaks are kept."""
    if text.isprintable() or text.replace("\n", "").isprintable():
        return text
    return "\n".join(safe_text(line) for line in text.split("\n"))


class SafeStream:
    """A text stream whose every write goes through ``safe_lines``.

    Installed as stdout and stderr for the plain-terminal commands, so no
    outside string reaches the terminal raw whichever line printed it. The
    app's own terminal controls (a progress line's carriage return) go to
    ``raw``.
    """

    def __init__(self, raw: TextIO) -> None:
        self.raw = raw

    def write(self, text: str) -> int:
        self.raw.write(safe_lines(text))
        return len(text)

    def flush(self) -> None:
        self.raw.flush()

    def isatty(self) -> bool:
        return self.raw.isatty()

    def __getattr__(self, name: str) -> object:
        return getattr(self.raw, name)


def raw_stream(stream: TextIO) -> TextIO:
    """The stream under a SafeStream: for the app's own control sequences only."""
    return stream.raw if isinstance(stream, SafeStream) else stream
