"""Moved to ``kosma_tui.tui.dialogs.confirm``; this name stays for older imports."""

from kosma_tui.tui.dialogs.confirm import ConfirmModal

__all__ = ["ConfirmModal"]
