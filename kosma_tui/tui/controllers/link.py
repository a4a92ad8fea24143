"""Renewing a Bank Consent: from the launch reminder, Accounts (r) or Consents (Enter),
the Link wizard opens on the consent's bank and company."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kosma_tui.core import messages
from kosma_tui.tui.dialogs.reminders import ReminderModal, due_consents
from kosma_tui.tui.text import clean

if TYPE_CHECKING:
    from kosma_tui.tui.app import KosmaApp


class LinkController:
    def __init__(self, app: KosmaApp) -> None:
        self.app = app

    def show_launch_reminders(self) -> None:
        """Consents that expire soon (or have), once at launch; choosing one renews it."""
        due = due_consents(self.app.store)
        if due:
            self.app.push_screen(ReminderModal(due), self._renew_chosen)

    def _renew_chosen(self, consent_name: object) -> None:
        if isinstance(consent_name, str):
            self.renew(consent_name)

    def renew(self, consent_name: str) -> None:
        """Open the Link wizard for the bank and company of a consent (renewal)."""
        consent = self.app.store.consent(consent_name)
        if consent is None:
            self.app.notify(
                clean(messages.no_bank_consent(consent_name).message),
                severity="error",
                markup=False,
            )
            return
        self.app.open_screen("link", company=consent.company, bank=consent.bank)
