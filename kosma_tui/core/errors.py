"""One error hierarchy for the whole app.

Every error carries the sentence shown to the user (``message``) and what to
do about it (``remedy``); the TUI and the commands show both and never a
traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class KosmaError(Exception):
    """Base of every error the user may see."""

    code: str = "ERROR"
    exit_status: int = 1

    def __init__(self, message: str, remedy: str = "", *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.remedy = remedy
        if code is not None:
            self.code = code

    def sentence(self) -> str:
        """Message and remedy as one line for a terminal."""
        if self.remedy:
            return f"{self.message} {self.remedy}"
        return self.message

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "remedy": self.remedy}


class UsageError(KosmaError):
    """Bad input from the user: nothing was changed (exit status 2)."""

    code = "USAGE"
    exit_status = 2


class ConfigurationError(KosmaError):
    """Settings prevent the action (disabled, missing token, ...); exit status 2."""

    code = "CONFIGURATION"
    exit_status = 2


class StoreError(KosmaError):
    """A store file is corrupt or unreadable, or the key is missing."""

    code = "STORE"
    exit_status = 2


class RuleRefusal(KosmaError):
    """A rule of Banking Settings / Bank Consent refuses the action."""

    code = "REFUSED"


@dataclass
class FieldError:
    location: str
    message: str


# code prefix -> (what happened, what to do). Sub-codes fall back to their parent.
PORTAL_SENTENCES: dict[str, tuple[str, str]] = {
    "AUTH.INVALID_TOKEN": (
        "The banking portal did not accept the Customer ID or Portal API Token.",
        "Fix them in Banking Settings.",
    ),
    "PLAN.INACTIVE": (
        "The banking subscription is not active.",
        "Open the billing portal to reactivate it.",
    ),
    "PLAN.LIMIT_EXCEEDED": (
        "The transaction limit of this billing period is used up.",
        "Wait for the next billing period or upgrade the plan.",
    ),
    "VALIDATION": ("The banking portal refused a field.", "Fix the field and try again."),
    "USER.ACCESS_DENIED.CREDENTIALS": (
        "The bank refused the login.",
        "Try again with the right credentials.",
    ),
    "USER.ACCESS_DENIED.BLOCKED": (
        "The bank blocked the login after too many wrong attempts.",
        "Contact your bank to unlock the account.",
    ),
    "USER.ACCESS_DENIED": ("The bank denied access.", "Check the login and try again."),
    "USER.ABORTED": (
        "The login was not approved: it was cancelled or declined in the banking app (or at "
        "the bank), so nothing was linked.",
        "Start Link Bank and Accounts again and approve the login in your banking app.",
    ),
    "USER.SESSION.TIMEOUT": (
        "The linking session timed out after 30 minutes.",
        "Start Link Bank and Accounts again.",
    ),
    "USER": ("The bank login did not complete.", "Start Link Bank and Accounts again."),
    "BANK": ("The bank reported a technical error.", "Try again later."),
    "MAINTENANCE": ("The bank is in maintenance.", "Try again later."),
    "TECHNICAL": ("The banking portal had a technical error.", "Try again later."),
    "NOT_SUPPORTED.TRANSACTIONS_DATE_RANGE": (
        "The bank refuses transactions for that date range.",
        "Try again tomorrow; if it goes on, move the Last Integration Date later (the sync "
        "starts there) or link the bank again with a later Start Date.",
    ),
    "NOT_SUPPORTED": ("The bank does not support this request.", "Try a different option."),
    "CONSENT.EXPIRED": (
        "The Bank Consent has expired.",
        "Run Link Bank and Accounts again to renew it.",
    ),
    "CONSENT.REVOKED": (
        "The Bank Consent was withdrawn at the bank.",
        "Run Link Bank and Accounts again.",
    ),
    "CONSENT.RESOURCE_NOT_GRANTED": (
        "The Bank Consent does not cover this account (account ids change between consents).",
        "Refresh the accounts, else run Link Bank and Accounts again.",
    ),
    "CONSENT.LIMIT_EXCEEDED": (
        "The bank allows only 4 unattended reads per account and day, and they are used up.",
        "Wait until tomorrow, or sync from the app.",
    ),
    "CONSENT.INVALID_TOKEN": (
        "The stored consent token is no longer valid (it was lost or used elsewhere).",
        "Run Link Bank and Accounts again.",
    ),
    "CONSENT": ("The Bank Consent cannot be used.", "Run Link Bank and Accounts again."),
    "RATE_LIMITED": (
        "The banking portal is receiving too many requests.",
        "Try again in a few minutes.",
    ),
}


def sentence_for(code: str) -> tuple[str, str]:
    """The user sentence and remedy for a portal error code (or its parent)."""
    parts = code.split(".")
    while parts:
        key = ".".join(parts)
        if key in PORTAL_SENTENCES:
            return PORTAL_SENTENCES[key]
        parts.pop()
    return ("The banking portal reported an error.", "Try again later.")


class PortalError(KosmaError):
    """An error answered by the portal (or reaching it), see PROTOCOL's table."""

    code = "TECHNICAL"

    def __init__(
        self,
        code: str,
        message: str | None = None,
        remedy: str | None = None,
        *,
        http_status: int | None = None,
        portal_message: str = "",
        errors: list[FieldError] | None = None,
        consent_token: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        default_message, default_remedy = sentence_for(code)
        message = message or default_message
        if errors and not code.startswith("USER"):
            detail = "; ".join(f"{e.location}: {e.message}" for e in errors if e.message)
            if detail:
                message = f"{message} ({detail})"
        super().__init__(message, default_remedy if remedy is None else remedy, code=code)
        self.http_status = http_status
        self.portal_message = portal_message
        self.errors = list(errors or [])
        self.consent_token = consent_token
        self.retry_after = retry_after

    @property
    def family(self) -> str:
        """The part of the code before the first dot (``CONSENT``, ``PLAN``, ...)."""
        return self.code.split(".", 1)[0]


class PortalUnreachable(PortalError):
    """No answer from the portal (connection refused, timeout) after retries."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            "UNREACHABLE",
            f"The banking portal could not be reached ({detail}).",
            "Check the admin URL in Banking Settings and the network, then try again.",
        )


class PortalProtocolError(PortalError):
    """The portal answered something this client cannot understand."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            "PROTOCOL",
            f"The banking portal sent an answer this app cannot read ({detail}).",
            "Try again later; if it persists, check the admin URL.",
        )


@dataclass
class Problem:
    """A refusal or failure recorded on an account or a Sync Run."""

    code: str
    message: str
    remedy: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_error(cls, error: KosmaError) -> Problem:
        return cls(error.code, error.message, error.remedy)

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "remedy": self.remedy}
