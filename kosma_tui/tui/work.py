"""Store work off the UI thread, for the screens and controllers: the disk may be slow
(fsync, a lock another process holds), the keyboard must not wait for it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from textual.app import App
from textual.worker import get_current_worker

from kosma_tui.core.errors import KosmaError
from kosma_tui.tui.feedback import report

log = logging.getLogger("kosma_tui.tui")

T = TypeVar("T")


def in_thread(app: App[Any], work: Callable[[], T], then: Callable[[T], object], *, name: str,
              failed: Callable[[KosmaError], None] | None = None,
              latest: bool = False) -> None:
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

    app.run_worker(run, name=name, group=name, thread=True, exit_on_error=False,
                   exclusive=latest)
