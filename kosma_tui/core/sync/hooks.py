"""What the sync engine does after it stored rows: explicit hooks, given to it.

Two steps follow a sync (DESIGN 2): party matching of the rows it is about
to store, and the ERPNext push of what it stored. The engine calls them
through ``AfterSync``; the runtime hands it ``StandardHooks`` (the core's
own matcher and ERPNext bridge); tests hand it their own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from kosma_tui.core.errors import Problem

if TYPE_CHECKING:
    from kosma_tui.core.store import Store

# Party matching of a batch of new rows: sets their party in place, returns how many.
RowMatcher = Callable[[list[dict[str, Any]]], int]


class AfterSync(Protocol):
    def party_matcher(self, store: Store) -> RowMatcher | None:
        """The matcher for one sync's new rows (one for the whole sync: its index and
        cache outlive a batch), or None when party matching is off or has no parties."""
        ...

    async def push(
        self, store: Store, stored: Mapping[str, Sequence[str] | None]
    ) -> Problem | None:
        """After a successful sync: hand ERPNext what the sync stored (account name ->
        the transaction ids it added or changed; None: too many to list, the push reads
        the account's whole history). What went wrong, or None; a failure
        never fails the sync."""
        ...


class NoHooks:
    """Neither matching nor push (a sync that only reads the bank)."""

    def party_matcher(self, store: Store) -> RowMatcher | None:
        return None

    async def push(
        self, store: Store, stored: Mapping[str, Sequence[str] | None]
    ) -> Problem | None:
        return None


class StandardHooks:
    """Party matching by ``core.matching``, the push by ``core.erpnext`` (when enabled in
    the Banking Settings)."""

    def party_matcher(self, store: Store) -> RowMatcher | None:
        settings = store.settings()
        if not settings.enable_party_matching:
            return None
        parties = store.parties()
        if not parties:
            return None
        from kosma_tui.core.matching import Matcher

        return Matcher(parties, settings.enable_fuzzy_matching).assign

    async def push(
        self, store: Store, stored: Mapping[str, Sequence[str] | None]
    ) -> Problem | None:
        if not stored or not store.settings().erpnext_auto_push:
            return None
        from kosma_tui.core.erpnext.push import auto_push

        # the push speaks HTTP synchronously: off the event loop
        report = await asyncio.to_thread(auto_push, store, list(stored), stored=stored)
        return None if report is None else report.problem
