"""Bank text in command tables: literal, no control characters, aligned by cells."""

from __future__ import annotations

import pytest

from kosma_tui.commands.base import fit


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("abc", "abc     "),
        ("[bold]ACME[/]", "[bold]A…"),
        ("北京示例贸易", "北京示… "),
        ("a\x07b", "a\\x07b  "),
        ("Müller", "Müller  "),
    ],
)
def test_fit_pads_and_cuts_by_terminal_cells(text: str, expected: str) -> None:
    assert fit(text, 8) == expected
