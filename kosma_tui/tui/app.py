"""The Kosma TUI app: screens over the core engine (store, portal, linking, sync).

``kosma-tui`` hands the app its run's Runtime (``run_app(runtime)``): the store,
the portal (in demo mode the embedded Demo Bank portal) and the sync hooks.
Without one the app builds its own through the same Runtime, and closes it at
its end; tests inject a store and the URL of a Demo Bank portal they started
(``KosmaApp(store=..., portal_url=...)``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from textual import events
from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.signal import Signal
from textual.widgets import Input

# the screen modules are imported for their effect: each registers its screen by name
# (tui.registry), which open_screen and Help read
import kosma_tui.tui.screens.accounts
import kosma_tui.tui.screens.consents
import kosma_tui.tui.screens.help
import kosma_tui.tui.screens.link
import kosma_tui.tui.screens.parties
import kosma_tui.tui.screens.settings
import kosma_tui.tui.screens.sync
import kosma_tui.tui.screens.transactions  # noqa: F401
from kosma_tui.core.connection import DEMO_BANNER
from kosma_tui.core.errors import UsageError
from kosma_tui.runtime import Runtime
from kosma_tui.tui.commands import KosmaCommands
from kosma_tui.tui.controllers.link import LinkController
from kosma_tui.tui.controllers.sync import SyncController
from kosma_tui.tui.messages import (
    MatchParties,
    OpenScreen,
    RenewConsent,
    SettingsSaved,
    SyncAccount,
    SyncAccounts,
    SyncAll,
)
from kosma_tui.tui.registry import screen_class
from kosma_tui.tui.sync_queue import SyncQueue, SyncUpdate
from kosma_tui.tui.text import clean
from kosma_tui.tui.work import in_thread

if TYPE_CHECKING:
    from kosma_tui.core.portal import PortalClient
    from kosma_tui.core.records import BankingSettings
    from kosma_tui.core.store import Store

log = logging.getLogger("kosma_tui.tui")

HOSTNAME_ENV = "KOSMA_TUI_HOSTNAME"


class KosmaApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "Kosma TUI"
    # only ours: it lists the app's actions first, then Textual's (see tui.commands)
    COMMANDS: ClassVar = {KosmaCommands}
    ENABLE_COMMAND_PALETTE = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "f1",
            "open('help')",
            "Help",
            id="help",
            tooltip="The keys of every screen and what each screen is for",
        ),
        Binding("question_mark", "open('help')", "Help", id="help-question", show=False),
        Binding(
            "f2",
            "open('accounts')",
            "Accounts",
            id="go-accounts",
            show=False,
            tooltip="Bank Accounts, balances, consents and the last sync",
        ),
        Binding(
            "f3",
            "open('sync')",
            "Sync progress",
            id="go-sync",
            show=False,
            tooltip="Progress, queue and results of manual syncs",
        ),
        Binding(
            "f4",
            "open('consents')",
            "Bank Consents",
            id="go-consents",
            show=False,
            tooltip="Every Bank Consent with its expiry and Renew",
        ),
        Binding(
            "f5",
            "open('transactions')",
            "All transactions",
            id="go-transactions",
            show=False,
            tooltip="Bank Transactions of every account",
        ),
        Binding(
            "f6",
            "open('parties')",
            "Parties",
            id="go-parties",
            show=False,
            tooltip="Parties for automatic party matching: list, add, import CSV",
        ),
        Binding(
            "f7",
            "open('settings')",
            "Banking Settings",
            id="go-settings",
            show=False,
            tooltip="Portal URL, Customer ID, token, party matching, subscription",
        ),
        Binding(
            "f8",
            "open('link')",
            "Link Bank and Accounts",
            id="go-link",
            show=False,
            tooltip="Link a bank and its accounts (or renew a consent)",
        ),
        Binding(
            "ctrl+q",
            "quit",
            "Quit",
            id="quit",
            show=False,
            tooltip="Leave Kosma TUI (asks first while a sync runs)",
        ),
        # shown as an ordinary footer key (the footer's own palette corner costs the width
        # that f1 needs at 80 columns)
        Binding(
            "ctrl+p",
            "command_palette",
            "Palette",
            id="palette",
            key_display="^p",
            priority=True,
            tooltip="Search every action of the current screen",
        ),
        # Priority: focus moves the moment Tab is read, before the keys after it are routed.
        # Otherwise a burst (a password manager's auto-type) sends the keys after the Tab to
        # the field that still had focus, since Textual routes each key on arrival and
        # handles an unbound Tab only once it has bubbled back up.
        Binding(
            "tab",
            "focus_next",
            "Next field",
            id="focus-next",
            show=False,
            system=True,
            priority=True,
        ),
        Binding(
            "shift+tab",
            "focus_previous",
            "Previous field",
            id="focus-previous",
            show=False,
            system=True,
            priority=True,
        ),
    ]

    def __init__(
        self,
        runtime: Runtime | None = None,
        *,
        store: Store | None = None,
        portal_url: str | None = None,
        hostname: str | None = None,
        reminders: bool = True,
    ) -> None:
        super().__init__()
        # an app given its runtime leaves closing it to the giver; one it builds, it closes
        self._owns_runtime = runtime is None
        if runtime is None:
            runtime = Runtime(store=store, demo_portal_url=portal_url)
        self.runtime = runtime
        self.store: Store = runtime.store  # opened first: a broken one is reported at once
        self.hostname = hostname or os.environ.get(HOSTNAME_ENV) or socket.gethostname()
        self.show_reminders = reminders
        # a frozen clock (tests, screenshots) also freezes animations
        self.frozen = bool(os.environ.get("KOSMA_TUI_NOW"))
        self.settings_signal: Signal[None] = Signal(self, "settings")
        # the settings as last read or saved, for what is drawn on every frame (the
        # header's mode): read in a worker at start, replaced on each save (SettingsSaved)
        self.settings_snapshot: BankingSettings | None = None
        self.mode_signal: Signal[None] = Signal(self, "mode")
        self.data_signal: Signal[str] = Signal(self, "data")
        self.sync_signal: Signal[str] = Signal(self, "sync")
        self.sync_queue = SyncQueue(self)
        self.syncs = SyncController(self)
        self.links = LinkController(self)
        self._finished: list[Any] = []  # accounts the sync queue finished since it started
        self.leaving = ""  # why the app is ending once the syncs are done (a signal)
        self._terminal_lost = False

    # -- portal and mode -------------------------------------------------

    @property
    def demo(self) -> bool:
        return bool(self.settings_snapshot and self.settings_snapshot.demo)

    def mode_text(self) -> str:
        """The portal mode for the header; empty until the settings were read."""
        settings = self.settings_snapshot
        if settings is None:
            return ""
        if settings.demo:
            return DEMO_BANNER
        host = urlsplit(settings.admin_url).hostname or settings.admin_url
        suffix = " (test environment)" if settings.use_test_environment else ""
        state = "" if settings.enabled else " · DISABLED"
        return f"{host}{suffix}{state}"

    @asynccontextmanager
    async def portal(self) -> AsyncIterator[PortalClient]:
        """A portal client for one piece of work (attended: a person is at the keyboard)."""
        async with self.runtime.portal(attended=True) as client:
            yield client

    # -- screens ---------------------------------------------------------

    def get_default_screen(self) -> Screen[Any]:
        return screen_class("accounts")()

    def on_mount(self) -> None:
        self.theme = "textual-dark"
        store = self.store
        in_thread(self, store.settings, self.settings_changed, name="app-settings", latest=True)
        if self.show_reminders:
            self.call_after_refresh(self.show_launch_reminders)
        if not self.is_headless:
            loop = asyncio.get_running_loop()
            # a plain handler, not the loop's: it must run even while the main thread is
            # blocked handing a frame to a writer that died on the hung-up terminal
            signal.signal(signal.SIGHUP, lambda *_: self.terminal_lost(loop))
            # a loop callback is outside the app's context: handled as the app's message
            loop.add_signal_handler(signal.SIGTERM, self.call_later, self.stop_requested)

    # -- leaving: never in the middle of a sync (DESIGN 7) -----------------

    def terminal_lost(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """SIGHUP, the SSH session dropped: stop drawing, let the running and queued syncs
        finish (each bounded by its own timeouts), then exit; the next launch shows them."""
        if self._terminal_lost:
            return
        self._terminal_lost = True
        if not self.is_headless:
            _stop_drawing(self._driver)
        if loop is not None:  # in a signal handler: on to the app's own context
            loop.call_soon_threadsafe(self.call_later, self._leave, "the terminal was lost")
        else:
            self._leave("the terminal was lost")

    def stop_requested(self) -> None:
        """SIGTERM: like a lost terminal, but the screen still says what happens."""
        if self.sync_queue.busy:
            self.notify(
                "Kosma TUI was asked to stop: it exits once the running and queued syncs are done.",
                severity="warning",
                markup=False,
            )
        self._leave("it was asked to stop")

    def _leave(self, why: str) -> None:
        if self.leaving:
            return
        self.leaving = why
        log.info(
            "exiting because %s, after %s", why, "the syncs" if self.sync_queue.busy else "nothing"
        )
        self.set_interval(0.2, self._exit_when_idle)
        self._exit_when_idle()

    def _exit_when_idle(self) -> None:
        if not self.sync_queue.busy:
            self.exit()

    async def action_quit(self) -> None:
        """Ctrl+Q: while a sync runs, ask first."""
        if not self.sync_queue.busy:
            self.exit()
            return
        from kosma_tui.tui.dialogs.confirm import ConfirmModal

        def answered(quit_now: object) -> None:
            if quit_now:
                self.exit()

        self.push_screen(
            ConfirmModal(
                "A sync is running",
                "Quit now? The running sync stops after the page it is reading: what it read is "
                "kept and the next sync continues from there. Queued accounts are not synced.",
                yes="Quit",
            ),
            answered,
        )

    def show_launch_reminders(self) -> None:
        self.links.show_launch_reminders()

    def renew(self, consent_name: str) -> None:
        """Open the Link wizard for the bank and company of a consent (renewal)."""
        self.links.renew(consent_name)

    def open_screen(self, name: str, **options: Any) -> None:
        """Show a screen: back to it when it is on the stack (and no options), else push it."""
        factory = screen_class(name)
        if not options:
            for index, screen in enumerate(self.screen_stack):
                if type(screen) is factory:
                    while len(self.screen_stack) > index + 1:
                        self.pop_screen()
                    return
        self.push_screen(factory(**options))

    def action_open(self, name: str) -> None:
        if name == "transactions":
            self.open_screen(name, account=None)
        else:
            self.open_screen(name)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # a frozen clock (tests, screenshots) wants a steady cursor, not a blinking one
        if self.frozen and isinstance(event.widget, Input):
            event.widget.cursor_blink = False

    # -- what the screens ask for (tui.messages) ---------------------------

    def on_open_screen(self, message: OpenScreen) -> None:
        self.open_screen(message.name, **message.options)

    def on_renew_consent(self, message: RenewConsent) -> None:
        self.renew(message.consent)

    def on_sync_account(self, message: SyncAccount) -> None:
        self.syncs.start(message.name)

    def on_sync_accounts(self, message: SyncAccounts) -> None:
        self.syncs.start_many(message.names)

    def on_sync_all(self, message: SyncAll) -> None:
        self.syncs.start_all(announce=message.announce, show=message.show)

    def on_settings_saved(self, message: SettingsSaved) -> None:
        self.settings_changed(message.settings)

    def settings_changed(self, settings: BankingSettings) -> None:
        self.settings_snapshot = settings
        self.mode_signal.publish(None)

    def on_match_parties(self, message: MatchParties) -> None:
        self.syncs.match_again(message.names)

    # -- background sync -------------------------------------------------

    def sync(self, names: list[str]) -> list[str]:
        added = self.sync_queue.enqueue(names)
        for name in added:
            self.sync_signal.publish(name)
        return added

    def on_sync_update(self, message: SyncUpdate) -> None:
        snapshot = message.snapshot
        if snapshot is None:  # the queue ran dry: announce what it did, once
            finished, self._finished = self._finished, []
            self.syncs.announce_batch(finished)
            self.sync_signal.publish("")
            return
        self.sync_queue.apply(snapshot)
        self.sync_signal.publish(snapshot.name)
        if not snapshot.busy:
            self._finished.append(snapshot)
            self.data_signal.publish("accounts")

    def on_unmount(self) -> None:
        self.sync_queue.stop()
        if self._owns_runtime:
            self.runtime.close()

    def _handle_exception(self, error: Exception) -> None:
        """A bug reached Textual: in a terminal, end with one sentence (the traceback goes to
        the log file), never a traceback on screen. Tests (headless) see the exception."""
        if self.is_headless:
            super()._handle_exception(error)
            return
        from kosma_tui.core.errors import KosmaError
        from kosma_tui.core.paths import resolve_paths

        if isinstance(error, KosmaError):
            log.info("TUI stopped: %s %s", error.code, error.message)
            message = f"kosma-tui: {clean(error.sentence())}"
            code = error.exit_status
        else:
            log.error("unexpected error in the TUI", exc_info=error)
            message = (
                "kosma-tui: Something unexpected went wrong; nothing more was changed. "
                f"The details are in {resolve_paths().log_file}."
            )
            code = 1
        self.exit(return_code=code, message=message)


def _stop_drawing(driver: Any) -> None:
    """The terminal is gone: its descriptors now lead to /dev/null, Textual's output goes
    to a fresh writer there (the old one may have died on the first failed write, with
    the event loop blocked behind its full queue), and its input thread stops (reads
    from a hung-up terminal return end-of-file at once, forever)."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    old = getattr(driver, "_writer_thread", None)
    if old is not None:
        from textual.drivers._writer_thread import WriterThread

        fresh = WriterThread(open(os.devnull, "w"))
        fresh.start()
        driver._writer_thread = fresh
        with contextlib.suppress(queue.Empty):
            while True:  # unblock a put() waiting on the dead writer's queue
                old._queue.get_nowait()
    exit_event = getattr(driver, "exit_event", None)
    if exit_event is not None:
        exit_event.set()


def run_app(runtime: Runtime) -> int:
    """``kosma-tui`` without a command; ``runtime`` is closed by the command runner."""
    app = KosmaApp(runtime)  # opens the store first: a broken one is reported before all else
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError(
            "The TUI needs a terminal (over SSH: ssh -t); from scripts and cron run a "
            "command such as 'kosma-tui sync --all' or 'kosma-tui status'."
        )
    app.run()
    return 0 if app.return_code in (None, 0) else int(app.return_code)
