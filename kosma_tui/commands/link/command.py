"""``kosma-tui link`` run: the flow driven from the terminal until the summary.

Whatever ends the flow early (Ctrl-C, end of input, a refused answer, a
portal failure) ends the portal session first.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from kosma_tui.commands.base import (
    print_header,
    print_json,
    report_error,
    safe_text,
)
from kosma_tui.commands.link.arguments import add_arguments, check_country, stored_bank
from kosma_tui.commands.link.output import print_summary, summary_json
from kosma_tui.commands.link.prompts import FormAnswerer, choose_accounts
from kosma_tui.commands.link.terminal import EndOfInput, Terminal
from kosma_tui.core.errors import KosmaError, UsageError
from kosma_tui.core.forms import CONSUMER_INPUT_NEEDED, FINISHED, PROCESSING, Step
from kosma_tui.core.linking import (
    LinkFlow,
    bank_record_name,
    company_or_error,
    default_start_text,
    renewal_note,
    resolve_start_date,
)
from kosma_tui.core.linking.failures import LinkCancelled
from kosma_tui.core.text import raw_stream
from kosma_tui.runtime import Runtime

TICK = 0.25  # seconds between updates of the decoupled wait


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "link",
        help="Link Bank and Accounts through the banking portal's forms",
        description="Link Bank and Accounts: every form element the options do not answer "
        "is asked on the terminal (secrets without echo), or read line by line from standard "
        "input when it is not a terminal.",
    )
    add_arguments(p)
    p.set_defaults(func=run)


async def _wait_for_approval(flow: LinkFlow, step: Step, term: Terminal) -> Step:
    """Poll a decoupled approval, showing the seconds waited; cancelling ends the session."""
    term.say("Approve the login in your banking app… (Ctrl-C cancels)")
    began = time.monotonic()
    last_line = 0.0
    while step.state == PROCESSING:
        task = asyncio.ensure_future(flow.poll())
        try:
            while not task.done():
                await asyncio.wait({task}, timeout=TICK)
                waited = time.monotonic() - began
                if term.live:
                    raw_stream(term.out).write(f"\r  waiting for approval: {waited:.0f} s ")
                    term.out.flush()
                elif waited - last_line >= 5:
                    last_line = waited
                    term.say(f"  waiting for approval: {waited:.0f} s")
        except asyncio.CancelledError:
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, KosmaError):
                pass
            await flow.cancel()
            raise
        step = task.result()
    if term.live:
        term.out.write("\n")
    term.say(f"Approved after {time.monotonic() - began:.0f} s.")
    return step


def _drive(runner: asyncio.Runner, flow: LinkFlow, term: Terminal, answerer: FormAnswerer) -> Step:
    """Walk the steps until FINISHED (terminal steps raise from the flow)."""
    step = runner.run(flow.start())
    retry_form: str | None = None
    while step.state != FINISHED:
        if step.state == CONSUMER_INPUT_NEEDED:
            assert step.form is not None
            retry = step.error is not None and retry_form == step.form.form_identifier
            values = answerer.values(step, retry)
            retry_form = step.form.form_identifier
            step = runner.run(flow.submit(values))
        elif step.state == PROCESSING:
            step = runner.run(_wait_for_approval(flow, step, term))
        else:  # the flow raises on terminal steps; anything else is a portal fault
            raise UsageError(f"The portal sent an unexpected step ({step.state}).")
    return step


def run(
    args: argparse.Namespace,
    runtime: Runtime,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
) -> int:
    # with --json, standard output carries only the summary: questions go to stderr
    term = Terminal(stdin or sys.stdin, out or (sys.stderr if args.json else sys.stdout))
    store = runtime.store
    company = company_or_error(store, " ".join(args.company.split())).name
    renewing = stored_bank(store, args.bank)
    text = args.start_date
    if text is None:
        text = default_start_text(store, company, renewing)
    start = resolve_start_date(store, company, text)
    check_country(args.country)

    print_header(store, "Link Bank and Accounts", term.out)
    term.say(f"Company: {safe_text(company)}  ·  Start Date: {start.date.isoformat()}")
    if start.warning:
        term.say(f"Note: {start.warning}")
    note = renewal_note(store, company, renewing, start.date) if renewing else None
    if note:
        term.say(f"Note: {note}")

    connection = runtime.portal(attended=True)
    with asyncio.Runner() as runner:
        client = runner.run(connection.__aenter__())
        try:
            if start.warning:
                _say_usage(runner, store, client, term)
            flow = LinkFlow(store, client, company, start)
            return _link(runner, flow, term, FormAnswerer(term, args), args, note)
        finally:
            runner.run(connection.__aexit__(None, None, None))


def _say_usage(runner: asyncio.Runner, store: Any, client: Any, term: Terminal) -> None:
    """How much of the plan is left, after the warning that older transactions count."""
    from kosma_tui.core import subscription

    try:
        note = subscription.usage_note(runner.run(subscription.fetch(store, client)))
    except KosmaError:
        return  # the warning stands; linking itself reports a portal that does not answer
    if note:
        term.say(f"Note: {note}")


def _link(
    runner: asyncio.Runner,
    flow: LinkFlow,
    term: Terminal,
    answerer: FormAnswerer,
    args: argparse.Namespace,
    note: str | None,
) -> int:
    def ended(make: Callable[[], BaseException]) -> BaseException:
        runner.run(flow.cancel())
        return make()

    try:
        _drive(runner, flow, term, answerer)
        result = runner.run(flow.fetch_result())
        chosen = choose_accounts(term, result, flow.store, flow.company, args.accounts == "all")
    except KeyboardInterrupt:
        runner.run(flow.cancel())
        term.say("")
        report_error(LinkCancelled(), bool(getattr(args, "json", False)))
        return 130
    except EndOfInput:
        raise ended(
            lambda: UsageError(
                "Standard input ended before linking was complete; the portal session was ended "
                "and nothing was saved.",
                "Give every answer the forms ask for on its own line.",
            )
        ) from None
    except BaseException:
        runner.run(flow.cancel())
        raise
    if note is None:
        note = renewal_note(
            flow.store, flow.company, bank_record_name(result.bank), flow.start_date.date
        )
    summary = flow.save(result, chosen)
    if getattr(args, "json", False):
        print_json(summary_json(summary, ([note] if note else []) + summary.warnings))
        return 0
    print_summary(term, summary, note)
    return 0
