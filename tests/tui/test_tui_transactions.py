"""Transactions: newest first, filter as you type, End jumps to the oldest, signed coloured
amounts, and bank text shown literally (brackets kept, control characters escaped)."""

from __future__ import annotations

import asyncio
from typing import Any

from tui_support import SIZE, link, make_app, screen_text, settled, type_text, wait_until

from kosma_tui.core.connection import DEMO_API_TOKEN, DEMO_CUSTOMER_ID
from kosma_tui.core.portal import PortalClient
from kosma_tui.core.records import BankAccount
from kosma_tui.core.store import Store
from kosma_tui.core.sync import SyncEngine
from kosma_tui.tui.screens.transactions import TransactionDetail, TransactionsScreen
from kosma_tui.tui.widgets.transaction_view import TransactionView

GIRO = "Girokonto (Max Mustermann)"


async def synced(store: Store, url: str, start: str = "2026-01-01") -> None:
    await link(store, url, start=start)
    async with PortalClient(
        url, DEMO_CUSTOMER_ID, DEMO_API_TOKEN, ip_address="127.0.0.1"
    ) as client:
        engine = SyncEngine(store, client)
        for account in store.accounts():
            result = await engine.sync_account(account.name)
            assert result.ok, result.error


def view_of(app: Any) -> TransactionView:
    return app.screen.query_one(TransactionView)


async def open_transactions(pilot: Any, app: Any) -> TransactionView:
    await pilot.press("t")
    await wait_until(
        pilot,
        lambda: isinstance(app.screen, TransactionsScreen) and bool(view_of(app).rows),
        what="transactions loaded",
    )
    return view_of(app)


async def test_transactions_are_listed_newest_first_and_end_jumps_to_the_oldest(
    store: Store, portal: Any
) -> None:
    await synced(store, portal.url)
    account = store.account(GIRO)
    assert account is not None
    total = store.book(account).count()
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        view = await open_transactions(pilot, app)
        assert len(view.rows) == total
        dates = [r["date"] for r in view.rows]
        assert dates == sorted(dates, reverse=True)
        text = screen_text(app)
        assert f"Transactions · {GIRO}" in text and f"{total:,}" in text
        assert f"{total:,} shown" in text
        assert "Date" in text and "Amount" in text and "Status" in text
        await pilot.press("end")
        await pilot.pause()
        assert view.cursor == total - 1
        assert dates[-1] in screen_text(app)
        await pilot.press("g")
        assert view.cursor == 0
        await pilot.press("G")
        assert view.cursor == total - 1
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, TransactionDetail))
        assert "transaction_id" in screen_text(app)


async def test_filter_as_you_type(store: Store, portal: Any) -> None:
    await synced(store, portal.url)
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        view = await open_transactions(pilot, app)
        total = len(view.rows)
        await pilot.press("slash")
        await type_text(pilot, "pending")
        await wait_until(pilot, lambda: len(view.rows) < total, what="the filter")
        assert view.rows and all(r["status"] == "Pending" for r in view.rows)
        assert f"{len(view.rows):,} shown" in screen_text(app)
        for _ in "pending":
            await pilot.press("backspace")
        await wait_until(pilot, lambda: len(view.rows) == total, what="the filter cleared")


async def test_amounts_are_signed_and_coloured(store: Store, portal: Any) -> None:
    await synced(store, portal.url)
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        view = await open_transactions(pilot, app)
        colours = set()
        for y in range(1, min(len(view.rows), view.size.height)):
            row = view.rows[y - 1]
            amount = int(row["deposit"]) - int(row["withdrawal"])
            strip = view.render_line(y)
            for segment in strip:
                text = segment.text.strip()
                if text and text[0] in "+-" and text[1:2].isdigit():
                    assert (text[0] == "+") == (amount > 0)
                    assert segment.style is not None and segment.style.color is not None
                    colours.add((text[0], segment.style.color.name))
        assert ("-", "red") in colours


async def test_bank_text_is_shown_literally(store: Store, portal: Any) -> None:
    await synced(store, portal.url)
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        view = await open_transactions(pilot, app)
        bracketed = [r for r in view.rows if "[" in (r.get("bank_party_name") or "")]
        controls = [
            r for r in view.rows if any(not c.isprintable() for c in (r.get("description") or ""))
        ]
        assert bracketed and controls  # the Demo Bank sends both
        view.set_rows([bracketed[0], controls[0]])
        await pilot.pause()
        text = screen_text(app)
        assert bracketed[0]["bank_party_name"][:12] in text
        assert "\x1b" not in text and "\x07" not in text
        assert all(c.isprintable() for line in text.splitlines() for c in line)


async def test_markup_in_an_account_name_keeps_its_brackets(store: Store, portal: Any) -> None:
    store.save_account(
        BankAccount(
            name="[bold]ACME[/] \x1b[31mred",
            bank="[i]Bank[/i]",
            company="Demo Company",
            iban="DE00 1234",
        )
    )
    app = make_app(store, portal)
    async with app.run_test(size=(120, 24)) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.pause()
        text = screen_text(app)
        assert "[bold]ACME[/] \\x1b[31mred" in text
        assert "[i]Bank[" in text  # truncated to the column, still literal
        assert "\x1b" not in text


async def test_all_accounts_view_merges_newest_first(store: Store, portal: Any) -> None:
    await synced(store, portal.url, start="2026-10-01")
    totals = sum(store.book(a).count() for a in store.accounts())
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.press("f5")
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, TransactionsScreen) and len(view_of(app).rows) == totals,
        )
        dates = [r["date"] for r in view_of(app).rows]
        assert dates == sorted(dates, reverse=True)
        assert "all accounts" in screen_text(app)
        assert "Account" in screen_text(app)
        await asyncio.sleep(0)


async def test_bank_text_in_titles_and_choices_is_literal(store: Store, portal: Any) -> None:
    from tui_support import flat_text, on_phase

    from kosma_tui.core.records import BankConsent, Company
    from kosma_tui.tui.screens.conflict import ConflictModal

    store.save_company(Company("[b]Muster[/b] GmbH"))
    store.save_consent(
        BankConsent(
            name=BankConsent.name_for("[i]Bank[/i]", "Demo Company"),
            bank="[i]Bank[/i]",
            company="Demo Company",
            consent_id="c",
            consent_start="2026-11-01",
            consent_expiry="2027-01-30T09:00:00+01:00",
            consent_token="t",
        )
    )
    store.save_account(
        BankAccount(
            name="[bold]ACME[/]",
            bank="[i]Bank[/i]",
            company="Demo Company",
            last_integration_date="2026-10-01",
        )
    )
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, ConflictModal))
        assert "[bold]ACME[/] cannot be synced" in flat_text(app)
        await pilot.press("escape")
        await pilot.press("l")
        await wait_until(pilot, lambda: on_phase(app, "start"))
        await pilot.click("#company")
        await pilot.pause()
        assert "[b]Muster[/b] GmbH" in flat_text(app)


async def test_typing_on_the_list_starts_the_filter(store: Store, portal: Any) -> None:
    await synced(store, portal.url, start="2026-10-01")
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        view = await open_transactions(pilot, app)
        total = len(view.rows)
        await type_text(pilot, "miete")  # no / needed
        await wait_until(pilot, lambda: 0 < len(view.rows) < total)
        assert app.screen.query_one("#tx-filter").value == "miete"  # type: ignore[attr-defined]
        await pilot.press("enter")  # back to the list, filter kept
        assert view.has_focus
        await pilot.press("G")
        assert view.cursor == len(view.rows) - 1


async def test_filter_finds_amounts_however_written_and_text_without_accents(
    store: Store, portal: Any
) -> None:
    await synced(store, portal.url, start="2026-06-01")
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        view = await open_transactions(pilot, app)
        total = len(view.rows)
        target = next(r for r in view.rows if int(r["withdrawal"]) >= 100_000)
        minor = int(target["withdrawal"])
        german = f"{minor // 100:,}".replace(",", ".") + f",{minor % 100:02d}"
        field = app.screen.query_one("#tx-filter")
        for text in (german, f"-{minor // 100}.{minor % 100:02d}"):
            field.value = text  # type: ignore[attr-defined]
            await wait_until(pilot, lambda: 0 < len(view.rows) < total, what=text)
            assert target["transaction_id"] in [r["transaction_id"] for r in view.rows]
            assert {int(r["withdrawal"]) for r in view.rows} == {minor}
            field.value = ""  # type: ignore[attr-defined]
            await wait_until(pilot, lambda: len(view.rows) == total, what="cleared")
        await pilot.press("slash")
        await type_text(pilot, "SOHNE muller")
        await wait_until(pilot, lambda: 0 < len(view.rows) < total, what="muller")
        assert all(r["bank_party_name"] == "Müller & Söhne KG" for r in view.rows)
        assert f"{len(view.rows):,} shown" in screen_text(app)


async def test_filter_over_all_accounts_merges_newest_first(store: Store, portal: Any) -> None:
    await synced(store, portal.url, start="2026-09-01")
    names = {a.name for a in store.accounts()}
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.press("f5")
        await wait_until(
            pilot, lambda: isinstance(app.screen, TransactionsScreen) and bool(view_of(app).rows)
        )
        view = view_of(app)
        total = len(view.rows)
        await pilot.press("slash")
        await type_text(pilot, "settled")
        await wait_until(pilot, lambda: 0 < len(view.rows) < total, what="the filter")
        rows = list(view.rows)
        assert {r["status"] for r in rows} == {"Settled"}
        assert {r["bank_account"] for r in rows} == names and len(names) > 1
        dates = [r["date"] for r in rows]
        assert dates == sorted(dates, reverse=True)
