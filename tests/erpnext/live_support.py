"""A real ERPNext 15 for the live tests: the four ``KOSMA_TEST_ERPNEXT_*`` variables.

Every test creates its own uniquely named Bank, GL Account and Bank Account (and
user, when it needs one), so the site stays usable for the next run without a
reset. The company is the site's first Company with a group account of type
Bank to put the GL Accounts under.
"""

from __future__ import annotations

import os
import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from kosma_tui.core.erpnext import ErpnextClient

VARIABLES = (
    "KOSMA_TEST_ERPNEXT_URL",
    "KOSMA_TEST_ERPNEXT_SITE",
    "KOSMA_TEST_ERPNEXT_KEY",
    "KOSMA_TEST_ERPNEXT_SECRET",
)
SKIP_REASON = (
    "live ERPNext tests need a test site: set KOSMA_TEST_ERPNEXT_URL, _SITE, _KEY and _SECRET "
    '(an Administrator API key), e.g. eval "$(bash ../shared/erpnext-lab/lab.sh env)"'
)


@dataclass
class Site:
    url: str
    site: str
    key: str
    secret: str
    company: str = ""
    abbr: str = ""
    currency: str = ""
    bank_group: str = ""

    def client(self, key: str = "", secret: str = "", **options: Any) -> ErpnextClient:
        return ErpnextClient(
            self.url, key or self.key, secret or self.secret, site=self.site, **options
        )


def site_from_env() -> Site:
    values = [os.environ.get(name, "") for name in VARIABLES]
    if not all(values):
        pytest.skip(SKIP_REASON)
    site = Site(*values)
    with site.client() as client:
        company = client.get_list("Company", fields=("name", "abbr", "default_currency"))[0]
        site.company, site.abbr = company["name"], company["abbr"]
        site.currency = company["default_currency"]
        site.bank_group = client.get_list(
            "Account",
            filters=[
                ["company", "=", site.company],
                ["account_type", "=", "Bank"],
                ["is_group", "=", 1],
            ],
        )[0]["name"]
    return site


def unique(prefix: str) -> str:
    return f"{prefix} {secrets.token_hex(4)}"


def iban() -> str:
    """A valid German IBAN no other test uses."""
    bban = f"{secrets.randbelow(10**8):08d}{secrets.randbelow(10**10):010d}"
    check = 98 - int(bban + "131400") % 97  # "DE00" moved to the end, D=13 E=14
    return f"DE{check:02d}{bban}"


@dataclass
class Ledger:
    """One test's Bank, GL Account and (optionally) ERPNext Bank Account."""

    bank: str
    gl_account: str
    iban: str
    bank_account: str = ""

    def unmapped(self) -> Ledger:
        """The same ledger with no stored mapping (to be found by IBAN)."""
        return Ledger(self.bank, self.gl_account, self.iban)


def make_ledger(site: Site, *, bank_account: bool = True, account_name: str = "Giro") -> Ledger:
    with site.client() as client:
        bank = client.insert({"doctype": "Bank", "bank_name": unique("Kosma Test Bank")})["name"]
        gl = client.insert(
            {
                "doctype": "Account",
                "account_name": unique("Kosma Giro"),
                "parent_account": site.bank_group,
                "account_type": "Bank",
                "company": site.company,
                "account_currency": site.currency,
            }
        )["name"]
        ledger = Ledger(bank, gl, iban())
        if bank_account:
            ledger.bank_account = client.insert(
                {
                    "doctype": "Bank Account",
                    "account_name": account_name,
                    "bank": bank,
                    "account": gl,
                    "is_company_account": 1,
                    "company": site.company,
                    "iban": ledger.iban,
                }
            )["name"]
    return ledger


def accounts_manager(site: Site) -> tuple[str, str]:
    """A new user with only the Accounts Manager role: its API key and secret."""
    email = f"kosma-{secrets.token_hex(4)}@example.com"
    with site.client() as client:
        client.insert(
            {
                "doctype": "User",
                "email": email,
                "first_name": "Kosma",
                "send_welcome_email": 0,
                "user_type": "System User",
                "roles": [{"role": "Accounts Manager"}],
            }
        )
        answer = client._call(
            "POST",
            "/api/method/frappe.core.doctype.user.user.generate_keys",
            body={"user": email},
            idempotent=False,
        )
        secret = answer["message"]["api_secret"]
        key = (client.get_doc("User", email) or {})["api_key"]
    return key, secret


def local_account(store: Any, site: Site, ledger: Ledger, name: str = "Giro (Lab)") -> Any:
    """The local Company, Bank and Bank Account that feed the ledger's Bank Account."""
    from kosma_tui.core.records import Bank, BankAccount, Company, ErpnextConnection

    store.save_erpnext(
        ErpnextConnection(url=site.url, api_key=site.key, api_secret=site.secret, site=site.site)
    )
    if store.company(site.company) is None:
        store.save_company(Company(site.company, "DE", "01-01", site.currency))
    store.save_bank(Bank(ledger.bank, country_code="DE"))
    store.save_account(
        BankAccount(
            name=name,
            bank=ledger.bank,
            company=site.company,
            iban=ledger.iban,
            currency=site.currency,
            erpnext_bank_account=ledger.bank_account,
        )
    )
    return store.account(name)


def rows(account: str, count: int, currency: str = "EUR", prefix: str = "") -> list[dict]:
    """Settled rows dated in this year's first days (inside the site's fiscal years)."""
    from erpnext_support import row

    tag = prefix or secrets.token_hex(3)
    year = date.today().year
    return [
        row(
            account,
            n,
            tid=f"{tag}-{n:06d}",
            currency=currency,
            day=f"{year}-01-{1 + n % 28:02d}",
            party_type="",
            party="",
        )
        for n in range(count)
    ]


def bank_transactions(site: Site, bank_account: str) -> list[dict]:
    with site.client() as client:
        return client.get_list(
            "Bank Transaction",
            fields=("name", "transaction_id", "docstatus", "status", "reference_number", "party"),
            filters=[["bank_account", "=", bank_account]],
            page_length=5000,
        )


class CuttingProxy:
    """A loopback TCP proxy that, once, forwards a request containing ``cut_on`` to
    ERPNext and then closes the client's side at once: the answer is lost while
    ERPNext runs the request to its commit (a proxy's 504, a dropped SSH tunnel)."""

    def __init__(self, target: str, cut_on: bytes = b"frappe.client.insert_many") -> None:
        import socket
        import threading
        from urllib.parse import urlsplit

        parts = urlsplit(target)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.cut_on = cut_on
        self.cuts = 0
        self._server = socket.create_server(("127.0.0.1", 0))
        self._threads: list[threading.Thread] = []
        self._open = True
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.getsockname()[1]}"

    def close(self) -> None:
        self._open = False
        self._server.close()

    def _accept(self) -> None:
        import socket
        import threading

        while self._open:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, source: Any, sink: Any, from_client: bool) -> None:
        import socket

        seen = b""
        try:
            while data := source.recv(65536):
                sink.sendall(data)
                if from_client and self.cuts == 0:
                    seen = (seen + data)[-4_000_000:]
                    if self.cut_on in seen and _request_complete(seen):
                        self.cuts += 1
                        source.shutdown(socket.SHUT_RDWR)  # the client hears nothing more
                        source.close()
                        return
        except OSError:
            pass
        finally:
            if not from_client:
                for end in (source, sink):
                    try:
                        end.close()
                    except OSError:
                        pass


def _request_complete(data: bytes) -> bool:
    """Headers and the whole Content-Length body of the request that ``data`` ends with."""
    head, sep, body = data.rpartition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":", 1)[1])
    return True


def reconcile_with_payment(
    site: Site, ledger: Ledger, bank_transaction: str, day: str, amount: float
) -> str:
    """A submitted Payment Entry from a new Customer, reconciled with the Bank Transaction
    through ERPNext's Bank Reconciliation Tool; returns the Payment Entry's name."""
    import json

    with site.client() as client:
        customer = client.insert(
            {
                "doctype": "Customer",
                "customer_name": unique("Kunde"),
                "customer_group": "All Customer Groups",
                "territory": "All Territories",
            }
        )["name"]
        debtors = client.get_list(
            "Account",
            filters=[
                ["company", "=", site.company],
                ["account_type", "=", "Receivable"],
                ["is_group", "=", 0],
            ],
        )[0]["name"]
        payment = client.insert(
            {
                "doctype": "Payment Entry",
                "payment_type": "Receive",
                "company": site.company,
                "posting_date": day,
                "party_type": "Customer",
                "party": customer,
                "paid_from": debtors,
                "paid_to": ledger.gl_account,
                "paid_amount": amount,
                "received_amount": amount,
                "source_exchange_rate": 1,
                "target_exchange_rate": 1,
                "reference_no": unique("REF"),
                "reference_date": day,
                "docstatus": 1,
            }
        )["name"]
        client._call(
            "POST",
            "/api/method/erpnext.accounts.doctype.bank_reconciliation_tool."
            "bank_reconciliation_tool.reconcile_vouchers",
            body={
                "bank_transaction_name": bank_transaction,
                "vouchers": json.dumps(
                    [
                        {
                            "payment_doctype": "Payment Entry",
                            "payment_name": payment,
                            "amount": amount,
                        }
                    ]
                ),
            },
            idempotent=False,
        )
    return payment


def assert_exactly_once(store: Any, site: Site, account: Any, expected: int) -> None:
    docs = bank_transactions(
        site, account.erpnext_bank_account or store.account(account.name).erpnext_bank_account
    )
    counts = Counter(d["transaction_id"] for d in docs)
    assert [t for t, n in counts.items() if n > 1] == []
    assert len(docs) == expected
    names = {d["transaction_id"]: d["name"] for d in docs}
    stored = list(store.book(store.account(account.name)).rows())
    assert sum(1 for r in stored if r["status"] == "Settled") == expected
    assert all(r["erpnext_name"] == names[r["transaction_id"]] for r in stored)


def push_many(site: Site, store: Any, count: int) -> Any:
    """``count`` transactions in one push to a fresh Bank Account; each is checked to be
    in ERPNext exactly once. The push report (its ``seconds`` and ``requests``)."""
    from kosma_tui.core.erpnext import push

    ledger = make_ledger(site)
    account = local_account(store, site, ledger)
    store.book(account).append(rows(account.name, count))
    with ErpnextClient.for_store(store) as client:
        report = push(store, client)
    assert report.ok and report.total("created") == count, report.as_json()["accounts"][0]
    print(
        f"\nlive push: {count:,} in {report.seconds:.1f} s = {count / report.seconds:.0f}/s, "
        f"{report.requests} requests"
    )
    assert_exactly_once(store, site, account, count)
    return report
