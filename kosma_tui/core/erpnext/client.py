"""A small synchronous client for Frappe's REST API, as ERPNext v15 serves it.

Frappe's awkward parts handled here, once:

- token auth (``Authorization: token KEY:SECRET``); ``X-Frappe-Site-Name`` for
  benches where the host name is not the site name;
- lists are read with ``frappe.client.get_list`` as a POST: filters travel in
  the body, because a GET's URL with a few hundred ids outgrows gunicorn's
  4,094-byte request line (HTTP 400); rows come 20 at a time unless told, paged
  with ``limit_start``;
- errors carry ``exc_type`` and ``_server_messages`` (a JSON string holding a
  list of JSON strings, each a dict with ``message``, often with HTML in it);
- a POST that dies without an answer (dropped connection, timeout, 5xx from a
  proxy) may still have been committed: it is never retried blindly, the
  caller looks up what exists first (``ErpnextTransient``);
- the client waits at least as long as the server lets a request run
  (gunicorn's ``--timeout``, 120 s on a bench): a shorter wait abandons
  requests the server then finishes.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import httpx
import orjson

from kosma_tui import __version__
from kosma_tui.core.errors import ConfigurationError, KosmaError
from kosma_tui.core.retry import REAL_CLOCK, Clock, RetryPolicy

SERVER_TIMEOUT = 120  # gunicorn's --timeout on a bench's production setup
TIMEOUT_MARGIN = 5.0  # the answer still has to travel after the server's deadline
DEFAULT_TIMEOUT = SERVER_TIMEOUT + TIMEOUT_MARGIN
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF = 0.5
MAX_BACKOFF = 30.0
MAX_RETRY_AFTER = 60.0  # a Retry-After beyond this is waited this long
PAGE_LENGTH = 500

_TAG = re.compile(r"<[^>]+>")

# The role ERPNext 15 asks for each doctype the bridge touches (its default role
# permissions); anything else the Accounts Manager role covers.
ROLE_FOR = {"Bank": "System Manager", "User": "System Manager", "Employee": "HR User"}


class ErpnextError(KosmaError):
    """ERPNext refused or could not be reached; bad input or configuration (exit 2)."""

    code = "ERPNEXT"
    exit_status = 2

    def __init__(
        self,
        message: str,
        remedy: str = "",
        *,
        code: str | None = None,
        http_status: int | None = None,
        exc_type: str = "",
        erpnext_message: str = "",
    ) -> None:
        super().__init__(message, remedy, code=code)
        self.http_status = http_status
        self.exc_type = exc_type
        self.erpnext_message = erpnext_message


class ErpnextTransient(ErpnextError):
    """No usable answer (network, timeout, 5xx): worth trying again later."""

    code = "ERPNEXT.UNREACHABLE"
    retry_after: float | None = None


class ErpnextAuthError(ErpnextError):
    """The API key and secret were refused, or the user lacks a permission."""

    code = "ERPNEXT.AUTH"


class ErpnextRejected(ErpnextError):
    """ERPNext refused one request's content (validation, missing link, duplicate)."""

    code = "ERPNEXT.REJECTED"


def server_messages(payload: Any) -> list[str]:
    """The sentences inside ``_server_messages``, without their HTML."""
    if not isinstance(payload, dict):
        return []
    raw = payload.get("_server_messages")
    try:
        items = orjson.loads(raw) if isinstance(raw, str) else raw
    except orjson.JSONDecodeError:
        items = [raw]
    out: list[str] = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, str):
            try:
                item = orjson.loads(item)
            except orjson.JSONDecodeError:
                pass
        text = item.get("message") if isinstance(item, dict) else item
        if isinstance(text, str) and (clean := plain(text)):
            out.append(clean)
    return out


def plain(text: str) -> str:
    """Frappe messages are HTML fragments; a terminal wants the words."""
    # A tag between two sentences ("...Bank<br>User...") must not glue them together.
    return " ".join(html.unescape(_TAG.sub(" ", text)).split())


def error_message(payload: Any, fallback: str) -> str:
    """ERPNext's own words for a failed request."""
    messages = server_messages(payload)
    if messages:
        return "; ".join(dict.fromkeys(messages))
    if isinstance(payload, dict):
        exception = payload.get("exception")
        if isinstance(exception, str) and exception.strip():
            # "frappe.exceptions.ValidationError: Transaction currency ..." -> the sentence
            head, _, tail = exception.partition(": ")
            return plain(tail or head)
        message = payload.get("message")
        if isinstance(message, str) and message.strip():
            return plain(message)
    return fallback


class ErpnextClient:
    """One ERPNext site. ``with ErpnextClient(...) as client: client.logged_user()``."""

    def __init__(
        self,
        url: str,
        api_key: str,
        api_secret: str,
        *,
        site: str = "",
        timeout: float = DEFAULT_TIMEOUT,
        retries: int | None = None,
        backoff: float | None = None,
        transport: httpx.BaseTransport | None = None,
        server_timeout: float = SERVER_TIMEOUT,
        clock: Clock | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.site = site
        self.server_timeout = server_timeout
        # the same policy for this client's requests and the push's batches (core.retry)
        self.retry = RetryPolicy(
            retries=DEFAULT_RETRIES if retries is None else retries,
            backoff=DEFAULT_BACKOFF if backoff is None else backoff,
            max_backoff=MAX_BACKOFF,
            max_retry_after=MAX_RETRY_AFTER,
            clock=clock or REAL_CLOCK,
        )
        self.requests = 0
        headers = {
            "Authorization": f"token {api_key}:{api_secret}",
            "Accept": "application/json",
            "User-Agent": f"kosma-tui/{__version__}",
        }
        if site:
            headers["X-Frappe-Site-Name"] = site
        # A write is never given up while the server may still be running it; a
        # read (``timeout``) may be shorter, e.g. the quick check of ``status``.
        self.write_timeout = max(timeout, server_timeout + TIMEOUT_MARGIN)
        self._http = httpx.Client(
            base_url=self.url,
            headers=headers,
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
        )

    @classmethod
    def for_store(cls, store: Any, **options: Any) -> ErpnextClient:
        """The client for the stored ERPNext Connection, or ConfigurationError."""
        connection = store.erpnext()
        if not connection.url or not connection.api_key or not connection.api_secret:
            raise ConfigurationError(
                "ERPNext is not connected.",
                "Run 'kosma-tui erpnext connect --url URL --api-key KEY --api-secret-stdin' first.",
            )
        options.setdefault("server_timeout", connection.server_timeout or SERVER_TIMEOUT)
        return cls(
            connection.url,
            connection.api_key,
            connection.api_secret,
            site=connection.site,
            **options,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ErpnextClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the calls ---------------------------------------------------------------

    def logged_user(self) -> str:
        """``frappe.auth.get_logged_user``: who the key belongs to (checks the key)."""
        user = self._call("GET", "/api/method/frappe.auth.get_logged_user").get("message")
        if not isinstance(user, str) or not user or user == "Guest":
            raise self._auth_error(401, "AuthenticationError", "")
        return user

    def get_list(
        self,
        doctype: str,
        *,
        fields: Iterable[str] = ("name",),
        filters: list[list[Any]] | dict[str, Any] | None = None,
        order_by: str = "name asc",
        page_length: int = PAGE_LENGTH,
    ) -> list[dict]:
        """Every matching row, page by page (Frappe returns 20 unless told)."""
        rows: list[dict] = []
        start = 0
        while True:
            body = {
                "doctype": doctype,
                "fields": list(fields),
                "filters": filters or [],
                "order_by": order_by,
                "limit_start": start,
                "limit_page_length": page_length,
            }
            # A read, so safe to repeat after a lost answer.
            page = self._call(
                "POST", "/api/method/frappe.client.get_list", body=body, idempotent=True
            ).get("message")
            if not isinstance(page, list):
                raise self._protocol_error("a list of records")
            rows.extend(page)
            if len(page) < page_length:
                return rows
            start += page_length

    def get_doc(self, doctype: str, name: str) -> dict | None:
        """One document with its child tables, or None when it does not exist."""
        try:
            data = self._call("GET", self.resource(doctype, name)).get("data")
        except ErpnextRejected as exc:
            if exc.http_status == 404:
                return None
            raise
        return data if isinstance(data, dict) else None

    def insert(self, doc: dict[str, Any]) -> dict:
        """``POST /api/resource/<doctype>``; a doc with ``docstatus`` 1 is submitted."""
        data = self._call("POST", self.resource(doc["doctype"]), body=doc, idempotent=False).get(
            "data"
        )
        if not isinstance(data, dict) or not data.get("name"):
            raise self._protocol_error("the inserted document")
        return data

    def insert_many(self, docs: list[dict[str, Any]]) -> list[str]:
        """``frappe.client.insert_many`` (at most 200 documents, one transaction)."""
        if len(docs) > 200:
            raise ValueError("frappe.client.insert_many takes at most 200 documents")
        names = self._call(
            "POST", "/api/method/frappe.client.insert_many", body={"docs": docs}, idempotent=False
        ).get("message")
        return [str(n) for n in names] if isinstance(names, list) else []

    def cancel(self, doctype: str, name: str) -> dict:
        """``frappe.client.cancel``: docstatus 1 -> 2."""
        data = self._call(
            "POST",
            "/api/method/frappe.client.cancel",
            body={"doctype": doctype, "name": name},
            idempotent=False,
        )
        message = data.get("message")
        return message if isinstance(message, dict) else {}

    def delete(self, doctype: str, name: str) -> None:
        """``DELETE /api/resource/<doctype>/<name>`` (a cancelled or draft document)."""
        self._call("DELETE", self.resource(doctype, name), idempotent=False)

    @staticmethod
    def resource(doctype: str, name: str | None = None) -> str:
        path = f"/api/resource/{quote(doctype)}"
        return path if name is None else f"{path}/{quote(name, safe='')}"

    # -- transport ---------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        idempotent: bool = True,
    ) -> dict:
        """One request with retries; a dict payload or an ErpnextError."""
        content = orjson.dumps(body) if body is not None else None
        headers = {"Content-Type": "application/json"} if content is not None else None
        attempts = self.retry.start()
        while True:
            self.requests += 1
            try:
                response = self._http.request(
                    method,
                    path,
                    params=params,
                    content=content,
                    headers=headers,
                    timeout=httpx.USE_CLIENT_DEFAULT if idempotent else self.write_timeout,
                )
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # Nothing reached the server: safe to repeat, even a POST.
                failure: ErpnextError = self._unreachable(exc)
            except httpx.TransportError as exc:
                failure = self._unreachable(exc)
                if not idempotent:
                    raise failure from exc
            else:
                if 300 <= response.status_code < 400:
                    raise self._redirect_error(response)
                if response.status_code < 400:
                    return self._payload(response)
                failure = self._http_error(response, subject(method, path, body))
                if not isinstance(failure, ErpnextTransient):
                    raise failure
                if not idempotent and response.status_code != 429:
                    raise failure
            retry_after = failure.retry_after if isinstance(failure, ErpnextTransient) else None
            delay = attempts.next_delay(retry_after)
            if delay is None:
                raise failure
            attempts.sleep(delay)

    def _payload(self, response: httpx.Response) -> dict:
        try:
            data = orjson.loads(response.content) if response.content else {}
        except orjson.JSONDecodeError:
            raise self._protocol_error("JSON") from None
        if not isinstance(data, dict):
            raise self._protocol_error("a JSON object")
        return data

    def _http_error(
        self, response: httpx.Response, what: tuple[str, str] | None = None
    ) -> ErpnextError:
        status = response.status_code
        try:
            payload = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            payload = None
        exc_type = str(payload.get("exc_type") or "") if isinstance(payload, dict) else ""
        message = error_message(payload, f"HTTP {status} {response.reason_phrase}".strip())
        if status in (401, 403) or exc_type in ("AuthenticationError", "PermissionError"):
            return self._auth_error(status, exc_type, message, what)
        if status == 404 and payload is None:
            return self._site_error(status)
        if status == 429 or status >= 500:
            failure = ErpnextTransient(
                f"ERPNext at {self.url} answered HTTP {status} ({message}).",
                "Try again in a few minutes; nothing is created twice.",
                http_status=status,
                exc_type=exc_type,
                erpnext_message=message,
            )
            failure.retry_after = self.retry.retry_after(response.headers.get("Retry-After"))
            return failure
        return ErpnextRejected(
            f"ERPNext refused it: {message}",
            http_status=status,
            exc_type=exc_type,
            erpnext_message=message,
        )

    def _auth_error(
        self, status: int, exc_type: str, message: str, what: tuple[str, str] | None = None
    ) -> ErpnextError:
        if status == 403 and exc_type == "PermissionError" and message not in ("", "Not permitted"):
            action, doctype = what or ("use", "this part of ERPNext")
            role = ROLE_FOR.get(doctype, "Accounts Manager")
            return ErpnextAuthError(
                f"The ERPNext API user may not {action} {doctype}: that needs the {role} role.",
                f"Give the API user the {role} role in ERPNext, or let a user who has it "
                "do this step.",
                code="ERPNEXT.PERMISSION",
                http_status=status,
                exc_type=exc_type,
                erpnext_message=message,
            )
        return ErpnextAuthError(
            f"ERPNext at {self.url} did not accept the API key and secret "
            f"(HTTP {status}{', ' + exc_type if exc_type else ''}).",
            "Generate them again under User > Settings > API Access and run "
            "'kosma-tui erpnext connect' again.",
            http_status=status,
            exc_type=exc_type,
            erpnext_message=message,
        )

    def _redirect_error(self, response: httpx.Response) -> ErpnextError:
        target = response.headers.get("Location", "")
        where = urlsplit(str(response.url.join(target))) if target else None
        base = f"{where.scheme}://{where.netloc}" if where else "another address"
        return ErpnextError(
            f"ERPNext at {self.url} redirects to {base} (HTTP {response.status_code}).",
            "Connect with that URL instead.",
            http_status=response.status_code,
        )

    def _site_error(self, status: int) -> ErpnextError:
        host = urlsplit(self.url).hostname or self.url
        if self.site:
            return ErpnextError(
                f"The bench at {self.url} has no site named '{self.site}' (HTTP {status}).",
                "Pass the site's folder name from the bench's sites directory with --site.",
                http_status=status,
            )
        return ErpnextError(
            f"{self.url} answered HTTP {status} for ERPNext's API: either the bench serves no "
            f"site named '{host}', or this is not ERPNext.",
            "Check the URL; on a bench with several sites pass the site's name with --site "
            "(the folder name in the bench's sites directory).",
            http_status=status,
        )

    def _unreachable(self, exc: Exception) -> ErpnextTransient:
        detail = type(exc).__name__
        text = str(exc).strip().rstrip(".")
        if text and len(text) < 120:
            detail = f"{detail}: {text}"
        return ErpnextTransient(
            f"ERPNext at {self.url} could not be reached ({detail}).",
            "Check the URL and the network, then try again.",
        )

    def _protocol_error(self, expected: str) -> ErpnextError:
        return ErpnextError(
            f"ERPNext at {self.url} sent an answer this app cannot read (expected {expected}).",
            "Check that the URL points at ERPNext (Frappe v15).",
            code="ERPNEXT.PROTOCOL",
        )


def subject(method: str, path: str, body: Any) -> tuple[str, str] | None:
    """(action, doctype) of a request, for a permission error that says which is missing."""
    data = body if isinstance(body, dict) else {}
    if path == "/api/method/frappe.client.get_list":
        return "read", str(data.get("doctype") or "")
    if path == "/api/method/frappe.client.insert_many":
        docs = data.get("docs") or [{}]
        return "create", str(docs[0].get("doctype") or "")
    if path == "/api/method/frappe.client.cancel":
        return "cancel", str(data.get("doctype") or "")
    if path.startswith("/api/resource/"):
        doctype = unquote(path.removeprefix("/api/resource/").split("/")[0])
        action = {"GET": "read", "POST": "create", "PUT": "change", "DELETE": "delete"}
        return action.get(method, "use"), doctype
    return None
