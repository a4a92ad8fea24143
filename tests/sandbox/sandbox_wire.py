"""A minimal protocol client for the sandbox tests, written from PROTOCOL.md.

Deliberately not ``kosma_tui.core.portal``: these tests check the portal
against the page, not against the other implementation.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import orjson
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "/api/method/banking_admin.api."
UNSET: Any = object()


def seal(pem: str, form_identifier: str, data: list[dict[str, str]]) -> dict[str, str]:
    public = serialization.load_pem_public_key(pem.encode("ascii"))
    assert isinstance(public, rsa.RSAPublicKey)
    key, iv = os.urandom(32), os.urandom(12)
    plain = json.dumps({"form_identifier": form_identifier, "data": data}).encode("utf-8")
    ct = AESGCM(key).encrypt(iv, plain, None)
    ek = public.encrypt(
        key,
        padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
    )
    return {k: base64.b64encode(v).decode("ascii") for k, v in (("ek", ek), ("iv", iv), ("ct", ct))}


def body(response: httpx.Response) -> Any:
    """The decoded JSON body (orjson: 100,000 transactions parse fast)."""
    return orjson.loads(response.content)


def values(**pairs: str) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in pairs.items()]


@dataclass
class Consent:
    wire: Wire
    id: str
    token: str
    start: str
    expiry: str
    accounts: list[dict[str, Any]]

    def call(self, method: str, **fields: Any) -> httpx.Response:
        """A consent call that keeps the newest token, from a success or a failure."""
        response = self.wire.call(method, consent_id=self.id, consent_token=self.token, **fields)
        token = body(response)["message"].get("consent_token")
        if token:
            assert token != self.token
            self.token = token
        return response

    def ok(self, method: str, **fields: Any) -> dict[str, Any]:
        response = self.call(method, **fields)
        assert response.status_code == 200, response.text
        return body(response)["message"]["result"]

    def all_transactions(
        self, account_id: str, start: date, *, ip: Any = UNSET, **fields: Any
    ) -> tuple[list[dict[str, Any]], int]:
        """Every page; (transactions, pages)."""
        rows: list[dict[str, Any]] = []
        pages = 0
        extra: dict[str, Any] = {}
        while True:
            result = self.ok(
                "fetch_consent_transactions",
                account_id=account_id,
                start_date=start.isoformat(),
                ip=ip,
                **fields,
                **extra,
            )
            rows.extend(result["transactions"])
            pages += 1
            pagination = result.get("pagination")
            if pagination is None:
                return rows, pages
            extra = {"url": pagination["url"], "offset": pagination["next"]["offset"]}


class Wire:
    def __init__(
        self,
        url: str,
        *,
        customer: str = "C-1",
        api_token: str = "demo-token",  # noqa: S107
        ip: str | None = "127.0.0.1",
    ) -> None:
        self.client = httpx.Client(base_url=url, timeout=30)
        self.customer = customer
        self.api_token = api_token
        self.ip = ip

    def close(self) -> None:
        self.client.close()

    def call(self, method: str, *, ip: Any = UNSET, **fields: Any) -> httpx.Response:
        body = {
            "customer_id": self.customer,
            "use_test_environment": False,
            "user_agent": "sandbox-tests/1",
            "ip_address": self.ip if ip is UNSET else ip,
            **fields,
        }
        return self.client.post(
            PREFIX + method,
            json=body,
            headers={"Alyf-Banking-Authorization": f"Token {self.api_token}"},
        )

    def ok(self, method: str, **fields: Any) -> Any:
        response = self.call(method, **fields)
        assert response.status_code == 200, response.text
        return response.json()["message"]

    def error(self, response: httpx.Response, status: int, code: str) -> dict[str, Any]:
        assert response.status_code == status, response.text
        message = response.json()["message"]
        assert message["error"]["code"] == code, message
        assert message["error"]["message"]
        return message

    # ---- linking ---------------------------------------------------------

    def start(self, from_date: date, to_date: date, country: str | None = None) -> Flow:
        fields: dict[str, Any] = {
            "current_flow": "accounts",
            "from_date": from_date.isoformat(),
            "to_date": to_date.isoformat(),
            "account": {},
        }
        if country:
            fields["country_code"] = country
        token = self.ok("get_client_token", **fields)
        return Flow(self, token["session_data"]["session_id"], token["flow_data"]["flow_id"], token)

    def link(
        self,
        username: str,
        today: date,
        *,
        from_date: date | None = None,
        country: str = "DE",
        bank: str = "88888888",
    ) -> Consent:
        flow = self.start(from_date or today, today)
        step = flow.step()
        step = flow.submit(step, country_code=country)
        step = flow.submit(step, bank_code=bank)
        step = flow.submit(step, interface="PSD2")
        step = flow.submit(step, LOGINNAME=username, USER_PASSWORD="12345")
        if step["state"] == "CONSUMER_INPUT_NEEDED":
            step = flow.submit(step, TAN="12345")
        while step["state"] == "PROCESSING":
            step = flow.step()
        assert step["state"] == "FINISHED", step
        return flow.finish()


@dataclass
class Flow:
    wire: Wire
    session_id: str
    flow_id: str
    token: dict[str, Any]

    def call(self, method: str, **fields: Any) -> httpx.Response:
        return self.wire.call(method, session_id=self.session_id, flow_id=self.flow_id, **fields)

    def step(self) -> dict[str, Any]:
        response = self.call("get_flow_step")
        assert response.status_code == 200, response.text
        return response.json()["message"]

    def send(self, step: dict[str, Any], **pairs: str) -> httpx.Response:
        """Submit ``pairs`` for ``step``'s form, sealed when the step carries a key."""
        form_identifier = step["form"]["form_identifier"]
        data = values(**pairs)
        if step["key"]:
            return self.call(
                "submit_flow_step",
                form_identifier=form_identifier,
                envelope=seal(step["key"], form_identifier, data),
            )
        return self.call("submit_flow_step", form_identifier=form_identifier, data=data)

    def submit(self, step: dict[str, Any], **pairs: str) -> dict[str, Any]:
        response = self.send(step, **pairs)
        assert response.status_code == 200, response.text
        return response.json()["message"]

    def finish(self) -> Consent:
        message = self.wire.ok(
            "fetch_accounts_and_bank", session_id=self.session_id, flow_id=self.flow_id
        )
        result = message["result"]
        data = result["consent_data"]
        return Consent(
            self.wire,
            data["consent_id"],
            data["consent_token"],
            data["consent_start"],
            data["consent_expiry"],
            result["accounts"],
        )
