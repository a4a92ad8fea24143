"""Authentication: the ``Alyf-Banking-Authorization: Token <t>`` header.

The Demo Bank takes any non-empty token except its published test tokens:
``invalid`` is refused (AUTH.INVALID_TOKEN), ``inactive`` has no active
subscription (PLAN.INACTIVE). A missing header, another scheme or an empty
token is refused too.
"""

from __future__ import annotations

from kosma_tui.sandbox.errors import PortalFailure

REFUSED_TOKEN = "invalid"  # noqa: S105 - the Demo Bank's published test tokens
INACTIVE_TOKEN = "inactive"  # noqa: S105


def authenticate(authorization: str | None) -> None:
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme != "Token" or not token or token == REFUSED_TOKEN:
        raise PortalFailure(
            "AUTH.INVALID_TOKEN",
            "The customer id or API token was not accepted.",
        )
    if token == INACTIVE_TOKEN:
        raise PortalFailure(
            "PLAN.INACTIVE", "The subscription is not active; open the billing portal."
        )
