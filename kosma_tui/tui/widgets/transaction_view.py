"""A virtual list of Bank Transactions: only the visible lines are ever rendered (Line API).

100,000 rows cost one list of dicts in memory; a frame formats the 20 or so
lines on screen, so opening, scrolling and jumping to the oldest row stay fast. Rows read
from a book a page at a time (``PagedRows``) are drawn once loaded: a missing page is
read by a thread worker and the lines say "loading" until then.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import work
from textual.binding import Binding, BindingType
from textual.events import Click
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from kosma_tui.core.money import format_amount
from kosma_tui.tui.text import clean
from kosma_tui.tui.widgets.row_source import PagedRows

Row = dict[str, Any]

STATUS_STYLE = {"Pending": Style(color="yellow"), "Cancelled": Style(dim=True, strike=True)}
POSITIVE, NEGATIVE = Style(color="green"), Style(color="red")
DIM = Style(dim=True)


def amount_of(row: Row) -> int:
    return int(row.get("deposit") or 0) - int(row.get("withdrawal") or 0)


def party_text(row: Row) -> str:
    name = clean(row.get("bank_party_name") or "")
    if row.get("party"):
        target = clean(f"{row.get('party_type') or ''} {row['party']}".strip())
        return f"{name} → {target}" if name else target
    return name or "-"


class TransactionView(ScrollView, can_focus=True):
    """Rows newest first; a cursor row; End/G jumps to the oldest."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"transaction-view--cursor", "transaction-view--header"}
    DEFAULT_CSS = """
    TransactionView { background: $surface; overflow-x: hidden; overflow-y: scroll; }
    TransactionView > .transaction-view--cursor { background: $primary-darken-1; }
    TransactionView:focus > .transaction-view--cursor { background: $primary; }
    TransactionView > .transaction-view--header { text-style: bold; color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "move(-1)", "Up", show=False, id="tx-up"),
        Binding("down,j", "move(1)", "Down", show=False, id="tx-down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="tx-page-up"),
        Binding("pagedown,space", "page(1)", "Page down", show=False, id="tx-page-down"),
        Binding(
            "home,g", "first", "Newest", id="tx-newest", tooltip="Jump to the newest transaction"
        ),
        Binding(
            "end,G", "last", "Oldest", id="tx-oldest", tooltip="Jump to the oldest transaction"
        ),
        Binding(
            "enter",
            "open",
            "Details",
            id="tx-details",
            tooltip="Every field of the selected transaction",
        ),
    ]

    cursor: reactive[int] = reactive(0, always_update=True)

    class Opened(Message):
        def __init__(self, row: Row) -> None:
            super().__init__()
            self.row = row

    class PagesLoaded(Message, bubble=False):
        """The worker read the pages the last frames were missing."""

    def __init__(
        self,
        *,
        show_account: bool = False,
        show_pushed: bool = False,
        show_currency: bool = False,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.rows: Sequence[Row] = []
        self.show_account = show_account
        self.show_pushed = show_pushed  # the ERPNext column, once ERPNext is connected
        self.show_currency = show_currency  # amounts of several currencies meet here
        self._wanted: set[int] = set()  # pages a frame missed, for the loader
        self._wanted_lock = threading.Lock()

    # -- data ------------------------------------------------------------

    def set_rows(self, rows: Sequence[Row]) -> None:
        self.rows = rows
        self.virtual_size = Size(0, len(rows) + 1)
        self.cursor = 0
        self.scroll_to(y=0, animate=False, immediate=True)
        self.refresh()

    @property
    def current(self) -> Row | None:
        return self.row_at(self.cursor) if 0 <= self.cursor < len(self.rows) else None

    def row_at(self, index: int) -> Row | None:
        """The row at ``index`` if it is in memory; else None, and its page is asked for."""
        rows = self.rows
        if not isinstance(rows, PagedRows):
            return rows[index]
        row = rows.peek(index)
        if row is None:
            with self._wanted_lock:
                start = not self._wanted  # else the running loader takes this page too
                self._wanted.add(rows.page_of(index))
            if start:
                self.call_later(self.load_pages, rows)
        return row

    @work(thread=True, group="tx-pages", exit_on_error=False)
    def load_pages(self, rows: PagedRows) -> None:
        while True:
            with self._wanted_lock:
                if not self._wanted:
                    break
                number = min(self._wanted)
            # rows replaced meanwhile (a new filter): the next frame asks again
            if rows is self.rows and not rows.has_page(number):
                rows.load(number)
            with self._wanted_lock:
                self._wanted.discard(number)
        self.post_message(self.PagesLoaded())

    def on_transaction_view_pages_loaded(self, _message: PagesLoaded) -> None:
        self.refresh()

    # -- cursor ----------------------------------------------------------

    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, len(self.rows) - 1)) if self.rows else 0

    def watch_cursor(self, old: int, new: int) -> None:
        page = max(1, self.scrollable_content_region.height - 1)
        top = round(self.scroll_y)
        if new < top:
            self.scroll_to(y=new, animate=False, immediate=True)
        elif new >= top + page:
            self.scroll_to(y=new - page + 1, animate=False, immediate=True)
        self.refresh()

    def action_move(self, delta: int) -> None:
        self.cursor += delta

    def action_page(self, direction: int) -> None:
        self.cursor += direction * max(1, self.scrollable_content_region.height - 2)

    def action_first(self) -> None:
        self.cursor = 0

    def action_last(self) -> None:
        self.cursor = len(self.rows) - 1

    def action_open(self) -> None:
        if self.current is not None:
            self.post_message(self.Opened(self.current))

    def on_click(self, event: Click) -> None:
        if event.y >= 1:
            self.cursor = round(self.scroll_y) + event.y - 1

    def on_resize(self) -> None:
        self.virtual_size = Size(0, len(self.rows) + 1)

    # -- rendering -------------------------------------------------------

    def columns(self, width: int) -> list[tuple[str, int, str]]:
        """(title, width, justify) fitting ``width`` cells; the texts share what is left."""
        fixed = [("Date", 10, "left"), ("Amount", 17 if self.show_currency else 13, "right")]
        if self.show_account:
            fixed.append(("Account", 16, "left"))
        fixed.append(("Status", 9, "left"))
        if self.show_pushed:
            fixed.append(("ERPNext", 14, "left"))
        spare = max(12, width - sum(w for _, w, _ in fixed) - (len(fixed) + 1))
        party = max(8, spare * 11 // 20)
        reference = max(4, spare - party)
        tail = 2 if self.show_pushed else 1
        return [
            *fixed[:-tail],
            ("Party / counterparty", party, "left"),
            ("Reference", reference, "left"),
            *fixed[-tail:],
        ]

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        cols = self.columns(width)
        if y == 0:
            style = self.get_component_rich_style("transaction-view--header")
            return self._strip([(t, w, j, style) for t, w, j in cols], width, style)
        index = round(self.scroll_y) + y - 1
        if index >= len(self.rows):
            return Strip.blank(width, self.rich_style)
        base = self.rich_style
        if index == self.cursor:
            base = base + self.get_component_rich_style("transaction-view--cursor")
        row = self.row_at(index)
        if row is None:  # its page is being read
            return self._strip([("loading…", width - 2, "left", base + DIM)], width, base)
        minor = amount_of(row)
        currency = row.get("currency") or ""
        status = str(row.get("status") or "")
        values: dict[str, tuple[str, Style | None]] = {
            "Date": (clean(row.get("date") or ""), None),
            "Amount": (
                format_amount(minor, currency, sign=True)
                + (f" {clean(currency)}" if self.show_currency else ""),
                POSITIVE if minor > 0 else NEGATIVE if minor < 0 else None,
            ),
            "Account": (clean(row.get("bank_account") or ""), None),
            "Party / counterparty": (party_text(row), None),
            "Reference": (
                clean(row.get("description") or row.get("reference_number") or ""),
                DIM if not row.get("description") else None,
            ),
            "Status": (clean(status), STATUS_STYLE.get(status)),
        }
        if self.show_pushed:
            from kosma_tui.tui.widgets.erpnext_text import pushed_label

            label = pushed_label(row)
            values["ERPNext"] = (
                label.plain,
                Style.parse(str(label.style)) if label.style else None,
            )
        cells = []
        for title, w, justify in cols:
            text, extra = values[title]
            cells.append((text, w, justify, base + extra if extra else base))
        return self._strip(cells, width, base)

    @staticmethod
    def _strip(cells: list[tuple[str, int, str, Style]], width: int, base: Style) -> Strip:
        segments = [Segment(" ", base)]
        for text, w, justify, style in cells:
            if cell_len(text) > w:
                text = set_cell_size(text, w - 1) + "…"
            elif justify == "right":
                text = " " * (w - cell_len(text)) + text
            else:
                text = set_cell_size(text, w)
            segments.append(Segment(text, style))
            segments.append(Segment(" ", base))
        strip = Strip(segments)
        return strip.adjust_cell_length(width, base)
