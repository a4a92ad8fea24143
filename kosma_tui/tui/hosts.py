"""What a widget may ask of the app it runs in, for the type checker: the Banking Settings
panels and the push dialog need the store and the runtime's ERPNext client factory (tests
host them in a small app)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, cast

if TYPE_CHECKING:
    from kosma_tui.core.erpnext import ErpnextClient
    from kosma_tui.core.store import Store
    from kosma_tui.runtime import Runtime

# makes a client for the stored ERPNext Connection (``Runtime.erpnext``), options passed on
ErpnextFactory = Callable[..., "ErpnextClient"]


class StoreHost(Protocol):
    store: Store


def store_of(app: Any) -> Store:
    """The store of the app hosting a widget (``KosmaApp`` or a test's host app)."""
    return cast(StoreHost, app).store


class RuntimeHost(Protocol):
    runtime: Runtime


def erpnext_of(app: Any) -> ErpnextFactory:
    """The ERPNext client factory of the app hosting a widget: its runtime's, as for its
    portal connections, so the TUI builds its ERPNext clients in one place."""
    return cast(RuntimeHost, app).runtime.erpnext
