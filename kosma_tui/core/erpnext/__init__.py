"""The ERPNext bridge: companies in, Bank Transactions out (Frappe REST API, v15).

- ``connect`` / ``status``: the ERPNext Connection (token auth, verified at once).
- ``import_companies``: ERPNext Companies and their current fiscal year start.
- ``map_by_iban`` / ``map_to`` / ``create_and_map``: local Bank Account -> ERPNext
  Bank Account.
- ``push``: Settled transactions -> submitted Bank Transactions, exactly once;
  ``auto_push``: the same after a successful sync, never raising. ``work``
  collects what an account holds for ERPNext, ``documents`` turns a row into a
  Bank Transaction, ``journal`` settles a batch whose answer was lost.

Never imports Textual; the TUI and the commands are thin layers over this.
"""

from kosma_tui.core.erpnext.client import (
    ErpnextAuthError,
    ErpnextClient,
    ErpnextError,
    ErpnextRejected,
    ErpnextTransient,
)
from kosma_tui.core.erpnext.companies import CompanyImport, import_companies
from kosma_tui.core.erpnext.connection import Status, connect, status
from kosma_tui.core.erpnext.mapping import (
    BankAccounts,
    Mapping,
    create_and_map,
    map_by_iban,
    map_to,
)
from kosma_tui.core.erpnext.push import Pusher, auto_push, push
from kosma_tui.core.erpnext.report import (
    AccountPush,
    PushItem,
    PushProgress,
    PushReport,
    last_push,
)

__all__ = [
    "AccountPush",
    "BankAccounts",
    "CompanyImport",
    "ErpnextAuthError",
    "ErpnextClient",
    "ErpnextError",
    "ErpnextRejected",
    "ErpnextTransient",
    "Mapping",
    "PushItem",
    "PushProgress",
    "PushReport",
    "Pusher",
    "Status",
    "auto_push",
    "connect",
    "create_and_map",
    "import_companies",
    "last_push",
    "map_by_iban",
    "map_to",
    "push",
    "status",
]
