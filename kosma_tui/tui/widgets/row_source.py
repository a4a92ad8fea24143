"""Where the Transactions view gets its rows: a list in memory, pages of one account's
book read on demand (the first screen and the oldest row without reading 100,000 rows),
or the rows a filter found, read a page at a time the same way.

The view draws only what is loaded (``peek``) and has the missing pages read by a thread
worker (``load``): drawing a frame never waits for the disk. Indexing (``rows[i]``)
reads a missing page at once, for workers and tests."""

from __future__ import annotations

import heapq
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, overload

Row = dict[str, Any]

PAGE = 500
CACHED_PAGES = 64


class PagedRows(Sequence[Row]):
    """Rows read ``PAGE`` at a time by ``read_page``, the last ``CACHED_PAGES`` kept."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.pages: OrderedDict[int, list[Row]] = OrderedDict()
        self._lock = threading.Lock()  # the UI thread peeks while a worker loads

    def read_page(self, offset: int, limit: int) -> list[Row]:
        raise NotImplementedError

    def preload(self) -> None:
        """Read the first page now (in a worker), so the first frame need not."""
        if self.total:
            self[0]

    def __len__(self) -> int:
        return self.total

    @overload
    def __getitem__(self, index: int) -> Row: ...

    @overload
    def __getitem__(self, index: slice) -> list[Row]: ...

    def __getitem__(self, index: int | slice) -> Row | list[Row]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self.total))]
        number, offset = divmod(self._checked(index), PAGE)
        page = self._cached(number)
        if page is None:
            page = self.load(number)
        return self._row(page, offset)

    def peek(self, index: int) -> Row | None:
        """The row if its page is loaded, else None (no disk read: safe while drawing)."""
        number, offset = divmod(self._checked(index), PAGE)
        page = self._cached(number)
        return None if page is None else self._row(page, offset)

    def has_page(self, number: int) -> bool:
        with self._lock:
            return number in self.pages

    def page_of(self, index: int) -> int:
        return self._checked(index) // PAGE

    def load(self, number: int) -> list[Row]:
        """Read page ``number`` into the cache (the disk read happens outside the lock)."""
        page = self.read_page(number * PAGE, PAGE)
        with self._lock:
            self.pages[number] = page
            self.pages.move_to_end(number)
            if len(self.pages) > CACHED_PAGES:
                self.pages.popitem(last=False)
        return page

    def _checked(self, index: int) -> int:
        if index < 0:
            index += self.total
        if not 0 <= index < self.total:
            raise IndexError(index)
        return index

    def _cached(self, number: int) -> list[Row] | None:
        with self._lock:
            page = self.pages.get(number)
            if page is not None:
                self.pages.move_to_end(number)
            return page

    @staticmethod
    def _row(page: list[Row], offset: int) -> Row:
        # the book may have shrunk or moved under us (another process): show a gap, not a crash
        return page[offset] if offset < len(page) else {}


class BookRows(PagedRows):
    """The rows of one TransactionBook, newest first."""

    def __init__(self, book: Any, total: int) -> None:
        super().__init__(total)
        self.book = book

    def read_page(self, offset: int, limit: int) -> list[Row]:
        return list(self.book.rows_page(offset, limit, raw=False))


class FoundRows(PagedRows):
    """The rows a filter found in one or more books (``TransactionBook.search`` hits),
    newest first."""

    def __init__(self, books: list[Any], hits: list[list[Any]]) -> None:
        streams = [[(hit, n) for hit in found] for n, found in enumerate(hits)]
        if len(streams) == 1:
            self.hits = streams[0]
        else:
            self.hits = list(heapq.merge(*streams, key=lambda h: h[0][0], reverse=True))
        super().__init__(len(self.hits))
        self.books = books

    def read_page(self, offset: int, limit: int) -> list[Row]:
        part = self.hits[offset : offset + limit]
        rows: list[Row] = [{} for _ in part]
        for n, book in enumerate(self.books):
            mine = [i for i, (_, b) in enumerate(part) if b == n]
            if mine:
                for i, row in zip(mine, book.fetch([part[i][0] for i in mine]), strict=True):
                    rows[i] = row
        return rows
