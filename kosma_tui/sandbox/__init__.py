"""The Demo Bank portal: a second, independent implementation of PROTOCOL.md.

``start_portal(state_path, ...) -> RunningPortal`` serves it in a daemon
thread (the app's demo mode and the tests); ``main(argv)`` is
``kosma-tui sandbox``. It shares no code with ``kosma_tui.core`` and never
imports Textual. README.md beside this file documents its behaviour.
"""

from kosma_tui.sandbox.cli import main
from kosma_tui.sandbox.errors import SandboxStateError
from kosma_tui.sandbox.server import RunningPortal, start_portal

__all__ = ["RunningPortal", "SandboxStateError", "main", "start_portal"]
