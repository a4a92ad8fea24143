"""Administration in the TUI (DESIGN 8): rename, disable/enable and remove on Accounts,
revoke on Consents. The work is core's (``core.admin``), as for the commands; removing
and revoking ask first."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from kosma_tui.core.errors import KosmaError
from kosma_tui.tui.feedback import report, toast
from kosma_tui.tui.screens.base import KosmaModal
from kosma_tui.tui.screens.confirm import ConfirmModal
from kosma_tui.tui.text import clean

if TYPE_CHECKING:
    from kosma_tui.core.records import BankAccount, BankConsent
    from kosma_tui.tui.app import KosmaApp


class RenameModal(KosmaModal):
    """A new name for one account, checked as you type; answers the new name or None."""

    def __init__(self, account: BankAccount) -> None:
        super().__init__()
        self.account = account

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = "Rename bank account"
            yield Static(f"{clean(self.account.name)} · {clean(self.account.bank)}",
                         markup=False)
            yield Label("New name")
            yield Input(self.account.name, id="new-name", compact=True)
            yield Static("", id="rename-error", classes="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Rename", id="save", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#new-name", Input).focus()

    def problem(self) -> str:
        from kosma_tui.core.admin import check_new_name

        try:
            check_new_name(self.kosma.store, self.account, self.query_one("#new-name",
                                                                          Input).value)
        except KosmaError as exc:
            return exc.message
        return ""

    def on_input_changed(self, _event: Input.Changed) -> None:
        found = self.problem()
        self.query_one("#rename-error", Static).update(f"✗ {clean(found)}" if found else "")

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        self.save()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.save()
        else:
            self.dismiss(None)

    def save(self) -> None:
        from kosma_tui.core.admin import rename_account

        try:
            old, account = rename_account(self.kosma.store, self.account.name,
                                          self.query_one("#new-name", Input).value)
        except KosmaError as exc:
            self.query_one("#rename-error", Static).update(f"✗ {clean(exc.sentence())}")
            return
        if old != account.name:
            toast(self.app, f"Renamed to {account.name}.", title=old)
        self.dismiss(account.name)


def rename(app: KosmaApp, account: BankAccount) -> None:
    def done(new: object) -> None:
        if isinstance(new, str):
            app.data_signal.publish("accounts")

    app.push_screen(RenameModal(account), done)


def toggle(app: KosmaApp, account: BankAccount) -> None:
    """Disable an enabled account, enable a disabled one (reversible: no question)."""
    from kosma_tui.core.admin import set_enabled

    try:
        changed = set_enabled(app.store, account.name, not account.enabled)
    except KosmaError as exc:
        report(app, exc)
        return
    if changed.enabled:
        toast(app, "Enabled: Sync all includes it again.", title=changed.name)
    else:
        toast(app, "Disabled: Sync all skips it and status no longer counts it. d enables it.",
              title=changed.name)
    app.data_signal.publish("accounts")


def remove(app: KosmaApp, account: BankAccount) -> None:
    """Remove an account and its local transactions, after a question."""
    from kosma_tui.core.admin import remove_account

    if app.sync_queue.state(account.name).busy:
        toast(app, "It is being synced: wait for the sync to end, then remove it.",
              title=account.name, warning=True)
        return
    count = app.store.book(account).count()

    def done(confirmed: object) -> None:
        if not confirmed:
            return
        try:
            removed, gone = remove_account(app.store, account.name)
        except KosmaError as exc:
            report(app, exc)
            return
        toast(app, f"Removed with its {gone:,} local transactions; ERPNext was not touched.",
              title=removed.name)
        app.data_signal.publish("accounts")

    app.push_screen(ConfirmModal(
        "Remove bank account",
        f"Remove {clean(account.name)} ({clean(account.bank)}) and its {count:,} local "
        "transactions? ERPNext is not touched. Linking the bank again would add it anew.",
        yes="Remove"), done)


def revoke(app: KosmaApp, consent: BankConsent) -> None:
    """Withdraw a consent at the portal and remove it here, after a question."""
    accounts = app.store.accounts(bank=consent.bank, company=consent.company)

    async def run() -> None:
        from kosma_tui.core.admin import revoke_consent

        try:
            async with app.portal() as client:
                revoked = await revoke_consent(app.store, client, consent)
        except KosmaError as exc:
            report(app, exc, title="The Bank Consent was not revoked")
            return
        kept = f" Its {len(revoked.accounts)} account(s) stay; link the bank again to sync " \
            "them." if revoked.accounts else ""
        toast(app, f"Revoked and removed.{kept} {revoked.portal_note}".strip(),
              title=f"{consent.bank} · {consent.company}")
        app.data_signal.publish("consents")

    def done(confirmed: object) -> None:
        if confirmed:
            app.run_worker(run(), name="revoke", group="revoke", exit_on_error=False)

    app.push_screen(ConfirmModal(
        "Revoke Bank Consent",
        f"Revoke the Bank Consent of {clean(consent.bank)} for {clean(consent.company)} at the "
        f"bank? Its {len(accounts)} account(s) and their transactions stay, but cannot be "
        "synced until you link the bank again.", yes="Revoke"), done)
