"""One consent, one user of its token at a time, across processes.

Every consent call kills the token it was made with, so two syncs of
accounts of the same Bank Consent (the TUI and the daily job, or two tasks
in one process) must not interleave: the second would present a dead token
and be told to re-link. A sync holds this lock (``flock`` on a file next to
the store) from reading the token until its last consent call, and reads the
token only once it holds it.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from kosma_tui.core.errors import KosmaError, StoreError
from kosma_tui.core.paths import make_private_dir

if TYPE_CHECKING:
    from kosma_tui.core.store import Store

try:
    import fcntl
except ImportError:  # pragma: no cover - not a POSIX system: no cross-process lock
    fcntl = None  # type: ignore[assignment]

WAIT_SECONDS = 300.0


class ConsentBusy(KosmaError):
    code = "BUSY"


@asynccontextmanager
async def consent_lock(store: Store, consent_name: str,
                       timeout: float = WAIT_SECONDS) -> AsyncIterator[None]:
    """Hold the lock of ``consent_name``; waits without blocking the event loop."""
    if fcntl is None:  # pragma: no cover
        yield
        return
    folder = store.paths.data_dir / "locks"
    digest = hashlib.sha256(consent_name.encode("utf-8")).hexdigest()[:24]
    path = folder / f"consent-{digest}.lock"
    try:
        make_private_dir(folder)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise StoreError(f"Could not open the lock file {path} ({exc.strerror}).",
                         "Check the permissions of the data folder.") from exc
    try:
        deadline = time.monotonic() + timeout
        pause = 0.005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise StoreError(f"Could not lock {path} ({exc.strerror}).",
                                     "Check the permissions of the data folder.") from exc
            if time.monotonic() >= deadline:
                raise ConsentBusy(
                    f"Another sync has been using the Bank Consent {consent_name} for more "
                    f"than {timeout:.0f} seconds.",
                    "Wait for it (the TUI or the daily job) to finish, then sync again.",
                )
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.1)
        yield
    finally:
        os.close(fd)  # releases the lock
