"""Moved: the actions to ``kosma_tui.tui.controllers.manage``, the dialog to
``kosma_tui.tui.dialogs.rename``; these names stay for older imports."""

from kosma_tui.tui.controllers.manage import remove, rename, revoke, toggle
from kosma_tui.tui.dialogs.rename import RenameModal

__all__ = ["RenameModal", "remove", "rename", "revoke", "toggle"]
