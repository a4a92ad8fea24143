"""Consents: creation, token rotation, and the consent calls (``Consents``).

Every consent call that reaches a live consent consumes its token and hands
out a new one, in the success body or, when the call fails but the consent
stays usable, in the error body. A failure without ``consent_token``
(unknown/stale token, expired, revoked, or anything refused before the
consent was looked at) leaves the token that was sent as it was.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import orjson

from kosma_tui.sandbox.banks import BANKS
from kosma_tui.sandbox.billing import usage
from kosma_tui.sandbox.call import Call, PortalConfig
from kosma_tui.sandbox.clock import PortalClock, parse_moment
from kosma_tui.sandbox.data import DemoAccount, account_id, account_object, page
from kosma_tui.sandbox.data import accounts as demo_accounts
from kosma_tui.sandbox.errors import PortalFailure, invalid
from kosma_tui.sandbox.fields import required_string
from kosma_tui.sandbox.ledger import balances, booked, hidden, late_booking
from kosma_tui.sandbox.paging import next_page_url, page_request
from kosma_tui.sandbox.replay import Answer, keep, replayed, request_id
from kosma_tui.sandbox.scenarios import scenario
from kosma_tui.sandbox.state import StateFile, token_hash
from kosma_tui.sandbox.unattended import Unattended

CONSENT_LIFETIME_DAYS = 90
FORGET_EXPIRED_AFTER = timedelta(days=365)

Handler = Callable[[dict[str, Any], str, dict[str, Any]], dict[str, Any]]


def _new_token() -> str:
    return "ct-" + secrets.token_urlsafe(32)


def _expiry(created: datetime, days: int) -> datetime:
    # same local wall-clock time ``days`` later, with that day's UTC offset
    return (created.replace(tzinfo=None) + timedelta(days=days)).astimezone()


def _demo_accounts(consent: dict[str, Any]) -> list[DemoAccount]:
    bank = BANKS[consent["country"]][consent["bank"]]
    return demo_accounts(scenario(consent["username"]), bank)


def _account_objects(
    state: dict[str, Any], consent_id: str, consent: dict[str, Any], today: date
) -> list[dict[str, Any]]:
    return [
        account_object(a, consent_id, booked(state, a, today, _late(consent, a)))
        for a in _demo_accounts(consent)
    ]


def _late(consent: dict[str, Any], account: DemoAccount) -> tuple[int, int, int] | None:
    """The late booking of a ``late-booking`` consent's account, once the consent has
    read transactions for the first time (the late one is booked after that day)."""
    first_read = consent.get("first_read")
    if first_read is None or not scenario(consent["username"]).late_booking:
        return None
    return late_booking(account, date.fromisoformat(first_read))


def _forget_long_expired(state: dict[str, Any], now: datetime) -> None:
    for consent_id, consent in list(state["consents"].items()):
        if now - parse_moment(consent["expiry"]) > FORGET_EXPIRED_AFTER:
            del state["consents"][consent_id]


def _granted(call: Call, consent_id: str, consent: dict[str, Any]) -> DemoAccount:
    wanted = required_string(call.body, "account_id")
    for account in _demo_accounts(consent):
        if account_id(consent_id, account.iban) == wanted:
            return account
    raise PortalFailure(
        "CONSENT.RESOURCE_NOT_GRANTED",
        "This consent does not cover that account id (ids change with every consent; "
        "refresh the accounts).",
    )


class Consents:
    """The consents of one portal: its state file, clock and configuration."""

    def __init__(self, state: StateFile, clock: PortalClock, config: PortalConfig) -> None:
        self.state = state
        self.clock = clock
        self.config = config
        self.users: dict[str, str] = {}  # consent id -> username (never changes)

    # ---- linking's last step ---------------------------------------------

    def create_or_rotate(self, state: dict[str, Any], session: dict[str, Any]) -> dict:
        """fetch_accounts_and_bank: the session's consent (created on the first call)."""
        now = self.clock.now().replace(microsecond=0)
        token = _new_token()
        consent = state["consents"].get(session["consent_id"] or "")
        if consent is None:
            consent_id = "cns-" + secrets.token_hex(12)
            consent = {
                "customer": session["customer"],
                "username": session["username"],
                "country": session["country"],
                "bank": session["bank"],
                "start": session["from_date"],
                "created": now.isoformat(),
                "expiry": _expiry(now, CONSENT_LIFETIME_DAYS).isoformat(),
                "revoked": False,
            }
            state["consents"][consent_id] = consent
            session["consent_id"] = consent_id
            _forget_long_expired(state, now)
        consent_id = session["consent_id"]
        consent["token_hash"] = token_hash(token)
        consent.pop("replay", None)  # its answer's token is dead now
        bank = BANKS[consent["country"]][consent["bank"]]
        today = self.clock.today()
        return {
            "state": "FINISHED",
            "session_state": "OPEN",
            "result": {
                "bank_data": {
                    "bank_name": bank.name,
                    "bank_code": bank.code,
                    "country_code": bank.country,
                    "bic": bank.bic,
                },
                "accounts": _account_objects(state, consent_id, consent, today),
                "consent_data": {
                    "consent_id": consent_id,
                    "consent_token": token,
                    "consent_start": consent["start"],
                    "consent_expiry": consent["expiry"],
                },
            },
        }

    # ---- token rotation --------------------------------------------------

    def _is_slow(self, consent_id: str) -> bool:
        # a consent's username never changes, so one read per consent and process suffices
        username = self.users.get(consent_id)
        if username is None:
            known = self.state.read()["consents"].get(consent_id)
            if known is None:
                return False
            username = self.users[consent_id] = known["username"]
        return scenario(username).slow

    def _call(self, call: Call, method: str, handler: Handler) -> Answer:
        consent_id = required_string(call.body, "consent_id")
        token = required_string(call.body, "consent_token")
        request = request_id(call.body)
        if self._is_slow(consent_id):
            time.sleep(self.config.slow_seconds)  # before the lock: others are not held up
        hashed = token_hash(token)
        with self.state.update() as state:
            consent = state["consents"].get(consent_id)
            if (
                consent is not None
                and consent["customer"] == call.customer
                and not hmac.compare_digest(consent["token_hash"], hashed)
            ):
                again = replayed(consent.get("replay"), method, request, token, hashed)
                if again is not None:
                    if consent["revoked"]:  # a withdrawal ends the replay too
                        raise PortalFailure(
                            "CONSENT.REVOKED", "The consent was withdrawn at the bank."
                        )
                    return again  # counted nothing, changed nothing: the same answer once more
            consent = self._live(state, call, consent_id, token)
            fresh = _new_token()
            consent["token_hash"] = token_hash(fresh)
            try:
                result = handler(state, consent_id, consent)
                answer = Answer(
                    200, orjson.dumps({"message": {"result": result, "consent_token": fresh}})
                )
            except PortalFailure as failure:
                failure.consent_token = fresh
                headers = (
                    {} if failure.retry_after is None else {"Retry-After": str(failure.retry_after)}
                )
                answer = Answer(failure.status, orjson.dumps(failure.body()), headers)
            # the call with the new token ends the previous replay; one without request_id
            # cannot be replayed at all
            if request is None:
                consent.pop("replay", None)
            else:
                consent["replay"] = keep(method, request, token, hashed, answer)
            return answer

    def _live(
        self, state: dict[str, Any], call: Call, consent_id: str, token: str
    ) -> dict[str, Any]:
        """The consent ``token`` may act on, or the failure that says why not."""
        consent = state["consents"].get(consent_id)
        if (
            consent is None
            or consent["customer"] != call.customer
            or not hmac.compare_digest(consent["token_hash"], token_hash(token))
        ):
            raise PortalFailure(
                "CONSENT.INVALID_TOKEN",
                "The consent token is stale or unknown (every consent call returns a new one).",
            )
        if consent["revoked"]:
            raise PortalFailure("CONSENT.REVOKED", "The consent was withdrawn at the bank.")
        if self.clock.now() >= parse_moment(consent["expiry"]):
            raise PortalFailure("CONSENT.EXPIRED", f"The consent expired at {consent['expiry']}.")
        return consent

    def _unattended(self, state: dict[str, Any], call: Call) -> Unattended:
        return Unattended(state, call, self.clock.utc_day())

    # ---- the consent calls -----------------------------------------------

    def revoke(self, call: Call) -> dict[str, Any]:
        """revoke_consent (v1.1): the consent ends now. The token sent stays the one on
        record, so any later call with it answers CONSENT.REVOKED rather than INVALID_TOKEN."""
        consent_id = required_string(call.body, "consent_id")
        token = required_string(call.body, "consent_token")
        with self.state.update() as state:
            consent = self._live(state, call, consent_id, token)
            consent["revoked"] = True
            consent["revoked_at"] = self.clock.now().replace(microsecond=0).isoformat()
        return {}

    def accounts(self, call: Call) -> Answer:
        def handler(state: dict[str, Any], consent_id: str, consent: dict[str, Any]) -> dict:
            count = self._unattended(state, call).check(consent_id, "*", "accounts")
            today = self.clock.today()
            result = {"accounts": _account_objects(state, consent_id, consent, today)}
            count()
            return result

        return self._call(call, "fetch_consent_accounts", handler)

    def balances(self, call: Call) -> Answer:
        def handler(state: dict[str, Any], consent_id: str, consent: dict[str, Any]) -> dict:
            account = _granted(call, consent_id, consent)
            count = self._unattended(state, call).check(
                consent_id, account_id(consent_id, account.iban), "balances"
            )
            today = self.clock.today()
            available, booked_amount = balances(state, account, today, _late(consent, account))
            count()
            return {
                "available": {"amount": available, "currency": account.currency},
                "booked": {"amount": booked_amount, "currency": account.currency},
                "date": today.isoformat(),
            }

        return self._call(call, "fetch_consent_balances", handler)

    def transactions(self, call: Call) -> Answer:
        def handler(state: dict[str, Any], consent_id: str, consent: dict[str, Any]) -> dict:
            account = _granted(call, consent_id, consent)
            account_key = account_id(consent_id, account.iban)
            today = self.clock.today()
            start, end, size, offset = page_request(call.body, account_key, today)
            consent_start = date.fromisoformat(consent["start"])
            if start < consent_start:
                raise invalid(
                    "start_date",
                    f"'start_date' is before the consent's start ({consent_start.isoformat()}); "
                    "the consent cannot read older transactions.",
                )
            if scenario(consent["username"]).refuse_transactions:
                raise PortalFailure(
                    "NOT_SUPPORTED.TRANSACTIONS_DATE_RANGE",
                    "The bank does not deliver transactions for this date range.",
                )
            count = lambda: None  # noqa: E731 - next pages are never counted
            if offset is None:
                count = self._unattended(state, call).check(consent_id, account_key, "transactions")
            consent.setdefault("first_read", today.isoformat())
            late = hidden(_late(consent, account), today)
            rows, total = page(account, start, end, today, offset or 0, size, late)
            if offset is not None and offset > total:
                raise invalid("offset", f"'offset' lies beyond the last transaction ({total}).")
            record = usage(state, call.customer, today)
            limit = self.config.transaction_limit
            if record["count"] + len(rows) > limit:
                raise PortalFailure(
                    "PLAN.LIMIT_EXCEEDED",
                    f"The plan's limit of {limit:,} transactions in this billing period is used "
                    f"up ({record['count']:,} delivered).",
                )
            record["count"] += len(rows)
            count()
            result: dict[str, Any] = {"transactions": rows}
            following = (offset or 0) + len(rows)
            if following < total:
                result["pagination"] = {
                    "url": next_page_url(call.base_url, account_key, start, end, size),
                    "next": {"offset": following},
                }
            return result

        return self._call(call, "fetch_consent_transactions", handler)
