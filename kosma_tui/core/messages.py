"""The error catalogue: each sentence said in several places, written once.

The commands, the TUI and the daily job refuse the same things; each refusal
here is a named constructor returning the error (message and remedy), so the
sentence cannot drift between its callers and a test can ask for it by name.
"""

from __future__ import annotations

from collections.abc import Iterable

from kosma_tui.core.errors import Problem, UsageError

LISTED = 10  # candidates named in an error sentence
NO_ACCOUNTS_YET = "No bank accounts yet: link a bank with 'kosma-tui link --company NAME'."
ENABLE_SETTINGS = "Enable them with 'kosma-tui settings --enable' or in the Settings screen."


class UnknownName(UsageError):
    code = "UNKNOWN_NAME"


class AmbiguousName(UsageError):
    code = "AMBIGUOUS_NAME"


def listing(names: Iterable[str]) -> str:
    """``'a', 'b' and 3 more``: at most LISTED names, quoted."""
    names = list(names)
    shown = ", ".join(f"'{n}'" for n in names[:LISTED])
    return shown + (f" and {len(names) - LISTED} more" if len(names) > LISTED else "")


def no_bank_account(name: str, known: Iterable[str]) -> UnknownName:
    """No stored Bank Account is called ``name``; ``known`` are the names there are."""
    names = sorted(known, key=str.casefold)
    if not names:
        return UnknownName(
            f"There is no bank account named '{name}'; there are none yet.",
            "Link a bank first ('kosma-tui link --company NAME').",
        )
    return UnknownName(
        f"There is no bank account named '{name}'; known accounts: {listing(names)}.",
        "Give a name, a unique beginning of one, or an IBAN ('kosma-tui account list').",
    )


def ambiguous_bank_account(text: str, found: Iterable[str]) -> AmbiguousName:
    names = list(found)
    return AmbiguousName(
        f"'{text}' names {len(names)} bank accounts: {listing(names)}.",
        "Give more of the name, or the IBAN.",
    )


def bank_account_name_taken(name: str) -> UsageError:
    return UsageError(f"There is already a bank account named '{name}'.", "Choose another name.")


def no_bank_consent(name: str) -> UsageError:
    return UsageError(
        f"There is no Bank Consent named '{name}'.", "'kosma-tui consent list' lists the consents."
    )


def no_company(name: str) -> UsageError:
    return UsageError(
        f"There is no company named '{name}'.",
        "'kosma-tui company list' shows them; 'kosma-tui company add' adds one.",
    )


def unexpected(exc: BaseException) -> Problem:
    """An error no rule foresaw, in a sync of one account (the others go on)."""
    return Problem(
        "UNEXPECTED",
        f"Something unexpected went wrong ({type(exc).__name__}); nothing already stored was lost.",
        "Try again; the details are in the log file.",
    )
