"""Use cases: what the commands and the TUI both do, written once.

- ``settings``: Banking Settings changes, their validation and its limits.
- ``sync``: syncing several accounts with one ERPNext push policy.
- ``refusals``: why something cannot be done now, with its remedy, as data.

No Textual, no printing: each interface renders the results and problems.
"""
