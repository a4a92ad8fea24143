"""Sync of Bank Accounts from the banking portal (DESIGN 2 and 7).

- ``rules``: refusals (expired / nearly expired consent, disabled settings,
  no consent, Last Integration Date before the consent start), the start
  date and the Last Integration Date remedy; cheap, no portal, no secrets.
- ``rows``: protocol Transaction -> Bank Transaction row.
- ``engine``: ``SyncEngine`` for one account or the daily job.
"""

from kosma_tui.core.sync.engine import (
    FLUSH_ROWS,
    PAGE_SIZE,
    SyncCancelled,
    SyncEngine,
    SyncProgress,
    SyncResult,
)
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
