"""Lost sessions: a portal session left Running by a run that died is ended later.

A running flow holds an exclusive lock file named after its session; a
Link Session still marked Running whose lock nobody holds belongs to a run
that died (a kill, a lost terminal), and the next ``start`` ends its portal
session. ``end_session`` itself may fail: the session then stays Running and
is tried again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from kosma_tui.core import locks
from kosma_tui.core.errors import KosmaError, PortalError, PortalUnreachable, StoreError
from kosma_tui.core.records import LinkSession

if TYPE_CHECKING:
    from kosma_tui.core.portal import PortalClient
    from kosma_tui.core.store import Store

log = logging.getLogger(__name__)

CANCEL_TIMEOUT = 15.0  # seconds an end_session may take before a cancel gives up on it


def lock_path(store: Store, session_id: str) -> Path:
    digest = hashlib.sha256(session_id.encode()).hexdigest()[:24]
    return store.paths.data_dir / "link-sessions" / f"{digest}.lock"


class Liveness:
    """An exclusive lock held while a flow runs: its absence marks a session abandoned."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def acquire(self) -> None:
        try:
            self.fd = locks.try_hold(self.path, "a Link Bank and Accounts flow")
        except StoreError as exc:
            log.warning("no liveness lock for a link session: %s", exc.message)

    def release(self) -> None:
        if self.fd is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()
        os.close(self.fd)
        self.fd = None


def session_alive(store: Store, session: LinkSession) -> bool:
    """Whether the run that started ``session`` still holds its lock (in any process)."""
    return locks.is_held(lock_path(store, session.session_id))


async def end_session(client: PortalClient, session_id: str) -> bool:
    """end_session; True when the portal session is gone (or the portal refuses for good)."""
    try:
        async with asyncio.timeout(CANCEL_TIMEOUT):
            await client.end_session(session_id)
    except TimeoutError:
        log.warning("end_session timed out")
        return False
    except PortalUnreachable as exc:
        log.warning("end_session: %s", exc.message)
        return False
    except PortalError as exc:
        transient = exc.http_status is not None and (
            exc.http_status >= 500 or exc.http_status == 429
        )
        log.warning("end_session refused: %s", exc.code)
        return not transient
    return True


def mark_closed(store: Store, session: LinkSession) -> None:
    session.status = "Closed"
    try:
        store.save_link_session(session)
    except KosmaError as exc:
        log.warning("could not mark a link session closed: %s", exc.message)


async def end_abandoned_sessions(store: Store, client: PortalClient) -> int:
    """End the portal sessions of Link Sessions left Running by runs that died; how many."""
    ended = 0
    for session in store.link_sessions(status="Running"):
        if session_alive(store, session):
            continue
        if await end_session(client, session.session_id):
            mark_closed(store, session)
            ended += 1
    return ended
