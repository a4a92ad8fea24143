"""TUI test helpers: a frozen clock, the real Demo Bank portal, linking through the core."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from textual.pilot import Pilot

from kosma_tui.core.forms import FINISHED, PROCESSING
from kosma_tui.core.linking import LinkFlow, LinkSummary, resolve_start_date
from kosma_tui.core.portal import PortalClient
from kosma_tui.core.store import Store
from kosma_tui.tui.app import KosmaApp
from kosma_tui.tui.screens.link import LinkScreen

NOW = "2026-11-26T09:00:00"
TODAY = date(2026, 11, 26)
COMPANY = "Demo Company"
SIZE = (80, 24)

ANSWERS = ({"country_code": "DE"}, {"bank_code": "88888888"}, {"interface": "PSD2"})


def make_app(store: Store, portal: Any, **options: Any) -> KosmaApp:
    return KosmaApp(store=store, portal_url=portal.url, hostname="erp01", **options)


async def link(
    store: Store,
    url: str,
    *,
    username: str = "embedded",
    start: str = "2026-11-01",
    company: str = COMPANY,
) -> LinkSummary:
    """Link the Demo Bank through the core (test setup, not the UI under test)."""
    async with PortalClient(
        url, "demo-customer", "demo-token", ip_address="127.0.0.1", retries=0
    ) as client:
        flow = LinkFlow(store, client, company, resolve_start_date(store, company, start))
        step = await flow.start()
        answers = [*ANSWERS, {"LOGINNAME": username, "USER_PASSWORD": "12345"}, {"TAN": "12345"}]
        while step.state != FINISHED:
            if step.state == PROCESSING:
                step = await flow.poll()
                continue
            assert step.form is not None
            keys = {e.key for e in step.form.inputs}
            values = next(a for a in answers if set(a) == keys)
            step = await flow.submit(values)
        return flow.save(await flow.fetch_result())


async def wait_until(
    pilot: Pilot[Any], condition: Callable[[], object], timeout: float = 20.0, what: str = ""
) -> None:
    """Let the app run until ``condition()`` is true."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await pilot.pause(0.05)
        await asyncio.sleep(0)
    await pilot.pause()


# workers that may run for long (the sync queue, the link wizard's polling): not waited for
LONG_WORKERS = frozenset({"sync", "link-poll"})


async def settled(pilot: Pilot[Any], timeout: float = 20.0) -> None:
    """Until the screens' store reads are done and drawn: they run in thread workers, and a
    worker ends only once its result was handed to the screen."""
    await wait_until(
        pilot,
        lambda: all(w.is_finished or w.group in LONG_WORKERS for w in pilot.app.workers),
        timeout,
        what="the store reads",
    )


def screen_text(app: KosmaApp) -> str:
    """Every visible line of the current screen as plain text."""
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text for strip in strips)


async def type_text(pilot: Pilot[Any], text: str) -> None:
    for ch in text:
        await pilot.press(ch)


def flat_text(app: KosmaApp) -> str:
    """The screen's words on one line (wrapped sentences joined, borders dropped)."""
    text = screen_text(app)
    for ch in "│▌▐▎▍":
        text = text.replace(ch, " ")
    return " ".join(text.split())


def notices(app: KosmaApp) -> str:
    """Every toast shown so far (title and message), one text."""
    return " ".join(f"{n.title} {n.message}" for n in app._notifications)


def on_phase(app: KosmaApp, phase: str, number: int | None = None) -> bool:
    screen = app.screen
    return (
        isinstance(screen, LinkScreen)
        and not screen.busy
        and screen.phase == phase
        and (number is None or screen.phase_no == number)
    )


async def to_banks(pilot: Any, app: KosmaApp, start: str | None = None) -> None:
    """From Accounts: l, Company and Start Date, Deutschland, to the list of banks."""
    await pilot.press("l")
    await wait_until(pilot, lambda: on_phase(app, "start"), what="start step")
    if start is not None:
        date_input = app.screen.query_one("#start-date")
        date_input.value = start  # type: ignore[attr-defined]
    await pilot.press("enter")
    await wait_until(pilot, lambda: on_phase(app, "form", 2), what="country step")
    assert "Deutschland" in screen_text(app)
    await pilot.press("enter")  # Deutschland is first
    await wait_until(pilot, lambda: on_phase(app, "form", 3), what="bank step")


async def to_login(pilot: Any, app: KosmaApp, start: str | None = None) -> None:
    """From Accounts: l, Company and Start Date, Deutschland, Demo Bank, Demo Bank PSD2."""
    await to_banks(pilot, app, start)
    await type_text(pilot, "demo")
    await pilot.pause()
    assert "2 of 24 banks" in screen_text(app)
    await pilot.press("enter")
    await wait_until(pilot, lambda: on_phase(app, "form", 4), what="method step")
    assert "Demo Bank PSD2" in screen_text(app)
    await pilot.press("enter")
    await wait_until(pilot, lambda: on_phase(app, "form", 5), what="login step")


async def login(pilot: Any, app: KosmaApp, username: str) -> None:
    await type_text(pilot, username)
    await pilot.press("enter")  # to the password
    await type_text(pilot, "12345")
    await pilot.press("enter")


async def to_accounts(pilot: Any, app: KosmaApp, start: str | None = None) -> None:
    """From Accounts through login (embedded) and OTP 12345 to the choose-accounts step."""
    await to_login(pilot, app, start)
    await login(pilot, app, "embedded")
    await wait_until(pilot, lambda: on_phase(app, "form", 6), what="OTP step")
    await type_text(pilot, "12345")
    await pilot.press("enter")
    await wait_until(pilot, lambda: on_phase(app, "accounts"), what="accounts step")
