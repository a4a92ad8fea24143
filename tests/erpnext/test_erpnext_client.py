"""The Frappe REST client against the double: auth, errors, paging, retries, site header."""

from __future__ import annotations

import email.utils
import json

import httpx
import pytest
from clock_support import FakeClock
from erpnext_support import COMPANY
from frappe_double import API_KEY, API_SECRET, FrappeDouble

from kosma_tui.core.erpnext.client import (
    ErpnextAuthError,
    ErpnextClient,
    ErpnextError,
    ErpnextRejected,
    ErpnextTransient,
    error_message,
    server_messages,
)


def client_for(erp: FrappeDouble, **options: object) -> ErpnextClient:
    return ErpnextClient(erp.url, API_KEY, API_SECRET, **options)  # type: ignore[arg-type]


def test_the_double_answers_like_frappe_without_and_with_a_wrong_token(erp: FrappeDouble):
    anonymous = httpx.get(f"{erp.url}/api/resource/Company")
    assert anonymous.status_code == 403
    assert anonymous.json()["exc_type"] == "PermissionError"
    wrong = httpx.get(
        f"{erp.url}/api/resource/Company", headers={"Authorization": f"token {API_KEY}:wrong"}
    )
    assert wrong.status_code == 401
    assert wrong.json()["exc_type"] == "AuthenticationError"


def test_logged_user_checks_the_key(erp: FrappeDouble):
    with client_for(erp) as client:
        assert client.logged_user() == "accounts@example.com"
    with (
        ErpnextClient(erp.url, API_KEY, "wrong-secret") as client,
        pytest.raises(ErpnextAuthError) as caught,
    ):
        client.logged_user()
    assert caught.value.exit_status == 2
    assert "did not accept the API key and secret" in caught.value.message
    assert "wrong-secret" not in caught.value.sentence()


def test_server_messages_are_a_json_string_of_json_strings_with_html():
    payload = {
        "exc_type": "ValidationError",
        "_server_messages": json.dumps(
            [
                json.dumps({"message": "Row #1: <b>IBAN</b> is not valid", "indicator": "red"}),
                json.dumps({"message": "Second &amp; last"}),
            ]
        ),
    }
    assert server_messages(payload) == ["Row #1: IBAN is not valid", "Second & last"]
    assert error_message(payload, "x") == "Row #1: IBAN is not valid; Second & last"
    assert (
        error_message({"exception": "frappe.exceptions.ValidationError: Bad date"}, "x")
        == "Bad date"
    )
    assert error_message(None, "HTTP 502") == "HTTP 502"


def test_validation_errors_arrive_as_417_with_erpnexts_sentence(erp: FrappeDouble):
    doc = {
        "doctype": "Bank Transaction",
        "docstatus": 1,
        "date": "2025-01-02",
        "deposit": 1.0,
        "currency": "USD",
        "bank_account": "Main - Demo Bank",
        "transaction_id": "t1",
    }
    with client_for(erp) as client, pytest.raises(ErpnextRejected) as caught:
        client.insert(doc)
    assert caught.value.http_status == 417
    assert caught.value.exc_type == "ValidationError"
    assert caught.value.erpnext_message == (
        "Transaction currency: USD cannot be different from Bank Account(Main - Demo Bank) "
        "currency: EUR"
    )


def test_insert_many_refuses_more_than_200_and_rolls_back_a_bad_batch(erp: FrappeDouble):
    good = [
        {
            "doctype": "Bank Transaction",
            "docstatus": 1,
            "date": "2025-01-02",
            "deposit": 1.0,
            "currency": "EUR",
            "bank_account": "Main - Demo Bank",
            "transaction_id": f"t{i}",
        }
        for i in range(201)
    ]
    raw = httpx.post(
        f"{erp.url}/api/method/frappe.client.insert_many",
        json={"docs": json.dumps(good)},
        headers={"Authorization": f"token {API_KEY}:{API_SECRET}"},
    )
    assert raw.status_code == 417
    assert "Only 200 inserts allowed" in error_message(raw.json(), "")
    with client_for(erp) as client:
        with pytest.raises(ErpnextRejected):
            client.insert_many([*good[:5], {**good[5], "bank_account": "Nope"}])
        assert erp.bank_transactions() == []  # one transaction: nothing of it stayed
        names = client.insert_many(good[:3])
        assert [d["transaction_id"] for d in erp.bank_transactions()] == ["t0", "t1", "t2"]
        assert all(
            d["docstatus"] == 1 and d["status"] == "Unreconciled" for d in erp.bank_transactions()
        )
        assert len(names) == 3
        # duplicates of transaction_id are accepted by ERPNext
        client.insert_many(good[:1])
        assert len(erp.bank_transactions()) == 4


def test_get_list_pages_past_frappes_default_of_20(erp: FrappeDouble):
    for i in range(45):
        erp.seed_company(f"Company {i:02d}", f"C{i}")
    raw = httpx.get(
        f"{erp.url}/api/resource/Company",
        headers={"Authorization": f"token {API_KEY}:{API_SECRET}"},
    )
    assert len(raw.json()["data"]) == 20
    with client_for(erp) as client:
        rows = client.get_list("Company", fields=("name", "country"), page_length=10)
        assert len(rows) == 46
        filtered = client.get_list("Company", filters=[["name", "in", [COMPANY, "Company 07"]]])
        assert sorted(r["name"] for r in filtered) == [COMPANY, "Company 07"]
        with pytest.raises(ErpnextRejected, match="Field not permitted"):
            client.get_list("Company", fields=("nonexistent",))


def test_gets_are_retried_on_5xx_and_dropped_connections(erp: FrappeDouble):
    fake = FakeClock()
    with client_for(erp, backoff=0.5, clock=fake.clock) as client:
        erp.fail_next(2, 503)
        erp.drop_next(1)
        assert client.get_list("Company") == [{"name": COMPANY}]
        assert client.requests == 4
        # the one policy's backoff (core.retry), the fake jitter drawing its top
        assert fake.waits == [0.5, 1.0, 2.0]
        erp.fail_next(10, 502)
        with pytest.raises(ErpnextTransient, match="HTTP 502"):
            client.get_list("Company")
        assert client.requests == 8  # three retries, then the error


@pytest.mark.parametrize(("header", "waited"), [("7", 7.0), ("in 30 s", 30.0), ("3600", 60.0)])
def test_a_429_waits_for_retry_after_in_seconds_or_as_an_http_date(
    erp: FrappeDouble, header: str, waited: float
):
    fake = FakeClock()
    if header == "in 30 s":
        header = email.utils.formatdate(fake.wall() + 30, usegmt=True)
    with client_for(erp, clock=fake.clock) as client:
        erp.fail_next(1, 429, retry_after=header)
        client.insert({"doctype": "Bank", "bank_name": "Patient Bank"})  # a 429: safe to resend
        assert client.requests == 2 and client.get_doc("Bank", "Patient Bank") is not None
    assert fake.waits == [pytest.approx(waited, abs=1.0)] and fake.draws == []


def test_a_post_whose_answer_was_lost_is_not_resent_blindly(erp: FrappeDouble):
    doc = {"doctype": "Bank", "bank_name": "Lost Bank"}
    with client_for(erp, backoff=0.001) as client:
        erp.drop_after_commit_next(1)
        with pytest.raises(ErpnextTransient):
            client.insert(doc)
        assert client.requests == 1
        assert client.get_doc("Bank", "Lost Bank") is not None  # it was committed


def test_unreachable_url_is_one_sentence(tmp_path):
    with (
        ErpnextClient("http://127.0.0.1:9", "k", "s", retries=1, backoff=0.001) as client,
        pytest.raises(ErpnextTransient) as caught,
    ):
        client.logged_user()
    assert caught.value.exit_status == 2
    assert "could not be reached" in caught.value.message
    assert "\n" not in caught.value.sentence()


def test_site_name_header_picks_the_site_on_a_multi_site_bench():
    with FrappeDouble(site="erp.example.com") as erp:
        with client_for(erp) as client, pytest.raises(ErpnextError) as caught:
            client.logged_user()
        assert "--site" in caught.value.sentence()
        with (
            client_for(erp, site="other.example.com") as client,
            pytest.raises(ErpnextError, match=r"no site named 'other\.example\.com'"),
        ):
            client.logged_user()
        with client_for(erp, site="erp.example.com") as client:
            assert client.logged_user() == "accounts@example.com"


def test_permission_error_names_the_role(erp: FrappeDouble):
    erp.denied_doctypes.add("Bank Transaction")
    with client_for(erp) as client, pytest.raises(ErpnextAuthError) as caught:
        client.get_list("Bank Transaction")
    assert "Accounts Manager" in caught.value.remedy


def test_a_redirect_is_named_not_followed(erp: FrappeDouble):
    erp.redirect_to = "https://erp.example.com"
    with client_for(erp) as client, pytest.raises(ErpnextError) as caught:
        client.logged_user()
    assert "redirects to https://erp.example.com" in caught.value.message
    assert caught.value.exit_status == 2
