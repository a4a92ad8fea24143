"""Banking Settings: validation as you type, Save, the subscription, Link Bank and Accounts."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Static, Switch

from kosma_tui.core.errors import KosmaError
from kosma_tui.core.records import BankingSettings
from kosma_tui.core.subscription import usage_text
from kosma_tui.core.usecases import settings as settings_changes
from kosma_tui.core.usecases.settings import DAY_LIMITS, SettingsChange
from kosma_tui.tui.dialogs.confirm import ConfirmModal
from kosma_tui.tui.feedback import report, sentence, toast
from kosma_tui.tui.messages import OpenScreen, SettingsSaved
from kosma_tui.tui.registry import registered
from kosma_tui.tui.screens.base import KosmaScreen
from kosma_tui.tui.text import clean
from kosma_tui.tui.widgets.erpnext_panel import ErpnextPanel
from kosma_tui.tui.widgets.mail_panel import MailPanel
from kosma_tui.tui.work import in_thread

SWITCHES = (
    ("enabled", "Enabled"),
    ("use_test_environment", "Test environment"),
    ("enable_party_matching", "Party matching"),
    ("enable_fuzzy_matching", "Fuzzy matching"),
)


def field_row(label: str, widget: Widget, name: str) -> ComposeResult:
    with Horizontal(classes="field-row"):
        yield Label(label, classes="field-label", markup=False)
        yield widget
        if isinstance(widget, Switch):
            yield Label(on_off(widget.value), id=f"state-{name}", classes="switch-state")
    message = Static("", id=f"msg-{name}", classes="field-msg", markup=False)
    message.display = False
    yield message


FIELDS = frozenset(
    {
        "admin_url",
        "customer_id",
        "api_token",
        "reminder_days",
        "lookback_days",
        *(name for name, _label in SWITCHES),
    }
)


def on_off(value: bool) -> str:
    return " on" if value else " off"


@registered("settings")
class SettingsScreen(KosmaScreen):
    TITLE = "Banking Settings"
    PURPOSE = (
        "The banking portal: admin URL, Customer ID and Portal API Token (masked once "
        "stored), party matching and reminders. Leave the admin URL empty to use the "
        "built-in Demo Bank portal. After Save the subscription (usage, limit, status, "
        "plan end, billing portal) is fetched and shown. Below: reminder mails (SMTP or "
        "sendmail, with a test mail) and the ERPNext connection (companies in, Bank "
        "Transactions out)."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        *KosmaScreen.BINDINGS,
        Binding(
            "ctrl+s",
            "save",
            "Save",
            id="save-settings",
            tooltip="Check and save Banking Settings, then fetch the subscription",
        ),
        Binding(
            "ctrl+l", "link", "Link Bank and Accounts", id="link", tooltip="Link Bank and Accounts"
        ),
        Binding(
            "ctrl+r",
            "subscription",
            "Subscription",
            id="fetch-subscription",
            tooltip="Fetch the subscription details again",
        ),
    ]

    # the settings as saved: the as-you-type checks compare against these, in memory;
    # None until read (in a worker) when the screen opens: Save waits for them
    current: BankingSettings | None = None
    saving = False  # a Save is being written (in a thread)

    def compose_body(self) -> ComposeResult:
        # empty and disabled until the settings are read (``fill``): no store read here
        form = VerticalScroll(id="settings-scroll", disabled=True)
        form.border_title = "Banking Settings"
        form.border_subtitle = "loading…"
        with form:
            yield from field_row(
                "Admin URL",
                Input(placeholder="empty: built-in Demo Bank portal", id="admin_url", compact=True),
                "admin_url",
            )
            yield from field_row(
                "Customer ID",
                Input(placeholder="from the welcome email", id="customer_id", compact=True),
                "customer_id",
            )
            yield from field_row(
                "Portal API Token",
                Input(
                    "",
                    password=True,
                    placeholder="from the welcome email",
                    id="api_token",
                    compact=True,
                ),
                "api_token",
            )
            for name, label in SWITCHES:
                yield from field_row(label, Switch(False, id=name), name)
            yield from field_row(
                "Reminder days",
                Input(id="reminder_days", compact=True, type="integer"),
                "reminder_days",
            )
            yield from field_row(
                "Lookback days",
                Input(id="lookback_days", compact=True, type="integer"),
                "lookback_days",
            )
            yield MailPanel()
            yield ErpnextPanel()
        # outside the scrolling form: Save is on screen at 80x24 whatever the form holds
        with Horizontal(classes="buttons", id="settings-buttons"):
            yield Button("Save", id="save", variant="primary", compact=True)
            yield Button("Link Bank and Accounts", id="link", compact=True)
        panel = Static("Reading Banking Settings…", id="subscription", markup=False)
        panel.border_title = "Subscription"
        yield panel

    def mode_note(self, s: BankingSettings) -> str:
        if not s.effectively_enabled:
            return "Banking Settings are disabled: enable them and Save to see the subscription."
        return "Fetching the subscription… (ctrl+r fetches it again)"

    def on_mount(self) -> None:
        self.saved_form = self.form_values()
        store = self.store
        in_thread(self.app, store.settings, self.fill, name="settings-read")

    def fill(self, s: BankingSettings) -> None:
        """The form as stored, once read; then it takes keys and may be saved."""
        if not self.is_attached:  # closed while the store was read
            return
        self.current = s
        with self.app.batch_update():
            self.query_one("#admin_url", Input).value = s.admin_url
            self.query_one("#customer_id", Input).value = s.customer_id
            if s.api_token:
                self.query_one(
                    "#api_token", Input
                ).placeholder = f"stored {s.masked_token()}: type to replace"
            for name, _label in SWITCHES:
                self.query_one(f"#{name}", Switch).value = bool(getattr(s, name))
                self.query_one(f"#state-{name}", Label).update(on_off(bool(getattr(s, name))))
            self.query_one("#reminder_days", Input).value = str(s.reminder_days)
            self.query_one("#lookback_days", Input).value = str(s.lookback_days)
            self.query_one(MailPanel).fill(s)
            form = self.query_one("#settings-scroll", VerticalScroll)
            form.disabled = False
            form.border_subtitle = ""
            self.query_one("#subscription", Static).update(self.mode_note(s))
        self.query_one("#admin_url", Input).focus()
        self.check()
        self.saved_form = self.form_values()
        if s.effectively_enabled:
            self.action_subscription()  # in the background; the form is usable meanwhile

    def form_values(self) -> dict[str, Any]:
        """What the form holds now, to tell unsaved edits from none."""
        return {name: self.value(name) for name in sorted(FIELDS)}

    def action_back(self) -> None:
        """Escape asks before unsaved edits are dropped."""
        if self.form_values() == self.saved_form and not self.query_one(MailPanel).has_unsaved():
            super().action_back()
            return

        def done(discard: object) -> None:
            if discard:
                super(SettingsScreen, self).action_back()

        self.app.push_screen(
            ConfirmModal(
                "Unsaved changes",
                "Banking Settings have changes that are not saved. Drop them? "
                "(ctrl+s saves them instead.)",
                yes="Drop changes",
            ),
            done,
        )

    # -- validation as you type ------------------------------------------

    def value(self, name: str) -> Any:
        widget = self.query_one(f"#{name}")
        return widget.value  # type: ignore[attr-defined]

    def change(self) -> SettingsChange:
        """The fields as typed; an empty admin URL is the built-in Demo Bank portal."""
        url = self.value("admin_url").strip()
        return SettingsChange(
            admin_url=url or None,
            demo=not url,
            customer_id=self.value("customer_id"),
            api_token=self.value("api_token").strip(),
            switches={name: bool(self.value(name)) for name, _label in SWITCHES},
            days={name: self.value(name) or "" for name in DAY_LIMITS},
        )

    def problems(self) -> dict[str, str]:
        """Field -> what is wrong with it now (nothing saved)."""
        if self.current is None:  # not read yet: nothing to check against
            return {}
        return settings_changes.problems(self.current, self.change())

    def check(self) -> dict[str, str]:
        found = self.problems()
        for name in (
            "admin_url",
            "customer_id",
            "api_token",
            "reminder_days",
            "lookback_days",
            "enabled",
        ):
            message = self.query_one(f"#msg-{name}", Static)
            text = found.get(name, "")
            message.update(Text(f"✗ {text}") if text else "")
            message.display = bool(text)
        return found

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id in FIELDS:  # the ERPNext panel checks its own
            self.check()

    def on_switch_changed(self, event: Switch.Changed) -> None:
        if event.switch.id in FIELDS:
            self.query_one(f"#state-{event.switch.id}", Label).update(on_off(event.value))
            self.check()

    # -- actions ---------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        elif event.button.id == "link":
            self.action_link()

    def action_save(self) -> None:
        if self.saving:  # the last Save is still being written
            self.app.bell()
            return
        if self.current is None:
            self.app.notify(
                "Banking Settings are still being read. Nothing was saved.",
                title="Settings not saved",
                severity="warning",
                markup=False,
            )
            return
        found = self.check()
        if found:
            first = next(iter(found.values()))
            self.app.notify(
                f"{clean(first)} Nothing was saved.",
                title="Settings not saved",
                severity="error",
                markup=False,
            )
            return
        # the fields are read here, the change is applied and written in a thread; what
        # the form will hold once saved: the token field is emptied then
        self.saving = True
        self.save_settings(self.change(), {**self.form_values(), "api_token": ""})

    @dataclass
    class Saved(Message):
        settings: BankingSettings
        form: dict[str, Any]

    @dataclass
    class NotSaved(Message):
        error: KosmaError

    @work(thread=True, group="settings-save", exit_on_error=False)
    def save_settings(self, change: SettingsChange, form: dict[str, Any]) -> None:
        """The write (a lock, an fsync) in a thread: the form keeps answering keys."""
        try:
            new = settings_changes.apply(self.store.settings(), change)
            self.store.save_settings(new)
        except KosmaError as exc:
            self.post_message(self.NotSaved(exc))
            return
        self.post_message(self.Saved(new, form))

    def on_settings_screen_not_saved(self, message: NotSaved) -> None:
        self.saving = False
        report(self.app, message.error, title="Settings not saved")

    def on_settings_screen_saved(self, message: Saved) -> None:
        self.saving = False
        new = self.current = message.settings
        token_input = self.query_one("#api_token", Input)
        token_input.value = ""
        if new.api_token:
            token_input.placeholder = f"stored {new.masked_token()}: type to replace"
        self.saved_form = message.form
        toast(self.app, "Banking Settings saved.")
        self.post_message(SettingsSaved(new))  # the app's snapshot: the header's mode
        self.kosma.settings_signal.publish(None)
        self.kosma.data_signal.publish("settings")
        self.action_subscription()

    def on_settings_saved(self, message: SettingsSaved) -> None:
        """Either save (the form's or the mail section's; it goes on to the app): both
        parts check what is typed against the settings as now stored."""
        self.current = message.settings
        self.query_one(MailPanel).stored = message.settings

    def action_subscription(self) -> None:
        settings = self.current
        if settings is None:  # not read yet: fill fetches it once read
            return
        panel = self.query_one("#subscription", Static)
        if not settings.effectively_enabled:
            panel.update("Banking Settings are disabled: no subscription is fetched.")
            return
        panel.update("Fetching the subscription…")
        self.fetch_subscription()

    @work(exclusive=True, group="subscription")
    async def fetch_subscription(self) -> None:
        panel = self.query_one("#subscription", Static)
        try:
            async with self.kosma.portal() as client:
                details = await client.fetch_subscription_details()
        except KosmaError as exc:
            panel.update(Text(f"✗ {sentence(exc)} (ctrl+r tries again)", style="red"))
            report(self.app, exc, title="Subscription not fetched")
            return
        if details:
            from kosma_tui.core.subscription import remember

            await asyncio.to_thread(remember, self.store, details[0])  # a store write
        demo = bool(self.current and self.current.demo)
        panel.update(subscription_text(details, demo=demo))

    def action_link(self) -> None:
        self.post_message(OpenScreen("link"))


def subscription_text(details: list[Any], *, demo: bool = False) -> Text:
    """The subscription panel; in demo mode without the billing link (the embedded portal
    lives on a new loopback port each run: nothing to bookmark)."""
    if not details:
        return Text("The portal returned no subscription.")
    text = Text()
    for i, sub in enumerate(details):
        if i:
            text.append("\n")
        usage, limit = sub.usage, sub.transaction_limit
        used = usage_text(usage, limit)
        status = clean(sub.subscription_status)
        text.append(f"{clean(sub.full_name)} · ")
        text.append(status, style="green" if status.lower() == "active" else "bold red")
        text.append(f" · {used}")
        if sub.plan_end_date:
            text.append(f" · plan ends {clean(sub.plan_end_date)}")
        if sub.billing_portal and not demo:
            text.append(f"\nBilling portal: {clean(sub.billing_portal)}")
    return text
