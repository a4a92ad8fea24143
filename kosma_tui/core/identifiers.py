"""IBANs and account numbers: one normal form, one validation, one matching rule.

Banks, the portal, CSV files and admins write the same IBAN as
``de89 3704 0044 0532 0130 00`` or ``DE89370400440532013000``: ``compact``
is the one form every comparison and every stored value uses (whitespace
removed, upper case). IBANs typed by an admin are checked by python-stdnum
(check digits, and the length and layout registered for the country), so a
typo or a missing digit is refused before it is stored.

``same_account`` is the one rule for "these two describe the same bank
account", used when a link updates stored accounts, when a sync finds the
portal account of a stored one, and when a name given on the command line
is an IBAN or an account number.
"""

from __future__ import annotations

import re

from stdnum import iban as stdnum_iban
from stdnum.exceptions import InvalidChecksum, InvalidComponent, ValidationError

from kosma_tui.core.errors import UsageError

_IBAN_SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")
_ACCOUNT_SHAPE = re.compile(r"[A-Z0-9][A-Z0-9./-]{0,33}")
_EXAMPLE = "DE89 3704 0044 0532 0130 00"


def compact(value: object) -> str:
    """An IBAN or account number without whitespace, upper case ("" for none)."""
    if not value:
        return ""
    return "".join(str(value).split()).upper()


def spaced(value: object) -> str:
    """``DE89 3704 0044 0532 0130 00``: groups of four, as printed on paper."""
    text = compact(value)
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def short(value: object) -> str:
    """``DE89 …3000``: country and check digits, then the last four characters."""
    text = compact(value)
    return text if len(text) <= 8 else f"{text[:4]} …{text[-4:]}"


def iban_problem(value: str) -> str | None:
    """Why ``value`` is not a valid IBAN, or None (for validation as you type)."""
    iban = compact(value)
    shown = value.strip()
    if not _IBAN_SHAPE.fullmatch(iban):
        return (
            f"'{shown}' is not an IBAN: it starts with two letters and two check "
            f"digits, followed by 11 to 30 letters and digits ({_EXAMPLE})"
        )
    try:
        stdnum_iban.validate(iban, check_country=False)
    except InvalidChecksum:
        return f"'{shown}' is not a valid IBAN: its check digits do not match (a typo?)"
    except InvalidComponent:
        return f"'{shown}' is not a valid IBAN: no country has IBANs starting with {iban[:2]}"
    except ValidationError:
        # right check digits but not the length or layout registered for the country
        return (
            f"'{shown}' is not a valid IBAN: {iban[:2]} IBANs do not have this length "
            "or layout (a missing or extra character?)"
        )
    return None


def account_number_problem(value: str) -> str | None:
    """Why ``value`` is not an account number, or None."""
    number = compact(value)
    if not _ACCOUNT_SHAPE.fullmatch(number) or not any(ch.isdigit() for ch in number):
        return (
            f"'{value.strip()}' is not an account number: up to 34 digits and letters "
            "(with . / - allowed), at least one digit"
        )
    return None


def _refuse(problem: str) -> UsageError:
    return UsageError(problem[0].upper() + problem[1:] + ".")


def check_iban(value: str) -> str:
    """The IBAN in compact form; UsageError with the reason when it is not valid."""
    problem = iban_problem(value)
    if problem:
        raise _refuse(problem)
    return compact(value)


def check_account_number(value: str) -> str:
    """The account number in compact form; UsageError when it is not one."""
    problem = account_number_problem(value)
    if problem:
        raise _refuse(problem)
    return compact(value)


def same_account(iban: object, number: object, other_iban: object, other_number: object) -> bool:
    """Whether (IBAN, account number) and (other IBAN, other account number) are
    one bank account: when both have an IBAN, the IBANs decide; otherwise the
    account numbers do (a bank may send the IBAN for an account it first sent
    only with its number). Both compared in compact form."""
    a, b = compact(iban), compact(other_iban)
    if a and b:
        return a == b
    a, b = compact(number), compact(other_number)
    return bool(a) and a == b


def names_account(text: str, iban: object, number: object) -> bool:
    """Whether ``text`` typed by an admin is this account's IBAN or account number."""
    wanted = compact(text)
    return bool(wanted) and wanted in (compact(iban), compact(number))
