"""The one terminal-safe rendering of outside text, and the page-loop guard's limits."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest

from kosma_tui.core.portal import NextPage
from kosma_tui.core.sync.paging import MAX_PAGES_PER_DAY, PageGuard, PageLoop
from kosma_tui.core.text import SafeStream, raw_stream, safe_json, safe_lines, safe_text

NASTY = "a\x1b[31m\x07\x00\r\n\t\x7f\x9b\u202e\u2066\U000e0001z"


def test_safe_text_shows_every_control_as_a_visible_escape() -> None:
    assert safe_text(NASTY) == "a\\x1b[31m\\x07\\x00   \\x7f\\x9b\\u202e\\u2066\ufffdz"
    assert safe_text("[bold]Müller 株式会社[/]") == "[bold]Müller 株式会社[/]"
    assert safe_text(None) == "" and safe_text(12) == "12"


def test_safe_json_is_exact_and_printable() -> None:
    data = {"text": NASTY, "list": [NASTY, 1, None]}
    text = safe_json(json.dumps(data, ensure_ascii=False, indent=2))
    assert json.loads(text) == data
    assert all(ch.isprintable() or ch == "\n" for ch in text)


def test_a_safe_stream_keeps_line_breaks_and_lets_own_controls_through_raw() -> None:
    out = io.StringIO()
    stream = SafeStream(out)
    print("one\x1b[2J\ntwo\u202e", file=stream)  # type: ignore[arg-type]
    raw_stream(stream).write("\r\x1b[K")  # type: ignore[arg-type]
    assert out.getvalue() == "one\\x1b[2J\ntwo\\u202e\n\r\x1b[K"
    assert safe_lines("a\nb") == "a\nb"


def test_the_page_guard_stops_at_more_pages_than_the_days_can_hold() -> None:
    guard = PageGuard("Giro", date(2026, 11, 1), date(2026, 11, 2))  # two days
    limit = 2 * MAX_PAGES_PER_DAY
    for n in range(1, limit):
        guard.check([{"transaction_id": f"T{n}"}], NextPage("u", n))
    with pytest.raises(PageLoop) as info:
        guard.check([{"transaction_id": f"T{limit}"}], NextPage("u", limit))
    assert f"more than {limit:,} pages for the days asked for" in info.value.message
    last = PageGuard("Giro", date(2026, 11, 1), date(2026, 11, 2))
    last.check([{"transaction_id": "T1"}], None)  # the last page: never a loop
