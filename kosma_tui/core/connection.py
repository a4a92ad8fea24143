"""Which portal to talk to: the configured one, or the embedded Demo Bank portal.

With no admin URL configured (demo mode) the Demo Bank portal from this
package is started in this process on a free loopback port, with its state
file in the data folder so a consent linked in one run works in the next.
One embedded portal serves the whole process and stops at exit.
"""

from __future__ import annotations

import atexit
import os
import threading
from datetime import date
from typing import TYPE_CHECKING, Any

from kosma_tui.core import clock
from kosma_tui.core.errors import ConfigurationError, StoreError

if TYPE_CHECKING:
    from kosma_tui.core.portal import PortalClient
    from kosma_tui.core.store import Store

DEMO_BANNER = "DEMO (built-in Demo Bank portal)"
DEMO_CUSTOMER_ID = "demo-customer"
DEMO_API_TOKEN = "demo-token"  # noqa: S105 - the Demo Bank portal accepts any token

_lock = threading.Lock()
_embedded: Any = None


def embedded_portal_url(store: Store) -> str:
    """Start (once per process) the embedded Demo Bank portal; its URL."""
    global _embedded
    with _lock:
        if _embedded is None:
            from kosma_tui.sandbox import SandboxStateError, start_portal

            frozen: date | None = clock.today() if os.environ.get(clock.NOW_ENV) else None
            try:
                _embedded = start_portal(store.paths.sandbox_state, today=frozen)
            except SandboxStateError as exc:
                raise StoreError(exc.message, exc.remedy) from None
            except OSError as exc:
                raise StoreError(
                    f"The built-in Demo Bank portal could not start ({exc.strerror or exc}).",
                    f"Check that {store.paths.sandbox_state.parent} is writable.",
                ) from None
            atexit.register(stop_embedded_portal)
        return str(_embedded.url)


def stop_embedded_portal() -> None:
    global _embedded
    with _lock:
        if _embedded is not None:
            _embedded.stop()
            _embedded = None


class PortalConnection:
    """``async with PortalConnection(store, attended=True) as client: ...``"""

    def __init__(self, store: Store, *, attended: bool, **client_options: Any) -> None:
        self.store = store
        self.attended = attended
        self.client_options = client_options
        self.client: PortalClient | None = None

    def open_client(self) -> PortalClient:
        from kosma_tui.core.portal import PortalClient, attended_ip
        from kosma_tui.core.replay import ReplayJournal

        settings = self.store.settings()
        if settings.demo:
            url, customer, token = embedded_portal_url(self.store), DEMO_CUSTOMER_ID, DEMO_API_TOKEN
        else:
            if not settings.enabled:
                raise ConfigurationError(
                    "Banking Settings are disabled.",
                    "Enable them with 'kosma-tui settings --enable' or in the Settings screen.",
                )
            if not (settings.customer_id and settings.api_token):
                raise ConfigurationError(
                    "Banking Settings lack a Customer ID or Portal API Token.",
                    "Fill them in with 'kosma-tui settings' or in the Settings screen.",
                )
            url, customer, token = settings.admin_url, settings.customer_id, settings.api_token
        return PortalClient(
            url,
            customer,
            token,
            use_test_environment=settings.use_test_environment,
            ip_address=attended_ip() if self.attended else None,
            embedded=settings.demo,
            journal=ReplayJournal.of(self.store),
            **self.client_options,
        )

    async def __aenter__(self) -> PortalClient:
        self.client = self.open_client()
        return self.client

    async def __aexit__(self, *exc: object) -> None:
        if self.client is not None:
            await self.client.aclose()
            self.client = None
