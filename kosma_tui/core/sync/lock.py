"""One consent, one user of its token at a time, across processes.

Every consent call kills the token it was made with, so two syncs of
accounts of the same Bank Consent (the TUI and the daily job, or two tasks
in one process) must not interleave: the second would present a dead token
and be told to re-link. A sync holds this lock (``flock`` on a file next to
the store) from reading the token until its last consent call, and reads the
token only once it holds it.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from kosma_tui.core.locks import LockBusy, held_async

if TYPE_CHECKING:
    from kosma_tui.core.store import Store

WAIT_SECONDS = 300.0

ConsentBusy = LockBusy  # its old name: a consent still in use after the wait


@asynccontextmanager
async def consent_lock(
    store: Store, consent_name: str, timeout: float = WAIT_SECONDS
) -> AsyncIterator[None]:
    """Hold the lock of ``consent_name``; waits without blocking the event loop."""
    digest = hashlib.sha256(consent_name.encode("utf-8")).hexdigest()[:24]
    path = store.paths.data_dir / "locks" / f"consent-{digest}.lock"
    async with held_async(
        path,
        f"The Bank Consent {consent_name}",
        f"a sync of the Bank Consent {consent_name}",
        timeout,
    ):
        yield
