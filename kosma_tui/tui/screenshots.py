"""Render every screen of the walkthrough from the real app into ``screenshots/*.svg``.

    python -m kosma_tui.tui.screenshots [--out screenshots] [--size 100x30]

The app runs as a newcomer would run it: a fresh store (a temporary
KOSMA_TUI_HOME) on the embedded Demo Bank portal, driven by key presses.
The clock is frozen (KOSMA_TUI_NOW) and the host name fixed, so the pictures
are the same on every run; time travel for the reminder restarts the embedded
portal on a later date.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

NOW = date(2026, 11, 26)
HOSTNAME = "erp01"


def freeze(day: date) -> None:
    os.environ["KOSMA_TUI_NOW"] = f"{day.isoformat()}T09:00:00"


class Camera:
    """Drives one app run and saves numbered screenshots."""

    def __init__(self, pilot: Any, out: Path) -> None:
        self.pilot = pilot
        self.app = pilot.app
        self.out = out
        self.saved: list[Path] = []

    async def until(self, condition: Callable[[], object], timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"the walkthrough got stuck on {self.app.screen} "
                    f"{getattr(self.app.screen, 'phase', '')} "
                    f"{getattr(self.app.screen, 'phase_no', '')}"
                )
            await self.pilot.pause(0.05)
        await self.pilot.pause()

    async def keys(self, *keys: str) -> None:
        for key in keys:
            await self.pilot.press(key)
        await self.pilot.pause()

    async def type(self, text: str) -> None:
        await self.keys(*text)

    def on(self, phase: str, number: int | None = None) -> Callable[[], bool]:
        from kosma_tui.tui.screens.link import LinkScreen

        def check() -> bool:
            screen = self.app.screen
            return (
                isinstance(screen, LinkScreen)
                and not screen.busy
                and screen.phase == phase
                and (number is None or screen.phase_no == number)
            )

        return check

    async def shot(self, name: str) -> None:
        await self.pilot.pause()
        self.app.clear_notifications()
        await self.pilot.wait_for_scheduled_animations()
        await self.pilot.pause()
        path = self.out / f"{name}.svg"
        self.app.save_screenshot(filename=path.name, path=str(self.out))
        self.saved.append(path)


async def first_run(out: Path, size: tuple[int, int]) -> list[Path]:
    from kosma_tui.core.parties import import_parties, make_party
    from kosma_tui.tui.app import KosmaApp
    from kosma_tui.tui.screens.accounts import AccountsScreen
    from kosma_tui.tui.screens.conflict import ConflictModal
    from kosma_tui.tui.screens.sync import SyncScreen
    from kosma_tui.tui.screens.transactions import TransactionsScreen
    from kosma_tui.tui.widgets.transaction_view import TransactionView

    app = KosmaApp()
    async with app.run_test(size=size) as pilot:
        cam = Camera(pilot, out)
        await cam.shot("01-accounts-first-launch")
        await cam.keys("g")
        await cam.shot("02-banking-settings")
        await cam.keys("escape", "l")
        await cam.until(cam.on("start"))
        app.screen.query_one("#start-date").value = "2026-01-01"  # type: ignore[attr-defined]
        await cam.shot("03-link-company-and-start-date")
        await cam.keys("enter")
        await cam.until(cam.on("form", 2))
        await cam.shot("04-link-country")
        await cam.keys("enter")
        await cam.until(cam.on("form", 3))
        await cam.type("demo")
        await cam.shot("05-link-bank-filtered")
        await cam.keys("enter")
        await cam.until(cam.on("form", 4))
        await cam.shot("06-link-method")
        await cam.keys("enter")
        await cam.until(cam.on("form", 5))
        await cam.type("embedded")
        await cam.keys("enter")
        await cam.type("12345")
        await cam.shot("07-link-login")
        await cam.keys("enter")
        await cam.until(cam.on("form", 6))
        await cam.type("99999")
        await cam.keys("enter")
        await cam.until(
            lambda: cam.on("form", 6)() and bool(app.screen.query_one("#step-error").render())
        )
        await cam.shot("08-link-otp-not-accepted")
        await cam.type("12345")
        await cam.keys("enter")
        await cam.until(cam.on("accounts"))
        await cam.shot("09-link-choose-accounts")
        await cam.keys("enter")
        await cam.until(cam.on("summary"))
        await cam.shot("10-link-summary")
        await cam.keys("enter")  # Sync the accounts now
        await cam.until(
            lambda: (
                isinstance(app.screen, SyncScreen)
                and not app.sync_queue.busy
                and all(not s.busy for s in app.sync_queue.states.values())
            )
        )
        await cam.shot("11-sync-results")
        await cam.keys("escape")
        await cam.until(lambda: isinstance(app.screen, AccountsScreen))
        await cam.shot("12-accounts")
        await cam.keys("t")
        await cam.until(
            lambda: (
                isinstance(app.screen, TransactionsScreen)
                and bool(app.screen.query_one(TransactionView).rows)
            )
        )
        await cam.shot("13-transactions")
        await cam.keys("slash")
        await cam.type("miete")
        view = app.screen.query_one(TransactionView)
        await cam.until(lambda: len(view.rows) < 100)
        await cam.shot("14-transactions-filtered")
        await cam.keys("escape", "escape")
        await cam.until(lambda: isinstance(app.screen, AccountsScreen))
        await cam.keys("c")
        await cam.shot("15-consents")
        await cam.keys("escape")
        import_parties(
            app.store,
            [
                make_party("Supplier", "Hausverwaltung Schmidt", ["DE89 3704 0044 0532 0130 00"]),
                make_party("Supplier", "[red]Lieferant[/red] GmbH"),
                make_party("Customer", "Zoë Ångström", [], ["1234567890"]),
                make_party("Employee", "Erika Mustermann"),
            ],
        )
        await cam.keys("p")
        await cam.shot("16-parties")
        await cam.keys("escape", "f1")
        await cam.shot("17-help")
        await cam.keys("escape")
        name = app.store.accounts()[0].name
        app.store.update_account(name, last_integration_date="2025-12-01")
        app.data_signal.publish("accounts")
        await cam.keys("s")
        await cam.until(lambda: isinstance(app.screen, ConflictModal))
        await cam.shot("18-consent-start-conflict")
        await cam.keys("1")
        return cam.saved


async def later_run(out: Path, size: tuple[int, int]) -> list[Path]:
    """85 days later: the reminder on launch, then a decoupled login."""
    from kosma_tui.tui.app import KosmaApp
    from kosma_tui.tui.screens.accounts import AccountsScreen
    from kosma_tui.tui.screens.reminders import ReminderModal

    # each KosmaApp() runs its own embedded Demo Bank portal, stopped when the app ends:
    # this one starts on the date moved to
    freeze(NOW + timedelta(days=85))
    app = KosmaApp()
    async with app.run_test(size=size) as pilot:
        cam = Camera(pilot, out)
        await cam.until(lambda: isinstance(app.screen, ReminderModal))
        await cam.shot("19-reminder-on-launch")
        await cam.keys("escape")
        await cam.until(lambda: isinstance(app.screen, AccountsScreen))
        await cam.shot("20-accounts-renewal-due")
        await cam.keys("r")
        await cam.until(cam.on("start"))
        await cam.shot("21-link-renewal")
        await cam.keys("enter")
        await cam.until(cam.on("form"))
        while app.screen.phase_no < 5:  # type: ignore[attr-defined]
            await cam.keys("enter")
            await cam.until(cam.on("form"))
        await cam.type("decoupled")
        await cam.keys("enter")
        await cam.type("12345")
        await cam.keys("enter")
        await cam.until(cam.on("wait"))
        await cam.shot("22-link-decoupled-wait")
        await cam.keys("ctrl+c")
        await cam.until(lambda: isinstance(app.screen, AccountsScreen))
        return cam.saved


PAUSE_PAGE = 12


class _Pause:
    """Holds the sync thread when an account reaches page ``PAUSE_PAGE`` (only the long
    account has that many), so the picture of a running sync is the same on every run."""

    def __init__(self) -> None:
        import threading

        self.reached = threading.Event()
        self.release = threading.Event()

    def engine(self, base: Any) -> Any:
        pause = self

        class PausingEngine(base):
            def __init__(self, *args: Any, on_progress: Any = None, **options: Any) -> None:
                def report(progress: Any) -> None:
                    if on_progress is not None:
                        on_progress(progress)
                    if (
                        progress.phase == "transactions"
                        and progress.page == PAUSE_PAGE
                        and not pause.release.is_set()
                    ):
                        pause.reached.set()
                        pause.release.wait(60)

                super().__init__(*args, on_progress=report, **options)

        return PausingEngine


async def sync_run(out: Path, size: tuple[int, int]) -> list[Path]:
    """A sync in progress: a Demo Bank account with 100 transactions a day since January
    (33 pages) and a Demo Sparkasse link queued behind it, both linked by key presses."""
    import kosma_tui.core.sync as sync_module
    from kosma_tui.tui.app import KosmaApp
    from kosma_tui.tui.screens.accounts import AccountsScreen
    from kosma_tui.tui.screens.sync import SyncScreen

    pause = _Pause()
    engine = sync_module.SyncEngine
    sync_module.SyncEngine = pause.engine(engine)  # type: ignore[misc]
    app = KosmaApp()
    try:
        async with app.run_test(size=size) as pilot:
            cam = Camera(pilot, out)
            for bank, username in (
                ("demo bank", "many-transactions100000"),
                ("demo spar", "embedded"),
            ):
                await _link_by_keys(cam, username, "2026-01-01", bank=bank)
            await cam.keys("a")
            await cam.until(
                lambda: (
                    isinstance(app.screen, SyncScreen)
                    and pause.reached.is_set()
                    and any(s.page == PAUSE_PAGE for s in app.sync_queue.states.values())
                )
            )
            await cam.shot("23-sync-in-progress")
            await cam.keys("escape")
            await cam.until(lambda: isinstance(app.screen, AccountsScreen))
            await cam.shot("24-accounts-while-syncing")
            pause.release.set()
            await cam.until(lambda: not app.sync_queue.busy, timeout=120)
    finally:
        pause.release.set()
        sync_module.SyncEngine = engine  # type: ignore[misc]
    return cam.saved


async def _link_by_keys(cam: Camera, username: str, start: str, bank: str = "demo bank") -> None:
    """From Accounts: link ``bank`` as ``username`` (password and any OTP 12345)."""
    from kosma_tui.tui.screens.accounts import AccountsScreen

    app = cam.app
    await cam.keys("l")
    await cam.until(cam.on("start"))
    app.screen.query_one("#start-date").value = start
    await cam.keys("enter")
    await cam.until(cam.on("form", 2))
    await cam.keys("enter")
    await cam.until(cam.on("form", 3))
    await cam.type(bank)
    await cam.keys("enter")
    await cam.until(cam.on("form", 4))
    await cam.keys("enter")
    await cam.until(cam.on("form", 5))
    await cam.type(username)
    await cam.keys("enter")
    await cam.type("12345")
    await cam.keys("enter")
    await cam.until(lambda: cam.on("form", 6)() or cam.on("accounts")())
    if cam.on("form", 6)():  # this bank asks for an OTP
        await cam.type("12345")
        await cam.keys("enter")
        await cam.until(cam.on("accounts"))
    await cam.keys("enter")
    await cam.until(cam.on("summary"))
    await cam.keys("escape")
    await cam.until(lambda: isinstance(app.screen, AccountsScreen))


async def _sync_all(cam: Camera) -> None:
    from kosma_tui.tui.screens.accounts import AccountsScreen
    from kosma_tui.tui.screens.sync import SyncScreen

    app = cam.app
    # Accounts reads the store in a worker; "a" before that read is not an error, but
    # it does nothing either
    await cam.until(lambda: isinstance(app.screen, AccountsScreen) and app.screen.loaded)
    await cam.keys("a")
    await cam.until(
        lambda: (
            isinstance(app.screen, SyncScreen)
            and not app.sync_queue.busy
            and all(not s.busy for s in app.sync_queue.states.values())
        )
    )
    await cam.keys("escape")
    await cam.until(lambda: isinstance(app.screen, AccountsScreen))


async def trust_run(out: Path, size: tuple[int, int]) -> list[Path]:
    """The late-booking user: synced today, then two days later the bank's balance holds
    a booking it does not list yet (a mismatch); then the reminder mail settings."""
    from kosma_tui.tui.app import KosmaApp

    app = KosmaApp()
    async with app.run_test(size=size) as pilot:
        cam = Camera(pilot, out)
        await _link_by_keys(cam, "late-booking", "2026-11-01")
        await _sync_all(cam)
    freeze(NOW + timedelta(days=2))
    app = KosmaApp()
    async with app.run_test(size=size) as pilot:
        cam = Camera(pilot, out)
        await _sync_all(cam)
        await cam.shot("25-accounts-balance-mismatch")
        await cam.keys("g")
        await cam.until(lambda: bool(app.screen.query("#mail-panel")))
        screen = app.screen
        screen.query_one("#settings-scroll").scroll_to_widget(
            screen.query_one("#mail-panel"), top=True, animate=False
        )
        screen.query_one("#mail-to").focus(scroll_visible=False)
        await cam.type("admin@example.com")
        for field, text in (
            ("#smtp-host", "mail.example.com"),
            ("#smtp-user", "reminders@example.com"),
            ("#smtp-password", "an-app-password"),
        ):
            screen.query_one(field).value = text  # type: ignore[attr-defined]
        await cam.shot("26-settings-reminder-mails")
    return cam.saved


async def walkthrough(out: Path, size: tuple[int, int]) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    os.environ["KOSMA_TUI_HOSTNAME"] = HOSTNAME
    saved: list[Path] = []
    # each group is a newcomer with a fresh store; the long sync gets its own
    for runs in ((first_run, later_run), (sync_run,), (trust_run,)):
        with tempfile.TemporaryDirectory(prefix="kosma-screens-") as home:
            os.environ["KOSMA_TUI_HOME"] = home
            freeze(NOW)
            for run in runs:
                saved += await run(out, size)
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kosma_tui.tui.screenshots",
        description="Render the walkthrough into SVG screenshots.",
    )
    parser.add_argument("--out", type=Path, default=Path("screenshots"))
    parser.add_argument("--size", default="100x30", help="terminal size, COLUMNSxROWS")
    args = parser.parse_args(argv)
    columns, rows = (int(n) for n in args.size.lower().split("x"))
    saved = asyncio.run(walkthrough(args.out, (columns, rows)))
    for path in saved:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
