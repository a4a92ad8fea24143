"""One table of Banking Settings values drives both interfaces: ``kosma-tui settings``
and the Settings screen accept and refuse the same values with the same limits
(``core.usecases.settings``), and neither saves a refused value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cli_support import kosma
from textual.widgets import Input
from tui_support import SIZE, make_app, screen_text, settled

from kosma_tui.core.paths import resolve_paths
from kosma_tui.core.store import Store
from kosma_tui.core.usecases.settings import DAY_LIMITS
from kosma_tui.tui.screens.settings import SettingsScreen

# (field, value as typed, the sentence of the refusal or None when it is accepted)
CASES = [
    ("reminder_days", "0", None),
    ("reminder_days", str(DAY_LIMITS["reminder_days"][1]), None),
    ("reminder_days", "90", "Reminder days must be between 0 and 89."),
    ("reminder_days", "-1", "Reminder days must be between 0 and 89."),
    ("lookback_days", "90", None),
    ("lookback_days", "91", "Lookback days must be between 0 and 90."),
    ("lookback_days", "7", None),
    ("admin_url", "http://portal.example.com", "must use https://"),
    ("admin_url", "https://portal.example.com", None),
    ("customer_id", "C 1042", "Customer ID"),
    ("customer_id", "C-1042", None),
]
OPTION = {
    "reminder_days": "--reminder-days",
    "lookback_days": "--lookback-days",
    "admin_url": "--admin-url",
    "customer_id": "--customer-id",
}


def stored(home: Path, field: str) -> Any:
    return getattr(Store.open(resolve_paths(home)).settings(), field)


@pytest.mark.parametrize(("field", "value", "refusal"), CASES)
def test_the_command_accepts_and_refuses_like_the_table(
    home: Path, field: str, value: str, refusal: str | None
) -> None:
    before = stored(home, field)
    done = kosma(home, "settings", f"{OPTION[field]}={value}")
    if refusal is None:
        assert done.returncode == 0, done.stderr
        assert str(stored(home, field)) == value
    else:
        assert done.returncode == 2
        assert refusal in done.stderr and "Traceback" not in done.stderr
        assert stored(home, field) == before  # nothing saved


async def test_the_screen_accepts_and_refuses_like_the_table(store: Store, portal: Any) -> None:
    """Every case in one Settings screen, one after another as an admin would type them
    (a refused value is put back before the next case, as the admin would)."""
    app = make_app(store, portal, reminders=False)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.press("g")
        await settled(pilot)  # the form is filled from the settings read
        screen = app.screen
        assert isinstance(screen, SettingsScreen)
        for field, value, refusal in CASES:
            case = f"{field}={value!r}"
            before = getattr(store.settings(), field)
            screen.query_one(f"#{field}", Input).value = value
            await pilot.pause()
            message = str(screen.query_one(f"#msg-{field}").render())
            await pilot.press("ctrl+s")
            await settled(pilot)
            if refusal is None:
                assert message == "", case
                assert str(getattr(store.settings(), field)) == value, case
            else:
                assert refusal in message, (case, screen_text(app))
                assert getattr(store.settings(), field) == before, case  # nothing saved
                screen.query_one(f"#{field}", Input).value = str(before)
                await pilot.pause()


# the mail section's rules: (option, field id, value as typed, the refusal)
MAIL_CASES = [
    (
        "--mail-from",
        "mail-from",
        "a@example.org, b@example.org",
        "The sender (From) is one address.",
    ),
    ("--smtp-host", "smtp-host", "mail.example.org/smtp", "is not an SMTP host name."),
    ("--smtp-host", "smtp-host", "kosma@mail.example.org", "is not an SMTP host name."),
]


@pytest.mark.parametrize(("option", "field", "value", "refusal"), MAIL_CASES)
def test_the_command_refuses_mail_settings_like_the_table(
    home: Path, option: str, field: str, value: str, refusal: str
) -> None:
    done = kosma(home, "settings", "--mail-to", "admin@example.org", f"{option}={value}")
    assert done.returncode == 2
    assert refusal in done.stderr and "Traceback" not in done.stderr
    assert stored(home, "mail_to") == []  # nothing saved


async def test_the_mail_section_refuses_like_the_table(store: Store, portal: Any) -> None:
    app = make_app(store, portal, reminders=False)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        await pilot.press("g")
        await settled(pilot)
        screen = app.screen
        screen.query_one("#mail-to", Input).value = "admin@example.org"
        for _option, field, value, refusal in MAIL_CASES:
            screen.query_one(f"#{field}", Input).value = value
            await pilot.pause()
            assert refusal in str(screen.query_one("#mail-status").render()), field
            screen.query_one(f"#{field}", Input).value = ""
            await pilot.pause()
        assert store.settings().mail_to == []
