"""The ERPNext Connection: verified before it is saved, and what status shows."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kosma_tui.core import validation
from kosma_tui.core.erpnext.client import SERVER_TIMEOUT, ErpnextClient
from kosma_tui.core.erpnext.report import last_push
from kosma_tui.core.erpnext.work import collect
from kosma_tui.core.errors import KosmaError, Problem, UsageError
from kosma_tui.core.records import ErpnextConnection


def _key(value: str) -> str:
    key = value.strip()
    if not key or not key.isprintable() or any(ch.isspace() or ch == ":" for ch in key):
        raise UsageError(
            "The API key must be the key ERPNext generated: one word without spaces or colons."
        )
    return key


def _site(value: str | None) -> str:
    site = (value or "").strip()
    if site and (not site.isprintable() or any(ch.isspace() for ch in site)):
        raise UsageError(
            f"'{value}' is not a site name; use the folder name from the bench's "
            "sites directory, e.g. erp.example.com."
        )
    return site


def connect(
    store: Any,
    url: str,
    api_key: str,
    api_secret: str,
    site: str | None = None,
    server_timeout: int | None = None,
    **client_options: Any,
) -> tuple[ErpnextConnection, str]:
    """Check the key against ERPNext (``frappe.auth.get_logged_user``), then save.

    Nothing is saved when the check fails. Returns the connection and the user.
    """
    url = validation.admin_url(url, "The ERPNext URL")
    key = _key(api_key)
    secret = api_secret.strip()
    if not secret or not secret.isprintable():
        raise UsageError("The API secret read from standard input is empty; nothing was saved.")
    if server_timeout is None:
        server_timeout = store.erpnext().server_timeout or SERVER_TIMEOUT
    if not 1 <= server_timeout <= 3600:
        raise UsageError(
            "--server-timeout is gunicorn's --timeout in seconds (1 to 3600); nothing was saved."
        )
    options = {"retries": 1, **client_options}
    with ErpnextClient(url, key, secret, site=_site(site), **options) as client:
        user = client.logged_user()
    connection = ErpnextConnection(
        url=url, api_key=key, api_secret=secret, site=_site(site), server_timeout=server_timeout
    )
    store.save_erpnext(connection)
    return connection, user


def masked_key(key: str) -> str:
    return ("•" * 8 + key[-4:]) if len(key) > 8 else ("•" * 8 if key else "")


@dataclass
class AccountStatus:
    name: str
    company: str
    iban: str
    erpnext_bank_account: str
    waiting: int  # Settled, not yet in ERPNext
    to_cancel: int  # in ERPNext, Cancelled here since
    pending: int  # waiting until they settle

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "company": self.company,
            "iban": self.iban,
            "erpnext_bank_account": self.erpnext_bank_account or None,
            "waiting": self.waiting,
            "to_cancel": self.to_cancel,
            "pending": self.pending,
        }


@dataclass
class Status:
    connected: bool
    url: str = ""
    site: str = ""
    api_key: str = ""  # masked
    user: str | None = None  # from ERPNext, when checked and reachable
    problem: Problem | None = None
    auto_push: bool = False
    accounts: list[AccountStatus] = field(default_factory=list)
    last_push: dict[str, Any] | None = None

    @property
    def waiting(self) -> int:
        return sum(a.waiting + a.to_cancel for a in self.accounts)

    def as_json(self) -> dict[str, Any]:
        return {
            "connection": {
                "connected": self.connected,
                "url": self.url or None,
                "site": self.site or None,
                "api_key": self.api_key or None,
                "user": self.user,
                "error": self.problem.as_json() if self.problem else None,
            },
            "auto_push": self.auto_push,
            "waiting": self.waiting,
            "accounts": [a.as_json() for a in self.accounts],
            "last_push": self.last_push,
        }


def status(
    store: Any,
    *,
    check: bool = True,
    client: Callable[..., ErpnextClient] | None = None,
    **client_options: Any,
) -> Status:
    """Connection (checked live unless ``check`` is False), mapping and waiting counts.

    ``client`` makes the ERPNext client for the check (the caller's runtime's factory,
    ``Runtime.erpnext``); without it one is made for the store's connection."""
    connection = store.erpnext()
    result = Status(
        connected=bool(connection.url),
        url=connection.url,
        site=connection.site,
        api_key=masked_key(connection.api_key),
        auto_push=store.settings().erpnext_auto_push,
        last_push=last_push(store),
    )
    if connection.url and check:
        try:
            make = client or functools.partial(ErpnextClient.for_store, store)
            with make(**{"retries": 0, "timeout": 10.0, **client_options}) as checker:
                result.user = checker.logged_user()
        except KosmaError as exc:
            result.problem = Problem.from_error(exc)
    for account in store.accounts():
        work = collect(store, account)
        result.accounts.append(
            AccountStatus(
                account.name,
                account.company,
                account.iban,
                account.erpnext_bank_account,
                len(work.create),
                len(work.cancel),
                work.pending,
            )
        )
    return result
