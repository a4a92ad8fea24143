"""Paging of ``fetch_consent_transactions``: a first page's request or a next-page url.

The next-page url names the account, the dates and the page size; the offset
travels beside it. Only urls this portal handed out for this account are taken.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from kosma_tui.sandbox.errors import invalid
from kosma_tui.sandbox.fields import day, integer, parse_day, string

MAX_PAGE = 1000
TRANSACTIONS_PATH = "/api/method/banking_admin.api.fetch_consent_transactions"


def next_page_url(base_url: str, account_id: str, start: date, end: date, size: int) -> str:
    """The url of the pages after the first (the offset is sent beside it)."""
    query = urlencode(
        {
            "account_id": account_id,
            "start_date": start.isoformat(),
            "to_date": end.isoformat(),
            "page_size": size,
        }
    )
    return f"{base_url}{TRANSACTIONS_PATH}?{query}"


def page_request(
    body: dict[str, Any], account_id: str, today: date
) -> tuple[date, date, int, int | None]:
    """(start, end, page size, offset) of a first page or of a next page (url + offset)."""
    offset = integer(body, "offset")
    if offset is None:
        start = day(body, "start_date")
        assert start is not None
        end = day(body, "to_date", required=False)
        if end is not None and end < start:
            raise invalid("to_date", "'to_date' is before 'start_date'.")
        end = end or today
        size = integer(body, "preferred_pagination_size")
        if size == 0:
            raise invalid("preferred_pagination_size", "'preferred_pagination_size' must be > 0.")
        size = min(size or MAX_PAGE, MAX_PAGE)
    else:
        url = string(body, "url")
        assert url is not None
        parts = urlsplit(url)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        if parts.path != TRANSACTIONS_PATH or query.get("account_id") != account_id:
            raise invalid("url", "'url' is not a next-page url of this account's transactions.")
        start = parse_day(query.get("start_date"), "url")
        end = parse_day(query.get("to_date"), "url")
        size_text = query.get("page_size", "")
        if not size_text.isdigit() or not 0 < int(size_text) <= MAX_PAGE:
            raise invalid("url", "'url' carries no valid page size.")
        size = int(size_text)
    return start, min(end, today), size, offset
