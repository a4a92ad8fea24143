"""Amounts where several currencies meet carry their code, and a number is never cut
silently: Accounts drops less important columns first when the terminal is narrow."""

from __future__ import annotations

from typing import Any

from test_tui_transactions import synced
from tui_support import link, make_app, screen_text, settled, wait_until

from kosma_tui.core.records import Balance
from kosma_tui.core.store import Store
from kosma_tui.tui.screens.transactions import TransactionsScreen
from kosma_tui.tui.widgets.transaction_view import TransactionView

EUR = Balance(booked=983006, available=983006, currency="EUR", date="2026-11-26")
GBP = Balance(booked=123456789, available=123456789, currency="GBP", date="2026-11-26")


def set_balances(store: Store, *, pound: bool) -> list[str]:
    names = [a.name for a in store.accounts()]
    store.update_account(names[0], balance=EUR)
    if pound:
        store.update_account(names[1], currency="GBP", balance=GBP)
    return names


async def accounts_text(store: Store, portal: Any, width: int) -> str:
    app = make_app(store, portal, reminders=False)
    async with app.run_test(size=(width, 24)) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.pause()
        return screen_text(app)


async def test_one_currency_no_codes_several_currencies_each_balance_has_its_code(
    store: Store, portal: Any
) -> None:
    await link(store, portal.url)
    set_balances(store, pound=False)
    text = await accounts_text(store, portal, 80)
    assert "9,830.06" in text and "EUR" not in text and "IBAN" in text
    set_balances(store, pound=True)
    for width in (80, 60):
        text = await accounts_text(store, portal, width)
        assert "9,830.06 EUR" in text and "1,234,567.89 GBP" in text, (width, text)


async def test_a_narrow_terminal_drops_columns_before_cutting_a_balance(
    store: Store, portal: Any
) -> None:
    await link(store, portal.url)
    set_balances(store, pound=False)
    text = await accounts_text(store, portal, 60)
    assert "9,830.06" in text and "Balance" in text
    assert "Last int." not in text  # dropped first; the panel below still gives it
    assert "Last Integration Date" in text


async def test_transactions_of_several_currencies_carry_the_code(store: Store, portal: Any) -> None:
    await synced(store, portal.url, start="2026-10-01")
    app = make_app(store, portal, reminders=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.press("t")  # one account: the currency once, in the heading
        await wait_until(
            pilot,
            lambda: (
                isinstance(app.screen, TransactionsScreen)
                and bool(app.screen.query_one(TransactionView).rows)
            ),
        )
        lines = screen_text(app).splitlines()
        assert "· EUR ·" in lines[1]
        assert not any(line.rstrip("│ ").endswith("EUR") for line in lines[4:10])
    set_balances(store, pound=True)
    app = make_app(store, portal, reminders=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.press("f5")  # every account: EUR and GBP accounts meet
        await wait_until(
            pilot,
            lambda: (
                isinstance(app.screen, TransactionsScreen)
                and bool(app.screen.query_one(TransactionView).rows)
            ),
        )
        await pilot.pause()
        rows = screen_text(app).splitlines()[4:10]
        assert all(" EUR " in row for row in rows), rows
