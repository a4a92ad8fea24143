"""Help: what each screen is for and its keys, read from the same Binding definitions."""

from __future__ import annotations

from collections.abc import Iterable

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


def binding_lines(bindings: Iterable[BindingType]) -> Text:
    text = Text()
    for item in bindings:
        if not isinstance(item, Binding) or not item.description or item.system:
            continue
        text.append(f"  {key_text(item):<12}", style="bold")
        text.append(f"{item.description}")
        if item.tooltip and item.tooltip != item.description:
            text.append(f": {item.tooltip}", style="dim")
        text.append("\n")
    return text


class HelpScreen(KosmaScreen):
    TITLE = "Help"
    PURPOSE = "This page: the keys of every screen and what each screen is for."

    def compose_body(self) -> ComposeResult:
        from kosma_tui.tui.app import KosmaApp, _screens

        body = VerticalScroll(id="help-body")
        body.border_title = "Help"
        with body:
            yield Static(Text(INTRO + "\n"))
            everywhere = Text()
            everywhere.append("Everywhere\n", style="bold underline")
            everywhere.append_text(binding_lines(KosmaApp.BINDINGS))
            everywhere.append_text(binding_lines([
                Binding("ctrl+p", "command_palette", "Command palette",
                        tooltip="Search every action of the current screen"),
            ]))
            yield Static(everywhere)
            for factory in _screens().values():
                if not isinstance(factory, type) or not issubclass(factory, KosmaScreen):
                    continue
                section = Text()
                section.append(f"{factory.TITLE}\n", style="bold underline")
                section.append(f"{factory.PURPOSE}\n", style="italic")
                section.append_text(binding_lines([*factory.BINDINGS,
                                                   *factory.HELP_BINDINGS]))
                yield Static(section)

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()
