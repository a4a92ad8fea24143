"""``kosma-tui status``: consents and accounts at a glance, for people and monitoring.

Exit status (monitoring-plugin convention): 0 OK, 1 a consent expires within
``reminder_days``, 2 a consent has expired or an account's last sync failed
or was refused. Imports neither Textual nor the portal client.
"""

from __future__ import annotations

import argparse

from kosma_tui.commands.base import print_header, print_json, safe_text
from kosma_tui.core.records import Balance, LastSync
from kosma_tui.runtime import Runtime


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "status",
        help="consents (days left) and accounts; exit 0 OK, 1 warning, 2 critical",
        description="Show Bank Consents with their days left and Bank Accounts with their "
        "last sync. Exit status: 0 OK, 1 a consent expires within the reminder days, "
        "2 a consent has expired or an account's last sync failed.",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, runtime: Runtime) -> int:
    from kosma_tui.core.money import format_amount
    from kosma_tui.core.subscription import remembered, usage_text
    from kosma_tui.core.sync import coverage
    from kosma_tui.core.sync.health import health
    from kosma_tui.core.sync.rules import parse_expiry

    store = runtime.store
    report = health(store)
    subscription = remembered(store)  # the last one fetched: status asks no portal
    if args.json:
        data = report.as_json()
        data["subscription"] = subscription
        print_json(data)
        return report.level
    print_header(store, "Status")
    print("Bank Consents")
    if not report.consents:
        print("  none yet: link a bank with 'kosma-tui link --company NAME'")
    for consent, state in report.consents:
        expiry = parse_expiry(consent)
        expires = f"{expiry.astimezone():%Y-%m-%d %H:%M}" if expiry else "unknown"
        print(f"  {safe_text(consent.name)}: {state.status}, {state.days_left} days left")
        print(f"      start {consent.consent_start}, expires {expires}")
    print("Bank Accounts")
    if not report.accounts:
        print("  none yet")
    for account in report.accounts:
        balance = account.balance or Balance()
        amount = balance.shown
        currency = balance.currency or account.currency
        money = f"{format_amount(amount, currency)} {currency}" if amount is not None else "-"
        last = account.last_sync or LastSync()
        when = last.when[:16].replace("T", " ")
        synced = f"{last.outcome} {when}".strip() or "never"
        off = "  (disabled: not synced, not counted)" if not account.enabled else ""
        print(f"  {safe_text(account.name)}  {safe_text(account.iban)}{off}")
        print(
            f"      balance {money} · Last Integration Date "
            f"{account.last_integration_date or '-'} · last sync {synced}"
        )
        check = account.balance_check or {}
        if check.get("status") == "mismatch":
            print(
                f"      balance check: MISMATCH, "
                f"{format_amount(check['difference'], currency, sign=True)} {currency} "
                f"(the bank's booked balance minus the stored transactions)"
            )
        if account.coverage:
            span = coverage.as_json(account.coverage)
            gaps = coverage.describe_gaps(account.coverage)
            print(
                f"      coverage {span['from']} to {span['to']}"
                + (f" · gaps: {gaps}" if gaps else " · no gaps")
            )
    if subscription:
        when = str(subscription.get("fetched", ""))[:16].replace("T", " ")
        print(
            f"Subscription: {safe_text(subscription.get('subscription_status') or '?')}, "
            f"{usage_text(subscription.get('usage'), subscription.get('transaction_limit'))}"
            f" (as of {when}; 'kosma-tui settings' fetches it again)"
        )
    else:
        print("Subscription: not fetched yet ('kosma-tui settings' fetches it)")
    summary = "; ".join(report.problems) or (
        f"{len(report.consents)} consent(s) active, "
        f"{sum(a.enabled for a in report.accounts)} account(s) fine."
    )
    print(f"{report.level_name}: {safe_text(summary)}")
    return report.level
