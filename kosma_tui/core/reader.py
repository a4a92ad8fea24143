"""The strict reader of the banking portal's JSON: typed field access.

Every answer the portal gives (results, flow steps, forms) is read through
it, so a value of the wrong type is always a ``PortalProtocolError`` naming
where it was found, never a ``KeyError`` or a silently wrong default. It
lives beside ``core.portal`` rather than inside it because ``core.forms``
reads flow steps with it and the portal client imports ``core.forms``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from kosma_tui.core.errors import PortalProtocolError


class Reader:
    """Typed field access on a portal object; every mismatch is a PortalProtocolError."""

    __slots__ = ("data", "where")

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise PortalProtocolError(f"{where} is not an object")
        self.data: dict[str, Any] = data
        self.where = where

    def fail(self, name: str, what: str) -> PortalProtocolError:
        return PortalProtocolError(f"{self.where}.{name} is {what}")

    def text(self, name: str) -> str:
        value = self.data.get(name)
        if not isinstance(value, str) or not value:
            raise self.fail(name, "missing or not a text")
        return value

    def opt_text(self, name: str) -> str:
        value = self.data.get(name)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self.fail(name, "not a text")
        return value

    def opt_int(self, name: str) -> int | None:
        value = self.data.get(name)
        if value is None:
            return None
        if type(value) is not int:
            raise self.fail(name, "not a whole number")
        return value

    def opt_length(self, name: str) -> int | None:
        """A whole number of zero or more, or None when absent."""
        value = self.opt_int(name)
        if value is not None and value < 0:
            raise self.fail(name, "not a length")
        return value

    def flag(self, name: str) -> bool:
        """true or false; absent is false."""
        value = self.data.get(name)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise self.fail(name, "not true or false")
        return value

    def date(self, name: str) -> str:
        value = self.text(name)
        try:
            date.fromisoformat(value)
        except ValueError:
            raise self.fail(name, "not a YYYY-MM-DD date") from None
        return value

    def moment(self, name: str) -> str:
        """A date or an ISO 8601 datetime, kept as the portal wrote it."""
        value = self.text(name)
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise self.fail(name, "not an ISO 8601 date or datetime") from None
        return value

    def obj(self, name: str) -> Reader:
        return Reader(self.data.get(name), f"{self.where}.{name}")

    def opt_obj(self, name: str) -> Reader | None:
        value = self.data.get(name)
        return None if value is None else Reader(value, f"{self.where}.{name}")

    def items(self, name: str) -> list[Any]:
        value = self.data.get(name)
        if not isinstance(value, list):
            raise self.fail(name, "missing or not a list")
        return value
