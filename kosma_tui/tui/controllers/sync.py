"""Manual sync in the TUI: what happens when a screen asks for a sync, and how the results
are announced when the queue runs dry. The queue itself is ``tui.sync_queue``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kosma_tui.tui.feedback import report, sentence, toast
from kosma_tui.tui.sync_queue import QUEUED, RUNNING, AccountSync
from kosma_tui.tui.text import clean
from kosma_tui.tui.work import in_thread

if TYPE_CHECKING:
    from kosma_tui.core.records import BankAccount
    from kosma_tui.core.sync.rules import RuleRefusal
    from kosma_tui.tui.app import KosmaApp


def describe(state: AccountSync) -> str:
    if state.state == QUEUED:
        return "queued"
    if state.state == RUNNING:
        if state.phase == "balances":
            return "reading balances"
        if state.phase in ("saving", "done"):
            return f"saving · {state.fetched:,} fetched"
        return f"page {state.page} · {state.fetched:,} fetched"
    if state.state == "ok" and state.result is not None:
        r = state.result
        parts = [f"{r.new:,} new"]
        if r.updated:
            parts.append(f"{r.updated:,} updated")
        if r.skipped:
            parts.append(f"{r.skipped:,} skipped")
        return f"{', '.join(parts)}, {r.fetched:,} fetched"
    stopped = getattr(state.result, "stopped", "") if state.result is not None else ""
    if stopped:  # an early stop that kept its progress: where and why says it all
        return str(stopped)
    if state.state in ("failed", "refused") and state.error is not None:
        return f"{state.state}: {sentence(state.error)}"
    return "idle"


class SyncController:
    """Starts syncs for the screens and announces what the queue did."""

    def __init__(self, app: KosmaApp) -> None:
        self.app = app

    def start(self, name: str) -> None:
        """Sync one account: refusals (with the conflict's two remedies) are shown, not
        queued. The account and its refusal are read by a thread worker."""
        from kosma_tui.core.sync import refusal

        store = self.app.store

        def check() -> tuple[BankAccount | None, RuleRefusal | None]:
            account = store.account(name)
            return account, (refusal(store, account) if account is not None else None)

        in_thread(
            self.app, check, lambda found: self.checked(name, *found), name=f"sync-check-{name}"
        )

    def checked(self, name: str, account: BankAccount | None, refused: RuleRefusal | None) -> None:
        from kosma_tui.core.sync import ConsentStartConflict
        from kosma_tui.tui.dialogs.conflict import ConflictModal

        app = self.app
        if account is None:
            return
        if isinstance(refused, ConsentStartConflict):
            app.push_screen(ConflictModal(refused))
            return
        if refused is not None:
            report(app, refused, title=f"{clean(name)} cannot be synced")
            return
        if app.sync([name]):
            toast(app, f"{name}: sync started.")
        app.open_screen("sync")

    def start_all(self, *, announce: bool, show: bool) -> None:
        """Queue every enabled account (a disabled one is skipped, as by the daily job),
        read by a thread worker."""
        store = self.app.store

        def queue(names: list[str]) -> None:
            added = self.app.sync(names)
            if announce:
                toast(self.app, f"{len(added)} account(s) queued for sync.")
            if show:
                self.app.open_screen("sync")

        in_thread(
            self.app,
            lambda: [a.name for a in store.accounts() if a.enabled],
            queue,
            name="sync-all",
        )

    def start_many(self, names: list[str]) -> None:
        self.app.sync(names)
        self.app.open_screen("sync")

    # -- the queue ran dry -----------------------------------------------

    def announce_batch(self, finished: list[AccountSync]) -> None:
        """One account gets its own toast; several get one summary, since the Sync screen
        already lists each result (a toast per account would cover it)."""
        app = self.app
        if len(finished) == 1:
            self.announce(finished[0])
        if len(finished) <= 1:
            return
        ok = [s for s in finished if s.state == "ok"]
        new = sum(s.result.new for s in ok if s.result is not None)
        failed = len(finished) - len(ok)
        text = f"{len(ok)} synced, {new:,} new transaction(s)"
        if failed:
            text += (
                f"; {failed} not synced: the Sync screen (y) says why, Enter on a row "
                "says what to do"
            )
        toast(app, text + ".", title=f"Sync of {len(finished)} accounts done", warning=bool(failed))
        push_error = next(
            (
                s.result.push_error
                for s in ok
                if s.result is not None and getattr(s.result, "push_error", None) is not None
            ),
            None,
        )
        if push_error is not None:
            report(app, push_error, title="ERPNext push failed")

    def announce(self, state: AccountSync) -> None:
        """A toast for a finished account."""
        app = self.app
        if state.state == "ok" and state.result is not None:
            toast(app, describe(state), title=f"{state.name} synced")
            self.warn_mismatch(state.name)
            push_error = getattr(state.result, "push_error", None)
            if push_error is not None:  # reported, never a failed sync
                report(app, push_error, title=f"{state.name}: ERPNext push failed")
        elif state.error is not None:
            report(app, state.error, title=f"{state.name}: sync {state.state}")

    def warn_mismatch(self, name: str) -> None:
        """After a sync: say so when the account's balance does not add up (DESIGN 8)."""
        from kosma_tui.core.sync import balance_check
        from kosma_tui.core.sync.health import mismatch_sentence

        def warn(account: BankAccount | None) -> None:
            if account is not None and balance_check.is_mismatch(account):
                toast(
                    self.app,
                    mismatch_sentence(account),
                    title=f"{name}: the balance does not add up",
                    warning=True,
                )

        store = self.app.store
        in_thread(self.app, lambda: store.account(name), warn, name=f"mismatch-{name}")

    # -- party matching again ----------------------------------------------

    def match_again(self, names: list[str]) -> None:
        """Party matching again over the stored transactions of ``names`` without a party,
        in a thread (a large book takes a moment); the count is announced with a toast."""
        from kosma_tui.core.errors import ConfigurationError, KosmaError
        from kosma_tui.core.matching import rematch_account

        app = self.app
        store = app.store

        def failed(exc: KosmaError) -> None:
            if isinstance(exc, ConfigurationError):  # matching is off: how to turn it on
                toast(app, exc.remedy, title=exc.message, warning=True)
            else:
                report(app, exc)

        def done(total: int) -> None:
            which = names[0] if len(names) == 1 else f"{len(names)} accounts"
            toast(app, f"{which}: {total:,} transaction(s) got a party.")
            if total:
                app.data_signal.publish("transactions")

        in_thread(
            app,
            lambda: sum(rematch_account(store, name) for name in names),
            done,
            name="match-parties",
            failed=failed,
        )
