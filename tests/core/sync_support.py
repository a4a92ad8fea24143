"""Helpers for the sync tests and benchmarks: link a Demo Bank user into a real store.

Linking goes through the real PortalClient against the real Demo Bank portal
(walking its forms like ``kosma-tui link`` would) and saves the Bank, Bank
Accounts and Bank Consent with ``linking.save_link``, as the link wizard does.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# ``kosma(home, *args)`` is the shared in-process runner; imported here so the sync
# tests' ``from sync_support import kosma`` keeps working
from cli_support import kosma

from kosma_tui.core import clock
from kosma_tui.core.records import DEMO_COMPANY, BankAccount, BankConsent

ANSWERS = {"country_code": "DE", "bank_code": "88888888", "USER_PASSWORD": "12345", "TAN": "12345"}


def client_for(
    url: str,
    *,
    attended: bool = True,
    customer_id: str = "test-customer",
    api_token: str = "test-token",  # noqa: S107 - the Demo Bank accepts any token
    **options: Any,
) -> Any:
    from kosma_tui.core.portal import PortalClient

    return PortalClient(
        url, customer_id, api_token, ip_address="127.0.0.1" if attended else None, **options
    )


async def link(
    store: Any,
    client: Any,
    username: str = "embedded",
    *,
    start: date | None = None,
    company: str = DEMO_COMPANY,
) -> BankConsent:
    """Link ``username`` at the Demo Bank for ``company``; returns the saved consent."""
    from kosma_tui.core.forms import ChoiceElement

    today = clock.today()
    token = await client.get_client_token(start or today, today)
    sid, fid = token.session_id, token.flow_id
    step = await client.get_flow_step(sid, fid)
    answers = {**ANSWERS, "LOGINNAME": username}
    while step.state in ("CONSUMER_INPUT_NEEDED", "PROCESSING"):
        if step.state == "PROCESSING":
            await asyncio.sleep((step.poll_after_ms or 100) / 1000)
            step = await client.get_flow_step(sid, fid)
            continue
        assert step.error is None, step.error
        values = {}
        for element in step.form.inputs:
            if element.key in answers:
                values[element.key] = answers[element.key]
            elif isinstance(element, ChoiceElement):
                values[element.key] = element.options[0].value
        step = await client.submit_flow_step(sid, fid, step, values)
    assert step.state == "FINISHED", step
    result = await client.fetch_accounts_and_bank(sid, fid)
    await client.end_session(sid)
    from kosma_tui.core.linking import save_link

    return save_link(store, company, result, session_id=sid).consent


def transaction_ids(store: Any, account: BankAccount) -> dict[str, str]:
    return dict(store.book(account).ids())


async def reference_ids(
    store: Any, url: str, username: str, start: date, **client_options: Any
) -> set[str]:
    """The ids an uninterrupted first sync stores: ``username`` linked afresh into
    ``store`` (another home) and synced. Demo Bank data depend on the user, not the
    consent, so these are the ids every complete sync of that user must hold."""
    from kosma_tui.core.sync import SyncEngine

    async with client_for(url, **client_options) as client:
        await link(store, client, username, start=start)
        (account,) = store.accounts()
        result = await SyncEngine(store, client).sync_account(account.name, push=False)
    assert result.ok, result.error
    return set(store.book(account).ids())


def kill_during_syncs(
    home: Path, *, kills: int, seed: int, window: float, timeout: float = 120
) -> list[float]:
    """Run ``kosma-tui sync --all`` ``kills`` times, each SIGKILLed at a random moment
    in its first ``window`` seconds (after its start-up), so the kill points fall
    across the call boundaries: before, during and after consent calls, while a page
    is written. Attended (stdin a terminal), so the bank's daily limit of unattended
    reads does not end the test. Returns the kill moments."""
    import pty
    import random
    import signal
    import time

    rng = random.Random(seed)
    env = {**os.environ, "KOSMA_TUI_HOME": str(home)}
    env.pop("KOSMA_TUI_NOW", None)
    moments = []
    for _ in range(kills):
        master, slave = pty.openpty()
        try:
            job = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "import sys, kosma_tui.commands.sync; "
                    "print('ready', flush=True); from kosma_tui.cli import main; "
                    "sys.exit(main(['sync', '--all']))",
                ],
                stdin=slave,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=env,
            )
            assert job.stdout is not None
            assert job.stdout.readline().strip() == b"ready"  # imports done: timing is fair
            moment = rng.uniform(0, window)
            time.sleep(moment)
            job.send_signal(signal.SIGKILL)
            job.wait(timeout)
            moments.append(moment)
        finally:
            os.close(master)
            os.close(slave)
    return moments


def open_store(home: Path) -> Any:
    """The store under ``home`` (a KOSMA_TUI_HOME), opened as the commands open it."""
    from kosma_tui.core.paths import resolve_paths
    from kosma_tui.core.store import Store

    return Store.open(resolve_paths(home))


def enable_and_link(
    home: Path,
    admin_url: str,
    portal_url: str,
    username: str,
    start: date,
    *,
    now: str | None = None,
) -> Any:
    """Banking Settings enabled on ``admin_url`` (the portal, or a proxy in front of it),
    then ``username`` linked straight at the portal from ``start``; returns the consent."""
    setup = kosma(
        home,
        "settings",
        "--enable",
        "--admin-url",
        admin_url,
        "--customer-id",
        "C-1",
        "--api-token-stdin",
        stdin="token\n",
        now=now,
    )
    assert setup.returncode == 0, setup.stderr

    async def go() -> Any:
        async with client_for(portal_url, customer_id="C-1", api_token="token") as c:
            return await link(open_store(home), c, username, start=start)

    return asyncio.run(go())


def consent_usable(store: Any, state_file: Path) -> bool:
    """True when the next sync can go on with the consent, read from both sides."""
    from kosma_tui.core.replay import ReplayJournal

    def sha(token: str) -> str:
        return hashlib.sha256(token.encode("utf-8")).hexdigest()

    (consent,) = store.consents()
    kept = orjson.loads(state_file.read_bytes())["consents"][consent.consent_id]
    if sha(consent.consent_token) == kept["token_hash"]:
        return True
    pending = ReplayJournal.of(store).pending(consent.consent_id)
    if pending is None or not pending.belongs_to(consent.consent_token):
        return False
    if sha(pending.consent_token) == kept["token_hash"]:
        return True  # the cut call never reached the portal
    replay = kept.get("replay") or {}
    return (
        replay.get("consumed") == sha(pending.consent_token)
        and replay.get("request_id") == pending.request_id
    )


def _left_a_call(store: Any) -> bool:
    from kosma_tui.core.replay import ReplayJournal

    (consent,) = store.consents()
    pending = ReplayJournal.of(store).pending(consent.consent_id)
    return pending is not None and pending.belongs_to(consent.consent_token)


def run_kills(
    home: Path, tmp_path: Path, *, username: str, days: int, kills: int, window: float
) -> None:
    from kosma_tui.core.paths import resolve_paths
    from kosma_tui.core.store import Store
    from kosma_tui.sandbox import start_portal

    seed = int(os.environ.get("KOSMA_TEST_SEED") or random.randrange(2**32))
    print(f"kill test seed {seed} (KOSMA_TEST_SEED={seed} repeats it)")
    start = date.today() - timedelta(days=days - 1)
    state_file = tmp_path / "portal.json"
    with start_portal(state_file) as portal:
        enable_and_link(home, portal.url, portal.url, username, start)
        rng = random.Random(seed)
        replays, dates = 0, []
        for i in range(kills):
            kill_during_syncs(home, kills=1, seed=rng.randrange(2**32), window=window)
            store = open_store(home)
            assert consent_usable(store, state_file), f"consent lost at kill {i + 1}"
            replays += _left_a_call(store)
            dates.append(store.accounts()[0].last_integration_date or "-")
        print(
            f"{kills} kills; {replays} left a consent call for the next run to replay; "
            f"Last Integration Date after each: {' '.join(dates)}"
        )

        final = kosma(home, "sync", "--all", "--json")
        assert final.returncode == 0, final.stdout + final.stderr
        store = open_store(home)
        (account,) = store.accounts()
        ids = store.book(account).ids()
        assert store.book(account).count() == len(ids)  # none twice
        reference = Store.open(resolve_paths(tmp_path / "reference"))
        expected = asyncio.run(
            reference_ids(
                reference, portal.url, username, start, customer_id="C-1", api_token="token"
            )
        )
        assert set(ids) == expected  # exactly the rows of an uninterrupted run
