"""Where Kosma TUI keeps its files.

By default the platform's user folders (platformdirs); ``KOSMA_TUI_HOME=DIR``
puts config, data and logs under ``DIR`` instead (tests and side-by-side
installations use it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "kosma-tui"
HOME_ENV = "KOSMA_TUI_HOME"


@dataclass(frozen=True)
class Paths:
    config_dir: Path
    data_dir: Path
    log_dir: Path

    @property
    def key_file(self) -> Path:
        """The Fernet key, kept apart from the store it unlocks."""
        return self.config_dir / "secret.key"

    @property
    def store_dir(self) -> Path:
        return self.data_dir / "store"

    @property
    def sandbox_state(self) -> Path:
        """State file of the embedded Demo Bank portal."""
        return self.data_dir / "sandbox" / "state.json"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "kosma-tui.log"

    def ensure(self) -> None:
        """Create the missing folders, private to the user (0700)."""
        for folder in (self.config_dir, self.data_dir, self.log_dir, self.store_dir):
            make_private_dir(folder)


def make_private_dir(folder: Path) -> None:
    """``folder`` and every missing folder above it, 0700 whatever the umask.

    ``mkdir(parents=True)`` would create the missing parents (``KOSMA_TUI_HOME``
    itself) with the umask's mode, 0777 under umask 000. A folder that already
    exists keeps its mode: it may be shared (``/tmp``, a ``KOSMA_TUI_HOME`` an
    admin prepared), and changing it would break others.
    """
    missing: list[Path] = []
    current = folder
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            continue  # another process was quicker: it is theirs to set
        path.chmod(0o700)  # mkdir's mode passes through the umask


def resolve_paths(home: str | os.PathLike[str] | None = None) -> Paths:
    """The folders for this run: ``home``, else ``$KOSMA_TUI_HOME``, else platformdirs."""
    root = home if home is not None else os.environ.get(HOME_ENV) or None
    if root:
        base = Path(root).expanduser().resolve()
        return Paths(base / "config", base / "data", base / "logs")
    import platformdirs

    return Paths(
        Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
    )
