"""A mail save writes the mail settings and nothing else (``core.usecases.settings``)."""

from __future__ import annotations

from kosma_tui.core.records import BankingSettings
from kosma_tui.core.usecases.settings import MAIL_FIELDS, with_mail


def test_a_mail_save_keeps_every_other_setting_as_stored_now() -> None:
    stored = BankingSettings(
        customer_id="SAVED-LATER", reminder_days=14, mail_to=["old@example.com"]
    )
    typed = BankingSettings(
        customer_id="READ-BEFORE",
        reminder_days=7,
        mail_to=["admin@example.com"],
        mail_transport="smtp",
        smtp_host="mail.example.com",
        smtp_port=2525,
        smtp_user="kosma",
        smtp_password="pw-123",
        smtp_security="ssl",
        mail_from="kosma@example.com",
    )
    new = with_mail(stored, typed)
    assert (new.customer_id, new.reminder_days) == ("SAVED-LATER", 14)
    assert {name: getattr(new, name) for name in MAIL_FIELDS} == {
        name: getattr(typed, name) for name in MAIL_FIELDS
    }
    assert stored.mail_to == ["old@example.com"]  # the stored record is not changed
