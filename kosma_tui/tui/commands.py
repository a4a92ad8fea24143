"""The command palette: every action of the current screen and the app, from their Bindings,
then Textual's own commands (theme, keys, screenshot, quit).

The footer, this palette and the Help screen all read the same ``Binding``
definitions (id, description, tooltip), so an action is named one way everywhere.
One provider yields both kinds, so the app's actions always come first (two
providers would race each other to the list).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

Entry = tuple[str, str, Callable[[], object]]


class KosmaCommands(Provider):
    """Palette entries for the active bindings of the screen it was opened from."""

    def entries(self) -> Iterator[Entry]:
        seen: set[str] = set()
        titles: set[str] = set()
        for active in self.screen.active_bindings.values():
            binding = active.binding
            # ours all carry an id; the widgets' own (cursor keys, copy) stay out of the way
            if not binding.id or not binding.description or binding.system or not active.enabled:
                continue
            # "open('sync')" on the app and "app.open('sync')" on a screen are one action
            action = binding.action.removeprefix("app.")
            if action in seen or action == "command_palette" or binding.description in titles:
                continue
            seen.add(action)
            titles.add(binding.description)
            help_text = binding.tooltip or binding.description
            yield (
                binding.description,
                help_text,
                partial(self.app.run_action, binding.action, active.node),
            )

    def system_entries(self) -> Iterator[Entry]:
        """Textual's commands, after ours, without a second Quit."""
        ours = {title for title, _help, _cb in self.entries()}
        for command in self.app.get_system_commands(self.screen):
            if command.title not in ours and command.discover:
                yield command.title, command.help, command.callback

    async def discover(self) -> Hits:
        for title, help_text, callback in sorted(self.entries()):
            yield DiscoveryHit(title, callback, help=help_text)
        for title, help_text, callback in self.system_entries():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in [*self.entries(), *self.system_entries()]:
            score = max(matcher.match(title), matcher.match(help_text) * 0.5)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
