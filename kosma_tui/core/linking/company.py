"""The company a link is for: it must exist before anything else is asked."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kosma_tui.core import messages
from kosma_tui.core.records import Company

if TYPE_CHECKING:
    from kosma_tui.core.store import Store


def company_or_error(store: Store, name: str) -> Company:
    company = store.company(name)
    if company is None:
        raise messages.no_company(name)
    return company
