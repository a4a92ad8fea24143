"""Reading request fields; every problem is a ``VALIDATION`` naming the field."""

from __future__ import annotations

import ipaddress
import re
from datetime import date
from typing import Any

from kosma_tui.sandbox.errors import invalid

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MISSING = object()


def string(body: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise invalid(name, f"'{name}' is required.")
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise invalid(name, f"'{name}' must be a non-empty string.")
    return value


def required_string(body: dict[str, Any], name: str) -> str:
    value = string(body, name)
    assert value is not None
    return value


def day(body: dict[str, Any], name: str, *, required: bool = True) -> date | None:
    value = body.get(name)
    if value is None:
        if required:
            raise invalid(name, f"'{name}' is required (YYYY-MM-DD).")
        return None
    return parse_day(value, name)


def parse_day(value: object, name: str) -> date:
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise invalid(name, f"'{name}' must be a date as YYYY-MM-DD.")


def integer(body: dict[str, Any], name: str) -> int | None:
    """An optional non-negative integer (a string of digits is accepted too)."""
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise invalid(name, f"'{name}' must be a non-negative integer.")


def common(body: dict[str, Any]) -> tuple[str, bool]:
    """Fields every call carries (PROTOCOL.md, Transport): (customer_id, attended)."""
    customer = required_string(body, "customer_id")
    if not isinstance(body.get("use_test_environment", _MISSING), bool):
        raise invalid("use_test_environment", "'use_test_environment' must be true or false.")
    if not isinstance(body.get("user_agent"), str):
        raise invalid("user_agent", "'user_agent' must be a string.")
    if "ip_address" not in body:
        raise invalid("ip_address", "'ip_address' is required (null for an unattended run).")
    address = body["ip_address"]
    if address is not None:
        try:
            if not isinstance(address, str):
                raise ValueError(address)
            ipaddress.ip_address(address)
        except ValueError:
            raise invalid(
                "ip_address", "'ip_address' must be an IP address, or null when unattended."
            ) from None
    return customer, address is not None
