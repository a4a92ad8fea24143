"""The banking subscription: fetched from the portal, remembered for ``status``.

``kosma-tui status`` contacts no portal (monitoring runs it often), so the last
subscription fetched (by Banking Settings, ``kosma-tui settings`` or a Link
step) is kept beside the store with the moment it was read, and status shows
that, saying how old it is.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import orjson

from kosma_tui.core import clock
from kosma_tui.core.atomic import atomic_write
from kosma_tui.core.errors import StoreError
from kosma_tui.core.store.files import read_json

if TYPE_CHECKING:
    from pathlib import Path

    from kosma_tui.core.portal import PortalClient, Subscription
    from kosma_tui.core.store import Store

log = logging.getLogger(__name__)


def usage_text(usage: int | None, limit: int | None) -> str:
    """``4,176 of 5,000 used`` (or what is known of it)."""
    if usage is not None and limit:
        return f"{usage:,} of {limit:,} transactions used"
    if usage is not None:
        return f"{usage:,} transactions used"
    return "usage unknown"


def left(usage: int | None, limit: int | None) -> int | None:
    if usage is None or not limit:
        return None
    return max(0, limit - usage)


def usage_note(data: dict[str, Any] | None) -> str | None:
    """How much of the plan is left, for the Start Date warning; None when unknown."""
    if not data:
        return None
    usage, limit = data.get("usage"), data.get("transaction_limit")
    if not isinstance(usage, int) or not isinstance(limit, int) or not limit:
        return None
    return f"This billing period: {usage_text(usage, limit)} ({left(usage, limit):,} left)."


def _path(store: Store) -> Path:
    return store.paths.data_dir / "subscription.json"


def remember(store: Store, subscription: Subscription) -> dict[str, Any]:
    """Keep what was fetched, with when; a failure to write is logged, never fatal."""
    data = {**asdict(subscription), "fetched": clock.now().isoformat(timespec="seconds")}
    try:
        atomic_write(_path(store), orjson.dumps(data, option=orjson.OPT_INDENT_2), durable=False)
    except StoreError as exc:
        log.warning("subscription not remembered: %s", exc.message)
    return data


def remembered(store: Store) -> dict[str, Any] | None:
    """The last subscription fetched, or None (never fetched, or the file is unreadable)."""
    try:
        data = read_json(_path(store))
    except StoreError:
        return None
    return data if isinstance(data, dict) else None


async def fetch(store: Store, client: PortalClient) -> dict[str, Any] | None:
    """Fetch the subscription now and remember it; None when the portal lists none."""
    details = await client.fetch_subscription_details()
    return remember(store, details[0]) if details else None
