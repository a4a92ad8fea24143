"""``kosma-tui link``: Link Bank and Accounts from a plain terminal.

The portal's forms are rendered line by line: options answer the non-secret
choices (country, bank, login method), everything else is asked (secrets and
OTPs without echo), or read one line each from standard input when it is not
a terminal, so linking can be scripted::

    printf 'embedded\\n12345\\n12345\\n' | kosma-tui link --company "Demo Company" \\
        --country DE --bank "Demo Bank" --method "Demo Bank PSD2"

Whatever ends the flow early (Ctrl-C, end of input, a refused answer, a
portal failure) ends the portal session first.
"""

from kosma_tui.commands.link.command import TICK, add_parser, run
from kosma_tui.commands.link.output import print_summary, summary_json
from kosma_tui.commands.link.prompts import LIST_LIMIT, FormAnswerer, choose_accounts
from kosma_tui.commands.link.terminal import EndOfInput, Terminal

__all__ = [
    "LIST_LIMIT",
    "TICK",
    "EndOfInput",
    "FormAnswerer",
    "Terminal",
    "add_parser",
    "choose_accounts",
    "print_summary",
    "run",
    "summary_json",
]
