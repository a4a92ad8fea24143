"""Moved to ``kosma_tui.tui.dialogs.reminders``; these names stay for older imports."""

from kosma_tui.tui.dialogs.reminders import ReminderModal, due_consents, reminder_line

__all__ = ["ReminderModal", "due_consents", "reminder_line"]
