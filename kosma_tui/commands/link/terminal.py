"""The terminal of ``kosma-tui link``: questions asked, or answers read one per line."""

from __future__ import annotations

import getpass
from typing import TextIO

from kosma_tui.commands.base import safe_text


class EndOfInput(Exception):
    """Standard input ended (or Ctrl-D) before the flow was complete."""


class Terminal:
    """Questions on a terminal, or answers read one per line from piped input."""

    def __init__(self, stdin: TextIO, out: TextIO) -> None:
        self.stdin = stdin
        self.out = out
        self.interactive = stdin.isatty()
        self.live = out.isatty()

    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def ask(self, prompt: str, *, secret: bool = False) -> str:
        if self.interactive:
            try:
                if secret:
                    return getpass.getpass(prompt, stream=self.out)
                self.out.write(prompt)
                self.out.flush()
                line = self.stdin.readline()
            except EOFError:
                line = ""
            if not line:
                self.say()  # Ctrl-D leaves the cursor after the prompt
                raise EndOfInput()
            return line.rstrip("\r\n")
        line = self.stdin.readline()
        if not line:
            raise EndOfInput()
        value = line.rstrip("\r\n")
        self.say(f"{prompt}{'(hidden)' if secret else safe_text(value)}")
        return value
