"""The command palette: every action of the current screen and the app, from their Bindings.

The footer, this palette and the Help screen all read the same ``Binding``
definitions (id, description, tooltip), so an action is named one way everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class KosmaCommands(Provider):
    """Palette entries for the active bindings of the screen it was opened from."""

    def entries(self) -> Iterator[tuple[str, str, Callable[[], object]]]:
        seen: set[str] = set()
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if not binding.description or binding.system or not active.enabled:
                continue
            title = binding.description
            if binding.action in seen:
                continue
            seen.add(binding.action)
            help_text = binding.tooltip or title
            yield title, help_text, partial(self.app.run_action, binding.action, active.node)

    async def discover(self) -> Hits:
        for title, help_text, callback in sorted(self.entries()):
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self.entries():
            score = max(matcher.match(title), matcher.match(help_text) * 0.5)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
