"""The one-line header: app, host, portal mode (DEMO on every screen) and the clock."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.widgets import Static

from kosma_tui.core import clock
from kosma_tui.tui.text import clean

if TYPE_CHECKING:
    from kosma_tui.tui.app import KosmaApp


class KosmaHeader(Static):
    """`` Kosma TUI · erp01 · DEMO (built-in Demo Bank portal)            12:04``"""

    def on_mount(self) -> None:
        self.update_text()
        # drawn from the app's settings snapshot: never a store read per redraw
        self.kosma.mode_signal.subscribe(self, lambda _: self.update_text())
        if not os.environ.get(clock.NOW_ENV):  # frozen (snapshots): never changes, no redraw
            moment = clock.now()
            to_next_minute = 60 - moment.second - moment.microsecond / 1e6
            self.set_timer(to_next_minute + 0.05, self.tick)

    def tick(self) -> None:
        """On the minute: redraw, then every minute after."""
        self.update_text()
        self.set_interval(60, self.update_text)

    @property
    def kosma(self) -> KosmaApp:
        return cast("KosmaApp", self.app)

    def on_resize(self) -> None:
        self.update_text()

    def update_text(self) -> None:
        app = self.kosma
        self.set_class(app.demo, "-demo")
        mode = app.mode_text()  # empty for the moment the settings are read at start
        left = f" Kosma TUI · {clean(app.hostname)}" + (f" · {clean(mode)}" if mode else "")
        right = f"{clock.now():%H:%M} "
        gap = self.size.width - len(left) - len(right)
        text = Text(left)
        if gap >= 1:
            text.append(" " * gap + right)
        self.update(text)
