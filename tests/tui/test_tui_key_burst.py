"""Keys that arrive all at once (a password manager's auto-type, a paste over SSH) land in
the fields they were typed for: the login form reaches the OTP step, the password never shows."""

from __future__ import annotations

from typing import Any

from textual import events
from tui_support import SIZE, make_app, on_phase, screen_text, settled, to_login, wait_until

from kosma_tui.core.store import Store
from kosma_tui.tui.widgets.step_form import InputStep


def burst(app: Any, keys: list[str]) -> None:
    """Queue every key event at once, as the terminal driver does for one read of input."""
    for key in keys:
        char = key if len(key) == 1 else {"tab": "\t", "enter": "\r"}.get(key)
        event = events.Key(key, char)
        event.set_sender(app)
        app._driver.send_message(event)


async def test_a_burst_with_tab_fills_username_and_password(store: Store, portal: Any) -> None:
    app = make_app(store, portal, reminders=False)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await to_login(pilot, app)
        burst(app, [*"embedded", "tab", *"12345", "enter"])
        await wait_until(
            pilot,
            lambda: on_phase(app, "form", 6) or "embedded1" in screen_text(app),
            what="the OTP step",
        )
        assert "embedded1" not in screen_text(app), "the password went to the Username field"
        # the portal took "embedded" / "12345": only the right fields reach the OTP step
        assert on_phase(app, "form", 6) and "Confirm with your OTP" in screen_text(app)
        burst(app, [*"12345", "enter"])
        await wait_until(pilot, lambda: on_phase(app, "accounts"), what="the accounts step")


async def test_a_burst_with_enter_between_the_fields(store: Store, portal: Any) -> None:
    """Enter in the Username goes on to the Password, for the keys after it too."""
    app = make_app(store, portal, reminders=False)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await to_login(pilot, app)
        form = app.screen.query_one(InputStep)
        burst(app, [*"embedded", "enter", *"12345"])
        await pilot.pause()
        values = [i.value for i in form.query("Input")]  # type: ignore[attr-defined]
        assert values == ["embedded", "12345"]
        burst(app, ["enter", *"99"])  # submits what was typed; the OTP step gets the rest
        await wait_until(pilot, lambda: on_phase(app, "form", 6), what="the OTP step")
