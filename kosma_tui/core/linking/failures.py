"""How a linking flow ends badly: cancelled by the admin, or a terminal portal step."""

from __future__ import annotations

from kosma_tui.core.errors import KosmaError, PortalError
from kosma_tui.core.forms import ABORTED, EXCEPTION, Step


class LinkCancelled(KosmaError):
    """The admin cancelled linking; the portal session was ended."""

    code = "CANCELLED"

    def __init__(self) -> None:
        super().__init__(
            "Linking was cancelled; the portal session was ended and nothing was saved.",
            "Run Link Bank and Accounts again when you are ready.",
        )


def failure(step: Step) -> PortalError | None:
    """The typed error of a terminal step (ABORTED / EXCEPTION); None otherwise."""
    if step.state not in (ABORTED, EXCEPTION):
        return None
    default = "USER.ABORTED" if step.state == ABORTED else "TECHNICAL"
    code = step.error_code or default
    return PortalError(code, portal_message=step.error_message or "")
