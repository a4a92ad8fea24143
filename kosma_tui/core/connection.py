"""Which portal to talk to: the configured one, or the Demo Bank portal of demo mode.

The core never starts a portal itself: in demo mode (no admin URL configured)
the URL of the Demo Bank portal comes from whoever built the connection (the
runtime, ``kosma_tui.runtime``, which starts the embedded one on first need).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kosma_tui.core import messages
from kosma_tui.core.errors import ConfigurationError

if TYPE_CHECKING:
    from kosma_tui.core.portal import PortalClient
    from kosma_tui.core.records import BankingSettings
    from kosma_tui.core.store import Store

DEMO_BANNER = "DEMO (built-in Demo Bank portal)"
DEMO_CUSTOMER_ID = "demo-customer"
DEMO_API_TOKEN = "demo-token"  # noqa: S105 - the Demo Bank portal accepts any token


def portal_refusal(settings: BankingSettings) -> ConfigurationError | None:
    """Why no portal call can be made with these Banking Settings (with the remedy), or
    None. Demo mode always may: its portal is the built-in one."""
    if settings.demo:
        return None
    if not settings.enabled:
        return ConfigurationError("Banking Settings are disabled.", messages.ENABLE_SETTINGS)
    if not (settings.customer_id and settings.api_token):
        return ConfigurationError(
            "Banking Settings lack a Customer ID or Portal API Token.",
            "Fill them in with 'kosma-tui settings' or in the Settings screen.",
        )
    return None


class PortalConnection:
    """``async with PortalConnection(store, attended=True, demo_url=...) as client: ...``

    ``demo_url`` gives the Demo Bank portal's URL in demo mode; it is called only
    when the settings are in demo mode, so a configured portal never starts one.
    """

    def __init__(
        self,
        store: Store,
        *,
        attended: bool,
        demo_url: Callable[[], str] | None = None,
        **client_options: Any,
    ) -> None:
        self.store = store
        self.attended = attended
        self.demo_url = demo_url
        self.client_options = client_options
        self.client: PortalClient | None = None

    def open_client(self) -> PortalClient:
        from kosma_tui.core.portal import PortalClient, attended_ip
        from kosma_tui.core.replay import ReplayJournal

        settings = self.store.settings()
        refused = portal_refusal(settings)
        if refused is not None:
            raise refused
        if settings.demo:
            if self.demo_url is None:
                raise ConfigurationError(
                    "Demo mode needs the built-in Demo Bank portal, which this run does not "
                    "provide.",
                    "Configure a banking portal with 'kosma-tui settings --admin-url URL'.",
                )
            url, customer, token = self.demo_url(), DEMO_CUSTOMER_ID, DEMO_API_TOKEN
        else:
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
