"""What the username typed at the login step makes the Demo Bank do.

Usernames are matched case-insensitively after trimming; any username that
is not listed behaves like ``embedded`` (with its own accounts and data).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PASSWORD = "12345"  # noqa: S105 - the Demo Bank's published test password
OTP = "12345"
MAX_GENERATED_ACCOUNTS = 100
MAX_MANY_TRANSACTIONS = 1_000_000
DECOUPLED_POLLS = 3  # get_flow_step calls answered PROCESSING before the outcome

_GENERATED = re.compile(r"generate-new-accounts(\d{1,7})")
_MANY = re.compile(r"many-transactions(\d{1,8})")


@dataclass(frozen=True)
class Scenario:
    username: str
    # login outcome: "otp" | "finished" | "decoupled" | "decoupled-abort" | "invalid"
    # | "wrong" | "maintenance" | "technical"
    login: str = "otp"
    accounts: int = 3
    many: int | None = None  # many-transactions{N}: N per 1000 days per account
    slow: bool = False
    refuse_transactions: bool = False
    late_booking: bool = False  # one settled transaction per account is listed late
    problem: str | None = None  # why the username itself is refused (shown on the form)


def normalise(username: str) -> str:
    return username.strip().lower()


def scenario(username: str) -> Scenario:
    name = normalise(username)
    fixed = {
        "embedded": Scenario(name),
        "late-booking": Scenario(name, late_booking=True),
        "decoupled": Scenario(name, login="decoupled"),
        "decoupled-abort": Scenario(name, login="decoupled-abort"),
        "wrong": Scenario(name, login="wrong"),
        "invalid": Scenario(name, login="invalid"),
        "bank-maintenance": Scenario(name, login="maintenance"),
        "technical": Scenario(name, login="technical"),
        "slow": Scenario(name, login="finished", slow=True),
        "invalid-transactions-timerange": Scenario(
            name, login="finished", refuse_transactions=True
        ),
    }
    if name in fixed:
        return fixed[name]
    if match := _GENERATED.fullmatch(name):
        count = int(match.group(1))
        if count > MAX_GENERATED_ACCOUNTS:
            return Scenario(
                name,
                login="invalid",
                problem=f"generate-new-accounts takes 0 to {MAX_GENERATED_ACCOUNTS} accounts.",
            )
        return Scenario(name, login="finished", accounts=count)
    if match := _MANY.fullmatch(name):
        count = int(match.group(1))
        if count > MAX_MANY_TRANSACTIONS:
            return Scenario(
                name,
                login="invalid",
                problem=f"many-transactions takes 0 to {MAX_MANY_TRANSACTIONS:,} transactions.",
            )
        return Scenario(name, login="finished", accounts=1, many=count)
    return Scenario(name)
