"""Banking Settings' ERPNext section: connect (URL, API key, API secret, site; verified
before it is saved), test, import companies, the account mapping (by IBAN), the automatic
push switch, and a push with progress. The ERPNext work is ``tui.controllers.erpnext``'s,
always in a thread worker: the UI never blocks. Its looks are in ``app.tcss``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Input, Label, ProgressBar, Static, Switch

from kosma_tui.core import validation
from kosma_tui.core.errors import KosmaError, Problem, UsageError
from kosma_tui.tui.controllers.erpnext import PushRunner, import_companies, map_by_iban
from kosma_tui.tui.dialogs.erpnext_push import ErpnextPushModal
from kosma_tui.tui.feedback import report
from kosma_tui.tui.hosts import erpnext_of, store_of
from kosma_tui.tui.messages import SettingsSaved
from kosma_tui.tui.text import clean
from kosma_tui.tui.widgets.erpnext_text import error_text, push_summary, pushed_label
from kosma_tui.tui.widgets.section import SettingsSection
from kosma_tui.tui.work import in_thread

if TYPE_CHECKING:
    from kosma_tui.core.records import BankingSettings, ErpnextConnection
    from kosma_tui.core.store import Store
    from kosma_tui.tui.hosts import ErpnextFactory

# the dialog and the texts are still importable from here, as before
__all__ = ["ErpnextPanel", "ErpnextPushModal", "PushRunner", "push_summary", "pushed_label"]

NOT_CONNECTED = "Not connected. Fill in URL, API key and secret, then Connect."


class ErpnextPanel(SettingsSection):
    """Banking Settings' ERPNext section. Needs ``app.store`` (or ``store=``) and
    ``app.runtime`` for its ERPNext clients (or ``erpnext=``, a client factory)."""

    def __init__(
        self,
        *,
        store: Store | None = None,
        erpnext: ErpnextFactory | None = None,
        id: str | None = "erpnext-panel",
    ) -> None:
        super().__init__(id=id)
        self._store = store
        self._erpnext = erpnext
        self.border_title = "ERPNext"
        self.disabled = True  # until the connection is read: nothing typed is overwritten

    @property
    def store(self) -> Store:
        if self._store is not None:
            return self._store
        return store_of(self.app)

    @property
    def erpnext(self) -> ErpnextFactory:
        """Makes the ERPNext clients: the app runtime's factory unless one was given."""
        return self._erpnext if self._erpnext is not None else erpnext_of(self.app)

    def compose(self) -> ComposeResult:
        # empty until the connection and the settings are read (a worker, ``fill``)
        rows = (
            (
                "ERPNext URL",
                Input(placeholder="https://erp.example.com", id="erp-url", compact=True),
            ),
            ("API key", Input(id="erp-key", compact=True)),
            (
                "API secret",
                Input(
                    "",
                    password=True,
                    placeholder="User > Settings > API Access",
                    id="erp-secret",
                    compact=True,
                ),
            ),
            (
                "Site (optional)",
                Input(placeholder="when the host name differs", id="erp-site", compact=True),
            ),
        )
        for label, widget in rows:
            with Horizontal(classes="section-row"):
                yield Label(label, classes="section-label", markup=False)
                yield widget
            if widget.id == "erp-url":
                message = Static("", id="erp-url-msg", markup=False)
                message.display = False
                yield message
        with Horizontal(classes="section-row"):
            yield Label("Push after sync", classes="section-label", markup=False)
            yield Switch(False, id="erp-auto-push")
            yield Label(" off", id="erp-auto-push-state", markup=False)
        with Horizontal(classes="section-buttons"):
            yield Button("Connect", id="erp-connect", variant="primary", compact=True)
            yield Button("Test", id="erp-test", compact=True)
            yield Button("Import companies", id="erp-import", compact=True)
            yield Button("Map by IBAN", id="erp-map", compact=True)
            yield Button("Push", id="erp-push", compact=True)
        yield Static("Reading the ERPNext connection…", id="erp-status", markup=False)
        table: DataTable[Any] = DataTable(id="erp-mapping", cursor_type="row", zebra_stripes=True)
        yield table
        bar = ProgressBar(id="erp-progress", show_eta=False)
        bar.display = False
        yield bar

    def on_mount(self) -> None:
        table = self.query_one("#erp-mapping", DataTable)
        table.add_columns("Account", "ERPNext Bank Account", "Waiting", "Pending")
        store = self.store
        in_thread(
            self.app,
            lambda: (store.erpnext(), store.settings()),
            self.fill,
            name="erpnext-panel-read",
        )

    def fill(self, read: tuple[ErpnextConnection, BankingSettings]) -> None:
        """The fields as stored, once read; then the mapping and its counts."""
        if not self.is_attached:
            return
        connection, settings = read
        self.disabled = False
        for name, value in (
            ("erp-url", connection.url),
            ("erp-key", connection.api_key),
            ("erp-site", connection.site),
        ):
            self.query_one(f"#{name}", Input).value = value
        if connection.api_secret:
            self.query_one("#erp-secret", Input).placeholder = "stored: type to replace"
        switch = self.query_one("#erp-auto-push", Switch)
        with switch.prevent(Switch.Changed):  # as stored: nothing to save
            switch.value = settings.erpnext_auto_push
        self.query_one("#erp-auto-push-state", Label).update(
            " on" if settings.erpnext_auto_push else " off"
        )
        self.set_status(NOT_CONNECTED if not connection.url else "Connected; Test to check.")
        self.refresh_status(check=False)

    # -- showing ---------------------------------------------------------------------

    def set_status(self, text: str | Text) -> None:
        self.query_one("#erp-status", Static).update(text)

    def set_busy(self, busy: bool) -> None:
        for button in self.query(".section-buttons Button"):
            button.disabled = busy

    def show_progress(self, account: str, done: int, total: int) -> None:
        bar = self.query_one("#erp-progress", ProgressBar)
        bar.display = True
        bar.update(total=max(total, 1), progress=done)
        self.set_status(f"Pushing {clean(account)}: {done:,} of {total:,}…")

    def show_mapping(self, status: Any) -> None:
        table = self.query_one("#erp-mapping", DataTable)
        table.clear()
        for a in status.accounts:
            mapped = clean(a.erpnext_bank_account) if a.erpnext_bank_account else "(by IBAN)"
            table.add_row(
                clean(a.name), mapped, f"{a.waiting + a.to_cancel:,}", f"{a.pending:,}", key=a.name
            )

    def show_status(self, status: Any) -> None:
        self.show_mapping(status)
        if not status.connected:
            self.set_status(NOT_CONNECTED)
        elif status.problem is not None:
            self.set_status(error_text(status.problem))
        elif status.user:
            self.set_status(
                Text(
                    f"✓ Connected to {clean(status.url)} as {clean(status.user)}; "
                    f"{status.waiting:,} waiting to be pushed.",
                    style="green",
                )
            )
        else:
            self.set_status(
                f"Connected to {clean(status.url)}; {status.waiting:,} waiting to be pushed."
            )

    def done(self, outcome: Any, success: str | Text = "") -> None:
        """Back on the UI thread after a worker: an error toast, or the success text."""
        self.set_busy(False)
        if isinstance(outcome, KosmaError | Problem):
            self.set_status(error_text(outcome))
            report(self.app, outcome, title="ERPNext")
            return
        if success:
            self.set_status(success)
            message = success.plain if isinstance(success, Text) else success
            self.app.notify(clean(message.splitlines()[-1]), title="ERPNext", markup=False)
        self.refresh_status(check=False, keep_text=True)

    # -- events ----------------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "erp-url":
            return
        message = self.query_one("#erp-url-msg", Static)
        text = ""
        if event.value.strip():
            try:
                validation.admin_url(event.value, "The ERPNext URL")
            except UsageError as exc:
                text = f"✗ {exc.message}"
        message.update(text)
        message.display = bool(text)

    def on_switch_changed(self, event: Switch.Changed) -> None:
        if event.switch.id != "erp-auto-push":
            return
        self.query_one("#erp-auto-push-state", Label).update(" on" if event.value else " off")
        store, value = self.store, event.value

        def write() -> BankingSettings | None:
            # read and written in the thread: the settings as stored now, this switch changed
            settings = store.settings()
            if settings.erpnext_auto_push == value:
                return None
            settings.erpnext_auto_push = value
            store.save_settings(settings)
            return settings

        in_thread(self.app, write, self.auto_push_saved, name="erpnext-auto-push")

    def auto_push_saved(self, settings: BankingSettings | None) -> None:
        if settings is None:
            return
        self.post_message(SettingsSaved(settings))  # the screen and the app's snapshot
        on = "on" if settings.erpnext_auto_push else "off"
        self.app.notify(f"Push to ERPNext after every sync: {on}.", title="ERPNext", markup=False)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        actions = {
            "erp-connect": self.action_connect,
            "erp-test": self.action_test,
            "erp-import": self.action_import,
            "erp-map": self.action_map,
            "erp-push": self.action_push,
        }
        action = actions.get(event.button.id or "")
        if action is not None:
            event.stop()
            action()

    # -- actions (each runs its network part in a thread worker) ---------------------

    def action_connect(self) -> None:
        url = self.query_one("#erp-url", Input).value
        key = self.query_one("#erp-key", Input).value
        secret = self.query_one("#erp-secret", Input).value.strip()
        site = self.query_one("#erp-site", Input).value
        stored = self.store.erpnext()
        if not secret and stored.api_secret and stored.api_key == key.strip():
            secret = stored.api_secret  # re-check the stored secret against a new URL/site
        self.set_busy(True)
        self.set_status("Checking the key with ERPNext…")
        self._connect(url, key, secret, site)

    @work(thread=True, exclusive=True, group="erpnext")
    def _connect(self, url: str, key: str, secret: str, site: str) -> None:
        from kosma_tui.core.erpnext import connect

        try:
            connection, user = connect(self.store, url, key, secret, site)
        except KosmaError as exc:
            self.app.call_from_thread(self.done, exc)
            return
        self.app.call_from_thread(self._connected, connection.url, user)

    def _connected(self, url: str, user: str) -> None:
        secret = self.query_one("#erp-secret", Input)
        secret.value = ""
        secret.placeholder = "stored: type to replace"
        self.done(
            None,
            Text(
                f"✓ Connected to {clean(url)} as {clean(user)}; the secret is stored encrypted.",
                style="green",
            ),
        )

    def action_test(self) -> None:
        self.set_busy(True)
        self.set_status("Asking ERPNext…")
        self._test()

    @work(thread=True, exclusive=True, group="erpnext")
    def _test(self) -> None:
        from kosma_tui.core.erpnext import status

        result = status(self.store, check=True, client=self.erpnext)
        self.app.call_from_thread(self._tested, result)

    def _tested(self, result: Any) -> None:
        self.set_busy(False)
        self.show_status(result)

    def refresh_status(self, *, check: bool, keep_text: bool = False) -> None:
        self._refresh(check, keep_text)

    @work(thread=True, exclusive=False, group="erpnext-status")
    def _refresh(self, check: bool, keep_text: bool) -> None:
        from kosma_tui.core.erpnext import status

        try:
            result = status(self.store, check=check, client=self.erpnext)
        except KosmaError:
            return
        self.app.call_from_thread(self.show_mapping if keep_text else self.show_status, result)

    def action_import(self) -> None:
        self.set_busy(True)
        self.set_status("Importing companies…")
        self._import()

    @work(thread=True, exclusive=True, group="erpnext")
    def _import(self) -> None:
        try:
            text = import_companies(self.store, self.erpnext)
        except KosmaError as exc:
            self.app.call_from_thread(self.done, exc)
            return
        self.app.call_from_thread(self.done, None, text)

    def action_map(self) -> None:
        self.set_busy(True)
        self.set_status("Finding the ERPNext Bank Accounts by IBAN…")
        self._map()

    @work(thread=True, exclusive=True, group="erpnext")
    def _map(self) -> None:
        try:
            lines = map_by_iban(self.store, self.erpnext)
        except KosmaError as exc:
            self.app.call_from_thread(self.done, exc)
            return
        self.app.call_from_thread(self.done, None, lines)

    def action_push(self) -> None:
        self.set_busy(True)
        self.set_status("Pushing to ERPNext…")
        self._push()

    @work(thread=True, exclusive=True, group="erpnext")
    def _push(self) -> None:
        outcome = PushRunner(self, self.store, None, self.erpnext).run()
        if isinstance(outcome, KosmaError | Problem):
            self.app.call_from_thread(self.done, outcome)
        else:
            self.app.call_from_thread(self._pushed, outcome)

    def _pushed(self, report: Any) -> None:
        self.query_one("#erp-progress", ProgressBar).display = False
        self.done(None, push_summary(report))
