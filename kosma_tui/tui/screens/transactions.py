"""Transactions: one account or all, newest first, filter as you type, fast at 100,000 rows
(and the filter at a million: it reads the books' search lines, not their rows)."""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import Any, ClassVar, NamedTuple

from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Input, Label, Static
from textual.worker import get_current_worker

from kosma_tui.core.errors import KosmaError
from kosma_tui.core.store.search import parse_query
from kosma_tui.tui.feedback import report
from kosma_tui.tui.messages import SyncAccount, SyncAll
from kosma_tui.tui.registry import registered
from kosma_tui.tui.screens.base import KosmaModal, KosmaScreen
from kosma_tui.tui.text import clean
from kosma_tui.tui.widgets.row_source import BookRows, FoundRows
from kosma_tui.tui.widgets.transaction_view import Row, TransactionView, amount_of

FIELDS = (
    "bank_account",
    "date",
    "status",
    "transaction_id",
    "reference_number",
    "description",
    "bank_party_name",
    "bank_party_iban",
    "bank_party_account_number",
    "party_type",
    "party",
    "erpnext_name",
)


class View(NamedTuple):
    """What the columns and the heading show besides the rows, read with them."""

    pushed: bool  # ERPNext is connected: the pushed column
    currencies: set[str]


@registered("transactions")
class TransactionsScreen(KosmaScreen):
    TITLE = "Transactions"
    PURPOSE = (
        "Bank Transactions of one account (or of all), newest first. Type / and a word "
        "to filter by counterparty, party, reference, amount, date or status; End or G "
        "jumps to the oldest row. Amounts are signed: green money in, red money out."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        *KosmaScreen.BINDINGS,
        Binding(
            "slash,f", "filter", "Filter", id="tx-filter", tooltip="Type to filter the transactions"
        ),
        Binding("s", "sync", "Sync", id="sync-account", tooltip="Sync this account"),
    ]

    HELP_BINDINGS: ClassVar[list[BindingType]] = TransactionView.BINDINGS

    def __init__(self, account: str | None = None) -> None:
        super().__init__()
        self.account = account
        self.all_rows: Sequence[Row] = []
        # the currencies listed, read with the rows (a worker): none until then
        self.currency_set: set[str] = set()

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="tx-top"):
            yield Label(self.heading(None), id="tx-title", markup=False)
            yield Label("", id="tx-shown", markup=False)
        with Horizontal(id="tx-filter-row"):
            yield Label("Filter: ", markup=False)
            yield Input(
                placeholder="press / and type: counterparty, reference, amount, date…",
                id="tx-filter",
                compact=True,
                select_on_focus=False,
            )
        # the ERPNext and currency columns are set once read, with the rows (``show_rows``)
        yield TransactionView(show_account=self.account is None, id="tx-view")

    def read_view(self) -> View:
        """Whether ERPNext is connected (its column) and the currencies this screen lists
        (in a worker, with the rows)."""
        store = self.store
        accounts = [store.account(self.account)] if self.account else store.accounts()
        return View(
            bool(store.erpnext().url),
            {a.currency for a in accounts if a is not None and a.currency},
        )

    def heading(self, total: int | None) -> str:
        what = clean(self.account) if self.account else "all accounts"
        count = "loading…" if total is None else f"{total:,}"
        currencies = self.currency_set
        # one currency: said once here; several: each amount carries its code
        unit = f" · {clean(next(iter(currencies)))}" if len(currencies) == 1 else ""
        return f"Transactions · {what}{unit} · {count}"

    def on_mount(self) -> None:
        self.query_one(TransactionView).focus()
        self.open_rows()
        self.kosma.sync_signal.subscribe(self, self.on_sync_changed)

    @work(thread=True, exclusive=True, group="tx-load")
    def open_rows(self) -> None:
        """One account: its first page, others when scrolled to. All: load them all.
        Either way in a thread worker: the screen draws "loading…" meanwhile."""
        rows: Sequence[Row] = []
        view = View(False, set())
        try:
            view = self.read_view()
            rows = self.read_book(self.account) if self.account else self.read_all()
        except KosmaError as exc:
            self.app.call_from_thread(report, self.app, exc)
            rows = []
        self.app.call_from_thread(self.show_rows, rows, view)

    def read_book(self, name: str) -> Sequence[Row]:
        """One account's rows, paged from its book (in a worker thread)."""
        account = self.store.account(name)
        if account is None:
            return []
        book = self.store.book(account)
        rows = BookRows(book, book.count())
        rows.preload()  # the first frame needs no disk read
        return rows

    def on_sync_changed(self, name: str) -> None:
        state = self.kosma.sync_queue.state(name)
        if (name == self.account or not self.account) and state.state == "ok":
            self.open_rows()

    def books(self) -> list[Any]:
        store = self.store
        accounts = [store.account(self.account)] if self.account else store.accounts()
        return [store.book(a) for a in accounts if a is not None]

    def read_all(self) -> list[Row]:
        """Every row of the account(s), newest first (in a worker thread)."""
        books = self.books()
        if len(books) == 1:
            return books[0].all_rows(raw=False)
        return list(
            heapq.merge(
                *(b.all_rows(raw=False) for b in books),
                key=lambda r: r.get("date") or "",
                reverse=True,
            )
        )

    def show_rows(self, rows: Sequence[Row], view: View) -> None:
        self.all_rows = rows
        self.currency_set = view.currencies
        table = self.query_one(TransactionView)
        table.show_pushed = view.pushed
        table.show_currency = len(view.currencies) > 1  # else the heading says it once
        table.refresh()
        self.query_one("#tx-title", Label).update(self.heading(len(rows)))
        text = self.query_one("#tx-filter", Input).value
        if text.strip():
            self.apply_filter(text)
        else:
            self.show(rows)

    def show(self, rows: Sequence[Row]) -> None:
        self.query_one(TransactionView).set_rows(rows)
        self.query_one("#tx-shown", Label).update(f"{len(rows):,} shown")

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "tx-filter":
            self.apply_filter(event.value)

    def apply_filter(self, text: str) -> None:
        if not text.strip():
            self.show(self.all_rows)
        else:
            self.query_one("#tx-shown", Label).update("filtering…")
            self.filter_rows(text)

    @work(thread=True, exclusive=True, group="tx-filter")
    def filter_rows(self, text: str) -> None:
        """Every word must occur (accents and case aside; an amount however written)."""
        query = parse_query(text)
        worker = get_current_worker()
        try:
            books = self.books()
            hits = []
            for book in books:
                hits.append(book.search(query, lambda: worker.is_cancelled))
                if worker.is_cancelled:
                    return
            shown = FoundRows(books, hits)
            shown.preload()
        except KosmaError as exc:
            self.app.call_from_thread(report, self.app, exc)
            return
        if not worker.is_cancelled:
            self.app.call_from_thread(self.show, shown)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one(TransactionView).focus()

    def on_key(self, event: events.Key) -> None:
        """Typing a word on the list starts filtering (keys bound to actions keep them)."""
        view = self.query_one(TransactionView)
        if not view.has_focus or not event.is_printable or not event.character:
            return
        if event.key in self.active_bindings or event.character in " /":
            return
        event.stop()
        event.prevent_default()
        field = self.query_one("#tx-filter", Input)
        field.focus()
        field.insert_text_at_cursor(event.character)

    def action_filter(self) -> None:
        self.query_one("#tx-filter", Input).focus()

    def action_back(self) -> None:
        filter_input = self.query_one("#tx-filter", Input)
        if filter_input.has_focus:
            self.query_one(TransactionView).focus()
        else:
            super().action_back()

    def action_sync(self) -> None:
        if self.account:
            self.post_message(SyncAccount(self.account))
        else:
            self.post_message(SyncAll(announce=False, show=True))

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
