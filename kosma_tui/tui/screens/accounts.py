"""Accounts (home): every Bank Account with balance, Last Integration Date and consent days."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from kosma_tui.core import push_record
from kosma_tui.core.records import Balance, BankAccount, LastSync
from kosma_tui.core.sync import balance_check, coverage
from kosma_tui.tui.controllers import manage
from kosma_tui.tui.controllers.sync import describe
from kosma_tui.tui.feedback import toast
from kosma_tui.tui.messages import MatchParties, OpenScreen, RenewConsent, SyncAccount, SyncAll
from kosma_tui.tui.registry import registered
from kosma_tui.tui.screens.base import KosmaScreen
from kosma_tui.tui.status import ConsentView, consent_for, consent_views, when_text
from kosma_tui.tui.sync_queue import QUEUED, RUNNING
from kosma_tui.tui.text import clean, literal, money, short_iban, spaced_iban
from kosma_tui.tui.work import in_thread

if TYPE_CHECKING:
    from kosma_tui.core.store import Store

Column = tuple[str, str, int]
# (key, label, width) at 80 columns; the Account column takes what is left
NARROW: tuple[Column, ...] = (
    ("sync", " ", 1),
    ("account", "Account", 17),
    ("bank", "Bank", 9),
    ("iban", "IBAN", 10),
    ("balance", "Balance", 11),
    ("lid", "Last int.", 10),
    ("consent", "Cons.", 5),
)
# from 120 columns on there is room for the company, the whole IBAN and the last sync
WIDE: tuple[Column, ...] = (
    ("sync", " ", 1),
    ("account", "Account", 24),
    ("bank", "Bank", 14),
    ("company", "Company", 16),
    ("iban", "IBAN", 27),
    ("balance", "Balance", 14),
    ("lid", "Last int.", 10),
    ("consent", "Cons.", 7),
    ("last", "Last sync", 20),
)
WIDE_FROM = 120


# when the width runs short these go first (in this order), so that Balance is never cut
# off; a dropped Last Integration Date is given in the panel below
DROPPED_WHEN_NARROW = ("lid", "iban", "bank")
ACCOUNT_MIN = 17
CURRENCY_CELLS = 5  # " EUR" after each balance when several currencies are listed


def columns_for(width: int, currencies: int = 1) -> list[Column]:
    """The columns for a screen ``width`` cells wide, Account stretched to fill it."""
    chosen = list(WIDE if width >= WIDE_FROM else NARROW)
    if currencies > 1:
        chosen = [(k, label, w + CURRENCY_CELLS if k == "balance" else w) for k, label, w in chosen]

    def fixed() -> int:
        return sum(w for key, _label, w in chosen if key != "account") + 2 * len(chosen) + 4

    for key in DROPPED_WHEN_NARROW:
        if fixed() + ACCOUNT_MIN <= width + 1:
            break
        chosen = [c for c in chosen if c[0] != key]
    account = max(ACCOUNT_MIN, min(48, width - fixed()))
    return [(key, label, account if key == "account" else w) for key, label, w in chosen]


@dataclass
class AccountsData:
    """What the Accounts screen shows, read from the store in one go by a thread worker."""

    accounts: dict[str, BankAccount] = field(default_factory=dict)
    consents: dict[str, ConsentView] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # failed pushes and the like
    demo: bool = False


def load_accounts(store: Store) -> AccountsData:
    """Call from a thread worker: every read the screen needs, so drawing never waits."""
    return AccountsData(
        {a.name: a for a in store.accounts()},
        consent_views(store),
        list(push_record.problems(store)),
        bool(store.settings().demo),
    )


MISMATCH_STYLE = "bold #ffaf00"
SYNC_MARK = {
    "ok": ("✓", "green"),
    "failed": ("✗", "bold red"),
    "refused": ("!", "bold #ffaf00"),
    RUNNING: ("⟳", "bold cyan"),
    QUEUED: ("·", "cyan"),
}


@registered("accounts")
class AccountsScreen(KosmaScreen):
    TITLE = "Accounts"
    PURPOSE = (
        "Home. Every Bank Account with its bank, IBAN, balance, Last Integration Date, "
        "the days its Bank Consent has left (amber when a renewal is due, red when "
        "expired) and the outcome of its last sync. A balance marked ≠ does not add up "
        "with the stored transactions; the panel below says by how much, and which days "
        "no sync has read (gaps)."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "s",
            "sync",
            "Sync",
            id="sync-account",
            tooltip="Sync the selected account in the background",
        ),
        Binding(
            "a", "sync_all", "Sync all", id="sync-all", tooltip="Queue every account for a sync"
        ),
        Binding(
            "t",
            "transactions",
            "Transactions",
            id="transactions",
            tooltip="Bank Transactions of the selected account",
        ),
        Binding(
            "l",
            "link",
            "Link",
            id="link",
            tooltip="Link Bank and Accounts: a new bank or a renewal",
        ),
        Binding(
            "c",
            "app.open('consents')",
            "Consents",
            id="consents",
            tooltip="Every Bank Consent with its expiry and Renew",
        ),
        Binding(
            "g",
            "app.open('settings')",
            "Settings",
            id="settings",
            tooltip="Banking Settings and the subscription",
        ),
        Binding(
            "r",
            "renew",
            "Renew",
            id="renew",
            show=False,
            tooltip="Renew the Bank Consent of the selected account",
        ),
        Binding(
            "y",
            "app.open('sync')",
            "Sync progress",
            id="sync-progress",
            show=False,
            tooltip="Progress, queue and results of manual syncs",
        ),
        Binding(
            "p",
            "app.open('parties')",
            "Parties",
            id="parties",
            show=False,
            tooltip="Parties for automatic party matching",
        ),
        Binding(
            "e",
            "erpnext_push",
            "Push to ERPNext",
            id="erpnext-push",
            show=False,
            tooltip="Push the selected account's new Bank Transactions to ERPNext",
        ),
        Binding(
            "m",
            "match_parties",
            "Match parties",
            id="match-parties",
            show=False,
            tooltip="Match again the selected account's stored transactions that have "
            "no party (after adding parties)",
        ),
        Binding(
            "n",
            "rename",
            "Rename",
            id="rename-account",
            show=False,
            tooltip="Give the selected account another name",
        ),
        Binding(
            "d",
            "toggle_enabled",
            "Disable/enable",
            id="toggle-account",
            show=False,
            tooltip="Stop syncing the selected account (kept, not counted), or sync it again",
        ),
        Binding(
            "x",
            "remove",
            "Remove",
            id="remove-account",
            show=False,
            tooltip="Remove the selected account and its local transactions (asks "
            "first; ERPNext is not touched)",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.columns: list[Column] = []
        self.data = AccountsData()
        self.loaded = False  # until the first read: "loading…", not "no accounts"

    def compose_body(self) -> ComposeResult:
        with Vertical(id="accounts-body"):
            table: DataTable[Text] = DataTable(
                id="accounts-table", cursor_type="row", zebra_stripes=False
            )
            table.border_title = "Bank Accounts"
            yield table
            panel = Static(id="last-sync", markup=False)
            panel.border_title = "Last sync"
            yield panel

    @property
    def accounts(self) -> dict[str, BankAccount]:
        return self.data.accounts

    @property
    def consents(self) -> dict[str, ConsentView]:
        return self.data.consents

    def on_mount(self) -> None:
        self.fit_columns()
        self.reload()
        self.kosma.data_signal.subscribe(self, lambda _: self.reload())
        self.kosma.sync_signal.subscribe(self, self.on_sync_changed)
        self.kosma.settings_signal.subscribe(self, lambda _: self.reload())

    def on_screen_resume(self) -> None:
        self.reload()

    def on_resize(self) -> None:
        self.fit_columns()

    def fit_columns(self) -> bool:
        """Columns for the current width and the loaded accounts' currencies (rebuilt, rows
        and all, only when they change: then True)."""
        currencies = len({a.currency for a in self.accounts.values()})
        columns = columns_for(self.size.width or self.app.size.width, currencies)
        if columns == self.columns:
            return False
        self.columns = columns
        table = self.query_one("#accounts-table", DataTable)
        table.clear(columns=True)
        for key, label, width in columns:
            table.add_column(label, key=key, width=width)
        self.show_rows()
        return True

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return action != "back"

    # -- data ------------------------------------------------------------

    def reload(self) -> None:
        """Read the store in a thread worker; the rows follow once it answers."""
        store = self.store
        in_thread(
            self.app,
            lambda: load_accounts(store),
            self.show_data,
            name="accounts-reload",
            latest=True,
        )

    def show_data(self, data: AccountsData) -> None:
        if not self.is_attached:  # closed while the store was read
            return
        self.data, self.loaded = data, True
        if not self.fit_columns():  # a currency that came or went rebuilds the columns
            self.show_rows()

    def show_rows(self) -> None:
        """The loaded accounts into the table (no store read), then the panel."""
        table = self.query_one("#accounts-table", DataTable)
        cursor_key = self.selected_name()
        with self.app.batch_update():
            if [str(k.value) for k in table.rows] != list(self.accounts):
                table.clear()
                for account in self.accounts.values():
                    table.add_row(*self.cells(account), key=account.name)
            else:
                for account in self.accounts.values():
                    for (column, *_), cell in zip(self.columns, self.cells(account), strict=True):
                        table.update_cell(account.name, column, cell)
            if cursor_key in self.accounts:
                table.move_cursor(row=table.get_row_index(cursor_key))
        table.border_subtitle = f"{len(self.accounts)} account(s)" if self.accounts else ""
        self.update_panel()

    def cells(self, account: BankAccount) -> list[Text]:
        """One row, in the order of the current columns."""
        cells = self.all_cells(account)
        return [cells[key] for key, _label, _width in self.columns]

    def all_cells(self, account: BankAccount) -> dict[str, Text]:
        consent = consent_for(self.consents, account)
        balance = account.balance or Balance()
        amount = balance.shown
        currency = balance.currency or account.currency
        sync_state = self.kosma.sync_queue.state(account.name).state
        if sync_state not in (RUNNING, QUEUED):
            sync_state = (account.last_sync or LastSync()).outcome
        mark, mark_style = SYNC_MARK.get(sync_state, ("", ""))
        if not account.enabled:
            mark, mark_style = "-", "dim"
        balance_style = "red" if amount is not None and amount < 0 else ""
        balance_text = money(amount, currency) + (
            f" {clean(currency)}" if amount is not None and self.several_currencies() else ""
        )
        if balance_check.is_mismatch(account):  # the numbers do not add up: say so here
            balance_text, balance_style = f"≠{balance_text}", MISMATCH_STYLE
        last = account.last_sync or LastSync()
        return {
            "sync": Text(mark, style=mark_style),
            "account": literal(account.name, "" if account.enabled else "dim strike"),
            "bank": literal(account.bank),
            "company": literal(account.company),
            "iban": literal(
                short_iban(account.iban or account.bank_account_no)
                if len(self.columns) < len(WIDE)
                else spaced_iban(account.iban) or account.bank_account_no
            ),
            "balance": Text(
                balance_text,
                style=balance_style,
                justify="right",
                no_wrap=True,
                overflow="ellipsis",
            ),
            "lid": literal(account.last_integration_date or "-"),
            "consent": consent_cell(consent),
            "last": Text(
                f"{when_text(last.when)} {last.outcome}" if last.when else "never", style=mark_style
            ),
        }

    def several_currencies(self) -> bool:
        return len({a.currency for a in self.accounts.values()}) > 1

    def selected_name(self) -> str | None:
        table = self.query_one("#accounts-table", DataTable)
        if not table.row_count:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        except Exception:
            return None
        return str(key.value) if key.value is not None else None

    def selected(self) -> BankAccount | None:
        name = self.selected_name()
        return self.accounts.get(name) if name else None

    def update_panel(self) -> None:
        self.query_one("#last-sync", Static).update(last_sync_text(self))

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self.update_panel()

    def on_data_table_row_selected(self, _event: DataTable.RowSelected) -> None:
        self.action_transactions()

    def on_sync_changed(self, name: str) -> None:
        if name in self.accounts:
            table = self.query_one("#accounts-table", DataTable)
            table.update_cell(name, "sync", self.all_cells(self.accounts[name])["sync"])
            self.update_panel()

    # -- actions ---------------------------------------------------------

    def need_account(self) -> BankAccount | None:
        account = self.selected()
        if account is None and self.loaded:  # while loading, the key is not an error
            toast(self.app, "No bank account yet: press l to link a bank.", warning=True)
        return account

    def action_sync(self) -> None:
        account = self.need_account()
        if account is not None:
            self.post_message(SyncAccount(account.name))

    def action_sync_all(self) -> None:
        if not any(a.enabled for a in self.accounts.values()):
            what = (
                "No enabled bank account: press d to enable one, or l to link a bank."
                if self.accounts
                else "No bank account yet: press l to link a bank."
            )
            toast(self.app, what, warning=True)
            return
        self.post_message(SyncAll(announce=True, show=True))

    def action_transactions(self) -> None:
        account = self.need_account()
        if account is not None:
            self.post_message(OpenScreen("transactions", {"account": account.name}))

    def action_link(self) -> None:
        self.post_message(OpenScreen("link"))

    def action_renew(self) -> None:
        account = self.need_account()
        if account is None:
            return
        consent = consent_for(self.consents, account)
        if consent is None:
            self.post_message(
                OpenScreen("link", {"company": account.company, "bank": account.bank})
            )
        else:
            self.post_message(RenewConsent(consent.consent.name))

    def action_erpnext_push(self) -> None:
        from kosma_tui.tui.dialogs.erpnext_push import ErpnextPushModal

        account = self.need_account()
        if account is None:
            return

        def push(url: str) -> None:
            if not url:
                toast(
                    self.app,
                    "ERPNext is not connected: connect it in Banking Settings (g).",
                    warning=True,
                )
            else:
                self.app.push_screen(ErpnextPushModal([account.name]), lambda _: self.reload())

        store = self.store
        in_thread(self.app, lambda: store.erpnext().url, push, name="erpnext-connected")

    def action_match_parties(self) -> None:
        account = self.need_account()
        if account is not None:
            self.post_message(MatchParties([account.name]))

    def action_rename(self) -> None:
        account = self.need_account()
        if account is not None:
            manage.rename(self.kosma, account)

    def action_toggle_enabled(self) -> None:
        account = self.need_account()
        if account is not None:
            manage.toggle(self.kosma, account)

    def action_remove(self) -> None:
        account = self.need_account()
        if account is not None:
            manage.remove(self.kosma, account)

    def action_back(self) -> None:
        """Home has nowhere to go back to."""


def consent_cell(consent: ConsentView | None) -> Text:
    if consent is None:
        return Text("none", style="dim")
    text = "exp." if consent.status == "expired" else consent.days_text
    return Text(text, style=consent.style, justify="right")


def last_sync_text(screen: AccountsScreen) -> Text:
    """The selected account's details and last sync, then every consent that needs care."""
    lines = Text()
    account = screen.selected()
    if account is not None:
        lines.append(clean(account.name), style="bold")
        where = account.iban or account.bank_account_no
        lines.append(f" · {clean(account.company)} · {clean(where)}")
        if all(key != "lid" for key, _label, _width in screen.columns):  # dropped: too narrow
            lines.append(f" · Last Integration Date {account.last_integration_date or '-'}")
        state = screen.kosma.sync_queue.state(account.name)
        if not account.enabled:
            lines.append(
                "\ndisabled: Sync all skips it and status does not count it; press d to enable it",
                style="dim",
            )
        elif state.state == RUNNING:
            done = f"{state.fraction:.0%} · " if state.fraction is not None else ""
            lines.append(f"\nsyncing: {done}{describe(state)}")
        elif state.state == QUEUED:
            lines.append("\nqueued for sync")
        else:
            lines.append("\n" + describe_last_sync(account))
        lines.append_text(trust_text(account))
    elif not screen.loaded:
        lines.append("Loading the bank accounts…", style="dim")
    elif not screen.accounts:
        lines.append("No bank accounts yet. Press l to Link Bank and Accounts")
        if screen.data.demo:
            lines.append(
                " (Demo Bank: Deutschland → Demo Bank → Demo Bank PSD2, "
                "user embedded, password 12345, OTP 12345)"
            )
        lines.append(".")
    for view in screen.consents.values():
        which = f"{clean(view.consent.bank)} · {clean(view.consent.company)}"
        if view.status == "expired":
            lines.append(
                f"\n{which}: consent expired on {view.expiry_day}: press r to renew", style="red"
            )
        elif view.status == "expiring":
            lines.append(
                f"\n{which}: consent expires in {view.days_left} days: press r to renew",
                style="#ffaf00",
            )
    # A failed (automatic) ERPNext push or a reconciliation the bank undid: never silent.
    for problem in screen.data.problems:
        lines.append(f"\n{clean(problem)}", style="#ffaf00")
    return lines


def trust_text(account: BankAccount) -> Text:
    """A balance that does not add up, and the days no sync read (DESIGN 8)."""
    text = Text()
    check = account.balance_check or {}
    if balance_check.is_mismatch(account):
        currency = (account.balance or Balance()).currency or account.currency
        text.append(
            f"\n≠ balance off by {money(check['difference'], currency, sign=True)} {currency}: "
            f"the bank reports {money(check['reported'], currency)}, the stored transactions "
            f"give {money(check['expected'], currency)} (a late or missing booking)",
            style=MISMATCH_STYLE,
        )
    gaps = coverage.describe_gaps(account.coverage)
    if gaps:
        span = coverage.as_json(account.coverage)
        text.append(
            f"\nread {span['from']} to {span['to']}; never read (gap): {gaps}", style="#ffaf00"
        )
    return text


def describe_last_sync(account: BankAccount) -> str:
    last = account.last_sync or LastSync()
    if not last.when:
        return "never synced: press s to sync"
    when = when_text(last.when) + (" (daily job)" if last.unattended else "")
    outcome = last.outcome
    if outcome == "ok":
        return f"{last.new:,} new, {last.updated:,} updated, {last.skipped:,} skipped · {when}"
    if last.stopped:  # progress kept: where it stopped, why, and what comes next
        return clean(f"{last.stopped} · {when}")
    error = last.error or {}
    word = "refused" if outcome == "refused" else "failed"
    return clean(
        f"{word}: {error.get('message', '')} {error.get('remedy', '')}".rstrip() + f" · {when}"
    )
