"""The portal's failures, in the protocol's error shape.

Written independently of ``kosma_tui.core`` on purpose: the client and this
portal each read PROTOCOL.md on their own, so a misreading on one side shows
up as a failing test instead of cancelling out.
"""

from __future__ import annotations

from typing import Any

# HTTP status per error code (PROTOCOL.md, "Error codes"); sub-codes fall back
# to their parent (``VALIDATION.UNKNOWN_METHOD`` -> ``VALIDATION``).
STATUS: dict[str, int] = {
    "AUTH.INVALID_TOKEN": 401,
    "PLAN.INACTIVE": 403,
    "PLAN.LIMIT_EXCEEDED": 403,
    "VALIDATION": 400,
    "USER.ACCESS_DENIED.CREDENTIALS": 400,
    "USER.ACCESS_DENIED.BLOCKED": 400,
    "USER.ABORTED": 400,
    "USER.SESSION.TIMEOUT": 400,
    "BANK": 502,
    "MAINTENANCE": 503,
    "TECHNICAL": 500,
    "NOT_SUPPORTED.TRANSACTIONS_DATE_RANGE": 400,
    "CONSENT.EXPIRED": 400,
    "CONSENT.REVOKED": 400,
    "CONSENT.RESOURCE_NOT_GRANTED": 400,
    "CONSENT.LIMIT_EXCEEDED": 400,
    "CONSENT.INVALID_TOKEN": 400,
    "RATE_LIMITED": 429,
}


def status_for(code: str) -> int:
    while code:
        if code in STATUS:
            return STATUS[code]
        code = code.rpartition(".")[0]
    return 500


class PortalFailure(Exception):
    """A failed call: HTTP status plus ``{"message": {"error": ..., "consent_token"}}``."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        errors: list[dict[str, str]] | None = None,
        consent_token: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status if status is not None else status_for(code)
        self.errors = errors
        self.consent_token = consent_token
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.errors:
            error["errors"] = self.errors
        message: dict[str, Any] = {"error": error}
        if self.consent_token is not None:
            message["consent_token"] = self.consent_token
        return {"message": message}


def invalid(location: str, message: str) -> PortalFailure:
    """A ``VALIDATION`` failure naming one field."""
    return PortalFailure("VALIDATION", message, errors=[{"location": location, "message": message}])


class SandboxStateError(Exception):
    """The state file cannot be used; never overwritten, the sentence names it."""

    def __init__(self, message: str, remedy: str = "") -> None:
        super().__init__(f"{message} {remedy}".strip())
        self.message = message
        self.remedy = remedy
