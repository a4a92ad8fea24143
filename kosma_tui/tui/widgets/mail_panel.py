"""Banking Settings' mail section: reminders by mail (DESIGN 8).

The same settings as ``kosma-tui settings --mail-to ... (--smtp-host ... |
--sendmail)``: recipients, sender, SMTP host, port, security, login, or the
local sendmail. Checked as you type; "Send test mail" sends through what the
fields say (saved or not) in a thread worker, so a slow mail server never
blocks the screen. The password is never shown: a stored one stays unless
something is typed over it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Button, Input, Label, Select, Static, Switch

from kosma_tui.core import mail
from kosma_tui.core.errors import KosmaError, UsageError
from kosma_tui.core.records import BankingSettings
from kosma_tui.core.usecases.settings import sender, smtp_host, smtp_port, with_mail
from kosma_tui.tui.feedback import report, toast
from kosma_tui.tui.hosts import store_of
from kosma_tui.tui.messages import SettingsSaved
from kosma_tui.tui.text import clean
from kosma_tui.tui.widgets.section import SettingsSection
from kosma_tui.tui.work import in_thread

if TYPE_CHECKING:
    from kosma_tui.core.store import Store

SECURITY_OPTIONS = (("STARTTLS", "starttls"), ("SSL/TLS", "ssl"), ("none (local relay)", "none"))
INPUTS = ("mail-to", "mail-from", "smtp-host", "smtp-port", "smtp-user", "smtp-password")


class MailPanel(SettingsSection):
    """Reminder mails: who gets them and how they are sent. Needs ``app.store``."""

    # while the focus is in this section: in the command palette (and keys) too
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+t",
            "send_test",
            "Send test mail",
            id="send-test-mail",
            show=False,
            tooltip="Send a test mail through the mail settings as typed (not saved)",
        ),
        Binding(
            "ctrl+o",
            "save_mail",
            "Save mail settings",
            id="save-mail",
            show=False,
            tooltip="Check and save the reminder mail settings",
        ),
    ]

    DEFAULT_CSS = """
    MailPanel #mail-sendmail-state { width: auto; height: 1; }
    MailPanel #mail-status { height: auto; }
    """

    def __init__(self, *, id: str | None = "mail-panel") -> None:
        super().__init__(id=id)
        self.border_title = "Reminder mails"

    @property
    def store(self) -> Store:
        return store_of(self.app)

    # the settings as stored, read once by the Settings screen (``fill``) and replaced
    # after each save: the checks as you type never read the store
    stored: BankingSettings | None = None

    def compose(self) -> ComposeResult:
        rows: tuple[tuple[str, Any], ...] = (
            ("Mail to", Input(placeholder="admin@example.com, ...", id="mail-to", compact=True)),
            (
                "From (optional)",
                Input(
                    placeholder="the SMTP user, else kosma-tui@host", id="mail-from", compact=True
                ),
            ),
            ("SMTP host", Input(placeholder="mail.example.com", id="smtp-host", compact=True)),
            (
                "SMTP port",
                Input(placeholder="587 / 465 / 25", id="smtp-port", type="integer", compact=True),
            ),
            (
                "Security",
                Select(
                    SECURITY_OPTIONS,
                    value="starttls",
                    allow_blank=False,
                    id="smtp-security",
                    compact=True,
                ),
            ),
            ("SMTP user", Input(placeholder="empty: no login", id="smtp-user", compact=True)),
            (
                "SMTP password",
                Input(
                    "",
                    password=True,
                    placeholder="only with a user",
                    id="smtp-password",
                    compact=True,
                ),
            ),
        )
        for label, widget in rows:
            with Horizontal(classes="section-row"):
                yield Label(label, classes="section-label", markup=False)
                yield widget
        with Horizontal(classes="section-row"):
            yield Label("Local sendmail", classes="section-label", markup=False)
            yield Switch(False, id="mail-sendmail")
            yield Label(" off", id="mail-sendmail-state", markup=False)
        with Horizontal(classes="section-buttons"):
            yield Button("Save mail settings", id="mail-save", variant="primary", compact=True)
            yield Button("Send test mail", id="mail-test", compact=True)
        yield Static("", id="mail-status", markup=False)

    def on_mount(self) -> None:
        self.saved_values = self.values()

    def fill(self, s: BankingSettings) -> None:
        """The fields as stored (the Settings screen read them), then checked."""
        self.stored = s
        for name, value in (
            ("mail-to", ", ".join(s.mail_to)),
            ("mail-from", s.mail_from),
            ("smtp-host", s.smtp_host),
            ("smtp-port", str(s.smtp_port or "")),
            ("smtp-user", s.smtp_user),
        ):
            self.query_one(f"#{name}", Input).value = value
        self.query_one("#smtp-security", Select).value = s.smtp_security or "starttls"
        self.query_one("#smtp-password", Input).placeholder = (
            "stored: type to replace" if s.smtp_password else "only with a user"
        )
        sendmail = s.mail_transport == "sendmail"
        self.query_one("#mail-sendmail", Switch).value = sendmail
        self.query_one("#mail-sendmail-state", Label).update(" on" if sendmail else " off")
        self.saved_values = self.values()
        self.check()

    def values(self) -> dict[str, Any]:
        """What the section holds now, to tell unsaved edits from none."""
        return {name: self.value(name) for name in (*INPUTS, "smtp-security", "mail-sendmail")}

    def has_unsaved(self) -> bool:
        return self.values() != self.saved_values

    # -- the fields as settings ---------------------------------------------------

    def value(self, name: str) -> Any:
        return self.query_one(f"#{name}").value  # type: ignore[attr-defined]

    def candidate(self) -> BankingSettings:
        """The stored settings with the mail fields as typed; UsageError if unreadable."""
        if self.stored is None:
            raise UsageError("The mail settings are still being read.")
        new = BankingSettings.from_dict(self.stored.to_dict())
        new.mail_to = mail.addresses(self.value("mail-to"))
        new.mail_from = sender(self.value("mail-from"))
        host = new.smtp_host = smtp_host(self.value("smtp-host"), required=False)
        port = self.value("smtp-port").strip()
        new.smtp_port = smtp_port(port) if port else 0
        new.smtp_security = str(self.value("smtp-security"))
        new.smtp_user = self.value("smtp-user").strip()
        password = self.value("smtp-password")
        if password:
            new.smtp_password = password
        if not new.smtp_user:
            new.smtp_password = ""
        if self.value("mail-sendmail"):
            new.mail_transport = "sendmail"
        else:
            new.mail_transport = "smtp" if host else ""
        return new

    def check(self) -> tuple[BankingSettings | None, str | None]:
        """(settings, problem) as typed, and the status line says what is wrong."""
        try:
            settings = self.candidate()
        except UsageError as exc:
            self.set_status(Text(f"✗ {clean(exc.message)}", style="red"))
            return None, exc.message
        problem = mail.problems(settings) if settings.mail_to else None
        if problem:
            self.set_status(Text(f"✗ {clean(problem)}", style="red"))
        elif not settings.mail_to:
            self.set_status("Off: no reminder mails. Add a recipient to turn them on.")
        else:
            self.set_status(
                f"Reminders go to {clean(', '.join(settings.mail_to))}, at most "
                "once a day per consent, from the daily job and 'kosma-tui remind'."
            )
        return settings, problem

    def set_status(self, text: str | Text) -> None:
        self.query_one("#mail-status", Static).update(text)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id in INPUTS:
            event.stop()  # the settings form checks only its own fields
            self.check()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.check()

    def on_switch_changed(self, event: Switch.Changed) -> None:
        if event.switch.id == "mail-sendmail":
            event.stop()
            self.query_one("#mail-sendmail-state", Label).update(" on" if event.value else " off")
            self.check()

    # -- actions -----------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "mail-save":
            event.stop()
            self.save()
        elif event.button.id == "mail-test":
            event.stop()
            self.send_test()

    def action_send_test(self) -> None:
        self.send_test()

    def action_save_mail(self) -> None:
        self.save()

    def save(self) -> None:
        settings, problem = self.check()
        if settings is None or problem:
            self.app.notify(
                f"{clean(problem or '')} Nothing was saved.",
                title="Mail settings not saved",
                severity="error",
                markup=False,
            )
            return
        # what the fields will hold once saved: the password field is emptied then
        saved = {**self.values(), "smtp-password": ""}
        store = self.store

        def write() -> BankingSettings:
            # only the mail fields, onto the settings as stored now: a Save of the form
            # made since this section was filled is kept
            new = with_mail(store.settings(), settings)
            store.save_settings(new)
            return new

        in_thread(
            self.app,
            write,
            lambda new: self.saved(new, saved),
            name="mail-save",
            failed=lambda exc: report(self.app, exc, title="Mail settings not saved"),
        )

    def saved(self, settings: BankingSettings, values: dict[str, Any]) -> None:
        password = self.query_one("#smtp-password", Input)
        password.value = ""
        self.saved_values = values
        password.placeholder = (
            "stored: type to replace" if settings.smtp_password else "only with a user"
        )
        self.post_message(SettingsSaved(settings))  # the screen and the app's snapshot
        toast(
            self.app,
            "Reminder mails are off."
            if not settings.mail_to
            else f"Reminder mails go to {', '.join(settings.mail_to)}.",
            title="Mail settings saved",
        )

    def send_test(self) -> None:
        settings, problem = self.check()
        if settings is None or problem or not settings.mail_to:
            self.app.notify(
                clean(problem or "Add a recipient first (Mail to)."),
                title="No test mail sent",
                severity="error",
                markup=False,
            )
            return
        self.query_one("#mail-test", Button).disabled = True
        self.set_status(f"Sending a test mail to {clean(', '.join(settings.mail_to))}…")
        self.run_test(settings)

    @work(thread=True, exclusive=True, group="mail-test", exit_on_error=False)
    def run_test(self, settings: BankingSettings) -> None:
        from kosma_tui.core.reminders import send_test

        try:
            send_test(settings)
        except KosmaError as exc:
            self.app.call_from_thread(self.test_done, settings, exc)
            return
        self.app.call_from_thread(self.test_done, settings, None)

    def test_done(self, settings: BankingSettings, error: KosmaError | None) -> None:
        self.query_one("#mail-test", Button).disabled = False
        if error is not None:
            self.set_status(
                Text(f"✗ {clean(error.message)} {clean(error.remedy)}".rstrip(), style="red")
            )
            report(self.app, error, title="Test mail not sent")
            return
        to = ", ".join(settings.mail_to)
        self.set_status(Text(f"✓ Test mail sent to {clean(to)}.", style="green"))
        toast(self.app, f"Test mail sent to {to}.")
