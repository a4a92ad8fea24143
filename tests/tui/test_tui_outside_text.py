"""The TUI shows outside text through the same rendering as the commands: every field of
a transaction, a sync error and a balance currency carrying ESC, BEL, NUL, CR, DEL, C1 and
bidi controls appears with visible escapes, never raw."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from tui_support import SIZE, make_app, screen_text, settled, wait_until

from kosma_tui.core.records import Balance, BankAccount, LastSync
from kosma_tui.core.store import Store
from kosma_tui.core.text import safe_text
from kosma_tui.tui.screens.transactions import TransactionDetail, TransactionsScreen
from kosma_tui.tui.text import literal

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))

from store_support import make_row

NASTY = "\x1b[31m\x07\x00\r\x7f\x9b\u202e"
TEXT_FIELDS = (
    "transaction_id",
    "currency",
    "reference_number",
    "description",
    "bank_party_name",
    "bank_party_iban",
    "bank_party_account_number",
)


def assert_terminal_safe(text: str) -> None:
    raw = sorted({repr(ch) for ch in text if not ch.isprintable() and ch != "\n"})
    assert not raw, f"raw control characters on screen: {raw}"


async def test_every_outside_field_is_escaped_on_every_screen(store: Store, portal: Any) -> None:
    error = {"code": "PROTOCOL", "message": "portal said" + NASTY, "remedy": "retry" + NASTY}
    store.save_account(
        BankAccount(
            "Giro (Max)",
            "Demo Bank",
            "Demo Company",
            iban="DE89" + NASTY,
            currency="EUR",
            balance=Balance(available=100, booked=100, currency="EUR" + NASTY),
            last_sync=LastSync(when="2026-11-26T08:00:00", outcome="failed", error=error),
        )
    )
    rows = [make_row(n, "2026-11-2" + str(n)) for n in range(1, 4)]
    for row in rows:
        for name in TEXT_FIELDS:
            row[name] = str(row[name]) + NASTY
    store.book(store.account("Giro (Max)")).append(rows)
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.pause()
        accounts = screen_text(app)
        assert_terminal_safe(accounts)
        assert "\\x1b[31m" in accounts
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, TransactionsScreen))
        await pilot.pause()
        assert_terminal_safe(screen_text(app))
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, TransactionDetail))
        detail = screen_text(app)
        assert_terminal_safe(detail)
        assert "\\x1b[31m\\x07\\x00 \\x7f\\x9b\\u202e" in detail


def test_the_tui_renders_tabs_and_wide_characters_as_the_commands_do() -> None:
    text = "a\tb \U0001f600 \U000e0001 [bold]x[/]"
    assert literal(text).plain == safe_text(text) == "a b \U0001f600 \ufffd [bold]x[/]"
