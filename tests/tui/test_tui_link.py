"""The Link wizard against the real Demo Bank portal: embedded with a wrong OTP,
decoupled, cancelled (the portal session ends), Escape back, errors shown with their remedy."""

from __future__ import annotations

from typing import Any

from tui_support import (
    SIZE,
    login,
    make_app,
    on_phase,
    screen_text,
    settled,
    to_banks,
    to_login,
    type_text,
    wait_until,
)

from kosma_tui.core.store import Store
from kosma_tui.tui.screens.accounts import AccountsScreen
from kosma_tui.tui.widgets.link_steps import AccountsStep, ErrorStep, SummaryStep, WaitStep
from kosma_tui.tui.widgets.step_form import ChoiceStep, InputStep


async def test_link_embedded_with_one_wrong_otp(store: Store, portal: Any) -> None:
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await to_login(pilot, app)
        text = screen_text(app)
        assert "step 5 of 8" in text and "Demo Bank PSD2" in text
        await login(pilot, app, "embedded")
        await wait_until(pilot, lambda: on_phase(app, "form", 6), what="OTP step")
        assert "Confirm with your OTP" in screen_text(app)
        await type_text(pilot, "99999")
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: "The OTP was not accepted" in screen_text(app), what="the OTP error"
        )
        assert on_phase(app, "form", 6)
        otp = app.screen.query_one(InputStep).query_one("#in-TAN")
        assert otp.password  # type: ignore[attr-defined]
        assert "99999" not in screen_text(app)
        await type_text(pilot, "12345")
        await pilot.press("enter")
        await wait_until(pilot, lambda: on_phase(app, "accounts"), what="accounts step")
        assert len(app.screen.query_one(AccountsStep).accounts) == 3
        await pilot.press("enter")  # all accounts, the default
        await wait_until(pilot, lambda: on_phase(app, "summary"), what="summary")
        summary = screen_text(app)
        assert "Demo Bank is linked for Demo Company" in summary
        assert "expires 2027-02-24 (90 days left)" in summary
        assert app.screen.query_one(SummaryStep)
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, AccountsScreen))
        await pilot.pause()
        home = screen_text(app)
        assert "Girokonto" in home and "90 d" in home
    accounts = store.accounts()
    assert len(accounts) == 3
    consent = store.consent("Demo Bank-Demo Company")
    assert consent is not None and consent.consent_start == "2026-11-26"
    assert all(s.status == "Closed" for s in store.link_sessions())


async def test_link_decoupled_waits_with_a_spinner_then_finishes(store: Store, portal: Any) -> None:
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await to_login(pilot, app)
        await login(pilot, app, "decoupled")
        await wait_until(pilot, lambda: on_phase(app, "wait"), what="the decoupled wait")
        text = screen_text(app)
        assert "Approve the login" in text and "s waited" in text
        assert app.screen.query_one(WaitStep)
        await wait_until(pilot, lambda: on_phase(app, "accounts"), what="accounts after wait")


async def test_cancelled_link_ends_the_portal_session(store: Store, portal: Any) -> None:
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await to_login(pilot, app)
        sessions = store.link_sessions()
        assert [s.status for s in sessions] == ["Running"]
        await pilot.press("ctrl+c")
        await wait_until(
            pilot, lambda: isinstance(app.screen, AccountsScreen), what="back on Accounts"
        )
    assert [s.status for s in store.link_sessions()] == ["Closed"]
    assert store.accounts() == [] and store.consents() == []


async def test_cancel_during_the_decoupled_wait_ends_the_session(store: Store, portal: Any) -> None:
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await to_login(pilot, app)
        await login(pilot, app, "decoupled")
        await wait_until(pilot, lambda: on_phase(app, "wait"), what="the decoupled wait")
        await pilot.click("#cancel-wait")
        await wait_until(pilot, lambda: isinstance(app.screen, AccountsScreen))
    assert all(s.status == "Closed" for s in store.link_sessions())
    assert store.consents() == []


async def test_escape_goes_back_one_step_at_a_time(store: Store, portal: Any) -> None:
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await to_login(pilot, app)
        await pilot.press("escape")
        await wait_until(pilot, lambda: on_phase(app, "form", 4), what="back to the method")
        await pilot.press("escape")
        await wait_until(pilot, lambda: on_phase(app, "form", 3), what="back to the bank")
        assert app.screen.query_one(ChoiceStep).element.key == "bank_code"
        await pilot.press("escape")
        await wait_until(pilot, lambda: on_phase(app, "form", 2), what="back to the country")
        await pilot.press("escape")
        await wait_until(pilot, lambda: on_phase(app, "start"), what="back to the start")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, AccountsScreen))
    # every abandoned portal session on the way back was ended
    assert store.link_sessions() and all(s.status == "Closed" for s in store.link_sessions())


async def test_a_refused_login_shows_the_sentence_and_the_remedy(store: Store, portal: Any) -> None:
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await to_login(pilot, app)
        await login(pilot, app, "wrong")
        await wait_until(pilot, lambda: on_phase(app, "error"), what="the error step")
        text = screen_text(app)
        assert "The bank refused the login." in text
        assert "Try again with the right credentials." in text
        assert app.screen.query_one(ErrorStep)
        await pilot.press("enter")  # Start again
        await wait_until(pilot, lambda: on_phase(app, "start"))
    assert all(s.status == "Closed" for s in store.link_sessions())


async def test_start_date_rules_show_as_you_type(store: Store, portal: Any) -> None:
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.press("l")
        await wait_until(pilot, lambda: on_phase(app, "start"))
        date_input = app.screen.query_one("#start-date")
        assert date_input.value == "2026-11-26"  # type: ignore[attr-defined]
        date_input.value = "2026-12-24"  # type: ignore[attr-defined]
        await pilot.pause()
        assert "is in the future" in screen_text(app)
        await pilot.press("enter")
        await pilot.pause()
        assert on_phase(app, "start")  # refused, nothing started
        date_input.value = "2026-06-01"  # type: ignore[attr-defined]
        await pilot.pause()
        assert "count against the transaction limit" in screen_text(app)
        date_input.value = ""  # type: ignore[attr-defined]
        await pilot.pause()
        assert "From 2026-01-01." in screen_text(app)  # the fiscal year start
    assert store.link_sessions() == []


async def test_an_earlier_start_date_says_how_much_of_the_plan_is_left(
    store: Store, portal: Any
) -> None:
    from test_tui_transactions import synced

    await synced(store, portal.url, start="2026-10-01")  # uses some of the plan
    portal.running.transaction_limit = 5_000
    app = make_app(store, portal, reminders=False)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.press("l")
        await wait_until(pilot, lambda: on_phase(app, "start"), what="start step")
        app.screen.query_one("#start-date").value = "2026-11-01"  # type: ignore[attr-defined]
        await wait_until(
            pilot,
            lambda: "of 5,000 transactions used" in screen_text(app),
            what="the usage in the warning",
        )
        from kosma_tui.core.subscription import remembered

        used = remembered(store)["usage"]  # type: ignore[index]
        assert used > 0
        text = " ".join(screen_text(app).split())
        assert f"{used:,} of 5,000 transactions used ({5_000 - used:,} left)" in text


async def test_the_bank_search_ignores_accents(store: Store, portal: Any) -> None:
    app = make_app(store, portal, reminders=False)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await to_banks(pilot, app)
        await type_text(pilot, "munch")
        await pilot.pause()
        assert "1 of 24 banks" in screen_text(app)
        assert "Münchner Bürgerbank" in screen_text(app)


async def test_a_login_without_accounts_does_not_offer_a_sync(store: Store, portal: Any) -> None:
    app = make_app(store, portal, reminders=False)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await to_login(pilot, app)
        await login(pilot, app, "generate-new-accounts0")
        await wait_until(
            pilot,
            lambda: on_phase(app, "accounts") or on_phase(app, "summary"),
            what="the end of the login",
        )
        if on_phase(app, "accounts"):
            await pilot.press("enter")
            await wait_until(pilot, lambda: on_phase(app, "summary"), what="summary")
        text = " ".join(screen_text(app).split())
        assert "returned no account for this login" in text
        assert "Sync the accounts now" not in text and "Done" in text


def test_the_decoupled_wait_keeps_textual_animate_method():
    from kosma_tui.tui.widgets.link_steps import WaitStep

    step = WaitStep("Approve in your banking app.", animate=False)
    assert callable(step.animate) and step.spinning is False
