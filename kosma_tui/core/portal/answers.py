"""A portal answer read as PROTOCOL says: the ``message`` of a success, or the
``PortalError`` of a failure (its code, field errors, fresh consent token)."""

from __future__ import annotations

from typing import Any

import orjson

from kosma_tui.core.errors import FieldError, PortalError, PortalProtocolError
from kosma_tui.core.portal.transport import Answer

_NOT_JSON = object()


def _load(response: Answer) -> Any:
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return _NOT_JSON


def message_of(response: Answer, method: str) -> Any:
    """The ``message`` of a 200 answer; PortalProtocolError when there is none."""
    body = _load(response)
    if not isinstance(body, dict) or "message" not in body:
        raise PortalProtocolError(f"{method} answered without a JSON message")
    return body["message"]


def error_of(
    response: Answer, method: str, *, retry_after: float | None, embedded: bool
) -> PortalError:
    """The PortalError a failed answer carries (``retry_after`` read by the caller).

    ``embedded``: the built-in Demo Bank portal's 5xx are its own (a full disk, a
    read-only data folder), said as such.
    """
    status = response.status_code
    body = _load(response)
    message = body.get("message") if isinstance(body, dict) else None
    raw = message.get("error") if isinstance(message, dict) else None
    token = message.get("consent_token") if isinstance(message, dict) else None
    if not isinstance(token, str) or not token:
        token = None
    if not isinstance(raw, dict) or not isinstance(raw.get("code"), str) or not raw["code"]:
        what = "a redirect" if 300 <= status < 400 else "no portal error"
        error: PortalError = PortalProtocolError(f"{method} answered HTTP {status} with {what}")
        error.http_status = status
        error.consent_token = token
        error.retry_after = retry_after
        return error
    portal_message = raw.get("message")
    if not isinstance(portal_message, str):
        portal_message = ""
    if embedded and status >= 500 and portal_message:
        return PortalError(
            raw["code"],
            f"The built-in Demo Bank portal failed on its own side: {portal_message}",
            "Check the free disk space and the permissions of the data folder "
            "(its state lives there), then try again.",
            http_status=status,
            portal_message=portal_message,
        )
    return PortalError(
        raw["code"],
        http_status=status,
        portal_message=portal_message,
        errors=_field_errors(raw.get("errors")),
        consent_token=token,
        retry_after=retry_after,
    )


def _field_errors(raw: Any) -> list[FieldError]:
    if not isinstance(raw, list):
        return []
    errors = []
    for item in raw:
        if isinstance(item, dict):
            location, message = item.get("location"), item.get("message")
            errors.append(
                FieldError(
                    location if isinstance(location, str) else "",
                    message if isinstance(message, str) else "",
                )
            )
    return errors
