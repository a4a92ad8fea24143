"""Banking Settings changes: one validation, one set of limits, for the command and the
Settings screen.

An interface turns what it was given (options, fields as typed) into a
``SettingsChange``; ``problems`` says per field what is wrong (the screen
shows it as you type), ``apply`` gives the new settings or refuses with the
first problem (the command's one sentence); nothing is saved until the
interface saves the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kosma_tui.core import validation
from kosma_tui.core.errors import UsageError
from kosma_tui.core.records import BankingSettings

# field -> (its label, the largest value): a reminder at most a day before a 90-day
# consent starts to count down; a lookback of at most the 90 days a consent reads
DAY_LIMITS: dict[str, tuple[str, int]] = {
    "reminder_days": ("Reminder days", 89),
    "lookback_days": ("Lookback days", 90),
}
SMTP_PORT_MAX = 65535
# the on/off settings an interface may change (BankingSettings fields)
SWITCHES = (
    "enabled",
    "use_test_environment",
    "enable_party_matching",
    "enable_fuzzy_matching",
    "erpnext_auto_push",
)


@dataclass
class SettingsChange:
    """What to change; ``None`` leaves a setting as it is. Text as typed."""

    admin_url: str | None = None
    demo: bool = False  # forget the admin URL: back to the built-in Demo Bank portal
    customer_id: str | None = None
    api_token: str | None = None  # None or "": keep the stored one
    switches: dict[str, bool] = field(default_factory=dict)  # SWITCHES -> on/off
    days: dict[str, str | int] = field(default_factory=dict)  # DAY_LIMITS -> value


def days(name: str, value: str | int) -> int:
    """A day count of ``DAY_LIMITS`` within its limits, or UsageError."""
    label, top = DAY_LIMITS[name]
    return validation.positive_int(value, label, top)


def smtp_port(value: str | int) -> int:
    return validation.positive_int(value, "SMTP port", SMTP_PORT_MAX)


def smtp_host(text: str, *, required: bool) -> str:
    """The SMTP host as typed, trimmed: a host name, not a URL or an address. Empty is
    "no SMTP" unless ``required`` (the command's --smtp-host names one)."""
    host = text.strip()
    if (required and not host) or any(c.isspace() or c in "/@" for c in host):
        raise UsageError(f"'{text}' is not an SMTP host name.")
    return host


def sender(text: str) -> str:
    """The From address of reminder mails: one address, or "" (the SMTP user's)."""
    from kosma_tui.core import mail

    found = mail.addresses(text) if text.strip() else []
    if len(found) > 1:
        raise UsageError("The sender (From) is one address.")
    return found[0] if found else ""


def problems(current: BankingSettings, change: SettingsChange) -> dict[str, str]:
    """Field -> what is wrong with it (every field is looked at); empty: it may be saved."""
    found: dict[str, str] = {}
    url = (
        change.admin_url
        if change.admin_url is not None
        else ""
        if change.demo
        else current.admin_url
    ).strip()
    if url:
        try:
            validation.admin_url(url, "The admin URL")
        except UsageError as exc:
            found["admin_url"] = exc.message
    for name, what in (("customer_id", "Customer ID"), ("api_token", "Portal API Token")):
        value = getattr(change, name)
        if value is not None:
            try:
                validation.credential(value, what)
            except UsageError as exc:
                found[name] = exc.message
    found.update(
        validation.enabled_problems(
            change.switches.get("enabled", current.enabled),
            url,
            change.customer_id if change.customer_id is not None else current.customer_id,
            change.api_token or current.api_token,
        )
    )
    for name, value in change.days.items():
        try:
            days(name, value)
        except UsageError as exc:
            found[name] = exc.message
    return found


def apply(current: BankingSettings, change: SettingsChange) -> BankingSettings:
    """The new settings (``current`` untouched), or UsageError naming the first problem.
    Whether enabled settings are complete is ``check_enabled``'s, once all is applied."""
    if change.demo and change.admin_url is not None:
        raise UsageError("--demo and --admin-url contradict each other; choose one.")
    new = BankingSettings.from_dict(current.to_dict())
    if change.demo:
        new.admin_url = ""
    if change.admin_url is not None:
        new.admin_url = validation.admin_url(change.admin_url)
    if change.customer_id is not None:
        new.customer_id = validation.credential(change.customer_id, "Customer ID")
    if change.api_token:
        new.api_token = validation.credential(change.api_token, "Portal API Token")
    for name, value in change.switches.items():
        if name not in SWITCHES:
            raise UsageError(f"'{name}' is not an on/off Banking Setting.")
        setattr(new, name, bool(value))
    for name, typed in change.days.items():
        setattr(new, name, days(name, typed))
    return new


# the reminder-mail settings (DESIGN 8): what the mail section of the Settings screen saves
MAIL_FIELDS = (
    "mail_to",
    "mail_from",
    "mail_transport",
    "smtp_host",
    "smtp_port",
    "smtp_security",
    "smtp_user",
    "smtp_password",
)


def with_mail(current: BankingSettings, typed: BankingSettings) -> BankingSettings:
    """``current`` (as stored now) with the mail settings of ``typed``: a mail section
    filled from an older read never writes back the other settings, which a newer save
    may have changed meanwhile."""
    new = BankingSettings.from_dict(current.to_dict())
    for name in MAIL_FIELDS:
        setattr(new, name, getattr(typed, name))
    return new


def check_enabled(settings: BankingSettings) -> None:
    """Refuse to save enabled settings that lack an admin URL, Customer ID or token."""
    missing = validation.enabled_problems(
        settings.enabled, settings.admin_url, settings.customer_id, settings.api_token
    )
    if missing:
        labels = [
            label
            for field, label in (
                ("admin_url", "an admin URL"),
                ("customer_id", "a Customer ID"),
                ("api_token", "a Portal API Token"),
            )
            if field in missing
        ]
        listed = " and ".join([", ".join(labels[:-1]), labels[-1]] if len(labels) > 1 else labels)
        raise UsageError(
            f"Enabling Banking Settings needs {listed}; nothing was saved. "
            "(Without an admin URL the built-in Demo Bank portal is used.)"
        )
