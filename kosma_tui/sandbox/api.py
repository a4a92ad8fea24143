"""The protocol's methods: dispatch (authenticated by ``auth.py``), subscription, linking.

``Portal.handle`` answers one request with the ``message`` payload of a
success or raises ``PortalFailure``; a consent call answers an ``Answer`` (status
and exact body, kept for a replay, see ``replay.py``). The consent calls are
those of the ``Consents`` the portal holds (``consents.py``). Checks run in this
order, so a failure never consumes a consent token it did not have to: method
known -> API token -> JSON body -> common fields -> the method's own fields ->
state.
"""

from __future__ import annotations

import calendar
import secrets
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import orjson

import kosma_tui.sandbox.fields as fields
import kosma_tui.sandbox.flows as flows
from kosma_tui.sandbox.auth import authenticate
from kosma_tui.sandbox.banks import COUNTRIES
from kosma_tui.sandbox.billing import usage
from kosma_tui.sandbox.call import Call, PortalConfig
from kosma_tui.sandbox.clock import PortalClock, parse_moment
from kosma_tui.sandbox.consents import CONSENT_LIFETIME_DAYS, Consents
from kosma_tui.sandbox.crypto import STEP_KEYS, EnvelopeError, open_envelope
from kosma_tui.sandbox.errors import PortalFailure, invalid
from kosma_tui.sandbox.replay import Answer
from kosma_tui.sandbox.scenarios import scenario
from kosma_tui.sandbox.state import StateFile, token_hash

METHOD_PREFIX = "banking_admin.api."
SESSION_LIFETIME = timedelta(minutes=30)
SESSION_KEPT = timedelta(days=1)  # ended or timed-out sessions are forgotten after this

__all__ = ["METHOD_PREFIX", "Call", "Portal", "PortalConfig"]


class Portal:
    def __init__(self, state: StateFile, clock: PortalClock, config: PortalConfig) -> None:
        self.state = state
        self.clock = clock
        self.config = config
        self.consents = Consents(state, clock, config)
        self.methods: dict[str, Callable[[Call], dict[str, Any] | list[Any] | Answer]] = {
            "fetch_subscription_details": self.fetch_subscription_details,
            "get_client_token": self.get_client_token,
            "get_flow_step": self.get_flow_step,
            "submit_flow_step": self.submit_flow_step,
            "fetch_accounts_and_bank": self.fetch_accounts_and_bank,
            "end_session": self.end_session,
            "fetch_consent_accounts": self.consents.accounts,
            "fetch_consent_balances": self.consents.balances,
            "fetch_consent_transactions": self.consents.transactions,
            "revoke_consent": self.consents.revoke,
        }

    def handle(
        self, path_method: str, authorization: str | None, raw: bytes, base_url: str
    ) -> dict[str, Any] | list[Any] | Answer:
        method = self.methods.get(path_method)
        if method is None:
            raise PortalFailure(
                "VALIDATION.UNKNOWN_METHOD",
                f"The portal has no method '{METHOD_PREFIX}{path_method}'.",
                status=404,
                errors=[{"location": "method", "message": "Unknown method."}],
            )
        authenticate(authorization)
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise invalid("body", "The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise invalid("body", "The request body must be a JSON object.")
        customer, attended = fields.common(body)
        return method(Call(body, customer, attended, base_url))

    # ---- subscription ----------------------------------------------------

    def fetch_subscription_details(self, call: Call) -> list[dict[str, Any]]:
        today = self.clock.today()
        record = usage(self.state.read(), call.customer, today)
        last_day = calendar.monthrange(today.year, today.month)[1]
        return [
            {
                "full_name": "Demo Bank Sandbox",
                "subscription_status": "Active",
                "usage": record["count"],
                "transaction_limit": self.config.transaction_limit,
                "plan_end_date": today.replace(day=last_day).isoformat(),
                "last_paid_on": today.replace(day=1).isoformat(),
                "billing_portal": f"{call.base_url}/billing",
            }
        ]

    # ---- linking ---------------------------------------------------------

    def get_client_token(self, call: Call) -> dict[str, Any]:
        body = call.body
        if body.get("current_flow") != "accounts":
            raise invalid("current_flow", "'current_flow' must be \"accounts\".")
        from_date = fields.day(body, "from_date")
        to_date = fields.day(body, "to_date")
        assert from_date is not None and to_date is not None
        if from_date > self.clock.today():
            raise invalid("from_date", "'from_date' lies in the future.")
        if to_date < from_date:
            raise invalid("to_date", "'to_date' is before 'from_date'.")
        country = body.get("country_code")
        if country is not None and country not in COUNTRIES:
            raise invalid("country_code", f"'country_code' must be one of {', '.join(COUNTRIES)}.")
        if body.get("account") is not None and not isinstance(body["account"], dict):
            raise invalid("account", "'account' must be an object.")
        session_id = secrets.token_urlsafe(32)
        short = "S-" + secrets.token_hex(4).upper()
        flow_id = "flow-" + secrets.token_hex(8)
        now = self.clock.now()
        with self.state.update() as state:
            self._forget_old_sessions(state, now)
            state["sessions"][token_hash(session_id)] = {
                "short": short,
                "flow_id": flow_id,
                "customer": call.customer,
                "created": now.isoformat(),
                "ended": False,
                "from_date": from_date.isoformat(),
                "to_date": to_date.isoformat(),
                **flows.new_session_fields(country),
            }
        return {
            "session_data": {
                "session_id": session_id,
                "session_id_short": short,
                "consent_scope": {
                    "lifetime": CONSENT_LIFETIME_DAYS,
                    "transactions": {
                        "from_date": from_date.isoformat(),
                        "to_date": to_date.isoformat(),
                    },
                },
            },
            "flow_data": {
                "client_token": secrets.token_urlsafe(24),
                "flow_id": flow_id,
                "state": "CONSUMER_INPUT_NEEDED",
            },
        }

    def _forget_old_sessions(self, state: dict[str, Any], now: datetime) -> None:
        for key, session in list(state["sessions"].items()):
            if now - parse_moment(session["created"]) > SESSION_KEPT:
                del state["sessions"][key]

    def _session(self, state: dict[str, Any], call: Call) -> dict[str, Any]:
        session_id = fields.required_string(call.body, "session_id")
        session = state["sessions"].get(token_hash(session_id))
        if session is None or session["customer"] != call.customer:
            raise PortalFailure(
                "USER.SESSION.TIMEOUT",
                "The portal does not know this linking session (it ended long ago or never "
                "existed); start linking again.",
            )
        if session["ended"]:
            raise PortalFailure(
                "USER.SESSION.TIMEOUT", "This linking session has ended; start linking again."
            )
        if self.clock.now() - parse_moment(session["created"]) > SESSION_LIFETIME:
            raise PortalFailure(
                "USER.SESSION.TIMEOUT",
                "This linking session is older than 30 minutes; start linking again.",
            )
        if call.body.get("flow_id") != session["flow_id"]:
            raise invalid("flow_id", "'flow_id' does not belong to this session.")
        return session

    def get_flow_step(self, call: Call) -> dict[str, Any]:
        with self.state.update() as state:
            session = self._session(state, call)
            flows.poll(session)
            return flows.render(session)

    def submit_flow_step(self, call: Call) -> dict[str, Any]:
        body = call.body
        with self.state.update() as state:
            session = self._session(state, call)
            if not flows.expects_input(session):
                raise flows.refuse_submission(session)
            form_identifier = fields.required_string(body, "form_identifier")
            expected = flows.FORM_IDS[session["step"]]
            if form_identifier != expected:
                raise invalid(
                    "form_identifier",
                    f"This step's form is '{expected}', not '{form_identifier}'.",
                )
            data = self._submitted_data(session, body, form_identifier)
            flows.submit(session, flows.check_values(session, _values(data)))
            return flows.render(session)

    def _submitted_data(
        self, session: dict[str, Any], body: dict[str, Any], form_identifier: str
    ) -> object:
        keyed = session["step"] in flows.KEYED_STEPS
        has_data, has_envelope = body.get("data") is not None, body.get("envelope") is not None
        if has_data and has_envelope:
            raise invalid("envelope", "Send either 'data' or 'envelope', not both.")
        if not keyed:
            if has_envelope:
                raise invalid("envelope", "This step carries no key: send 'data' in clear.")
            if not has_data:
                raise invalid("data", "'data' is required: a list of {key, value}.")
            return body["data"]
        if has_data:
            raise invalid("data", "This step carries a key: its values must travel in an envelope.")
        if not has_envelope:
            raise invalid("envelope", "'envelope' is required: this step carries a key.")
        private = STEP_KEYS.private(session["key_id"]) if session["key_id"] else None
        if private is None:
            raise invalid(
                "envelope",
                "This portal process does not hold the step's key any more; fetch the step "
                "again for a new key.",
            )
        try:
            content = open_envelope(private, body["envelope"])
        except EnvelopeError as exc:
            raise invalid("envelope", str(exc)) from None
        if content.get("form_identifier") != form_identifier:
            raise invalid("envelope", "The envelope is for another form than 'form_identifier'.")
        return content.get("data")

    def fetch_accounts_and_bank(self, call: Call) -> dict[str, Any]:
        session_hash = token_hash(fields.required_string(call.body, "session_id"))
        pending = self.state.read()["sessions"].get(session_hash)
        if pending and pending.get("username") and scenario(pending["username"]).slow:
            time.sleep(self.config.slow_seconds)
        with self.state.update() as state:
            session = self._session(state, call)
            if session["step"] != "finished":
                raise invalid(
                    "flow_id", f"The flow is {flows.flow_state(session)}, not FINISHED yet."
                )
            return self.consents.create_or_rotate(state, session)

    def end_session(self, call: Call) -> dict[str, Any]:
        session_id = fields.required_string(call.body, "session_id")
        with self.state.update() as state:
            session = state["sessions"].get(token_hash(session_id))
            if session is not None and session["customer"] == call.customer:
                STEP_KEYS.discard(session["key_id"])
                session.update(ended=True, key_id=None)
        return {}


def _values(data: object) -> dict[str, str]:
    if not isinstance(data, list):
        raise invalid("data", "'data' must be a list of {key, value} objects.")
    values: dict[str, str] = {}
    for item in data:
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("key"), str)
            or not isinstance(item.get("value"), str)
        ):
            raise invalid("data", 'Each item of \'data\' must be {"key": str, "value": str}.')
        if item["key"] in values:
            raise invalid(item["key"], f"'{item['key']}' was sent twice.")
        values[item["key"]] = item["value"]
    return values
