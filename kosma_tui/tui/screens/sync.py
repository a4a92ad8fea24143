"""Sync: per-account progress bars and live counts, the queue and the results."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Label, ProgressBar, Static

from kosma_tui.core.records import BankAccount, LastSync
from kosma_tui.tui.controllers.sync import describe
from kosma_tui.tui.feedback import report, toast
from kosma_tui.tui.messages import SyncAccount, SyncAll
from kosma_tui.tui.registry import registered
from kosma_tui.tui.screens.base import KosmaScreen
from kosma_tui.tui.status import when_text
from kosma_tui.tui.sync_queue import IDLE, QUEUED, RUNNING, AccountSync
from kosma_tui.tui.text import clean
from kosma_tui.tui.work import in_thread


def last_sync_short(account: BankAccount) -> str:
    if not account.enabled:
        return "disabled: Sync all skips it (d on Accounts enables it)"
    last = account.last_sync or LastSync()
    if not last.when:
        return "never synced"
    job = ", daily job" if last.unattended else ""
    return f"last sync {when_text(last.when)}: {last.outcome or '?'}{job}"


class SyncRow(Widget):
    def __init__(self, name: str, last_sync: str = "") -> None:
        super().__init__()
        self.account = name
        self.last_sync = last_sync

    def compose(self) -> ComposeResult:
        yield Label(clean(self.account), classes="sync-name", markup=False)
        yield ProgressBar(total=1, show_eta=False, classes="sync-bar")
        yield Label("", classes="sync-text", markup=False)

    def show(self, state: AccountSync) -> None:
        bar = self.query_one(ProgressBar)
        # an empty bar would read as "nothing synced" (idle) or "stuck at 0%" (queued)
        bar.visible = state.state not in (IDLE, QUEUED)
        if state.state == RUNNING and state.fraction is not None:
            bar.update(total=100, progress=round(state.fraction * 100, 1))
        elif state.state == RUNNING:  # reading balances: no estimate yet
            bar.update(total=None)
        elif state.state == "ok":
            bar.update(total=1, progress=1)
        else:
            bar.update(total=1, progress=0)
        text = self.query_one(".sync-text", Label)
        words = self.last_sync if state.state == IDLE and self.last_sync else describe(state)
        # one line per account, cut with an ellipsis; the selected row's whole sentence is
        # under the list
        text.update(Text(words, no_wrap=True, overflow="ellipsis"))
        text.set_class(state.state in ("failed", "refused"), "error")


@registered("sync")
class SyncScreen(KosmaScreen):
    TITLE = "Sync"
    PURPOSE = (
        "Manual sync. Accounts are synced one at a time in the background while you keep "
        "using the app; each shows a progress bar, the page being read and the "
        "transactions fetched; the queue waits below it and the result is announced."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        *KosmaScreen.BINDINGS,
        Binding("s", "sync", "Sync", id="sync-account", tooltip="Sync the selected account"),
        Binding("a", "sync_all", "Sync all", id="sync-all", tooltip="Queue every account"),
        Binding(
            "x",
            "cancel",
            "Stop",
            id="sync-cancel",
            tooltip="Stop the running sync (what was read is kept) and empty the queue",
        ),
        Binding("up", "move(-1)", "Up", id="up", show=False),
        Binding("down", "move(1)", "Down", id="down", show=False),
        Binding(
            "enter",
            "details",
            "Resolve",
            id="sync-details",
            tooltip="Show what to do about the selected account's refusal or failure",
        ),
    ]

    def compose_body(self) -> ComposeResult:
        box = VerticalScroll(id="sync-list")
        box.border_title = "Sync"
        box.can_focus = False
        yield box  # its rows come with the accounts, read by a thread worker
        yield Static("", id="sync-detail", classes="error", markup=False)
        yield Static("", id="sync-summary", classes="hint", markup=False)

    def on_mount(self) -> None:
        self.index = 0
        self._rows: list[SyncRow] = []  # the mounted rows, in the accounts' order
        self.loaded = False  # until the accounts are read: "loading…", not "no accounts"
        self.refresh_rows()
        self.refresh_accounts()
        self.kosma.sync_signal.subscribe(self, lambda _: self.refresh_rows())
        self.kosma.data_signal.subscribe(self, lambda _: self.refresh_accounts())

    def refresh_accounts(self) -> None:
        """Read the accounts in a thread worker; their rows follow once it answers."""
        store = self.store
        in_thread(self.app, store.accounts, self.show_accounts, name="sync-accounts", latest=True)

    async def show_accounts(self, accounts: list[BankAccount]) -> None:
        """Accounts linked (or removed) since the screen opened get their rows."""
        if not self.is_attached:  # closed while the store was read
            return
        self.loaded = True
        if [a.name for a in accounts] == [r.account for r in self.rows()]:
            for row, account in zip(self.rows(), accounts, strict=True):
                row.last_sync = last_sync_short(account)
            self.refresh_rows()
            return
        box = self.query_one("#sync-list", VerticalScroll)
        # no progress is drawn on rows going or not composed yet (a sync may report now)
        self._rows = []
        await box.remove_children()
        rows = [SyncRow(a.name, last_sync_short(a)) for a in accounts]
        await box.mount_all(rows)
        self._rows = rows
        self.index = min(self.index, max(len(accounts) - 1, 0))
        self.refresh_rows()

    def rows(self) -> list[SyncRow]:
        return list(self._rows)

    def refresh_rows(self) -> None:
        queue = self.kosma.sync_queue
        rows = self.rows()
        for i, row in enumerate(rows):
            row.show(queue.state(row.account))
            row.set_class(i == self.index, "-selected")
        states = [queue.state(r.account).state for r in rows]
        chosen = queue.state(rows[self.index].account) if rows else None
        detail = ""
        if chosen is not None and chosen.state in ("failed", "refused") and chosen.error:
            detail = f"{clean(chosen.name)}: {describe(chosen)}"
        self.query_one("#sync-detail", Static).update(Text(detail))
        summary = self.query_one("#sync-summary", Static)
        if not self.loaded:
            summary.update("Loading the bank accounts…")
        elif not rows:
            summary.update("No bank accounts yet: press l on Accounts to link a bank.")
        else:
            summary.update(
                f"{states.count(RUNNING)} running · {states.count(QUEUED)} queued · "
                f"{states.count('ok')} done · "
                f"{states.count('failed') + states.count('refused')} not synced"
            )

    def selected(self) -> str | None:
        rows = self.rows()
        return rows[self.index].account if rows else None

    def action_move(self, delta: int) -> None:
        rows = self.rows()
        if rows:
            self.index = max(0, min(len(rows) - 1, self.index + delta))
            self.refresh_rows()
            rows[self.index].scroll_visible()

    def action_sync(self) -> None:
        name = self.selected()
        if name is not None:
            self.post_message(SyncAccount(name))

    def action_sync_all(self) -> None:
        self.post_message(SyncAll(announce=True))

    def action_cancel(self) -> None:
        if not self.kosma.sync_queue.busy:
            toast(self.app, "Nothing is syncing.")
            return
        dropped = self.kosma.sync_queue.cancel()
        for name in dropped:
            self.kosma.sync_signal.publish(name)
        toast(self.app, "Stopping the sync; what was read is kept.", warning=True)

    def action_details(self) -> None:
        from kosma_tui.core.sync import refusal

        name = self.selected()
        if name is None:
            return
        store = self.store

        def read() -> tuple[BankAccount | None, Any]:
            account = store.account(name)
            return account, (refusal(store, account) if account is not None else None)

        in_thread(self.app, read, self.show_details, name="sync-details", latest=True)

    def show_details(self, found: tuple[BankAccount | None, Any]) -> None:
        """What to do about an account's refusal or failure, once read off the UI thread."""
        from kosma_tui.core.sync import ConsentStartConflict
        from kosma_tui.tui.dialogs.conflict import ConflictModal

        account, refused = found
        if account is None:
            return
        name = account.name
        if isinstance(refused, ConsentStartConflict):
            self.app.push_screen(ConflictModal(refused))
        elif refused is not None:
            report(self.app, refused, title=f"{name} cannot be synced")
        else:
            state = self.kosma.sync_queue.state(account.name)
            if state.state in (IDLE, "ok"):
                toast(self.app, f"{name} can be synced: press s.")
            else:
                toast(self.app, describe(state), title=account.name)
