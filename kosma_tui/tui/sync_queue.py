"""Manual sync in the background: a queue of accounts, one at a time, in a thread worker.

The sync engine writes to disk (fsync'd appends of up to 100,000 rows), so it
runs in its own thread with its own event loop and portal client; the UI keeps
its loop free. Progress and results come back as messages to the app, which
owns the state and publishes it on ``app.sync_signal``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.message import Message

from kosma_tui.core import messages
from kosma_tui.core.errors import KosmaError, Problem

if TYPE_CHECKING:
    from kosma_tui.tui.app import KosmaApp

log = logging.getLogger("kosma_tui.tui")

# state of one account in the Sync screen
IDLE, QUEUED, RUNNING = "idle", "queued", "running"


@dataclass
class AccountSync:
    name: str
    state: str = IDLE  # idle | queued | running | ok | failed | refused
    phase: str = ""
    page: int = 0
    fetched: int = 0
    new: int = 0
    result: Any = None  # core.sync.SyncResult once finished
    error: Problem | None = None
    fraction: float | None = None  # 0-1 of the days to read, None while unknown

    @property
    def busy(self) -> bool:
        return self.state in (QUEUED, RUNNING)


class SyncUpdate(Message):
    """Sent from the sync thread: a new snapshot of one account (or ``None``: queue done)."""

    def __init__(self, snapshot: AccountSync | None) -> None:
        super().__init__()
        self.snapshot = snapshot

    def can_replace(self, message: Message) -> bool:
        """Textual asks this of a queued update when ``message`` arrived after it: a page's
        progress gives way to the next page's of the same account and phase (a fast sync
        sends pages faster than a busy terminal draws them). Each phase and the finished
        account are always shown."""
        older, newer = self.snapshot, getattr(message, "snapshot", None)
        return (
            isinstance(message, SyncUpdate)
            and older is not None
            and newer is not None
            and older.state == newer.state == RUNNING
            and newer.name == older.name
            and newer.phase == older.phase
        )


class SyncQueue:
    """FIFO of account names; a single thread worker drains it."""

    def __init__(self, app: KosmaApp) -> None:
        self.app = app
        self.states: dict[str, AccountSync] = {}
        self._pending: deque[str] = deque()
        self._lock = threading.Lock()
        self._running = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._cancel: asyncio.Event | None = None
        self._stopping = False

    # -- main thread -----------------------------------------------------

    def state(self, name: str) -> AccountSync:
        return self.states.setdefault(name, AccountSync(name))

    def enqueue(self, names: list[str]) -> list[str]:
        """Queue the accounts not already queued or running; the ones added."""
        added: list[str] = []
        with self._lock:
            for name in names:
                current = self.state(name)
                if current.busy:
                    continue
                self.states[name] = AccountSync(name, QUEUED)
                self._pending.append(name)
                added.append(name)
            start = bool(added) and not self._running
            if start:
                self._running = True
        if start:
            self.app.run_worker(
                self._drain_thread, name="sync", group="sync", thread=True, exit_on_error=False
            )
        return added

    @property
    def busy(self) -> bool:
        return self._running

    def cancel(self, *, everything: bool = True) -> list[str]:
        """Stop the running sync (what was read is kept) and, by default, empty the queue."""
        dropped: list[str] = []
        with self._lock:
            if everything:
                dropped = list(self._pending)
                self._pending.clear()
            for name in dropped:
                self.states[name] = AccountSync(name, IDLE)
            if self._loop is not None and self._cancel is not None:
                self._loop.call_soon_threadsafe(self._cancel.set)
        return dropped

    def stop(self) -> None:
        """At exit: cancel everything so the thread ends."""
        self._stopping = True
        self.cancel()

    def apply(self, snapshot: AccountSync) -> None:
        self.states[snapshot.name] = snapshot

    # -- sync thread -----------------------------------------------------

    def _next(self) -> str | None:
        with self._lock:
            if self._pending and not self._stopping:
                return self._pending.popleft()
            self._running = False
            return None

    def _send(self, snapshot: AccountSync | None) -> None:
        if not self._stopping:
            self.app.post_message(SyncUpdate(snapshot))

    def _drain_thread(self) -> None:
        try:
            asyncio.run(self._drain())
        finally:
            with self._lock:
                self._running = False
                self._loop = self._cancel = None
            self._send(None)

    async def _drain(self) -> None:
        from kosma_tui.core.sync import SyncEngine, SyncProgress
        from kosma_tui.core.usecases.sync import SyncBatch

        current = AccountSync("")

        def progress(p: SyncProgress) -> None:
            current.phase, current.page, current.fetched, current.new = (
                p.phase,
                p.page,
                p.fetched,
                p.new,
            )
            self._send(
                AccountSync(
                    current.name, RUNNING, p.phase, p.page, p.fetched, p.new, fraction=p.fraction
                )
            )

        try:
            async with self.app.portal() as client:
                runtime = self.app.runtime
                engine = SyncEngine(
                    runtime.store,
                    client,
                    hooks=runtime.after_sync(),
                    attended=True,
                    on_progress=progress,
                )
                # the push policy of ``sync --account``: the queue's accounts, then one push
                batch = SyncBatch(engine)
                while (name := self._next()) is not None:
                    current = AccountSync(name, RUNNING)
                    with self._lock:
                        self._loop, self._cancel = asyncio.get_running_loop(), asyncio.Event()
                        cancel = self._cancel
                    self._send(current)
                    self._send(await self._one(batch, name, cancel))
                    if not self._pending:
                        # the queue ran dry: its one push, before the queue says it is
                        # done (the results it covered carry its push_error)
                        await batch.push()
        except KosmaError as exc:  # the portal could not even be opened: fail the queue
            problem = Problem.from_error(exc)
            while (name := self._next()) is not None:
                self._send(AccountSync(name, "failed", error=problem))
            if current.name and current.state == RUNNING:
                self._send(AccountSync(current.name, "failed", error=problem))

    @staticmethod
    async def _one(batch: Any, name: str, cancel: asyncio.Event) -> AccountSync:
        try:
            result = await batch.sync(name, cancel)
        except KosmaError as exc:
            return AccountSync(name, "failed", error=Problem.from_error(exc))
        except Exception as exc:  # a bug must not leave the account "running" forever
            log.exception("sync of %s failed unexpectedly", name)
            return AccountSync(name, "failed", error=messages.unexpected(exc))
        done = AccountSync(
            name,
            result.status,
            "done",
            result.pages,
            result.fetched,
            result.new,
            result=result,
            error=result.error,
        )
        return done
