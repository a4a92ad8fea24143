"""Where the Transactions view gets its rows: a list in memory, or pages of one account's
book read on demand (the first screen and the oldest row without reading 100,000 rows)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, overload

Row = dict[str, Any]

PAGE = 500
CACHED_PAGES = 64


class BookRows(Sequence[Row]):
    """The rows of one TransactionBook, newest first, read a page at a time."""

    def __init__(self, book: Any, total: int) -> None:
        self.book = book
        self.total = total
        self.pages: OrderedDict[int, list[Row]] = OrderedDict()

    def __len__(self) -> int:
        return self.total

    @overload
    def __getitem__(self, index: int) -> Row: ...

    @overload
    def __getitem__(self, index: slice) -> list[Row]: ...

    def __getitem__(self, index: int | slice) -> Row | list[Row]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self.total))]
        if index < 0:
            index += self.total
        if not 0 <= index < self.total:
            raise IndexError(index)
        number, offset = divmod(index, PAGE)
        page = self.pages.get(number)
        if page is None:
            page = self.book.rows_page(number * PAGE, PAGE, raw=False)
            self.pages[number] = page
            if len(self.pages) > CACHED_PAGES:
                self.pages.popitem(last=False)
        else:
            self.pages.move_to_end(number)
        # the book may have shrunk or moved under us (another process): show a gap, not a crash
        return page[offset] if offset < len(page) else {}
