"""Consents: every Bank Consent with start, expiry, days left, status, Renew; never the token."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from kosma_tui.tui.controllers import manage
from kosma_tui.tui.feedback import toast
from kosma_tui.tui.messages import RenewConsent
from kosma_tui.tui.registry import registered
from kosma_tui.tui.screens.base import KosmaScreen
from kosma_tui.tui.status import ConsentView, consent_views
from kosma_tui.tui.text import literal
from kosma_tui.tui.work import in_thread

STATUS = {"active": "active", "expiring": "renew soon", "expired": "expired"}


@registered("consents")
class ConsentsScreen(KosmaScreen):
    TITLE = "Consents"
    PURPOSE = (
        "Every Bank Consent (one per bank and company) with its start, expiry, days left "
        "and status. Renew links the bank again with the Start Date at the oldest Last "
        "Integration Date, so no transactions are missed. The consent token is never shown."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        *KosmaScreen.BINDINGS,
        Binding(
            "r",
            "renew",
            "Renew",
            id="renew-consent",
            tooltip="Link Bank and Accounts again for the selected consent",
        ),
        Binding("l", "app.open('link')", "Link bank", id="link", tooltip="Link a new bank"),
        Binding(
            "x",
            "revoke",
            "Revoke",
            id="revoke-consent",
            tooltip="Withdraw the selected consent at the bank and remove it here (asks "
            "first; its accounts and transactions stay)",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.views: dict[str, ConsentView] = {}  # as last read, by consent name

    def compose_body(self) -> ComposeResult:
        table: DataTable[Text] = DataTable(id="consents-table", cursor_type="row", classes="table")
        table.border_title = "Bank Consents"
        yield table
        yield Static(
            "Enter or r renews the selected consent; x revokes it at the bank.",
            classes="hint",
            markup=False,
        )

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, label, width in (
            ("name", "Bank · Company", 26),
            ("start", "Start", 10),
            ("expiry", "Expiry", 10),
            ("days", "Days", 7),
            ("status", "Status", 10),
        ):
            table.add_column(label, key=key, width=width)
        self.reload()
        self.kosma.data_signal.subscribe(self, lambda _: self.reload())

    def on_screen_resume(self) -> None:
        self.reload()

    def reload(self) -> None:
        """Read the consents in a thread worker; the rows follow once it answers."""
        store = self.store
        table = self.query_one(DataTable)
        if not table.row_count:
            table.border_subtitle = "loading…"
        in_thread(
            self.app,
            lambda: consent_views(store),
            self.show_views,
            name="consents-reload",
            latest=True,
        )

    def show_views(self, views: dict[str, ConsentView]) -> None:
        if not self.is_attached:  # closed while the store was read
            return
        self.views = {view.consent.name: view for view in views.values()}
        table = self.query_one(DataTable)
        with self.app.batch_update():
            table.clear()
            for view in sorted(views.values(), key=lambda v: v.consent.name):
                c = view.consent
                table.add_row(
                    literal(f"{c.bank} · {c.company}"),
                    literal(c.consent_start or "-"),
                    Text(view.expiry_day),
                    Text(
                        view.days_text if view.status != "expired" else "-",
                        style=view.style,
                        justify="right",
                    ),
                    Text(STATUS[view.status], style=view.style),
                    key=c.name,
                )
        table.border_subtitle = f"{len(views)} consent(s)"

    def on_data_table_row_selected(self, _event: DataTable.RowSelected) -> None:
        self.action_renew()

    def selected(self) -> str | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            toast(self.app, "No Bank Consent yet: press l to link a bank.", warning=True)
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return None if key is None else str(key)

    def action_renew(self) -> None:
        name = self.selected()
        if name is not None:
            self.post_message(RenewConsent(name))

    def action_revoke(self) -> None:
        name = self.selected()
        view = self.views.get(name) if name is not None else None
        if view is not None:  # the consent as shown (revoking reads the store again)
            manage.revoke(self.kosma, view.consent)
