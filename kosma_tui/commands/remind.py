"""``kosma-tui remind``: mail the reminders of consents that need renewing.

The daily job (``sync --all``) does the same after syncing; either way at most
one mail per consent and day. Exit status like ``status``: 0 OK, 1 a consent
expires within ``reminder_days`` (or a mail could not be sent), 2 a consent has
expired or an account's last sync failed; 2 also when mail is not set up.
"""

from __future__ import annotations

import argparse
import sys

from kosma_tui.commands.base import print_header, print_json, safe_text
from kosma_tui.core.errors import ConfigurationError
from kosma_tui.runtime import Runtime

SETUP = (
    "Set it up with 'kosma-tui settings --mail-to ADDR --smtp-host HOST "
    "[--smtp-starttls | --smtp-ssl]' (or --sendmail), or in the Settings screen."
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "remind",
        help="mail reminders of consents that expire soon (once a day each)",
        description="Mail a reminder for every Bank Consent that expires within the reminder "
        "days or has expired, at most once a day per consent. Exit status like 'status': 0 OK, "
        "1 a consent expires soon (or a mail failed), 2 a consent has expired or mail is not "
        "set up.",
    )
    p.add_argument(
        "--test", action="store_true", help="send one test mail through the mail settings and exit"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, runtime: Runtime) -> int:
    from kosma_tui.core import mail, reminders
    from kosma_tui.core.sync.health import health

    store = runtime.store
    settings = store.settings()
    problem = mail.problems(settings)
    if problem:
        raise ConfigurationError(f"Reminders by mail are not set up: {problem}", SETUP)
    if args.test:
        reminders.send_test(settings)
        if args.json:
            print_json({"demo": settings.demo, "test_mail": "sent", "mail_to": settings.mail_to})
        else:
            print(f"Test mail sent to {', '.join(settings.mail_to)}.")
        return 0
    sent = reminders.send_due(store)
    level = health(store).level
    failed = [r for r in sent if r.mail == reminders.FAILED]
    if failed:
        level = max(level, 1)
    if args.json:
        print_json(
            {
                "demo": settings.demo,
                "mail_to": settings.mail_to,
                "reminders": [r.as_json() for r in sent],
            }
        )
        return level
    print_header(store, "Reminders")
    if not sent:
        print(f"No consent needs renewing within {settings.reminder_days} days; no mail sent.")
    for r in sent:
        what = {
            reminders.SENT: f"mailed to {', '.join(settings.mail_to)}",
            reminders.ALREADY_SENT: "already mailed today",
            reminders.FAILED: "mail FAILED",
        }[r.mail]
        days = "expired" if r.state.status == "expired" else f"{r.state.days_left} days left"
        print(f"  {safe_text(r.consent.name)} ({days}): {what}")
    for r in failed:
        error = r.error
        print(
            f"kosma-tui: {error.message} {error.remedy}".rstrip() if error else "", file=sys.stderr
        )
    return level
