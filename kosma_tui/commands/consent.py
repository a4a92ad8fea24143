"""``kosma-tui consent``: list Bank Consents, revoke one (DESIGN 8).

Revoking calls the portal's ``revoke_consent`` and then removes the consent
here; its accounts and their transactions stay, and syncing them says to link
the bank again.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

from kosma_tui.commands.base import confirm, print_header, print_json, safe_text
from kosma_tui.runtime import Runtime

if TYPE_CHECKING:
    from kosma_tui.core.admin import Revoked
    from kosma_tui.core.records import BankConsent


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("consent", help="list Bank Consents, or revoke one")
    csub = p.add_subparsers(
        dest="consent_command", metavar="ACTION", required=True, parser_class=type(p)
    )
    listing = csub.add_parser("list", help="every Bank Consent with its days left")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=run_list)
    revoke = csub.add_parser(
        "revoke",
        help="withdraw a Bank Consent at the bank and remove it here",
        description="Withdraw a Bank Consent through the banking portal, then remove it "
        "locally. Its accounts and transactions stay; syncing them asks to link again. "
        "Asks first on a terminal; without one, refuses unless --yes.",
    )
    revoke.add_argument("bank", metavar="BANK", help="the bank (name or a unique beginning)")
    revoke.add_argument(
        "--company", metavar="NAME", help="the company (needed when the bank is linked for several)"
    )
    revoke.add_argument("--yes", action="store_true", help="do not ask")
    revoke.add_argument("--json", action="store_true", help="machine-readable output")
    revoke.set_defaults(func=run_revoke)


def run_list(args: argparse.Namespace, runtime: Runtime) -> int:
    from kosma_tui.core.sync.health import health

    store = runtime.store
    report = health(store)
    data = report.as_json()
    counts: dict[str, int] = {}
    for account in store.accounts():
        key = f"{account.bank}-{account.company}"
        counts[key] = counts.get(key, 0) + 1
    for item in data["consents"]:
        item["accounts"] = counts.get(item["name"], 0)
    if args.json:
        print_json({"demo": data["demo"], "consents": data["consents"]})
        return 0
    print_header(store, "Bank Consents")
    if not data["consents"]:
        print("No Bank Consents yet: link a bank with 'kosma-tui link --company NAME'.")
    for item in data["consents"]:
        print(
            f"{safe_text(item['bank'])} · {safe_text(item['company'])}: {item['status']}, "
            f"{item['days_left']} days left (from {item['consent_start']}, expires "
            f"{item['consent_expiry'][:10]}), {item['accounts']} account(s)"
        )
    return 0


def run_revoke(args: argparse.Namespace, runtime: Runtime) -> int:
    from kosma_tui.core.admin import find_consent
    from kosma_tui.core.errors import UsageError

    store = runtime.store
    consent = find_consent(store, args.bank, args.company)
    label = f"{consent.bank} · {consent.company}"
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError(
                f"Revoking the Bank Consent {label} ends it at the bank, and "
                "there is no terminal to ask.",
                "Add --yes to revoke it.",
            )
        question = (
            f"Revoke the Bank Consent {safe_text(label)} at the bank? Its accounts "
            "and transactions stay, but cannot be synced until you link again."
        )
        if not confirm(question):
            print("Nothing was revoked.")
            return 0
    revoked = asyncio.run(_revoke(runtime, consent))
    names = [a.name for a in revoked.accounts]
    if args.json:
        print_json(
            {
                "revoked": {
                    "name": consent.name,
                    "bank": consent.bank,
                    "company": consent.company,
                    "accounts": names,
                    "note": revoked.portal_note or None,
                }
            }
        )
        return 0
    print(f"Revoked the Bank Consent {safe_text(label)} and removed it here.")
    if revoked.portal_note:
        print(f"Note: {safe_text(revoked.portal_note)}")
    if names:
        listed = ", ".join(f"'{safe_text(n)}'" for n in names)
        print(
            f"Kept {listed} and their transactions; to sync them again, link "
            f"{safe_text(consent.bank)} again, or remove them with 'kosma-tui account "
            "remove NAME'."
        )
    return 0


async def _revoke(runtime: Runtime, consent: BankConsent) -> Revoked:
    from kosma_tui.core.admin import revoke_consent

    async with runtime.portal(attended=sys.stdin.isatty()) as client:
        return await revoke_consent(runtime.store, client, consent)
