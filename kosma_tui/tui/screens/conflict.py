"""Moved to ``kosma_tui.tui.dialogs.conflict``; this name stays for older imports."""

from kosma_tui.tui.dialogs.conflict import ConflictModal

__all__ = ["ConflictModal"]
