"""What a widget may ask of the app it runs in, for the type checker: the Banking Settings
panels and the push dialog need only the store (tests host them in a small app)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, cast

if TYPE_CHECKING:
    from kosma_tui.core.store import Store


class StoreHost(Protocol):
    store: Store


def store_of(app: Any) -> Store:
    """The store of the app hosting a widget (``KosmaApp`` or a test's host app)."""
    return cast(StoreHost, app).store
