"""What the benchmarks share: the Demo Bank portal in its own process, and a sync (or any
script) in a fresh child process whose peak memory is its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

# the resident high-water mark of this process (VmHWM; ru_maxrss where there is no /proc)
PEAK = r"""
def peak_mb():
    import resource
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    try:  # ru_maxrss survives exec (it may be the forking parent's); VmHWM does not
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    peak = int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak
"""

CHILD = (
    PEAK
    + r"""
import asyncio, json, sys, time
from kosma_tui.core.portal import PortalClient
from kosma_tui.core.store import Store
from kosma_tui.core.sync import SyncEngine

async def main(url, name):
    store = Store.open()
    async with PortalClient(url, "test-customer", "test-token", ip_address="127.0.0.1") as client:
        start, cpu = time.perf_counter(), time.process_time()
        result = await SyncEngine(store, client).sync_account(name)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = peak_mb()
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": peak, "status": result.status,
                      "fetched": result.fetched, "new": result.new, "updated": result.updated,
                      "pages": result.pages,
                      "error": result.error.as_json() if result.error else None}))

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""
)


class PortalProcess:
    """``kosma-tui sandbox`` in its own process, restartable on another day."""

    def __init__(self, state: Path, transaction_limit: int | None = None) -> None:
        self.state = state
        self.transaction_limit = transaction_limit
        self.process: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self, today: date) -> None:
        self.stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kosma_tui",
                "sandbox",
                "--port",
                "0",
                "--state",
                str(self.state),
                "--today",
                today.isoformat(),
                *(
                    ["--transaction-limit", str(self.transaction_limit)]
                    if self.transaction_limit
                    else []
                ),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if "http://" in line:
                self.url = "http://" + line.split("http://", 1)[1].split()[0].rstrip(".,")
                return
            if not line and self.process.poll() is not None:
                break
        raise RuntimeError("the Demo Bank portal did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def child_sync(
    home: Path, url: str, account: str, now: date, timeout: float = 120
) -> dict[str, Any]:
    env = {**os.environ, "KOSMA_TUI_HOME": str(home), "KOSMA_TUI_NOW": now.isoformat()}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, url, account],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=True,
    )
    return json.loads(out.stdout)
