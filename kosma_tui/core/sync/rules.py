"""The rules that decide whether, and from where, an account may be synced (DESIGN 2).

Nothing here talks to the portal or decrypts a secret, so ``kosma-tui
status`` and the TUI's reminders can use it cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from kosma_tui.core import clock, messages
from kosma_tui.core.errors import RuleRefusal, UsageError
from kosma_tui.core.records import BankAccount, BankConsent

if TYPE_CHECKING:
    from kosma_tui.core.store import Store

# A consent this close to its expiry is not used: a sync could die half-way.
EXPIRY_MARGIN = timedelta(hours=1)

# said in the TUI and by the commands alike: the action's name, not one side's way to it
RELINK = "Run Link Bank and Accounts again to renew it."


class ConsentExpired(RuleRefusal):
    code = "CONSENT_EXPIRED"


class ConsentExpiring(RuleRefusal):
    code = "CONSENT_EXPIRING"


class NoConsent(RuleRefusal):
    code = "NO_CONSENT"


class SettingsDisabled(RuleRefusal):
    code = "SETTINGS_DISABLED"


class AccountDisabled(RuleRefusal):
    code = "ACCOUNT_DISABLED"


class InvalidLastIntegrationDate(RuleRefusal):
    code = "INVALID_LAST_INTEGRATION_DATE"


class ConsentStartConflict(RuleRefusal):
    """The Last Integration Date lies before the consent can read (DESIGN 2)."""

    code = "CONSENT_START_CONFLICT"

    def __init__(self, account: str, last_integration_date: str, consent_start: str) -> None:
        self.account = account
        self.last_integration_date = last_integration_date
        self.consent_start = consent_start
        super().__init__(
            f"The Last Integration Date of '{account}' ({last_integration_date}) is older than "
            f"the Consent Start Date ({consent_start}): the consent cannot read the "
            f"transactions in between, so syncing would leave a gap.",
            f"Either set the Last Integration Date to the Consent Start Date "
            f"('kosma-tui account set-last-integration-date \"{account}\" {consent_start}'), "
            f"accepting the gap (the gap will be recorded in the account's coverage), or run "
            f"Link Bank and Accounts again with Start Date "
            f"{last_integration_date} to close it.",
        )


@dataclass(frozen=True)
class ConsentState:
    """How a Bank Consent stands today: what status and reminders show."""

    days_left: int
    status: str  # active | expiring | expired


def parse_expiry(consent: BankConsent) -> datetime | None:
    if not consent.consent_expiry:
        return None
    try:
        moment = datetime.fromisoformat(consent.consent_expiry)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.astimezone()


def consent_state(
    consent: BankConsent, reminder_days: int, now: datetime | None = None
) -> ConsentState:
    """Days left (calendar days, local time) and active / expiring / expired."""
    now = now or clock.now()
    expiry = parse_expiry(consent)
    if expiry is None:
        return ConsentState(0, "expired")
    days = clock.days_left(expiry, clock.local_date(now))
    if expiry <= now:
        return ConsentState(days, "expired")
    if days <= reminder_days:
        return ConsentState(days, "expiring")
    return ConsentState(days, "active")


def consent_of(store: Store, account: BankAccount) -> BankConsent | None:
    return store.consent(BankConsent.name_for(account.bank, account.company))


def settings_refusal(store: Store) -> RuleRefusal | None:
    if store.settings().effectively_enabled:
        return None
    return SettingsDisabled(
        "Banking Settings are disabled, so no account is synced.",
        messages.ENABLE_SETTINGS,
    )


def consent_refusal(store: Store, consent: BankConsent) -> RuleRefusal | None:
    """Why no account of ``consent`` may be synced now: settings disabled, (nearly) expired."""
    disabled = settings_refusal(store)
    if disabled is not None:
        return disabled
    now = clock.now()
    expiry = parse_expiry(consent)
    if expiry is None or expiry <= now:
        when = f" on {expiry.astimezone(now.tzinfo):%Y-%m-%d %H:%M}" if expiry else ""
        return ConsentExpired(f"The Bank Consent {consent.name} expired{when}.", RELINK)
    if expiry - now <= EXPIRY_MARGIN:
        return ConsentExpiring(
            f"The Bank Consent {consent.name} expires within the hour "
            f"({expiry.astimezone(now.tzinfo):%H:%M}); a sync now could be cut off.",
            RELINK,
        )
    return None


def refusal(store: Store, account: BankAccount) -> RuleRefusal | None:
    """Why ``account`` may not be synced now, or None (DESIGN 2, "Sync of one account")."""
    disabled = settings_refusal(store)
    if disabled is not None:
        return disabled
    if not account.enabled:
        return AccountDisabled(
            f"'{account.name}' is disabled, so it is not synced.",
            f"Enable it with 'kosma-tui account enable \"{account.name}\"' (or d on Accounts).",
        )
    consent = consent_of(store, account)
    if consent is None or not consent.consent_id:
        return NoConsent(
            f"'{account.name}' has no Bank Consent for {account.bank} and {account.company}.",
            "Run Link Bank and Accounts for that bank and company.",
        )
    refused = consent_refusal(store, consent)
    if refused is not None:
        return refused
    if not _is_date(consent.consent_start):
        return NoConsent(
            f"The Bank Consent {consent.name} has no valid Consent Start Date "
            f"('{consent.consent_start}').",
            RELINK,
        )
    lid = account.last_integration_date
    if lid and not _is_date(lid):
        return InvalidLastIntegrationDate(
            f"The Last Integration Date of '{account.name}' ('{lid}') is not a date.",
            f'Set it with \'kosma-tui account set-last-integration-date "{account.name}" '
            f"{consent.consent_start}'.",
        )
    if lid and consent.consent_start and lid < consent.consent_start:
        return ConsentStartConflict(account.name, lid, consent.consent_start)
    return None


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except (TypeError, ValueError):
        return False
    return True


def start_date(consent_start: str, last_integration_date: str, lookback_days: int) -> date:
    """``max(consent_start, last_integration_date - lookback_days)``; no LID: consent start."""
    start = date.fromisoformat(consent_start)
    if not last_integration_date:
        return start
    lookback = date.fromisoformat(last_integration_date) - timedelta(days=lookback_days)
    return max(start, lookback)


def set_last_integration_date(store: Store, name: str, value: date) -> BankAccount:
    """The remedy for the consent-start conflict; refuses unknown accounts and the future."""
    if value > clock.today():
        raise UsageError(
            f"The Last Integration Date cannot be in the future ({value.isoformat()} is after "
            f"today, {clock.today().isoformat()})."
        )
    with store.locked():
        if store.account(name) is None:
            raise messages.no_bank_account(name, [a.name for a in store.accounts()])
        return store.update_account(name, last_integration_date=value.isoformat())


def unknown_account(store: Store, name: str) -> str:
    """The catalogue's sentence for an unknown account name, message and remedy."""
    return messages.no_bank_account(name, [a.name for a in store.accounts()]).sentence()
