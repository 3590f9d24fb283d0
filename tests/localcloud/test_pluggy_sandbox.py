"""The Pluggy sandbox answers as Pluggy documents, and PluggyClient works against it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from hub.errors import AuthenticationError, InvalidRequestError, ProviderUnavailableError, RateLimitedError
from hub.providers.pluggy import client as pluggy
from hub.providers.pluggy.client import PluggyClient
from hub.retry import RetryPolicy
from localcloud.sandboxes.asaas import dumps
from localcloud.sandboxes.pluggy import (
    DEMO_ACCOUNT_ID,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_CREDIT_CARD_ACCOUNT_ID,
    DEMO_ITEM_ID,
    PluggySandbox,
)
from tests.conftest import ServedSandboxes

NO_SLEEP = RetryPolicy(sleep=lambda _: None)


@pytest.fixture
def sandbox(sandboxes: ServedSandboxes) -> PluggySandbox:
    sandbox: PluggySandbox = sandboxes["pluggy"]
    return sandbox


@pytest.fixture
def url(sandboxes: ServedSandboxes) -> Iterator[str]:
    pluggy.clear_api_key_cache()
    yield f"{sandboxes.url}/pluggy"  # state and faults are reset around every test
    pluggy.clear_api_key_cache()


def api_key(url: str) -> str:
    resp = httpx.post(f"{url}/auth", json={"clientId": DEMO_CLIENT_ID, "clientSecret": DEMO_CLIENT_SECRET})
    assert resp.status_code == 200
    return str(resp.json()["apiKey"])


def add_line(url: str, **body: Any) -> dict[str, Any]:
    resp = httpx.post(f"{url}/__control/transactions", content=_json(body))
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


def _json(body: dict[str, Any]) -> bytes:
    """Money as JSON numbers, digit for digit (never through a float)."""
    return dumps(body).encode()


def client(url: str, **overrides: Any) -> PluggyClient:
    secret = {
        "base_url": url,
        "client_id": DEMO_CLIENT_ID,
        "client_secret": DEMO_CLIENT_SECRET,
        "item_id": DEMO_ITEM_ID,
        **overrides,
    }
    return PluggyClient(PluggyClient.parse_credentials(secret), retry_policy=NO_SLEEP)


def test_auth_issues_a_key_that_every_other_endpoint_requires(url: str) -> None:
    wrong = httpx.post(f"{url}/auth", json={"clientId": DEMO_CLIENT_ID, "clientSecret": "nope"})
    assert wrong.status_code == 401
    assert wrong.json() == {
        "message": "Invalid client keys",
        "code": 401,
        "codeDescription": "CLIENT_KEYS_UNAUTHORIZED",
    }

    assert httpx.get(f"{url}/items/{DEMO_ITEM_ID}").status_code == 401
    assert httpx.get(f"{url}/items/{DEMO_ITEM_ID}", headers={"X-API-KEY": "made-up"}).status_code == 401
    item = httpx.get(f"{url}/items/{DEMO_ITEM_ID}", headers={"X-API-KEY": api_key(url)})
    assert item.status_code == 200
    assert item.json()["status"] == "UPDATED" and item.json()["id"] == DEMO_ITEM_ID


def test_accounts_require_the_item_and_list_bank_and_card(url: str) -> None:
    headers = {"X-API-KEY": api_key(url)}
    missing = httpx.get(f"{url}/accounts", headers=headers)
    assert missing.status_code == 400 and missing.json()["code"] == 400
    body = httpx.get(f"{url}/accounts", params={"itemId": DEMO_ITEM_ID}, headers=headers).json()
    assert {a["id"]: a["type"] for a in body["results"]} == {
        DEMO_ACCOUNT_ID: "BANK",
        DEMO_CREDIT_CARD_ACCOUNT_ID: "CREDIT",
    }
    assert body["total"] == 2 and body["totalPages"] == 1 and body["page"] == 1


def test_transactions_are_paginated_filtered_by_date_and_written_digit_for_digit(url: str) -> None:
    for day in range(1, 6):
        add_line(url, date=f"2026-03-0{day}", amount=Decimal(f"{day}00.10"), description=f"PIX {day}", type="CREDIT")
    add_line(url, date="2026-02-28", amount=Decimal("999.99"), description="outside", type="CREDIT")
    debit = add_line(url, date="2026-03-03", amount=Decimal("-12.34"), description="Tarifa")
    assert debit["type"] == "DEBIT" and debit["amount"] == -12.34

    headers = {"X-API-KEY": api_key(url)}
    params = {"accountId": DEMO_ACCOUNT_ID, "from": "2026-03-01", "to": "2026-03-31", "pageSize": 4}
    first = httpx.get(f"{url}/transactions", params={**params, "page": 1}, headers=headers)
    second = httpx.get(f"{url}/transactions", params={**params, "page": 2}, headers=headers)
    assert first.json()["total"] == 6 and first.json()["totalPages"] == 2
    assert len(first.json()["results"]) == 4 and len(second.json()["results"]) == 2
    assert b'"amount": 500.10' in first.content  # not 500.1, not a string
    descriptions = [t["description"] for t in first.json()["results"] + second.json()["results"]]
    assert "outside" not in descriptions and len(set(descriptions)) == 6

    too_big = httpx.get(f"{url}/transactions", params={**params, "pageSize": 501}, headers=headers)
    assert too_big.status_code == 400


def test_control_refuses_amounts_that_are_not_money(url: str) -> None:
    for amount in ('"10.00"', "10.005", "0"):
        resp = httpx.post(f"{url}/__control/transactions", content=f'{{"date": "2026-03-01", "amount": {amount}}}')
        assert resp.status_code == 400


def test_the_adapter_reads_the_statement_across_pages(url: str, sandbox: PluggySandbox) -> None:
    add_line(
        url,
        date="2026-03-10",
        amount=Decimal("1234.56"),
        description="PIX recebido",
        type="CREDIT",
        paymentData={"payer": {"name": "Cliente", "documentNumber": {"type": "CNPJ", "value": "12.ABC.345/01DE-35"}}},
    )
    add_line(url, date="2026-03-11", amount=Decimal("89.90"), description="Boleto pago", type="DEBIT")
    add_line(url, date="2026-03-12", amount=Decimal("0.01"), description="Rendimento", type="CREDIT")

    lines = list(client(url).list_transactions(date(2026, 3, 1), date(2026, 3, 31), page_size=2))

    assert sorted(t.amount_cents for t in lines) == [-8990, 1, 123456]
    received = next(t for t in lines if t.amount_cents == 123456)
    assert received.counterparty is not None and received.counterparty.document == "12ABC34501DE35"
    assert received.date == date(2026, 3, 10)
    calls = [r for r in httpx.get(f"{url.rsplit('/', 1)[0]}/__sandbox/requests").json() if r["path"] == "/transactions"]
    assert [c["query"]["page"] for c in calls] == ["1", "2"]
    # The account came from the item's BANK account, and one /auth served every call.
    assert {c["query"]["accountId"] for c in calls} == {DEMO_ACCOUNT_ID}
    assert sandbox.auth_calls == 1


def test_a_revoked_key_is_replaced_once(url: str, sandbox: PluggySandbox) -> None:
    hub = client(url)
    hub.list_accounts()
    assert httpx.post(f"{url}/__control/revoke_keys").json() == {"revoked": 1}
    assert client(url).list_accounts()[0].account_id == DEMO_ACCOUNT_ID
    assert sandbox.auth_calls == 2


def test_health_follows_the_item_status(url: str) -> None:
    client(url).health_check()
    httpx.post(
        f"{url}/__control/item_status",
        json={"status": "LOGIN_ERROR", "error": {"code": "INVALID_CREDENTIALS", "message": "Credenciais inválidas"}},
    )
    with pytest.raises(AuthenticationError) as info:
        client(url).health_check()
    assert info.value.code == "item_login_error"
    with pytest.raises(InvalidRequestError):
        client(url, item_id="another-item").health_check()


def test_wrong_client_keys_and_faults_map_to_the_taxonomy(url: str) -> None:
    with pytest.raises(AuthenticationError) as info:
        client(url, client_secret="wrong").list_accounts()
    assert info.value.code == "CLIENT_KEYS_UNAUTHORIZED"

    hub = client(url)
    hub.list_accounts()  # the key is cached: the faults below hit the API call
    base = url.rsplit("/", 1)[0]
    httpx.put(f"{base}/__sandbox/faults/pluggy", json={"mode": "rate_limited", "retry_after": 7, "times": 1})
    hub.retry_policy = RetryPolicy(max_attempts=1, sleep=lambda _: None)
    with pytest.raises(RateLimitedError) as limited:
        hub.list_accounts()
    assert limited.value.retry_after == 7
    httpx.put(f"{base}/__sandbox/faults/pluggy", json={"mode": "error", "status": 503, "times": 1})
    with pytest.raises(ProviderUnavailableError):
        hub.list_accounts()
