"""The page-loop guard: a sync that pages must come to an end.

A portal that hands back a next-page cursor already followed, or keeps
sending pages that bring nothing this sync has not read, would keep a sync
paging (and rotating tokens) forever. The guard stops it with a sentence;
what was read is kept by the engine like after any other failure, and the
token the last good answer carried is already persisted.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from kosma_tui.core.errors import PortalError

# Pages in a row that are empty or a page already read: a portal paging honestly
# never sends one (each page holds the next transactions).
MAX_IDLE_PAGES = 3
# More pages than a day of an account can fill: 50 full pages, 50,000 transactions.
MAX_PAGES_PER_DAY = 50


class PageLoop(PortalError):
    """The portal's pages do not advance; the sync stopped."""

    def __init__(self, account: str, why: str) -> None:
        super().__init__(
            "PROTOCOL.PAGE_LOOP",
            f"The banking portal's pages for '{account}' do not come to an end ({why}); "
            "the sync stopped, and what it read is kept.",
            "Sync again later; if it happens again, tell the portal's operator.",
        )


class PageGuard:
    """Checks each page of one sync of one account (``check`` after every page)."""

    def __init__(self, account: str, start: date, today: date) -> None:
        self.account = account
        self.max_pages = max(1, (today - start).days + 1) * MAX_PAGES_PER_DAY
        self.pages = 0
        self.idle = 0
        self.cursors: set[tuple[str, str]] = set()
        # (size, first id, last id) of every page read: cheap, and a page sent again
        # under a new cursor has the same one
        self.prints: set[tuple[int, str, str]] = set()

    def check(self, transactions: list[dict[str, Any]], next_page: Any) -> None:
        """Raise PageLoop when ``next_page`` would not lead anywhere new."""
        self.pages += 1
        fresh = False
        if transactions:
            stamp = (
                len(transactions),
                repr(transactions[0].get("transaction_id")),
                repr(transactions[-1].get("transaction_id")),
            )
            fresh = stamp not in self.prints
            self.prints.add(stamp)
        self.idle = 0 if fresh else self.idle + 1
        if next_page is None:
            return
        cursor = (str(next_page.url), repr(next_page.offset))
        if cursor in self.cursors:
            raise PageLoop(
                self.account,
                f"page {self.pages} points back to offset "
                f"{next_page.offset!r}, which was already read",
            )
        self.cursors.add(cursor)
        if self.idle >= MAX_IDLE_PAGES:
            raise PageLoop(self.account, f"{self.idle} pages in a row brought nothing new")
        if self.pages >= self.max_pages:
            raise PageLoop(
                self.account, f"more than {self.max_pages:,} pages for the days asked for"
            )
