"""The ERPNext work the Banking Settings panel and the push dialog ask for. Everything
here talks to ERPNext (``kosma_tui.core.erpnext`` is synchronous httpx) and is called from
a thread worker; the answers are texts for the panel, or the error. The clients come from
the factory the caller passes (the app's runtime's ``erpnext``), never built here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from rich.text import Text

from kosma_tui.core.errors import KosmaError, Problem
from kosma_tui.tui.text import clean

if TYPE_CHECKING:
    from kosma_tui.core.store import Store
    from kosma_tui.tui.hosts import ErpnextFactory


class PushHost(Protocol):
    """What shows a push's progress: the panel or the push dialog."""

    @property
    def app(self) -> Any: ...

    def show_progress(self, account: str, done: int, total: int) -> None: ...


class PushRunner:
    """Runs a push in a thread worker of ``host`` and reports its progress there."""

    def __init__(
        self, host: PushHost, store: Store, names: list[str] | None, erpnext: ErpnextFactory
    ) -> None:
        self.host = host
        self.store = store
        self.names = names
        self.erpnext = erpnext

    def run(self) -> Any:
        """Call from a thread worker. Returns the PushReport, or the error."""
        from kosma_tui.core.erpnext import push

        store = self.store
        try:
            with self.erpnext() as client:
                return push(store, client, self.names, on_progress=self.progress)
        except KosmaError as exc:
            return exc
        except Exception as exc:  # a worker must not take the app down
            return Problem("ERPNEXT", f"The push failed unexpectedly ({exc!r}).")

    def progress(self, p: Any) -> None:
        self.host.app.call_from_thread(self.host.show_progress, p.account, p.done, p.total)


def import_companies(store: Store, erpnext: ErpnextFactory) -> Text:
    """Companies from ERPNext into the store: one line each, then the counts."""
    from kosma_tui.core.erpnext import import_companies as run_import

    with erpnext() as client:
        results = run_import(store, client)
    text = Text()
    for r in results:
        text.append(
            f"{r.action} {clean(r.name)} ({r.country or '?'}, fiscal year from "
            f"{r.fiscal_year_start}, {r.default_currency})\n",
            style="red" if r.action == "skipped" else "",
        )
    counts = {
        a: sum(1 for r in results if r.action == a)
        for a in ("created", "updated", "unchanged", "skipped")
    }
    text.append(", ".join(f"{n} {a}" for a, n in counts.items()) + " companies.")
    return text


def map_by_iban(store: Store, erpnext: ErpnextFactory) -> Text:
    """Each account to its ERPNext Bank Account found by IBAN; what could not be mapped."""
    from kosma_tui.core.erpnext import BankAccounts

    with erpnext() as client:
        known = BankAccounts(client)
        mapped = unmapped = 0
        lines = Text()
        for account in store.accounts():
            mapping = known.resolve(account)
            if mapping.bank_account:
                mapped += 1
                if mapping.how == "iban":
                    store.update_account(account.name, erpnext_bank_account=mapping.bank_account)
            else:
                unmapped += 1
                lines.append(f"{clean(account.name)}: {clean(mapping.reason)}\n", style="red")
    lines.append(
        f"{mapped} mapped, {unmapped} not mapped (map those with 'kosma-tui "
        "erpnext map ACCOUNT --bank-account NAME' or '--create')."
    )
    return lines
