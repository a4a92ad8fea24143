"""Consents: creation, token rotation, and the three consent calls.

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
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

import orjson

from kosma_tui.sandbox import data, fields, ledger, replay
from kosma_tui.sandbox.banks import BANKS
from kosma_tui.sandbox.clock import parse_moment
from kosma_tui.sandbox.errors import PortalFailure, invalid
from kosma_tui.sandbox.replay import Answer
from kosma_tui.sandbox.scenarios import scenario
from kosma_tui.sandbox.state import token_hash

if TYPE_CHECKING:
    from kosma_tui.sandbox.api import Call, Portal

CONSENT_LIFETIME_DAYS = 90
MAX_PAGE = 1000
UNATTENDED_LIMIT = 4
TRANSACTIONS_PATH = "/api/method/banking_admin.api.fetch_consent_transactions"
FORGET_EXPIRED_AFTER = timedelta(days=365)


def _new_token() -> str:
    return "ct-" + secrets.token_urlsafe(32)


def _expiry(created: datetime, days: int) -> datetime:
    # same local wall-clock time ``days`` later, with that day's UTC offset
    return (created.replace(tzinfo=None) + timedelta(days=days)).astimezone()


def _demo_accounts(consent: dict[str, Any]) -> list[data.DemoAccount]:
    bank = BANKS[consent["country"]][consent["bank"]]
    return data.accounts(scenario(consent["username"]), bank)


def create_or_rotate(portal: Portal, state: dict[str, Any], session: dict[str, Any]) -> dict:
    """fetch_accounts_and_bank: the session's consent (created on the first call)."""
    now = portal.clock.now().replace(microsecond=0)
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
    today = portal.clock.today()
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


def _account_objects(state: dict[str, Any], consent_id: str, consent: dict[str, Any],
                     today: date) -> list[dict[str, Any]]:
    return [
        data.account_object(a, consent_id, ledger.booked(state, a, today, _late(consent, a)))
        for a in _demo_accounts(consent)
    ]


def _late(consent: dict[str, Any], account: data.DemoAccount) -> tuple[int, int, int] | None:
    """The late booking of a ``late-booking`` consent's account, once the consent has
    read transactions for the first time (the late one is booked after that day)."""
    first_read = consent.get("first_read")
    if first_read is None or not scenario(consent["username"]).late_booking:
        return None
    return ledger.late_booking(account, date.fromisoformat(first_read))


def _forget_long_expired(state: dict[str, Any], now: datetime) -> None:
    for consent_id, consent in list(state["consents"].items()):
        if now - parse_moment(consent["expiry"]) > FORGET_EXPIRED_AFTER:
            del state["consents"][consent_id]


def _is_slow(portal: Portal, consent_id: str) -> bool:
    # a consent's username never changes, so one read per consent and process suffices
    username = portal.consent_users.get(consent_id)
    if username is None:
        known = portal.state.read()["consents"].get(consent_id)
        if known is None:
            return False
        username = portal.consent_users[consent_id] = known["username"]
    return scenario(username).slow


Handler = Callable[[dict[str, Any], str, dict[str, Any]], dict[str, Any]]


def _consent_call(portal: Portal, call: Call, method: str, handler: Handler) -> Answer:
    consent_id = fields.required_string(call.body, "consent_id")
    token = fields.required_string(call.body, "consent_token")
    request = replay.request_id(call.body)
    if _is_slow(portal, consent_id):
        time.sleep(portal.config.slow_seconds)  # before the lock: others are not held up
    hashed = token_hash(token)
    with portal.state.update() as state:
        consent = state["consents"].get(consent_id)
        if (consent is not None and consent["customer"] == call.customer
                and not hmac.compare_digest(consent["token_hash"], hashed)):
            again = replay.replayed(consent.get("replay"), method, request, token, hashed)
            if again is not None:
                if consent["revoked"]:  # a withdrawal ends the replay too
                    raise PortalFailure("CONSENT.REVOKED",
                                        "The consent was withdrawn at the bank.")
                return again  # counted nothing, changed nothing: the same answer once more
        consent = _live(portal, state, call, consent_id, token)
        fresh = _new_token()
        consent["token_hash"] = token_hash(fresh)
        try:
            result = handler(state, consent_id, consent)
            answer = Answer(200, orjson.dumps(
                {"message": {"result": result, "consent_token": fresh}}))
        except PortalFailure as failure:
            failure.consent_token = fresh
            headers = {} if failure.retry_after is None else {
                "Retry-After": str(failure.retry_after)}
            answer = Answer(failure.status, orjson.dumps(failure.body()), headers)
        # the call with the new token ends the previous replay; one without request_id
        # cannot be replayed at all
        if request is None:
            consent.pop("replay", None)
        else:
            consent["replay"] = replay.keep(method, request, token, hashed, answer)
        return answer


def _live(
    portal: Portal, state: dict[str, Any], call: Call, consent_id: str, token: str
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
    if portal.clock.now() >= parse_moment(consent["expiry"]):
        raise PortalFailure("CONSENT.EXPIRED", f"The consent expired at {consent['expiry']}.")
    return consent


def revoke(portal: Portal, call: Call) -> dict[str, Any]:
    """revoke_consent (v1.1): the consent ends now. The token sent stays the one on
    record, so any later call with it answers CONSENT.REVOKED rather than INVALID_TOKEN."""
    consent_id = fields.required_string(call.body, "consent_id")
    token = fields.required_string(call.body, "consent_token")
    with portal.state.update() as state:
        consent = _live(portal, state, call, consent_id, token)
        consent["revoked"] = True
        consent["revoked_at"] = portal.clock.now().replace(microsecond=0).isoformat()
    return {}


def _granted(call: Call, consent_id: str, consent: dict[str, Any]) -> data.DemoAccount:
    account_id = fields.required_string(call.body, "account_id")
    for account in _demo_accounts(consent):
        if data.account_id(consent_id, account.iban) == account_id:
            return account
    raise PortalFailure(
        "CONSENT.RESOURCE_NOT_GRANTED",
        "This consent does not cover that account id (ids change with every consent; "
        "refresh the accounts).",
    )


class _Unattended:
    """At most 4 unattended calls per account, data type and UTC day."""

    def __init__(self, portal: Portal, state: dict[str, Any], call: Call) -> None:
        self.counters: dict[str, int] = state["unattended"]
        self.attended = call.attended
        self.day = portal.clock.utc_day()
        for key in [k for k in self.counters if not k.startswith(self.day)]:
            del self.counters[key]

    def check(self, consent_id: str, account: str, kind: str) -> Callable[[], None]:
        """Refuses an over-limit call; returns the function that counts a successful one."""
        if self.attended:
            return lambda: None
        key = f"{self.day}|{consent_id}|{account}|{kind}"
        if self.counters.get(key, 0) >= UNATTENDED_LIMIT:
            raise PortalFailure(
                "CONSENT.LIMIT_EXCEEDED",
                f"More than {UNATTENDED_LIMIT} unattended {kind} calls for this account today "
                "(UTC); try again tomorrow or from an attended session.",
            )

        def count() -> None:
            self.counters[key] = self.counters.get(key, 0) + 1

        return count


def accounts(portal: Portal, call: Call) -> Answer:
    def handler(state: dict[str, Any], consent_id: str, consent: dict[str, Any]) -> dict:
        count = _Unattended(portal, state, call).check(consent_id, "*", "accounts")
        today = portal.clock.today()
        result = {"accounts": _account_objects(state, consent_id, consent, today)}
        count()
        return result

    return _consent_call(portal, call, "fetch_consent_accounts", handler)


def balances(portal: Portal, call: Call) -> Answer:
    def handler(state: dict[str, Any], consent_id: str, consent: dict[str, Any]) -> dict:
        account = _granted(call, consent_id, consent)
        count = _Unattended(portal, state, call).check(
            consent_id, data.account_id(consent_id, account.iban), "balances"
        )
        today = portal.clock.today()
        available, booked = ledger.balances(state, account, today, _late(consent, account))
        count()
        return {
            "available": {"amount": available, "currency": account.currency},
            "booked": {"amount": booked, "currency": account.currency},
            "date": today.isoformat(),
        }

    return _consent_call(portal, call, "fetch_consent_balances", handler)


def transactions(portal: Portal, call: Call) -> Answer:
    def handler(state: dict[str, Any], consent_id: str, consent: dict[str, Any]) -> dict:
        account = _granted(call, consent_id, consent)
        account_id = data.account_id(consent_id, account.iban)
        today = portal.clock.today()
        start, end, size, offset = _page_request(call.body, account_id, today)
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
            count = _Unattended(portal, state, call).check(consent_id, account_id, "transactions")
        consent.setdefault("first_read", today.isoformat())
        hidden = ledger.hidden(_late(consent, account), today)
        rows, total = data.page(account, start, end, today, offset or 0, size, hidden)
        if offset is not None and offset > total:
            raise invalid("offset", f"'offset' lies beyond the last transaction ({total}).")
        usage = portal.usage(state, call.customer)
        limit = portal.config.transaction_limit
        if usage["count"] + len(rows) > limit:
            raise PortalFailure(
                "PLAN.LIMIT_EXCEEDED",
                f"The plan's limit of {limit:,} transactions in this billing period is used up "
                f"({usage['count']:,} delivered).",
            )
        usage["count"] += len(rows)
        count()
        result: dict[str, Any] = {"transactions": rows}
        following = (offset or 0) + len(rows)
        if following < total:
            query = urlencode(
                {
                    "account_id": account_id,
                    "start_date": start.isoformat(),
                    "to_date": end.isoformat(),
                    "page_size": size,
                }
            )
            result["pagination"] = {
                "url": f"{call.base_url}{TRANSACTIONS_PATH}?{query}",
                "next": {"offset": following},
            }
        return result

    return _consent_call(portal, call, "fetch_consent_transactions", handler)


def _page_request(
    body: dict[str, Any], account_id: str, today: date
) -> tuple[date, date, int, int | None]:
    """(start, end, page size, offset) of a first page or of a next page (url + offset)."""
    offset = fields.integer(body, "offset")
    if offset is None:
        start = fields.day(body, "start_date")
        assert start is not None
        end = fields.day(body, "to_date", required=False)
        if end is not None and end < start:
            raise invalid("to_date", "'to_date' is before 'start_date'.")
        end = end or today
        size = fields.integer(body, "preferred_pagination_size")
        if size == 0:
            raise invalid("preferred_pagination_size", "'preferred_pagination_size' must be > 0.")
        size = min(size or MAX_PAGE, MAX_PAGE)
    else:
        url = fields.string(body, "url")
        assert url is not None
        parts = urlsplit(url)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        if parts.path != TRANSACTIONS_PATH or query.get("account_id") != account_id:
            raise invalid("url", "'url' is not a next-page url of this account's transactions.")
        start = fields.parse_day(query.get("start_date"), "url")
        end = fields.parse_day(query.get("to_date"), "url")
        size_text = query.get("page_size", "")
        if not size_text.isdigit() or not 0 < int(size_text) <= MAX_PAGE:
            raise invalid("url", "'url' carries no valid page size.")
        size = int(size_text)
    return start, min(end, today), size, offset
