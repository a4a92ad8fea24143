"""A Frappe (ERPNext v15) REST test double: a real HTTP server on loopback.

It follows Frappe's documented behaviour, including the awkward parts a
client must survive:

- token auth: no ``Authorization`` header -> 403 ``PermissionError`` (the
  request runs as Guest); a wrong key or secret -> 401 ``AuthenticationError``;
- a bench serving several sites picks the site from ``X-Frappe-Site-Name``
  (else the Host header) and answers an HTML 404 for an unknown one;
- errors as Frappe sends them: ``exc_type``, ``exception`` and
  ``_server_messages`` (a JSON string of a list of JSON strings, each holding a
  dict with an HTML ``message``); 417 for validation, 409 for duplicates, 404
  for missing documents;
- ``GET /api/resource/<doctype>`` with ``fields`` and ``filters`` as JSON
  strings, ``limit_start`` and ``limit_page_length`` (default 20, 0 = all), and
  the same as ``frappe.client.get_list`` with the arguments in a JSON body;
- gunicorn's default request limits in front of it: a request line (method,
  URL, protocol) longer than 4,094 bytes gets a plain HTTP 400 "Bad Request";
- ``frappe.client.insert_many`` refuses more than 200 documents and runs in one
  transaction (one bad document rolls the whole request back);
- duplicate Bank Transaction ``transaction_id``s are accepted;
- a document inserted with ``docstatus`` 1 is submitted; ``frappe.client.cancel``.

Faults for retry tests: ``fail_next`` (an HTML 502/503 page from the "proxy"),
``drop_next`` (connection closed before processing), ``drop_after_commit_next``
(processed and committed, then the connection is closed without an answer),
``response_delay`` (committed, answer held back: a client killed meanwhile
never learns the names), ``cut_next`` (the connection is closed as soon as the
request arrived, and the request still runs and commits ``commit_delay``
seconds later, as Frappe finishes a request whose client has gone).
"""

from __future__ import annotations

import json
import operator
import random
import re
import socket
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

API_KEY = "kosma-api-key"
API_SECRET = "kosma-api-secret"
USER = "accounts@example.com"

# doctype -> its columns (what get_list may return and filter on)
DOCTYPES: dict[str, tuple[str, ...]] = {
    "Company": ("company_name", "abbr", "country", "default_currency"),
    "Fiscal Year": ("year", "year_start_date", "year_end_date", "disabled", "is_short_year"),
    "Country": ("country_name", "code"),
    "Account": (
        "account_name",
        "company",
        "account_type",
        "account_currency",
        "is_group",
        "root_type",
        "parent_account",
        "disabled",
    ),
    "Bank": ("bank_name", "swift_number"),
    "Bank Account": (
        "account_name",
        "bank",
        "account",
        "company",
        "is_company_account",
        "iban",
        "bank_account_no",
        "branch_code",
        "is_default",
        "disabled",
        "party_type",
        "party",
    ),
    "Bank Transaction": (
        "naming_series",
        "date",
        "status",
        "bank_account",
        "company",
        "deposit",
        "withdrawal",
        "currency",
        "description",
        "reference_number",
        "transaction_id",
        "transaction_type",
        "party_type",
        "party",
        "bank_party_name",
        "bank_party_iban",
        "bank_party_account_number",
        "allocated_amount",
        "unallocated_amount",
    ),
    "Customer": ("customer_name", "disabled"),
    "Supplier": ("supplier_name", "disabled"),
    "Employee": ("employee_name", "status"),
}
STANDARD = ("name", "owner", "creation", "modified", "docstatus", "idx")
MANDATORY = {
    "Bank": ("bank_name",),
    "Bank Account": ("account_name", "bank"),
    "Bank Transaction": ("date",),
}
LABELS = {"bank_name": "Bank Name", "account_name": "Account Name", "bank": "Bank", "date": "Date"}


class FrappeException(Exception):
    def __init__(self, status: int, exc_type: str, message: str = "") -> None:
        super().__init__(message)
        self.status, self.exc_type, self.message = status, exc_type, message


def validation(message: str, exc_type: str = "ValidationError") -> FrappeException:
    return FrappeException(417, exc_type, message)


@dataclass
class Fault:
    kind: str  # "status" | "drop" | "drop_after" | "cut"
    remaining: int
    status: int = 502
    match: str | None = None
    retry_after: str | None = None  # the Retry-After header of a "status" fault


def iban_is_valid(iban: str) -> bool:
    compact = iban.replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{8,30}", compact):
        return False
    digits = "".join(str(int(ch, 36)) for ch in compact[4:] + compact[:4])
    return int(digits) % 97 == 1


class FrappeDouble:
    """``with FrappeDouble() as erp: erp.url ...`` — state lives in memory."""

    def __init__(
        self,
        *,
        api_key: str = API_KEY,
        api_secret: str = API_SECRET,
        user: str = USER,
        site: str | None = None,
        insert_many_order: str = "list",
    ) -> None:
        self.api_key, self.api_secret, self.user, self.site = api_key, api_secret, user, site
        self.insert_many_order = insert_many_order  # "list" or "shuffled" (older Frappe: a set)
        self.lock = threading.RLock()
        self.docs: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        self.requests: list[tuple[str, str]] = []
        self.insert_many_sizes: list[int] = []
        self.faults: list[Fault] = []
        self.denied_doctypes: set[str] = set()
        self.request_delay = 0.0
        self.response_delay = 0.0  # after an insert is committed, before answering
        self.max_request_line = 4094  # gunicorn's limit_request_line default
        self.commit_delay = 0.0  # how long an insert runs before it commits
        self.redirect_to: str | None = None  # e.g. nginx sending http:// to https://
        self._serial = 0
        self._series: dict[str, int] = defaultdict(int)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> FrappeDouble:
        double = self

        class Handler(_Handler):
            erp = double

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FrappeDouble:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- inspection ----------------------------------------------------------------

    def count(self, method: str | None = None, path: str = "") -> int:
        with self.lock:
            return sum(
                1
                for m, p in self.requests
                if (method is None or m == method) and p.startswith(path)
            )

    def writes(self) -> int:
        """Requests that could change something (reads by POST, like get_list, excluded)."""
        reads = ("/api/method/frappe.client.get_list", "/api/method/frappe.auth.get_logged_user")
        with self.lock:
            return sum(1 for m, p in self.requests if m != "GET" and p not in reads)

    def bank_transactions(self, bank_account: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [
                dict(d)
                for d in self.docs["Bank Transaction"].values()
                if bank_account is None or d["bank_account"] == bank_account
            ]

    # -- faults --------------------------------------------------------------------

    def fail_next(
        self,
        times: int,
        status: int = 502,
        match: str | None = None,
        retry_after: str | None = None,
    ) -> None:
        with self.lock:
            self.faults.append(Fault("status", times, status, match, retry_after))

    def drop_next(self, times: int, match: str | None = None) -> None:
        with self.lock:
            self.faults.append(Fault("drop", times, match=match))

    def drop_after_commit_next(self, times: int, match: str | None = None) -> None:
        with self.lock:
            self.faults.append(Fault("drop_after", times, match=match))

    def cut_next(self, times: int, match: str | None = None) -> None:
        with self.lock:
            self.faults.append(Fault("cut", times, match=match))

    def take_fault(self, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.remaining > 0 and (fault.match is None or fault.match in path):
                    fault.remaining -= 1
                    return fault
        return None

    # -- seeding -------------------------------------------------------------------

    def seed(self, doctype: str, name: str, **fields: Any) -> dict[str, Any]:
        with self.lock:
            self._serial += 1
            doc = {
                "doctype": doctype,
                "name": name,
                "owner": "Administrator",
                "creation": f"2025-01-01 00:00:{self._serial:06d}",
                "modified": f"2025-01-01 00:00:{self._serial:06d}",
                "docstatus": 0,
                "idx": 0,
            }
            doc.update({column: None for column in DOCTYPES[doctype]})
            doc.update(fields)
            self.docs[doctype][name] = doc
            return doc

    def seed_company(
        self, name: str, abbr: str, country: str = "Germany", currency: str = "EUR"
    ) -> None:
        self.seed(
            "Company",
            name,
            company_name=name,
            abbr=abbr,
            country=country,
            default_currency=currency,
        )

    def seed_fiscal_year(
        self, name: str, start: str, end: str, companies: tuple[str, ...] = (), disabled: int = 0
    ) -> None:
        doc = self.seed(
            "Fiscal Year",
            name,
            year=name,
            year_start_date=start,
            year_end_date=end,
            disabled=disabled,
            is_short_year=0,
        )
        doc["companies"] = [
            {
                "doctype": "Fiscal Year Company",
                "name": f"{name}-{i}",
                "parent": name,
                "parentfield": "companies",
                "parenttype": "Fiscal Year",
                "idx": i + 1,
                "company": company,
            }
            for i, company in enumerate(companies)
        ]

    def seed_account(
        self,
        name: str,
        company: str,
        account_type: str = "Bank",
        currency: str = "EUR",
        is_group: int = 0,
    ) -> None:
        self.seed(
            "Account",
            name,
            account_name=name.split(" - ")[0],
            company=company,
            account_type=account_type,
            account_currency=currency,
            is_group=is_group,
            root_type="Asset",
            parent_account=None,
            disabled=0,
        )

    def seed_bank(self, name: str, swift_number: str = "") -> None:
        self.seed("Bank", name, bank_name=name, swift_number=swift_number)

    def seed_bank_account(
        self,
        account_name: str,
        bank: str,
        company: str,
        iban: str,
        account: str,
        is_company_account: int = 1,
    ) -> str:
        name = f"{account_name} - {bank}"
        self.seed(
            "Bank Account",
            name,
            account_name=account_name,
            bank=bank,
            account=account,
            company=company,
            is_company_account=is_company_account,
            iban=iban,
            is_default=0,
            disabled=0,
        )
        return name

    # -- the ERPNext side ----------------------------------------------------------

    def insert(self, doc: dict[str, Any]) -> dict[str, Any]:
        doctype = doc.get("doctype")
        if doctype not in DOCTYPES:
            raise FrappeException(404, "DoesNotExistError", f"DocType {doctype} not found")
        if doctype in self.denied_doctypes:
            raise FrappeException(403, "PermissionError", f"Insufficient Permission for {doctype}")
        fields = {k: v for k, v in doc.items() if k in DOCTYPES[doctype]}
        for column in MANDATORY.get(doctype, ()):
            if fields.get(column) in (None, ""):
                raise validation(
                    f"Error: Value missing for {doctype}: <b>{LABELS.get(column, column)}</b>",
                    "MandatoryError",
                )
        docstatus = int(doc.get("docstatus") or 0)
        validate = getattr(self, "_validate_" + doctype.lower().replace(" ", "_"), None)
        name = validate(fields, docstatus) if validate else str(doc.get("name") or "")
        if not name:
            raise validation(f"Name is required for {doctype}")
        if name in self.docs[doctype]:
            raise FrappeException(409, "DuplicateEntryError", f"{doctype} {name} already exists")
        created = self.seed(doctype, name, **fields)
        created["docstatus"] = docstatus
        return created

    def _link(self, doctype: str, name: Any) -> dict[str, Any]:
        if name not in self.docs[doctype]:
            raise validation(f"Could not find {doctype}: {name}", "LinkValidationError")
        return self.docs[doctype][name]

    def _validate_bank(self, fields: dict[str, Any], docstatus: int) -> str:
        return str(fields["bank_name"])

    def _validate_bank_account(self, fields: dict[str, Any], docstatus: int) -> str:
        self._link("Bank", fields["bank"])
        if fields.get("company"):
            self._link("Company", fields["company"])
        if fields.get("is_company_account"):
            if not fields.get("company"):
                raise validation("Company is mandatory for company account")
            if not fields.get("account"):
                raise validation("Company Account is mandatory")
        if fields.get("account"):
            self._link("Account", fields["account"])
            for other in self.docs["Bank Account"].values():
                if other["account"] == fields["account"]:
                    raise validation(
                        f"'{fields['account']}' account is already used by "
                        f"{other['name']}. Use another account."
                    )
        if fields.get("iban") and not iban_is_valid(str(fields["iban"])):
            raise validation("IBAN is not valid")
        return f"{fields['account_name']} - {fields['bank']}"

    def _validate_bank_transaction(self, fields: dict[str, Any], docstatus: int) -> str:
        bank_account = self._link("Bank Account", fields.get("bank_account"))
        fields["company"] = bank_account["company"]
        gl = self.docs["Account"].get(bank_account.get("account") or "")
        currency = fields.get("currency")
        if gl and currency and gl["account_currency"] != currency:
            raise validation(
                f"Transaction currency: {currency} cannot be different from Bank "
                f"Account({bank_account['name']}) currency: "
                f"{gl['account_currency']}"
            )
        if fields.get("party"):
            if fields.get("party_type") not in ("Customer", "Supplier", "Employee"):
                raise validation(f"Party Type {fields.get('party_type')} is not valid")
            self._link(fields["party_type"], fields["party"])
        for column in ("deposit", "withdrawal"):
            fields[column] = float(fields.get(column) or 0)
        if docstatus == 1:
            fields["status"] = "Unreconciled"
            fields["allocated_amount"] = 0.0
            fields["unallocated_amount"] = abs(fields["deposit"] - fields["withdrawal"])
        else:
            fields["status"] = "Pending"
        prefix = f"ACC-BTN-{date.today().year}-"
        self._series[prefix] += 1
        fields["naming_series"] = "ACC-BTN-.YYYY.-"
        return f"{prefix}{self._series[prefix]:05d}"

    def insert_many(self, docs: list[dict[str, Any]]) -> list[str]:
        self.insert_many_sizes.append(len(docs))
        if len(docs) > 200:
            raise validation("Only 200 inserts allowed in one request")
        if self.commit_delay:
            time.sleep(self.commit_delay)  # nothing is visible before the commit
        with self.lock:
            snapshot = {doctype: dict(rows) for doctype, rows in self.docs.items()}
            serial, series = self._serial, dict(self._series)
            try:
                names = [self.insert(doc)["name"] for doc in docs]
            except FrappeException:
                # Frappe runs the request in one database transaction: roll back all.
                self.docs = defaultdict(dict, snapshot)
                self._serial, self._series = serial, defaultdict(int, series)
                raise
        if self.insert_many_order == "shuffled":
            random.Random(len(names)).shuffle(names)
        return names

    def cancel(self, doctype: str, name: str) -> dict[str, Any]:
        with self.lock:
            doc = self.docs.get(doctype, {}).get(name)
            if doc is None:
                raise FrappeException(404, "DoesNotExistError", f"{doctype} {name} not found")
            if doctype in self.denied_doctypes:
                raise FrappeException(
                    403, "PermissionError", f"Insufficient Permission for {doctype}"
                )
            if doc["docstatus"] != 1:
                raise validation(
                    f"Cannot change docstatus from {doc['docstatus']} to 2",
                    "DocstatusTransitionError",
                )
            doc["docstatus"] = 2
            if doctype == "Bank Transaction":
                doc["status"] = "Cancelled"
            return dict(doc)

    def delete(self, doctype: str, name: str) -> None:
        with self.lock:
            doc = self.docs.get(doctype, {}).get(name)
            if doc is None:
                raise FrappeException(404, "DoesNotExistError", f"{doctype} {name} not found")
            if doctype in self.denied_doctypes:
                raise FrappeException(403, "PermissionError", f"No permission for {doctype}")
            if doc["docstatus"] == 1:
                raise validation("Submitted Record cannot be deleted. You must Cancel it first.")
            del self.docs[doctype][name]

    def get_list(self, doctype: str, query: dict[str, str]) -> list[dict[str, Any]]:
        if doctype not in DOCTYPES:
            raise FrappeException(404, "DoesNotExistError", f"DocType {doctype} not found")
        if doctype in self.denied_doctypes:
            raise FrappeException(403, "PermissionError", f"No permission for {doctype}")
        columns = set(DOCTYPES[doctype]) | set(STANDARD)
        fields = json.loads(query["fields"]) if "fields" in query else ["name"]
        if fields == ["*"]:
            fields = [*STANDARD, *DOCTYPES[doctype]]
        for field in fields:
            if field not in columns:
                raise validation(f"Field not permitted in query: {field}", "DataError")
        conditions = normalise_filters(json.loads(query.get("filters") or "[]"))
        for field, _op, _value in conditions:
            if field not in columns:
                raise validation(f"Field not permitted in query: {field}", "DataError")
        order_field, _, direction = (query.get("order_by") or "creation desc").partition(" ")
        order_field = order_field.strip("`").split(".")[-1].strip("`")
        if order_field not in columns:
            raise validation(f"Field not permitted in query: {order_field}", "DataError")
        start = int(query.get("limit_start") or 0)
        length = int(query.get("limit_page_length") or query.get("limit") or 20)
        if "limit_page_length" in query and int(query["limit_page_length"]) == 0:
            length = 0
        tests = [(field, compile_condition(op, value)) for field, op, value in conditions]
        with self.lock:
            rows = [
                d
                for d in self.docs[doctype].values()
                if all(test(d.get(field)) for field, test in tests)
            ]
        rows.sort(
            key=lambda d: (d.get(order_field) is None, d.get(order_field) or ""),
            reverse=direction.strip().lower() == "desc",
        )
        rows = rows[start : start + length] if length else rows[start:]
        return [{field: d.get(field) for field in fields} for d in rows]


COMPARISONS = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def normalise_filters(raw: Any) -> list[tuple[str, str, Any]]:
    out: list[tuple[str, str, Any]] = []
    if isinstance(raw, dict):
        for field, value in raw.items():
            if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str):
                out.append((field, value[0].lower(), value[1]))
            else:
                out.append((field, "=", value))
        return out
    for item in raw:
        if len(item) == 4:
            out.append((item[1], item[2].lower(), item[3]))
        elif len(item) == 3:
            out.append((item[0], item[1].lower(), item[2]))
        elif len(item) == 2:
            out.append((item[0], "=", item[1]))
        else:
            raise validation(f"Invalid filter: {item}")
    return out


def _coerce(stored: Any, value: Any) -> tuple[Any, Any]:
    if isinstance(stored, int | float) and not isinstance(value, int | float):
        try:
            return stored, float(value)
        except (TypeError, ValueError):
            return str(stored), str(value)
    if stored is None:
        stored = 0 if isinstance(value, int | float) else ""
    return stored, value


def compile_condition(op: str, value: Any) -> Any:
    """A test for one filter; ``in`` uses a set (lookups of 100 ids in 10,000 rows)."""
    if op in ("=", "!=") and isinstance(value, str):

        def equal(stored: Any) -> bool:
            same = (stored if isinstance(stored, str) else _coerce(stored, value)[0]) == value
            return same if op == "=" else not same

        return equal
    if op not in ("in", "not in"):
        return lambda stored: matches(stored, op, value)
    values = value.split(",") if isinstance(value, str) else list(value or [])
    texts = {str(v) for v in values}
    numbers = set()
    for v in values:
        try:
            numbers.add(float(v))
        except (TypeError, ValueError):
            pass

    def test(stored: Any) -> bool:
        if isinstance(stored, int | float) and not isinstance(stored, bool):
            found = float(stored) in numbers
        else:
            found = ("" if stored is None else str(stored)) in texts
        return found if op == "in" else not found

    return test


def matches(stored: Any, op: str, value: Any) -> bool:
    if op == "is":
        present = stored not in (None, "")
        return present if value == "set" else not present
    if op in ("like", "not like"):
        pattern = "^" + re.escape(str(value)).replace("%", ".*").replace("_", ".") + "$"
        found = re.match(pattern, str(stored or ""), re.IGNORECASE) is not None
        return found if op == "like" else not found
    if op == "between":
        low, high = value
        return str(low) <= str(stored or "") <= str(high)
    stored, value = _coerce(stored, value)
    compare = COMPARISONS.get(op)
    if compare is None:
        raise validation(f"Invalid operator: {op}")
    try:
        return compare(stored, value)
    except TypeError:
        return False


def frappe_error_body(exc: FrappeException) -> dict[str, Any]:
    body: dict[str, Any] = {
        "exc_type": exc.exc_type,
        "exception": f"frappe.exceptions.{exc.exc_type}: {exc.message}".rstrip(": "),
        "exc": json.dumps(["Traceback (most recent call last): ... (developer mode)"]),
    }
    if exc.message and exc.exc_type != "AuthenticationError":
        message = {
            "message": exc.message,
            "title": "Message",
            "indicator": "red",
            "raise_exception": 1,
        }
        body["_server_messages"] = json.dumps([json.dumps(message)])
    return body


class _Handler(BaseHTTPRequestHandler):
    erp: FrappeDouble
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        erp = self.erp
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        with erp.lock:
            erp.requests.append((method, unquote(parts.path)))
        if erp.request_delay:
            time.sleep(erp.request_delay)
        if len(self.requestline.encode()) > erp.max_request_line:
            self.close_connection = True
            self._send(400, b"Bad Request\r\nRequest Line is too large", "text/html")
            return
        if erp.redirect_to:
            self.send_response(301)
            self.send_header("Location", erp.redirect_to + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        fault = erp.take_fault(parts.path)
        if fault is not None and fault.kind == "drop":
            self.close_connection = True
            return
        if fault is not None and fault.kind == "cut":
            # The client (or a proxy) is gone; the request runs on regardless.
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        if fault is not None and fault.kind == "status":
            page = f"<html><body><h1>{fault.status} Bad Gateway</h1>nginx</body></html>"
            extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            self._send(fault.status, page.encode(), "text/html", extra)
            return
        site = self.headers.get("X-Frappe-Site-Name") or (self.headers.get("Host") or "")
        site = site.split(":")[0]
        if erp.site is not None and site != erp.site:
            page = f"<html><body><h1>Not Found</h1><p>{site} does not exist</p></body></html>"
            self._send(404, page.encode(), "text/html")
            return
        try:
            self._check_auth()
            body = self._route(method, unquote(parts.path), parts.query, raw)
            status = 200
        except FrappeException as exc:
            status, body = exc.status, frappe_error_body(exc)
        if fault is not None and fault.kind in ("drop_after", "cut"):
            self.close_connection = True
            return
        if erp.response_delay and method == "POST" and status == 200:
            time.sleep(erp.response_delay)
        self._send(status, json.dumps(body).encode(), "application/json")

    def _check_auth(self) -> None:
        header = self.headers.get("Authorization") or ""
        if not header:
            raise FrappeException(403, "PermissionError", "Not permitted")
        scheme, _, credentials = header.partition(" ")
        key, _, secret = credentials.partition(":")
        if scheme.lower() != "token" or key != self.erp.api_key or secret != self.erp.api_secret:
            raise FrappeException(401, "AuthenticationError")

    def _route(self, method: str, path: str, query: str, raw: bytes) -> dict[str, Any]:
        erp = self.erp
        params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        data = self._body(raw)
        if path == "/api/method/frappe.auth.get_logged_user":
            return {"message": erp.user}
        if path.startswith("/api/method/"):
            method_name = path.removeprefix("/api/method/")
            if method_name not in (
                "frappe.client.insert_many",
                "frappe.client.cancel",
                "frappe.client.get_list",
            ):
                raise FrappeException(
                    403, "PermissionError", f"Function {method_name} is not whitelisted."
                )
            if method_name == "frappe.client.get_list":
                query = {
                    k: v if isinstance(v, str) else json.dumps(v)
                    for k, v in {**params, **data}.items()
                }
                return {"message": erp.get_list(str(query.pop("doctype", "")), query)}
            if method not in ("POST", "PUT"):
                raise FrappeException(403, "PermissionError", "Not permitted")
            if method_name == "frappe.client.cancel":
                return {"message": erp.cancel(str(data.get("doctype")), str(data.get("name")))}
            docs = data.get("docs")
            if isinstance(docs, str):
                docs = json.loads(docs)
            return {"message": erp.insert_many(list(docs or []))}
        if not path.startswith("/api/resource/"):
            raise FrappeException(404, "DoesNotExistError", "Page not found")
        doctype, _, name = path.removeprefix("/api/resource/").partition("/")
        if method == "GET" and not name:
            return {"data": erp.get_list(doctype, params)}
        if method == "GET":
            with erp.lock:
                doc = erp.docs.get(doctype, {}).get(name)
            if doctype not in DOCTYPES or doc is None:
                raise FrappeException(404, "DoesNotExistError", f"{doctype} {name} not found")
            return {"data": dict(doc)}
        if method == "POST" and not name:
            with erp.lock:
                return {"data": dict(erp.insert({**data, "doctype": doctype}))}
        if method == "DELETE" and name:
            erp.delete(doctype, name)
            return {"message": "ok"}
        raise FrappeException(405, "ValidationError", "Method not allowed")

    @staticmethod
    def _body(raw: bytes) -> dict[str, Any]:
        if not raw:
            return {}
        try:
            data = json.loads(raw)
        except ValueError:
            data = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
        if isinstance(data, dict) and isinstance(data.get("data"), str):
            data = json.loads(data["data"])  # frappe also accepts data=<json> forms
        return data if isinstance(data, dict) else {}

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
