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

from kosma_tui.tui.screens.base import KosmaScreen

INTRO = ("Kosma TUI links your company's bank accounts through a PSD2 banking portal and syncs "
         "their transactions for ERPNext. Everything works from the keyboard; ctrl+p opens the "
         "command palette with every action of the current screen.")


def key_text(binding: Binding) -> str:
    keys = binding.key_display or binding.key
    return " / ".join(k.replace("question_mark", "?").replace("slash", "/")
                      for k in keys.split(","))


def binding_table(bindings: Iterable[BindingType]) -> Table:
    """Key and description in two columns: a long description wraps under itself."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=13, no_wrap=True, style="bold")
    grid.add_column(ratio=1)
    for item in bindings:
        if not isinstance(item, Binding) or not item.description or item.system:
            continue
        line = Text(item.description)
        if item.tooltip and item.tooltip != item.description:
            line.append(f": {item.tooltip}", style="dim")
        grid.add_row(Text(f"  {key_text(item)}"), line)
    return grid


def section(title: str, bindings: Iterable[BindingType], purpose: str = "") -> Group:
    parts: list[Text | Table] = [Text(title, style="bold underline")]
    if purpose:
        parts.append(Text(purpose, style="italic"))
    parts.append(binding_table(bindings))
    parts.append(Text(""))
    return Group(*parts)


class HelpScreen(KosmaScreen):
    TITLE = "Help"
    PURPOSE = "This page: the keys of every screen and what each screen is for."

    def compose_body(self) -> ComposeResult:
        from kosma_tui.tui.app import KosmaApp, _screens

        body = VerticalScroll(id="help-body")
        body.border_title = "Help"
        with body:
            yield Static(Text(INTRO + "\n"))
            yield Static(section("Everywhere", [
                *KosmaApp.BINDINGS,
                Binding("ctrl+p", "command_palette", "Command palette",
                        tooltip="Search every action of the current screen"),
            ]))
            for factory in _screens().values():
                if not isinstance(factory, type) or not issubclass(factory, KosmaScreen):
                    continue
                yield Static(section(factory.TITLE,
                                     [*factory.BINDINGS, *factory.HELP_BINDINGS],
                                     factory.PURPOSE))

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()
