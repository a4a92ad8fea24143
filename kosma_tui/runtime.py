"""The composition root: what one run of ``kosma-tui`` works with, built once.

``cli.main`` builds one ``Runtime`` per run (``commands.base.run_command``)
and hands it to the command, or to ``KosmaApp`` for the TUI. It holds the
store (opened on first use, so a command refuses bad usage before it touches
the disk), makes portal connections and ERPNext clients, the clock and the
hooks the sync engine calls after a sync. In demo mode it starts the
embedded Demo Bank portal on first need and stops it when the runtime
closes: at the end of the command or of the TUI. This is the one module
that may start the Demo Bank portal; ``core`` only receives its URL.

Never imports Textual (the commands use it too).
"""

from __future__ import annotations

import os
import threading
from datetime import date
from types import ModuleType
from typing import TYPE_CHECKING, Any

from kosma_tui.core import clock
from kosma_tui.core.connection import PortalConnection
from kosma_tui.core.errors import StoreError
from kosma_tui.core.paths import Paths, resolve_paths
from kosma_tui.core.retry import REAL_CLOCK, Clock

if TYPE_CHECKING:
    from kosma_tui.core.erpnext import ErpnextClient
    from kosma_tui.core.store import Store
    from kosma_tui.core.sync.hooks import AfterSync


class Runtime:
    """``with Runtime() as runtime: runtime.store ... runtime.portal(attended=True)``.

    ``store`` and ``demo_portal_url`` let tests wire in their own store and a
    Demo Bank portal they started (it is then not stopped here).
    """

    # how time passes between retries of the portal and ERPNext clients this runtime
    # makes (tests replace it with a clock that records the waits instead of sleeping)
    retry_clock: Clock = REAL_CLOCK

    def __init__(
        self,
        paths: Paths | None = None,
        *,
        store: Store | None = None,
        demo_portal_url: str | None = None,
    ) -> None:
        self.paths = store.paths if store is not None else (paths or resolve_paths())
        self._store = store
        self._demo_url = demo_portal_url
        self._embedded: Any = None  # the running embedded Demo Bank portal
        self._lock = threading.Lock()  # the TUI's sync thread and UI may both ask
        self.clock: ModuleType = clock
        self.started_portals = 0  # embedded portals started (one per run at most)

    # -- the store -----------------------------------------------------------------

    @property
    def store(self) -> Store:
        """This run's store, opened on first use (StoreError when it cannot be)."""
        if self._store is None:
            from kosma_tui.core.store import Store

            self._store = Store.open(self.paths)
        return self._store

    # -- the portal ----------------------------------------------------------------

    def portal(self, *, attended: bool, **client_options: Any) -> PortalConnection:
        """A connection to the configured portal, or in demo mode to the Demo Bank
        portal (started now if it is not running): ``async with ... as client``."""
        client_options.setdefault("clock", self.retry_clock)
        return PortalConnection(
            self.store, attended=attended, demo_url=self.demo_portal_url, **client_options
        )

    def demo_portal_url(self) -> str:
        """The Demo Bank portal of demo mode: the injected one, else the embedded one,
        started on its state file in the data folder (a consent linked in one run works
        in the next) on a free loopback port."""
        with self._lock:
            if self._demo_url is not None:
                return self._demo_url
            if self._embedded is None:
                self._embedded = self._start_embedded()
                self.started_portals += 1
            return str(self._embedded.url)

    @property
    def embedded_running(self) -> bool:
        return self._embedded is not None

    def _start_embedded(self) -> Any:
        from kosma_tui.sandbox import SandboxStateError, start_portal

        state = self.paths.sandbox_state
        # a frozen clock (tests, screenshots) freezes the portal's date with it
        frozen: date | None = self.clock.today() if os.environ.get(self.clock.NOW_ENV) else None
        try:
            return start_portal(state, today=frozen)
        except SandboxStateError as exc:
            raise StoreError(exc.message, exc.remedy) from None
        except OSError as exc:
            raise StoreError(
                f"The built-in Demo Bank portal could not start ({exc.strerror or exc}).",
                f"Check that {state.parent} is writable.",
            ) from None

    # -- ERPNext and the sync ------------------------------------------------------

    def erpnext(self, **client_options: Any) -> ErpnextClient:
        """A client for the stored ERPNext Connection (ConfigurationError without one)."""
        from kosma_tui.core.erpnext import ErpnextClient

        client_options.setdefault("clock", self.retry_clock)
        return ErpnextClient.for_store(self.store, **client_options)

    def after_sync(self) -> AfterSync:
        """What the sync engine does after a sync: party matching, then the ERPNext push."""
        from kosma_tui.core.sync.hooks import StandardHooks

        return StandardHooks()

    # -- the end ---------------------------------------------------------------------

    def close(self) -> None:
        """Stop the embedded Demo Bank portal, if this runtime started one."""
        with self._lock:
            embedded, self._embedded = self._embedded, None
        if embedded is not None:
            embedded.stop()

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
