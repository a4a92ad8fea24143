"""The one terminal-safe rendering of outside text, and the page-loop guard's limits."""

from __future__ import annotations

import io
import json
import re
from datetime import date
from pathlib import Path

import pytest

import kosma_tui
from kosma_tui.core.forms import UnsupportedFormError
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


def test_tabs_and_characters_beyond_the_basic_plane_are_shown_one_way() -> None:
    # a tab is a space; a printable character above U+FFFF (an emoji) stays; an
    # unprintable one (a language tag) is one replacement character; in the
    # commands' one-line text, their multi-line output, and the form error alike
    text = "a\tb \U0001f600 \U000e0001"
    assert safe_text(text) == "a b \U0001f600 \ufffd"
    assert safe_lines(text + "\n" + text) == "a b \U0001f600 \ufffd\na b \U0001f600 \ufffd"
    assert json.loads(safe_json(json.dumps(text, ensure_ascii=False))) == text
    error = UnsupportedFormError("Odd\tType\U000e0001\x1b")
    assert "(Odd Type\ufffd\\x1b)" in error.message


def test_only_core_text_decides_what_is_printable_for_a_terminal() -> None:
    # the checks that refuse input (names, URLs, keys) may ask isprintable(); no
    # module may build its own rendering of outside text by filtering characters
    package = Path(kosma_tui.__file__).parent
    renderers = [
        str(p.relative_to(package))
        for p in package.rglob("*.py")
        if "sandbox" not in p.parts
        and p.name != "text.py"
        and re.search(
            r"if \w+\.isprintable\(\)|unicodedata\.category", p.read_text(encoding="utf-8")
        )
    ]
    assert renderers == []
