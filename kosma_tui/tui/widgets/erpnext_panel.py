"""ERPNext in the TUI: a Banking Settings panel and a push dialog.

``ErpnextPanel``: connect (URL, API key, API secret, site; verified before it is
saved), test, import companies, the account mapping (by IBAN), the automatic
push switch, and a push with progress. ``ErpnextPushModal``: the same push for
the Accounts screen. ``pushed_label(row)``: the Transactions screen's pushed
column. Everything talking to ERPNext runs in a thread worker
(``kosma_tui.core.erpnext`` is synchronous httpx); the UI never blocks.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Input, Label, ProgressBar, Static, Switch

from kosma_tui.core import validation
from kosma_tui.core.errors import KosmaError, Problem, UsageError
from kosma_tui.tui.text import clean
from kosma_tui.tui.widgets.section import SettingsSection

NOT_CONNECTED = "Not connected. Fill in URL, API key and secret, then Connect."


def pushed_label(row: dict[str, Any]) -> Text:
    """The pushed column of the Transactions screen for one row."""
    name = row.get("erpnext_name") or ""
    if not name:
        waiting = row.get("status") == "Settled"
        return Text("waiting" if waiting else "", style="dim")
    if row.get("status") == "Cancelled" and row.get("erpnext_attention"):
        # cancelled by the bank, reconciled in ERPNext: left for a person
        return Text(f"! {clean(name)} reconciled", style="#ffaf00")
    if row.get("status") == "Cancelled":
        cancelled = bool(row.get("erpnext_cancelled"))
        return Text(f"{'✗' if cancelled else '!'} {clean(name)}", style="red")
    return Text(f"✓ {clean(name)}", style="green")


def _error_text(error: KosmaError | Problem) -> Text:
    return Text(f"✗ {clean(error.message)} {clean(error.remedy)}".rstrip(), style="red")


def push_summary(report: Any) -> Text:
    """One line per account, then the totals (text of the core's PushReport)."""
    text = Text()
    for a in report.accounts:
        line = (f"{clean(a.name)}: {a.created:,} created, {a.skipped:,} already there, "
                f"{a.cancelled:,} cancelled, {a.failed:,} failed")
        if a.pending:
            line += f", {a.pending:,} pending"
        text.append(line + "\n", style="red" if a.failed or a.error else "")
        if a.error:
            text.append(f"  {clean(a.error.message)} {clean(a.error.remedy)}\n", style="red")
        for item in [i for i in a.items if i.action in ("failed", "attention")][:5]:
            text.append(f"  {clean(item.transaction_id)}: {clean(item.message)}\n", style="red")
        if a.missing_parties:
            text.append(f"  without a party ERPNext does not know: "
                        f"{clean(', '.join(a.missing_parties))}\n", style="#ffaf00")
        if a.duplicates:
            text.append(f"  {len(a.duplicates):,} transaction ids are in ERPNext more than "
                        "once: run 'kosma-tui erpnext dedupe'\n", style="red")
    text.append(f"{report.total('created'):,} created, {report.total('cancelled'):,} "
                f"cancelled, {report.total('failed'):,} failed.")
    return text


class PushRunner:
    """Runs a push in a thread worker of ``host`` and reports into its widgets."""

    def __init__(self, host: Any, names: list[str] | None) -> None:
        self.host = host
        self.names = names

    def run(self) -> Any:
        """Call from a thread worker. Returns the PushReport, or the error."""
        from kosma_tui.core.erpnext import ErpnextClient, push

        store = self.host.store
        try:
            with ErpnextClient.for_store(store) as client:
                return push(store, client, self.names, on_progress=self.progress)
        except KosmaError as exc:
            return exc
        except Exception as exc:  # a worker must not take the app down
            return Problem("ERPNEXT", f"The push failed unexpectedly ({exc!r}).")

    def progress(self, p: Any) -> None:
        self.host.app.call_from_thread(self.host.show_progress, p.account, p.done, p.total)


class ErpnextPanel(SettingsSection):
    """Banking Settings' ERPNext section. Needs ``app.store`` (or ``store=``)."""

    DEFAULT_CSS = """
    ErpnextPanel #erp-auto-push-state { width: auto; height: 1; }
    ErpnextPanel #erp-url-msg { height: auto; padding-left: 20; color: $error; }
    ErpnextPanel #erp-status { height: auto; margin-top: 1; }
    ErpnextPanel #erp-mapping { height: auto; max-height: 8; margin-top: 1; }
    ErpnextPanel #erp-progress { margin-top: 1; }
    """

    def __init__(self, *, store: Any = None, id: str | None = "erpnext-panel") -> None:
        super().__init__(id=id)
        self._store = store
        self.border_title = "ERPNext"

    @property
    def store(self) -> Any:
        return self._store if self._store is not None else self.app.store  # type: ignore[attr-defined]

    def compose(self) -> ComposeResult:
        connection = self.store.erpnext()
        settings = self.store.settings()
        secret_hint = "stored: type to replace" if connection.api_secret else \
            "User > Settings > API Access"
        rows = (
            ("ERPNext URL", Input(connection.url, placeholder="https://erp.example.com",
                                  id="erp-url", compact=True)),
            ("API key", Input(connection.api_key, id="erp-key", compact=True)),
            ("API secret", Input("", password=True, placeholder=secret_hint, id="erp-secret",
                                 compact=True)),
            ("Site (optional)", Input(connection.site, placeholder="when the host name differs",
                                      id="erp-site", compact=True)),
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
            yield Switch(settings.erpnext_auto_push, id="erp-auto-push")
            yield Label(" on" if settings.erpnext_auto_push else " off",
                        id="erp-auto-push-state", markup=False)
        with Horizontal(classes="section-buttons"):
            yield Button("Connect", id="erp-connect", variant="primary", compact=True)
            yield Button("Test", id="erp-test", compact=True)
            yield Button("Import companies", id="erp-import", compact=True)
            yield Button("Map by IBAN", id="erp-map", compact=True)
            yield Button("Push", id="erp-push", compact=True)
        yield Static(NOT_CONNECTED if not connection.url else "Connected; Test to check.",
                     id="erp-status", markup=False)
        table: DataTable[Any] = DataTable(id="erp-mapping", cursor_type="row", zebra_stripes=True)
        yield table
        bar = ProgressBar(id="erp-progress", show_eta=False)
        bar.display = False
        yield bar

    def on_mount(self) -> None:
        table = self.query_one("#erp-mapping", DataTable)
        table.add_columns("Account", "ERPNext Bank Account", "Waiting", "Pending")
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
            table.add_row(clean(a.name), mapped, f"{a.waiting + a.to_cancel:,}",
                          f"{a.pending:,}", key=a.name)

    def show_status(self, status: Any) -> None:
        self.show_mapping(status)
        if not status.connected:
            self.set_status(NOT_CONNECTED)
        elif status.problem is not None:
            self.set_status(_error_text(status.problem))
        elif status.user:
            self.set_status(Text(f"✓ Connected to {clean(status.url)} as {clean(status.user)}; "
                                 f"{status.waiting:,} waiting to be pushed.", style="green"))
        else:
            self.set_status(f"Connected to {clean(status.url)}; {status.waiting:,} waiting to "
                            "be pushed.")

    def done(self, outcome: Any, success: str | Text = "") -> None:
        """Back on the UI thread after a worker: an error toast, or the success text."""
        self.set_busy(False)
        if isinstance(outcome, KosmaError | Problem):
            self.set_status(_error_text(outcome))
            from kosma_tui.tui.feedback import report

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
        settings = self.store.settings()
        if settings.erpnext_auto_push != event.value:
            settings.erpnext_auto_push = event.value
            self.store.save_settings(settings)
            self.app.notify(f"Push to ERPNext after every sync: {'on' if event.value else 'off'}.",
                            title="ERPNext", markup=False)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        actions = {"erp-connect": self.action_connect, "erp-test": self.action_test,
                   "erp-import": self.action_import, "erp-map": self.action_map,
                   "erp-push": self.action_push}
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
        self.done(None, Text(f"✓ Connected to {clean(url)} as {clean(user)}; the secret is "
                             "stored encrypted.", style="green"))

    def action_test(self) -> None:
        self.set_busy(True)
        self.set_status("Asking ERPNext…")
        self._test()

    @work(thread=True, exclusive=True, group="erpnext")
    def _test(self) -> None:
        from kosma_tui.core.erpnext import status

        result = status(self.store, check=True)
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
            result = status(self.store, check=check)
        except KosmaError:
            return
        self.app.call_from_thread(self.show_mapping if keep_text else self.show_status, result)

    def action_import(self) -> None:
        self.set_busy(True)
        self.set_status("Importing companies…")
        self._import()

    @work(thread=True, exclusive=True, group="erpnext")
    def _import(self) -> None:
        from kosma_tui.core.erpnext import ErpnextClient, import_companies

        try:
            with ErpnextClient.for_store(self.store) as client:
                results = import_companies(self.store, client)
        except KosmaError as exc:
            self.app.call_from_thread(self.done, exc)
            return
        text = Text()
        for r in results:
            text.append(f"{r.action} {clean(r.name)} ({r.country or '?'}, fiscal year from "
                        f"{r.fiscal_year_start}, {r.default_currency})\n",
                        style="red" if r.action == "skipped" else "")
        counts = {a: sum(1 for r in results if r.action == a)
                  for a in ("created", "updated", "unchanged", "skipped")}
        text.append(", ".join(f"{n} {a}" for a, n in counts.items()) + " companies.")
        self.app.call_from_thread(self.done, None, text)

    def action_map(self) -> None:
        self.set_busy(True)
        self.set_status("Finding the ERPNext Bank Accounts by IBAN…")
        self._map()

    @work(thread=True, exclusive=True, group="erpnext")
    def _map(self) -> None:
        from kosma_tui.core.erpnext import BankAccounts, ErpnextClient

        try:
            with ErpnextClient.for_store(self.store) as client:
                known = BankAccounts(client)
                mapped = unmapped = 0
                lines = Text()
                for account in self.store.accounts():
                    mapping = known.resolve(account)
                    if mapping.bank_account:
                        mapped += 1
                        if mapping.how == "iban":
                            self.store.update_account(account.name,
                                                      erpnext_bank_account=mapping.bank_account)
                    else:
                        unmapped += 1
                        lines.append(f"{clean(account.name)}: {clean(mapping.reason)}\n",
                                     style="red")
        except KosmaError as exc:
            self.app.call_from_thread(self.done, exc)
            return
        lines.append(f"{mapped} mapped, {unmapped} not mapped (map those with 'kosma-tui "
                     "erpnext map ACCOUNT --bank-account NAME' or '--create').")
        self.app.call_from_thread(self.done, None, lines)

    def action_push(self) -> None:
        self.set_busy(True)
        self.set_status("Pushing to ERPNext…")
        self._push()

    @work(thread=True, exclusive=True, group="erpnext")
    def _push(self) -> None:
        outcome = PushRunner(self, None).run()
        if isinstance(outcome, KosmaError | Problem):
            self.app.call_from_thread(self.done, outcome)
        else:
            self.app.call_from_thread(self._pushed, outcome)

    def _pushed(self, report: Any) -> None:
        self.query_one("#erp-progress", ProgressBar).display = False
        self.done(None, push_summary(report))


class ErpnextPushModal(ModalScreen[object]):
    """Push the given accounts (None: all) with a progress bar; Escape closes when done.

    Needs ``app.store``; dismisses with the PushReport (or None after an error).
    """

    DEFAULT_CSS = """
    ErpnextPushModal { align: center middle; }
    ErpnextPushModal > Vertical {
        width: 72; height: auto; max-height: 20;
        border: round $primary; padding: 0 1; background: $panel;
    }
    ErpnextPushModal #erp-push-status { height: auto; margin-top: 1; }
    ErpnextPushModal ProgressBar { margin-top: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="close-erpnext-push",
                tooltip="Close (the push goes on until done)"),
    ]

    def __init__(self, names: list[str] | None = None) -> None:
        super().__init__()
        self.names = names
        self.report: Any = None
        self.finished = False

    @property
    def store(self) -> Any:
        return self.app.store  # type: ignore[attr-defined]

    def compose(self) -> ComposeResult:
        box = Vertical()
        box.border_title = "Push to ERPNext"
        with box:
            yield ProgressBar(id="erp-push-progress", show_eta=False)
            yield Static("Starting…", id="erp-push-status", markup=False)
            yield Button("Close", id="erp-push-close", compact=True, disabled=True)

    def on_mount(self) -> None:
        self._run()

    @work(thread=True, exclusive=True, group="erpnext")
    def _run(self) -> None:
        outcome = PushRunner(self, self.names).run()
        self.app.call_from_thread(self._finished, outcome)

    def show_progress(self, account: str, done: int, total: int) -> None:
        self.query_one("#erp-push-progress", ProgressBar).update(total=max(total, 1),
                                                                  progress=done)
        self.query_one("#erp-push-status", Static).update(
            f"{clean(account)}: {done:,} of {total:,}")

    def _finished(self, outcome: Any) -> None:
        self.finished = True
        self.query_one("#erp-push-close", Button).disabled = False
        status = self.query_one("#erp-push-status", Static)
        if isinstance(outcome, KosmaError | Problem):
            status.update(_error_text(outcome))
        else:
            self.report = outcome
            status.update(push_summary(outcome))
            bar = self.query_one("#erp-push-progress", ProgressBar)
            bar.update(total=bar.total or 1, progress=bar.total or 1)
        self.query_one("#erp-push-close", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "erp-push-close":
            event.stop()
            self.action_close()

    def action_close(self) -> None:
        self.dismiss(self.report)
