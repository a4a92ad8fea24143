"""Transactions: one account or all, newest first, filter as you type, fast at 100,000 rows."""

from __future__ import annotations

import heapq
from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Input, Label, Static
from textual.worker import get_current_worker

from kosma_tui.core.errors import KosmaError
from kosma_tui.tui.feedback import report
from kosma_tui.tui.screens.base import KosmaModal, KosmaScreen
from kosma_tui.tui.text import clean
from kosma_tui.tui.widgets.transaction_view import Row, TransactionView, amount_of, search_key

FIELDS = ("bank_account", "date", "status", "transaction_id", "reference_number",
          "description", "bank_party_name", "bank_party_iban", "bank_party_account_number",
          "party_type", "party", "erpnext_name")


class TransactionsScreen(KosmaScreen):
    TITLE = "Transactions"
    PURPOSE = ("Bank Transactions of one account (or of all), newest first. Type / and a word "
               "to filter by counterparty, party, reference, amount, date or status; End or G "
               "jumps to the oldest row. Amounts are signed: green money in, red money out.")
    BINDINGS: ClassVar[list[BindingType]] = [
        *KosmaScreen.BINDINGS,
        Binding("slash,f", "filter", "Filter", id="tx-filter",
                tooltip="Type to filter the transactions"),
        Binding("s", "sync", "Sync", id="sync-account", tooltip="Sync this account"),
    ]

    HELP_BINDINGS: ClassVar[list[BindingType]] = TransactionView.BINDINGS

    def __init__(self, account: str | None = None) -> None:
        super().__init__()
        self.account = account
        self.all_rows: list[Row] = []
        self.keys: list[str] | None = None

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="tx-top"):
            yield Label(self.heading(None), id="tx-title", markup=False)
            yield Label("", id="tx-shown", markup=False)
        with Horizontal(id="tx-filter-row"):
            yield Label("Filter: ", markup=False)
            yield Input(placeholder="press / and type: counterparty, reference, amount, date…",
                        id="tx-filter", compact=True)
        yield TransactionView(show_account=self.account is None, id="tx-view")

    def heading(self, total: int | None) -> str:
        what = clean(self.account) if self.account else "all accounts"
        count = "loading…" if total is None else f"{total:,}"
        return f"Transactions · {what} · {count}"

    def on_mount(self) -> None:
        self.query_one(TransactionView).focus()
        self.load()

    @work(thread=True, exclusive=True, group="tx-load")
    def load(self) -> None:
        store = self.store
        try:
            if self.account:
                account = store.account(self.account)
                accounts = [account] if account else []
            else:
                accounts = store.accounts()
            books = [store.book(a) for a in accounts]
            if len(books) == 1:
                rows = books[0].all_rows()
            else:
                rows = list(heapq.merge(*(b.all_rows() for b in books),
                                        key=lambda r: r.get("date") or "", reverse=True))
        except KosmaError as exc:
            self.app.call_from_thread(report, self.app, exc)
            rows = []
        self.app.call_from_thread(self.show_rows, rows)

    def show_rows(self, rows: list[Row]) -> None:
        self.all_rows = rows
        self.keys = None
        self.query_one("#tx-title", Label).update(self.heading(len(rows)))
        text = self.query_one("#tx-filter", Input).value
        if text.strip():
            self.apply_filter(text)
        else:
            self.show(rows)

    def show(self, rows: list[Row]) -> None:
        self.query_one(TransactionView).set_rows(rows)
        self.query_one("#tx-shown", Label).update(f"{len(rows):,} shown")

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "tx-filter":
            self.apply_filter(event.value)

    def apply_filter(self, text: str) -> None:
        if not text.strip():
            self.show(self.all_rows)
        else:
            self.filter_rows(text)

    @work(thread=True, exclusive=True, group="tx-filter")
    def filter_rows(self, text: str) -> None:
        words = text.casefold().split()
        if self.keys is None or len(self.keys) != len(self.all_rows):
            self.keys = [search_key(r) for r in self.all_rows]
        worker = get_current_worker()
        keys, rows = self.keys, self.all_rows
        shown = [rows[i] for i, key in enumerate(keys) if all(w in key for w in words)]
        if not worker.is_cancelled:
            self.app.call_from_thread(self.show, shown)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one(TransactionView).focus()

    def action_filter(self) -> None:
        self.query_one("#tx-filter", Input).focus()

    def action_back(self) -> None:
        filter_input = self.query_one("#tx-filter", Input)
        if filter_input.has_focus:
            self.query_one(TransactionView).focus()
        else:
            super().action_back()

    def action_sync(self) -> None:
        from kosma_tui.tui.screens.accounts import start_sync

        if self.account:
            start_sync(self.kosma, self.account)
        else:
            self.kosma.sync([a.name for a in self.store.accounts()])
            self.kosma.open_screen("sync")

    def on_transaction_view_opened(self, event: TransactionView.Opened) -> None:
        self.app.push_screen(TransactionDetail(event.row))


class TransactionDetail(KosmaModal):
    """Every field of one Bank Transaction, literally."""

    def __init__(self, row: Row) -> None:
        super().__init__()
        self.row = row

    def compose(self) -> ComposeResult:
        from kosma_tui.core.money import format_amount

        row = self.row
        currency = str(row.get("currency") or "")
        amount = format_amount(amount_of(row), currency, sign=True)
        lines = [f"{'amount':<26} {amount} {clean(currency)}"]
        lines += [f"{name:<26} {clean(row.get(name, '')) or '-'}" for name in FIELDS]
        with VerticalScroll(classes="dialog") as dialog:
            dialog.border_title = "Bank Transaction"
            yield Static("\n".join(lines), markup=False)

    def on_key(self, event: Any) -> None:
        if event.key in ("enter", "q"):
            self.dismiss(None)
