"""Syncing several accounts: one after another, then one ERPNext push.

The TUI's sync queue ("sync all" and single accounts) and ``kosma-tui sync``
(``--account`` repeated, or ``--all``) follow the same push policy: the
accounts are synced first, then ERPNext gets one push for those that synced
well, handed the ids each stored; its problem goes on each of their results.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kosma_tui.core.sync.engine import SyncEngine, SyncResult


class SyncBatch:
    """``batch.sync(name)`` per account, then ``batch.push()`` once for all of them."""

    def __init__(self, engine: SyncEngine) -> None:
        self.engine = engine
        self.synced: list[SyncResult] = []  # results waiting for the push

    async def sync(self, name: str, cancel: asyncio.Event | None = None) -> SyncResult:
        """Sync one account (refusals and failures come back as its result)."""
        result = await self.engine.sync_account(name, cancel, push=False)
        if result.ok:
            self.synced.append(result)
        return result

    async def push(self) -> list[SyncResult]:
        """The one push after the accounts synced so far; the results it covered (each
        with its ``push_error``, None when the push went well or is off)."""
        synced, self.synced = self.synced, []
        await self.engine.push_after(synced)
        return synced


async def sync_accounts(
    engine: SyncEngine,
    names: list[str],
    cancel: asyncio.Event | None = None,
    into: list[SyncResult] | None = None,
) -> list[SyncResult]:
    """Sync ``names`` in order (stopping at ``cancel``), or with no names every account
    of every consent (the daily job); then the one push. The results in order, also
    appended to ``into`` as they come (what a caller keeps when it abandons the run)."""
    if not names:
        return await engine.sync_all(cancel)
    batch = SyncBatch(engine)
    results = [] if into is None else into
    for name in names:
        if cancel is not None and cancel.is_set():
            break
        results.append(await batch.sync(name, cancel))
    await batch.push()
    return results
