"""Administration in the TUI (DESIGN 8): rename, disable/enable and remove on Accounts,
revoke on Consents. The work is core's (``core.admin``), as for the commands, and runs
off the UI thread; removing and revoking ask first."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from kosma_tui.tui.dialogs.confirm import ConfirmModal
from kosma_tui.tui.dialogs.rename import RenameModal
from kosma_tui.tui.feedback import report, toast
from kosma_tui.tui.text import clean
from kosma_tui.tui.work import in_thread

if TYPE_CHECKING:
    from kosma_tui.core.admin import Revoked
    from kosma_tui.core.records import BankAccount, BankConsent
    from kosma_tui.tui.app import KosmaApp


def rename(app: KosmaApp, account: BankAccount) -> None:
    def done(new: object) -> None:
        if isinstance(new, str):
            app.data_signal.publish("accounts")

    app.push_screen(RenameModal(account), done)


def toggle(app: KosmaApp, account: BankAccount) -> None:
    """Disable an enabled account, enable a disabled one (reversible: no question)."""
    from kosma_tui.core.admin import set_enabled

    def changed(account: BankAccount) -> None:
        if account.enabled:
            toast(app, "Enabled: Sync all includes it again.", title=account.name)
        else:
            toast(
                app,
                "Disabled: Sync all skips it and status no longer counts it. d enables it.",
                title=account.name,
            )
        app.data_signal.publish("accounts")

    in_thread(
        app,
        lambda: set_enabled(app.store, account.name, not account.enabled),
        changed,
        name="toggle-account",
    )


def remove(app: KosmaApp, account: BankAccount) -> None:
    """Remove an account and its local transactions, after a question."""
    from kosma_tui.core.admin import remove_account

    if app.sync_queue.state(account.name).busy:
        toast(
            app,
            "It is being synced: wait for the sync to end, then remove it.",
            title=account.name,
            warning=True,
        )
        return

    def removed(outcome: tuple[BankAccount, int]) -> None:
        gone_account, gone = outcome
        toast(
            app,
            f"Removed with its {gone:,} local transactions; ERPNext was not touched.",
            title=gone_account.name,
        )
        app.data_signal.publish("accounts")

    def done(confirmed: object) -> None:
        if confirmed:
            in_thread(
                app, lambda: remove_account(app.store, account.name), removed, name="remove-account"
            )

    def ask(count: int) -> None:
        app.push_screen(
            ConfirmModal(
                "Remove bank account",
                f"Remove {clean(account.name)} ({clean(account.bank)}) and its {count:,} local "
                "transactions? ERPNext is not touched. Linking the bank again would add it anew.",
                yes="Remove",
            ),
            done,
        )

    in_thread(app, lambda: app.store.book(account).count(), ask, name="count-transactions")


def revoke(app: KosmaApp, consent: BankConsent) -> None:
    """Withdraw a consent at the portal and remove it here, after a question. The store is
    read and written in thread workers: the withdrawal runs on an event loop of its own
    there, since ``revoke_consent`` mixes portal calls with store writes."""

    async def withdraw() -> Revoked:
        from kosma_tui.core.admin import revoke_consent

        async with app.portal() as client:
            return await revoke_consent(app.store, client, consent)

    def revoked(result: Revoked) -> None:
        kept = (
            f" Its {len(result.accounts)} account(s) stay; link the bank again to sync them."
            if result.accounts
            else ""
        )
        toast(
            app,
            f"Revoked and removed.{kept} {result.portal_note}".strip(),
            title=f"{consent.bank} · {consent.company}",
        )
        app.data_signal.publish("consents")

    def done(confirmed: object) -> None:
        if confirmed:
            in_thread(
                app,
                lambda: asyncio.run(withdraw()),
                revoked,
                name="revoke",
                failed=lambda exc: report(app, exc, title="The Bank Consent was not revoked"),
            )

    def ask(accounts: list[BankAccount]) -> None:
        app.push_screen(
            ConfirmModal(
                "Revoke Bank Consent",
                f"Revoke the Bank Consent of {clean(consent.bank)} for {clean(consent.company)} "
                f"at the bank? Its {len(accounts)} account(s) and their transactions stay, but "
                "cannot be synced until you link the bank again.",
                yes="Revoke",
            ),
            done,
        )

    in_thread(
        app,
        lambda: app.store.accounts(bank=consent.bank, company=consent.company),
        ask,
        name="revoke-accounts",
    )
