"""A wide terminal (200x50) uses its width: long names are shown whole, not cut at the
80-column widths; at 80x24 they are cut with an ellipsis, never wrapped."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from tui_support import SIZE, link, make_app, screen_text, settled, to_banks, type_text, wait_until

from kosma_tui.core.forms import Option
from kosma_tui.core.store import Store
from kosma_tui.tui.screens.sync import SyncScreen
from kosma_tui.tui.widgets.step_form import LABEL_CELLS, label_cells, option_prompt

WIDE = (200, 50)
LONG_BANK = "Nordfriesische Genossenschaftsbank eG"  # 37 characters


async def test_bank_names_are_shown_whole_on_a_wide_terminal(store: Store, portal: Any) -> None:
    app = make_app(store, portal)
    async with app.run_test(size=WIDE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await to_banks(pilot, app)
        await type_text(pilot, "nordfries")
        await pilot.pause()
        text = screen_text(app)
        assert f"{LONG_BANK} 88810019 · NFGBDE21XXX" in text


async def test_sync_rows_show_whole_account_names_when_there_is_room(
    store: Store, portal: Any
) -> None:
    await link(store, portal.url, start="2026-11-01")
    names = [a.name for a in store.accounts()]
    app = make_app(store, portal)
    async with app.run_test(size=WIDE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, SyncScreen))
        await wait_until(pilot, lambda: not app.sync_queue.busy, what="the syncs to finish")
        await pilot.pause()
        text = screen_text(app)
        assert all(name in text for name in names)
        assert "Kreditkarte (Max Mustermann)" in names
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, SyncScreen))
        await pilot.pause()
        text = screen_text(app)
        [row] = [line for line in text.splitlines() if "Kreditkarte (Max" in line]
        assert "Mustermann)" not in row and "…" in row  # cut to fit 80 columns, marked as cut


def test_the_label_column_fits_the_longest_label_within_bounds() -> None:
    def options(*labels: str) -> list[Option]:
        return [Option(value=str(i), label=label) for i, label in enumerate(labels)]

    assert label_cells(options("DE", "AT")) == LABEL_CELLS[0]
    assert label_cells(options("Demo Bank", LONG_BANK)) == len(LONG_BANK)
    assert label_cells(options("x" * 90)) == LABEL_CELLS[1]
    wide = "株式会社サンプル銀行"  # 10 glyphs, 20 cells
    assert label_cells(options(wide, "short")) == 20
    prompt = option_prompt("[bold]" + "y" * 60, "BIC", LABEL_CELLS[1])
    assert prompt.plain.startswith("[bold]")  # literal, never markup
    assert Text(prompt.plain.split(" BIC")[0]).cell_len == LABEL_CELLS[1]
    assert prompt.plain.split(" BIC")[0].endswith("…")
