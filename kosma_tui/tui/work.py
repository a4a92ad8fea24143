"""Store work off the UI thread, for the screens and controllers: the disk may be slow
(fsync, a lock another process holds), the keyboard must not wait for it."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from textual.app import App
from textual.worker import get_current_worker

from kosma_tui.core.errors import KosmaError
from kosma_tui.tui.feedback import report

log = logging.getLogger("kosma_tui.tui")

T = TypeVar("T")


def in_thread(
    app: App[Any],
    work: Callable[[], T],
    then: Callable[[T], object],
    *,
    name: str,
    failed: Callable[[KosmaError], None] | None = None,
    latest: bool = False,
) -> None:
    """``work()`` in a thread worker; ``then(result)`` back on the UI thread (it may be a
    coroutine function), or ``failed`` with the refusal (by default an error toast with
    its remedy).

    ``latest``: a newer call of the same ``name`` supersedes this one, whose result is
    then dropped: a screen reloading twice quickly shows the second read, never the
    first one after it."""

    def run() -> None:
        try:
            result = work()
        except KosmaError as exc:
            app.call_from_thread(failed or (lambda e: report(app, e)), exc)
            return
        except Exception:  # a bug: logged, never a worker stuck in silence
            log.exception("%s failed unexpectedly", name)
            raise
        if latest and get_current_worker().is_cancelled:
            return
        app.call_from_thread(then, result)

    app.run_worker(run, name=name, group=name, thread=True, exit_on_error=False, exclusive=latest)


class LoopThread:
    """An event loop of its own in a thread, for async work that also writes the store
    (the link flow: portal calls, then a link session saved with a lock and an fsync).
    ``await loop.run(coro)`` from the UI's loop runs ``coro`` there; the UI's loop only
    waits for the answer. Cancelling the awaiting task cancels ``coro``. Everything that
    shares a client (an httpx connection pool belongs to one loop) must run here."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(
                target=self._loop.run_forever, name=self.name, daemon=True
            )
            self._thread.start()
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self._loop))

    def stop(self) -> None:
        """End the thread (call once nothing runs there any more)."""
        loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        if not thread.is_alive():
            loop.close()
