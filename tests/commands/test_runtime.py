"""The composition root: one Runtime per run of ``kosma-tui``, its embedded Demo Bank
portal started on first need and stopped when the run ends, whatever the ending."""

from __future__ import annotations

import argparse
import json
import socket
from pathlib import Path
from typing import Any

import pytest
from cli_support import kosma
from test_sync_commands import link_demo

import kosma_tui.sandbox
from kosma_tui.commands import base
from kosma_tui.core.errors import KosmaError
from kosma_tui.runtime import Runtime


class Portals:
    """Counts the embedded Demo Bank portals started and those still running."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.started: list[Any] = []
        real = kosma_tui.sandbox.start_portal

        def start(*args: Any, **kwargs: Any) -> Any:
            running = real(*args, **kwargs)
            self.started.append(running)
            return running

        monkeypatch.setattr(kosma_tui.sandbox, "start_portal", start)

    @property
    def running(self) -> int:
        return sum(1 for p in self.started if serving(p))


def serving(portal: Any) -> bool:
    """Whether the portal still accepts connections on its port."""
    try:
        socket.create_connection(("127.0.0.1", portal.port), timeout=2).close()
    except OSError:
        return False
    return True


class Runtimes:
    """Counts the Runtimes the command runner builds, and whether each was closed."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.built: list[Runtime] = []
        self.closed: list[Runtime] = []
        outer = self

        class Counted(Runtime):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                outer.built.append(self)

            def close(self) -> None:
                outer.closed.append(self)
                super().close()

        monkeypatch.setattr(base, "Runtime", Counted)


def test_each_run_builds_one_runtime_whose_portal_stops_at_its_end(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    link_demo(home)
    portals, runtimes = Portals(monkeypatch), Runtimes(monkeypatch)
    for run in (1, 2):  # twice in one interpreter: each run starts and stops its own
        synced = kosma(home, "sync", "--all", "--json")
        assert synced.returncode == 0, synced.stderr
        assert all(a["status"] == "ok" for a in json.loads(synced.stdout)["accounts"])
        assert len(runtimes.built) == len(runtimes.closed) == run
        assert len(portals.started) == run and portals.running == 0


def test_a_run_without_portal_work_starts_no_portal(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    portals = Portals(monkeypatch)
    assert kosma(home, "status", "--json").returncode in (0, 1)
    assert kosma(home, "company", "list").returncode == 0
    assert portals.started == []


@pytest.mark.parametrize("ending", ["refusal", "bug", "interrupt"])
def test_the_portal_stops_however_the_command_ends(
    home: Path, monkeypatch: pytest.MonkeyPatch, ending: str
) -> None:
    portals = Portals(monkeypatch)
    error = {
        "refusal": KosmaError("No.", "Do this instead."),
        "bug": RuntimeError("boom"),
        "interrupt": KeyboardInterrupt(),
    }[ending]

    def command(_args: argparse.Namespace, runtime: Runtime) -> int:
        assert runtime.demo_portal_url() == runtime.demo_portal_url()  # started once
        raise error

    status = base.run_command(command, argparse.Namespace(), guard=False)
    assert status == {"refusal": 1, "bug": 1, "interrupt": 130}[ending]
    assert len(portals.started) == 1 and portals.running == 0


def test_an_injected_portal_is_used_and_left_running(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kosma_tui.core.store import Store

    theirs = kosma_tui.sandbox.start_portal(tmp_path / "theirs.json")
    portals = Portals(monkeypatch)
    try:
        with Runtime(store=Store.open(), demo_portal_url=str(theirs.url)) as runtime:
            assert runtime.demo_portal_url() == str(theirs.url)
            assert runtime.store is runtime.store
        assert portals.started == [] and serving(theirs)
    finally:
        theirs.stop()
