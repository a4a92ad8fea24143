"""``kosma-tui settings``: show or change Banking Settings."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from typing import Any

from kosma_tui.commands.base import DEMO_BANNER, print_json
from kosma_tui.core import validation
from kosma_tui.core.errors import KosmaError, UsageError
from kosma_tui.core.records import BankingSettings
from kosma_tui.core.usecases import settings as settings_changes
from kosma_tui.core.usecases.settings import DAY_LIMITS, SettingsChange
from kosma_tui.runtime import Runtime


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("settings", help="show or change Banking Settings")
    onoff = p.add_mutually_exclusive_group()
    onoff.add_argument(
        "--enable",
        dest="enabled",
        action="store_true",
        default=None,
        help="enable the banking integration",
    )
    onoff.add_argument(
        "--disable", dest="enabled", action="store_false", help="disable the banking integration"
    )
    p.add_argument("--admin-url", help="the banking portal's admin URL (https://)")
    p.add_argument("--customer-id", help="the Customer ID you received by email")
    p.add_argument(
        "--api-token-stdin",
        action="store_true",
        help="read the Portal API Token from standard input (never from arguments)",
    )
    p.add_argument(
        "--party-matching",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="automatic party matching on newly synced transactions",
    )
    p.add_argument(
        "--fuzzy-matching",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="match parties by name when no IBAN or account number matches",
    )
    p.add_argument(
        "--test-environment",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="use the portal's test environment",
    )
    p.add_argument("--reminder-days", help="warn this many days before a consent expires")
    p.add_argument(
        "--lookback-days", help="re-read this many days before the Last Integration Date"
    )
    p.add_argument(
        "--erpnext-auto-push",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="push new transactions to ERPNext after every successful sync",
    )
    p.add_argument(
        "--demo",
        action="store_true",
        help="return to the embedded Demo Bank portal (forgets the admin URL)",
    )
    add_mail_arguments(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def add_mail_arguments(p: argparse.ArgumentParser) -> None:
    mail = p.add_argument_group("reminders by mail (sent by the daily job and 'kosma-tui remind')")
    mail.add_argument(
        "--mail-to",
        metavar="ADDR[,ADDR...]",
        help="who gets the reminder mails (an empty value turns them off)",
    )
    mail.add_argument("--mail-from", metavar="ADDR", help="the sender address")
    transport = mail.add_mutually_exclusive_group()
    transport.add_argument("--smtp-host", metavar="H", help="send through this SMTP server")
    transport.add_argument(
        "--sendmail", action="store_true", help="send through the local sendmail program"
    )
    mail.add_argument(
        "--smtp-port", metavar="P", help="the SMTP port (default 587 STARTTLS, 465 SSL, 25 plain)"
    )
    mail.add_argument("--smtp-user", metavar="U", help="log in to the SMTP server as U")
    mail.add_argument(
        "--smtp-password-stdin",
        action="store_true",
        help="read the SMTP password from standard input (stored encrypted)",
    )
    security = mail.add_mutually_exclusive_group()
    security.add_argument(
        "--smtp-starttls",
        dest="smtp_security",
        action="store_const",
        const="starttls",
        help="upgrade with STARTTLS (the default)",
    )
    security.add_argument(
        "--smtp-ssl",
        dest="smtp_security",
        action="store_const",
        const="ssl",
        help="connect with SSL/TLS from the start",
    )
    security.add_argument(
        "--smtp-plain",
        dest="smtp_security",
        action="store_const",
        const="none",
        help="no encryption (a relay on this machine)",
    )


def apply_mail_changes(
    new: BankingSettings, args: argparse.Namespace, password: str | None
) -> None:
    """The mail options onto ``new``; UsageError when the result cannot send."""
    from kosma_tui.core import mail

    touched = False
    if args.mail_to is not None:
        new.mail_to, touched = mail.addresses(args.mail_to), True
    if args.mail_from is not None:
        new.mail_from, touched = settings_changes.sender(args.mail_from), True
    if args.sendmail:
        new.mail_transport, touched = "sendmail", True
    if args.smtp_host is not None:
        host = settings_changes.smtp_host(args.smtp_host, required=True)
        new.mail_transport, new.smtp_host, touched = "smtp", host, True
    if args.smtp_port is not None:
        new.smtp_port, touched = settings_changes.smtp_port(args.smtp_port), True
    if args.smtp_user is not None:
        new.smtp_user, touched = args.smtp_user.strip(), True
        if not new.smtp_user:
            new.smtp_password = ""
    if password is not None:
        if not new.smtp_user:
            raise UsageError("--smtp-password-stdin needs an SMTP user (--smtp-user).")
        new.smtp_password, touched = password, True
    if args.smtp_security is not None:
        new.smtp_security, touched = args.smtp_security, True
    if touched and new.mail_to:
        problem = mail.problems(new)
        if problem:
            raise UsageError(f"{problem} Nothing was saved.")


def apply_changes(
    current: BankingSettings,
    args: argparse.Namespace,
    token: str | None,
    smtp_password: str | None = None,
) -> BankingSettings:
    """The new settings, or UsageError if they would be invalid (nothing saved)."""
    change = SettingsChange(
        admin_url=args.admin_url, demo=args.demo, customer_id=args.customer_id, api_token=token
    )
    if args.enabled is not None:
        change.switches["enabled"] = args.enabled
    for option, name in (
        ("party_matching", "enable_party_matching"),
        ("fuzzy_matching", "enable_fuzzy_matching"),
        ("test_environment", "use_test_environment"),
        ("erpnext_auto_push", "erpnext_auto_push"),
    ):
        if getattr(args, option) is not None:
            change.switches[name] = getattr(args, option)
    for name in DAY_LIMITS:
        if getattr(args, name) is not None:
            change.days[name] = getattr(args, name)
    new = settings_changes.apply(current, change)
    apply_mail_changes(new, args, smtp_password)
    settings_changes.check_enabled(new)
    return new


def typed_password(value: str, what: str) -> str:
    """A password as typed: spaces are allowed, control characters (a pasted escape) not."""
    text = value.rstrip("\r\n")
    if not text.isprintable():
        raise UsageError(f"The {what} cannot contain control characters.")
    return text


def read_token(
    option: str = "--api-token-stdin",
    what: str = "Portal API Token",
    example: str = "token.txt",
    check: Callable[[str, str], str] = validation.credential,
) -> str:
    if sys.stdin is None or sys.stdin.isatty():
        raise UsageError(
            f"{option} reads the {what} from standard input; pipe it in, "
            f"for example: kosma-tui settings {option} < {example}"
        )
    token = check(sys.stdin.readline(), what)
    if not token:
        raise UsageError(f"The {what} read from standard input is empty; nothing was saved.")
    return token


def settings_json(settings: BankingSettings) -> dict[str, Any]:
    data = settings.public_dict()
    data["demo"] = settings.demo
    data["api_token_set"] = bool(settings.api_token)
    data["smtp_password_set"] = bool(settings.smtp_password)
    data["effectively_enabled"] = settings.effectively_enabled
    return data


def fetch_subscription(runtime: Runtime) -> dict[str, Any]:
    """The first subscription record from the portal (usage, limit, status), remembered
    for ``kosma-tui status``."""
    from kosma_tui.core import subscription

    async def fetch() -> Any:
        async with runtime.portal(attended=True) as client:
            return await subscription.fetch(runtime.store, client)

    return asyncio.run(fetch()) or {}


def run(args: argparse.Namespace, runtime: Runtime) -> int:
    store = runtime.store
    if args.api_token_stdin and args.smtp_password_stdin:
        raise UsageError(
            "Standard input holds one secret: give --api-token-stdin and "
            "--smtp-password-stdin in two runs."
        )
    token = read_token() if args.api_token_stdin else None
    smtp_password = (
        read_token("--smtp-password-stdin", "SMTP password", "smtp-password.txt", typed_password)
        if args.smtp_password_stdin
        else None
    )
    changing = any(
        v not in (None, False)
        for k, v in vars(args).items()
        if k not in ("json", "func", "command")
    )
    current = store.settings()
    settings = current
    if changing:
        settings = apply_changes(current, args, token, smtp_password)
        store.save_settings(settings)
    subscription: dict[str, Any] | None = None
    problem: KosmaError | None = None
    if settings.effectively_enabled:  # shown too, not only after a change: usage matters
        try:
            subscription = fetch_subscription(runtime)
        except KosmaError as exc:
            problem = exc
    if args.json:
        data = settings_json(settings)
        data["saved"] = changing
        data["subscription"] = subscription
        data["subscription_error"] = problem.as_json() if problem else None
        print_json(data)
    else:
        print_settings(settings, changing, subscription, problem)
    return 1 if problem and changing else 0


def mail_summary(settings: BankingSettings) -> str:
    """'to a@x.org via smtp.example.com:587 (STARTTLS, user u)' or 'off'."""
    if not settings.mail_to:
        return "off"
    to = ", ".join(settings.mail_to)
    if settings.mail_transport == "sendmail":
        return f"to {to} via the local sendmail"
    if settings.mail_transport != "smtp":
        return f"to {to}, not sendable yet (no --smtp-host or --sendmail)"
    from kosma_tui.core.mail import DEFAULT_PORTS

    port = settings.smtp_port or DEFAULT_PORTS.get(settings.smtp_security, 25)
    security = {"starttls": "STARTTLS", "ssl": "SSL", "none": "plain"}.get(
        settings.smtp_security, settings.smtp_security
    )
    login = f", user {settings.smtp_user}" if settings.smtp_user else ""
    return f"to {to} via {settings.smtp_host}:{port} ({security}{login})"


def print_settings(
    settings: BankingSettings,
    saved: bool,
    subscription: dict[str, Any] | None,
    problem: KosmaError | None,
) -> None:
    mode = DEMO_BANNER if settings.demo else settings.admin_url
    print(f"Kosma TUI · Banking Settings · {mode}")
    if saved:
        print("Saved.")
    rows = [
        ("Enabled", "yes (demo)" if settings.demo else "yes" if settings.enabled else "no"),
        ("Admin URL", settings.admin_url or "(none: built-in Demo Bank portal)"),
        ("Customer ID", settings.customer_id or "-"),
        ("Portal API Token", settings.masked_token() or "-"),
        ("Test environment", "yes" if settings.use_test_environment else "no"),
        ("Party matching", "on" if settings.enable_party_matching else "off"),
        ("Fuzzy matching", "on" if settings.enable_fuzzy_matching else "off"),
        ("Reminder days", str(settings.reminder_days)),
        ("Lookback days", str(settings.lookback_days)),
        ("ERPNext auto push", "on" if settings.erpnext_auto_push else "off"),
        ("Reminder mails", mail_summary(settings)),
    ]
    for label, value in rows:
        print(f"  {label:<18} {value}")
    if subscription:
        from kosma_tui.core.subscription import usage_text

        print(
            f"Subscription: {subscription.get('subscription_status') or '?'}, "
            f"{usage_text(subscription.get('usage'), subscription.get('transaction_limit'))}"
        )
        if subscription.get("plan_end_date"):
            print(f"  Plan ends {subscription['plan_end_date']}")
        if subscription.get("billing_portal"):
            print(f"  Billing portal: {subscription['billing_portal']}")
    if problem:
        first = "Settings saved, but the" if saved else "The"
        print(f"{first} subscription could not be fetched: {problem.sentence()}", file=sys.stderr)
