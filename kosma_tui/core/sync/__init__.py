"""Sync of Bank Accounts from the banking portal (DESIGN 2 and 7).

- ``rules``: refusals (expired / nearly expired consent, disabled settings,
  no consent, Last Integration Date before the consent start), the start
  date and the Last Integration Date remedy; cheap, no portal, no secrets.
- ``rows``: protocol Transaction -> Bank Transaction row.
- ``result``: what a sync reports (progress, result, page helpers).
- ``engine``: ``SyncEngine`` for one account or the daily job (imported on
  first use, so ``kosma-tui status`` does not pay for asyncio and friends).
- ``health``: consents, accounts and the verdict of ``kosma-tui status``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kosma_tui.core.sync.rows import STATUS_BY_STATE, to_row
from kosma_tui.core.sync.rules import (
    ConsentExpired,
    ConsentExpiring,
    ConsentStartConflict,
    ConsentState,
    NoConsent,
    SettingsDisabled,
    consent_of,
    consent_refusal,
    consent_state,
    refusal,
    set_last_integration_date,
    settings_refusal,
    start_date,
    unknown_account,
)

if TYPE_CHECKING:
    from kosma_tui.core.sync.engine import (
        FLUSH_ROWS,
        PAGE_SIZE,
        SyncCancelled,
        SyncEngine,
        SyncProgress,
        SyncResult,
    )

_ENGINE = frozenset(
    {"FLUSH_ROWS", "PAGE_SIZE", "SyncCancelled", "SyncEngine", "SyncProgress", "SyncResult"}
)


def __getattr__(name: str) -> Any:
    if name in _ENGINE:
        from kosma_tui.core.sync import engine

        return getattr(engine, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FLUSH_ROWS",
    "PAGE_SIZE",
    "STATUS_BY_STATE",
    "ConsentExpired",
    "ConsentExpiring",
    "ConsentStartConflict",
    "ConsentState",
    "NoConsent",
    "SettingsDisabled",
    "SyncCancelled",
    "SyncEngine",
    "SyncProgress",
    "SyncResult",
    "consent_of",
    "consent_refusal",
    "consent_state",
    "refusal",
    "set_last_integration_date",
    "settings_refusal",
    "start_date",
    "to_row",
    "unknown_account",
]
