"""Help: what each screen is for and its keys, read from the same Binding definitions."""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from kosma_tui.tui.registry import registered, screen_classes
from kosma_tui.tui.screens.base import KosmaScreen

INTRO = (
    "Everything works from the keyboard. ctrl+p searches every action of the current "
    "screen, with a sentence on what each does."
)
COLUMNS_FROM = 72  # a body at least this wide lists two keys per line


def key_text(binding: Binding) -> str:
    keys = binding.key_display or binding.key
    return " / ".join(
        k.replace("question_mark", "?").replace("slash", "/") for k in keys.split(",")
    )


def merged(bindings: Iterable[BindingType]) -> list[tuple[str, str]]:
    """(keys, description) once per action: ``f1`` and ``?`` for Help are one line."""
    entries: dict[str, tuple[list[str], str]] = {}
    for item in bindings:
        if not isinstance(item, Binding) or not item.description or item.system:
            continue
        action = item.action.removeprefix("app.")
        keys = entries.setdefault(action, ([], item.description))[0]
        if key_text(item) not in keys:
            keys.append(key_text(item))
    return [(" / ".join(keys), description) for keys, description in entries.values()]


def binding_table(bindings: Iterable[BindingType], pairs: int = 2) -> Table:
    """Keys and short descriptions, ``pairs`` to a line (the palette has the long ones)."""
    grid = Table.grid(padding=(0, 1))
    for _ in range(pairs):
        grid.add_column(width=9, no_wrap=True, style="bold")
        grid.add_column(ratio=1)
    entries = merged(bindings)
    for start in range(0, len(entries), pairs):
        row: list[Text] = []
        for keys, description in entries[start : start + pairs]:
            row += [Text(f"  {keys}", overflow="ellipsis"), Text(description)]
        row += [Text("")] * (2 * pairs - len(row))
        grid.add_row(*row)
    return grid


def section(
    title: str, bindings: Iterable[BindingType], purpose: str = "", pairs: int = 2
) -> Group:
    parts: list[Text | Table] = [Text(title, style="bold underline")]
    if purpose:
        parts.append(Text(purpose, style="italic dim"))
    parts.append(binding_table(bindings, pairs))
    parts.append(Text(""))
    return Group(*parts)


@registered("help")
class HelpScreen(KosmaScreen):
    TITLE = "Help"
    PURPOSE = "This page: the keys of every screen and what each screen is for."

    def origin(self) -> type[KosmaScreen] | None:
        """The screen Help was opened from: its keys come first."""
        for screen in reversed(self.app.screen_stack):
            if isinstance(screen, KosmaScreen) and not isinstance(screen, HelpScreen):
                return type(screen)
        return None

    def compose_body(self) -> ComposeResult:
        pairs = 2 if self.app.size.width >= COLUMNS_FROM else 1
        body = VerticalScroll(id="help-body")
        body.border_title = "Help"
        screens = screen_classes()
        first = self.origin()
        if first in screens:
            screens.remove(first)
            screens.insert(0, first)
        with body:
            for factory in screens:
                if factory is HelpScreen:
                    continue
                yield Static(
                    section(
                        factory.TITLE,
                        [*factory.BINDINGS, *factory.HELP_BINDINGS],
                        factory.PURPOSE if factory is first else "",
                        pairs,
                    )
                )
                if factory is first:
                    yield Static(section("Everywhere", type(self.app).BINDINGS, INTRO, pairs))
            yield Static(Text("What each screen is for", style="bold underline"))
            for factory in screens:
                if factory.PURPOSE:
                    yield Static(Text.assemble((f"{factory.TITLE}: ", "bold"), factory.PURPOSE))

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()
