"""``kosma-tui settings``: show or change Banking Settings."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from kosma_tui.commands.base import DEMO_BANNER, open_store, print_json
from kosma_tui.core import validation
from kosma_tui.core.errors import KosmaError, UsageError
from kosma_tui.core.records import BankingSettings


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("settings", help="show or change Banking Settings")
    onoff = p.add_mutually_exclusive_group()
    onoff.add_argument("--enable", dest="enabled", action="store_true", default=None,
                       help="enable the banking integration")
    onoff.add_argument("--disable", dest="enabled", action="store_false",
                       help="disable the banking integration")
    p.add_argument("--admin-url", help="the banking portal's admin URL (https://)")
    p.add_argument("--customer-id", help="the Customer ID you received by email")
    p.add_argument("--api-token-stdin", action="store_true",
                   help="read the Portal API Token from standard input (never from arguments)")
    p.add_argument("--party-matching", action=argparse.BooleanOptionalAction, default=None,
                   help="automatic party matching on newly synced transactions")
    p.add_argument("--fuzzy-matching", action=argparse.BooleanOptionalAction, default=None,
                   help="match parties by name when no IBAN or account number matches")
    p.add_argument("--test-environment", action=argparse.BooleanOptionalAction, default=None,
                   help="use the portal's test environment")
    p.add_argument("--reminder-days", help="warn this many days before a consent expires")
    p.add_argument("--lookback-days",
                   help="re-read this many days before the Last Integration Date")
    p.add_argument("--erpnext-auto-push", action=argparse.BooleanOptionalAction, default=None,
                   help="push new transactions to ERPNext after every successful sync")
    p.add_argument("--demo", action="store_true",
                   help="return to the embedded Demo Bank portal (forgets the admin URL)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def apply_changes(current: BankingSettings, args: argparse.Namespace,
                  token: str | None) -> BankingSettings:
    """The new settings, or UsageError if they would be invalid (nothing saved)."""
    new = BankingSettings.from_dict(current.to_dict())
    if args.demo:
        if args.admin_url:
            raise UsageError("--demo and --admin-url contradict each other; choose one.")
        new.admin_url = ""
    if args.admin_url is not None:
        new.admin_url = validation.admin_url(args.admin_url)
    if args.customer_id is not None:
        new.customer_id = validation.credential(args.customer_id, "Customer ID")
    if token is not None:
        new.api_token = token
    if args.enabled is not None:
        new.enabled = args.enabled
    for name in ("party_matching", "fuzzy_matching", "test_environment", "erpnext_auto_push"):
        value = getattr(args, name)
        if value is not None:
            field = {"party_matching": "enable_party_matching",
                     "fuzzy_matching": "enable_fuzzy_matching",
                     "test_environment": "use_test_environment"}.get(name, name)
            setattr(new, field, value)
    if args.reminder_days is not None:
        new.reminder_days = validation.positive_int(args.reminder_days, "Reminder days", 89)
    if args.lookback_days is not None:
        new.lookback_days = validation.positive_int(args.lookback_days, "Lookback days", 90)
    check_enabled(new)
    return new


def check_enabled(settings: BankingSettings) -> None:
    """Refuse to save enabled settings that lack an admin URL, Customer ID or token."""
    missing = validation.enabled_problems(settings.enabled, settings.admin_url,
                                          settings.customer_id, settings.api_token)
    if missing:
        labels = [label for field, label in (("admin_url", "an admin URL"),
                                             ("customer_id", "a Customer ID"),
                                             ("api_token", "a Portal API Token"))
                  if field in missing]
        listed = " and ".join([", ".join(labels[:-1]), labels[-1]] if len(labels) > 1
                              else labels)
        raise UsageError(
            f"Enabling Banking Settings needs {listed}; nothing was saved. "
            "(Without an admin URL the built-in Demo Bank portal is used.)"
        )


def read_token() -> str:
    if sys.stdin is None or sys.stdin.isatty():
        raise UsageError("--api-token-stdin reads the token from standard input; pipe it in, "
                         "for example: kosma-tui settings --api-token-stdin < token.txt")
    token = validation.credential(sys.stdin.readline(), "Portal API Token")
    if not token:
        raise UsageError(
            "The Portal API Token read from standard input is empty; nothing was saved."
        )
    return token


def settings_json(settings: BankingSettings) -> dict[str, Any]:
    data = settings.public_dict()
    data["demo"] = settings.demo
    data["api_token_set"] = bool(settings.api_token)
    data["effectively_enabled"] = settings.effectively_enabled
    return data


def fetch_subscription(store: Any) -> dict[str, Any]:
    """The first subscription record from the portal (usage, limit, status), remembered
    for ``kosma-tui status``."""
    from kosma_tui.core import subscription
    from kosma_tui.core.connection import PortalConnection

    async def fetch() -> Any:
        async with PortalConnection(store, attended=True) as client:
            return await subscription.fetch(store, client)

    return asyncio.run(fetch()) or {}


def run(args: argparse.Namespace) -> int:
    store = open_store()
    token = read_token() if args.api_token_stdin else None
    changing = any(v not in (None, False) for k, v in vars(args).items()
                   if k not in ("json", "func", "command"))
    current = store.settings()
    settings = current
    if changing:
        settings = apply_changes(current, args, token)
        store.save_settings(settings)
    subscription: dict[str, Any] | None = None
    problem: KosmaError | None = None
    if settings.effectively_enabled:  # shown too, not only after a change: usage matters
        try:
            subscription = fetch_subscription(store)
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


def print_settings(settings: BankingSettings, saved: bool, subscription: dict[str, Any] | None,
                   problem: KosmaError | None) -> None:
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
    ]
    for label, value in rows:
        print(f"  {label:<18} {value}")
    if subscription:
        from kosma_tui.core.subscription import usage_text

        print(f"Subscription: {subscription.get('subscription_status') or '?'}, "
              f"{usage_text(subscription.get('usage'), subscription.get('transaction_limit'))}")
        if subscription.get("plan_end_date"):
            print(f"  Plan ends {subscription['plan_end_date']}")
        if subscription.get("billing_portal"):
            print(f"  Billing portal: {subscription['billing_portal']}")
    if problem:
        first = "Settings saved, but the" if saved else "The"
        print(f"{first} subscription could not be fetched: {problem.sentence()}",
              file=sys.stderr)
