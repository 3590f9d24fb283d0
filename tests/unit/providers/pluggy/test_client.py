"""PluggyClient against Pluggy's documented auth, pagination, transaction and error formats."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from hub.errors import (
    AuthenticationError,
    InvalidRequestError,
    ProviderUnavailableError,
    RateLimitedError,
)
from hub.providers.pluggy import client as pluggy
from hub.providers.pluggy.client import PluggyClient, PluggyCredentials
from hub.retry import RetryPolicy
from tests.helpers import AdapterFactory

SECRET = "s3cr3t-client-secret-value"
CREDS = PluggyCredentials(
    client_id="client-1", client_secret=SecretStr(SECRET), item_id="item-1", account_id="acc-bank"
)
BASE = "https://api.pluggy.ai"

Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture(autouse=True)
def fresh_key_cache() -> Iterator[None]:
    pluggy.clear_api_key_cache()
    yield
    pluggy.clear_api_key_cache()


class FakePluggy:
    """Answers /auth with numbered keys and routes the rest to ``handler``; records every call."""

    def __init__(self, handler: Handler | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.issued: list[str] = []
        self.handler = handler or (lambda request: httpx.Response(200, json={"results": []}))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/auth":
            key = f"api-key-{len(self.issued) + 1}"
            self.issued.append(key)
            return httpx.Response(200, json={"apiKey": key})
        return self.handler(request)

    @property
    def auth_calls(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == "/auth"]

    @property
    def api_calls(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path != "/auth"]


client_with = AdapterFactory(PluggyClient, CREDS, attempts=3)


def raw_json(body: str, status: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    """A response whose body is written verbatim (money digits exactly as a provider sends them)."""
    return httpx.Response(
        status, content=body.encode(), headers={"content-type": "application/json", **(headers or {})}
    )


def transaction(tid: str, amount: str, kind: str, day: str = "2026-03-02", extra: str = "") -> str:
    return (
        f'{{"id": "{tid}", "accountId": "acc-bank", "description": "line {tid}", "currencyCode": "BRL",'
        f' "amount": {amount}, "date": "{day}T00:00:00.000Z", "status": "POSTED", "type": "{kind}"{extra}}}'
    )


def page_body(results: list[str], page: int, total_pages: int, total: int) -> str:
    return f'{{"total": {total}, "totalPages": {total_pages}, "page": {page}, "results": [{", ".join(results)}]}}'


# ----- auth ----------------------------------------------------------------------------------


def test_authenticates_with_client_credentials_then_sends_the_api_key() -> None:
    fake = FakePluggy()
    client_with(fake).list_accounts()

    auth, call = fake.requests
    assert auth.method == "POST" and str(auth.url) == f"{BASE}/auth"
    assert json.loads(auth.content) == {"clientId": "client-1", "clientSecret": SECRET}
    assert "x-api-key" not in auth.headers
    assert call.method == "GET" and call.url.path == "/accounts"
    assert call.url.params["itemId"] == "item-1"
    assert call.headers["x-api-key"] == "api-key-1"
    assert SECRET not in str(call.url) and SECRET not in str(dict(call.headers))


def test_the_api_key_is_reused_across_calls_and_clients() -> None:
    fake = FakePluggy()
    client_with(fake).list_accounts()
    client_with(fake).list_accounts()  # another invocation in the same warm container
    client_with(fake).list_accounts()

    assert len(fake.auth_calls) == 1
    assert [r.headers["x-api-key"] for r in fake.api_calls] == ["api-key-1"] * 3


def test_a_different_secret_never_uses_a_key_obtained_by_another() -> None:
    fake = FakePluggy()
    client_with(fake).list_accounts()
    rotated = CREDS.model_copy(update={"client_secret": SecretStr("rotated-secret")})
    client_with(fake, creds=rotated).list_accounts()
    assert len(fake.auth_calls) == 2
    assert json.loads(fake.auth_calls[1].content)["clientSecret"] == "rotated-secret"


def test_the_api_key_is_refreshed_before_its_two_hours_run_out(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(pluggy, "_clock", lambda: now[0])
    fake = FakePluggy()
    client = client_with(fake)
    client.list_accounts()
    now[0] += 100 * 60  # 1 h 40: still well inside the 2 h lifetime
    client.list_accounts()
    assert len(fake.auth_calls) == 1
    now[0] += 15 * 60  # 1 h 55: within the refresh margin
    client.list_accounts()
    assert len(fake.auth_calls) == 2
    assert fake.api_calls[-1].headers["x-api-key"] == "api-key-2"


def test_a_401_to_a_cached_key_fetches_a_new_key_and_retries_once() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers["x-api-key"] == "api-key-1":
            return httpx.Response(401, json={"message": "Unauthorized", "code": 401})
        return httpx.Response(200, json={"results": [{"id": "acc-bank", "type": "BANK"}]})

    fake = FakePluggy(handler)
    # Seed the cache as a previous invocation would have.
    client = client_with(fake)
    client.api_key()
    accounts = client.list_accounts()

    assert [a.account_id for a in accounts] == ["acc-bank"]
    assert len(fake.auth_calls) == 2
    assert [r.headers["x-api-key"] for r in fake.api_calls] == ["api-key-1", "api-key-2"]
    # The new key is what the next call uses.
    client_with(fake).list_accounts()
    assert len(fake.auth_calls) == 2 and fake.api_calls[-1].headers["x-api-key"] == "api-key-2"


def test_a_401_to_a_fresh_key_is_an_authentication_error_without_looping() -> None:
    fake = FakePluggy(lambda request: httpx.Response(401, json={"message": "Unauthorized", "code": 401}))
    client = client_with(fake)
    with pytest.raises(AuthenticationError) as info:
        client.list_accounts()
    assert info.value.http_status == 401
    assert len(fake.auth_calls) == 1 and len(fake.api_calls) == 1

    # With a cached key: one refresh, one retry, then the error.
    with pytest.raises(AuthenticationError):
        client.list_accounts()
    assert len(fake.auth_calls) == 2 and len(fake.api_calls) == 3


def test_rejected_client_keys_are_an_authentication_error_that_never_echoes_the_secret() -> None:
    def transport(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            401, json={"message": "Invalid client keys", "code": 401, "codeDescription": "CLIENT_KEYS_UNAUTHORIZED"}
        )

    with pytest.raises(AuthenticationError) as info:
        client_with(transport).list_accounts()
    assert info.value.code == "CLIENT_KEYS_UNAUTHORIZED"
    assert "Invalid client keys" in info.value.message
    assert SECRET not in str(info.value.to_dict()) and SECRET not in repr(CREDS)


# ----- transactions --------------------------------------------------------------------------


def test_every_page_is_followed_with_the_documented_parameters() -> None:
    pages = {
        1: page_body([transaction("t1", "10.00", "CREDIT"), transaction("t2", "-2.50", "DEBIT")], 1, 3, 5),
        2: page_body([transaction("t3", "3.00", "CREDIT"), transaction("t4", "4.00", "CREDIT")], 2, 3, 5),
        3: page_body([transaction("t5", "-5.00", "DEBIT")], 3, 3, 5),
    }
    fake = FakePluggy(lambda request: raw_json(pages[int(request.url.params["page"])]))

    lines = list(client_with(fake).list_transactions(date(2026, 3, 1), date(2026, 3, 31)))

    assert [t.transaction_id for t in lines] == ["t1", "t2", "t3", "t4", "t5"]
    assert [t.amount_cents for t in lines] == [1000, -250, 300, 400, -500]
    calls = fake.api_calls
    assert [c.url.path for c in calls] == ["/transactions"] * 3
    assert [dict(c.url.params) for c in calls] == [
        {"accountId": "acc-bank", "from": "2026-03-01", "to": "2026-03-31", "pageSize": "500", "page": str(n)}
        for n in (1, 2, 3)
    ]


def test_an_empty_account_is_one_call() -> None:
    fake = FakePluggy(lambda request: raw_json(page_body([], 1, 0, 0)))
    assert list(client_with(fake).list_transactions(date(2026, 3, 1), date(2026, 3, 31))) == []
    assert len(fake.api_calls) == 1


def test_amounts_are_exact_centavos_signed_by_the_transaction_type() -> None:
    extra = (
        ', "paymentData": {"paymentMethod": "PIX", "referenceNumber": "E1234",'
        ' "payer": {"name": "Maria Silva", "documentNumber": {"type": "CPF", "value": "123.456.789-09"},'
        ' "branchNumber": "0001", "accountNumber": "98765"}}'
    )
    body = page_body(
        [
            transaction("credit", "1234.56", "CREDIT", extra=extra),
            transaction("debit", "-1234.56", "DEBIT"),
            transaction("unsigned-debit", "50.10", "DEBIT"),  # sign comes from type, not from amount
            transaction("float-trap", "0.29", "CREDIT"),  # 0.29 * 100 is 28.999… as a float
            transaction("whole", "300", "CREDIT"),
        ],
        1,
        1,
        5,
    )
    fake = FakePluggy(lambda request: raw_json(body))
    credit, debit, unsigned, trap, whole = client_with(fake).list_transactions(date(2026, 3, 1), date(2026, 3, 2))

    assert credit.amount_cents == 123456 and credit.type == "CREDIT"
    assert debit.amount_cents == -123456 and debit.type == "DEBIT"
    assert unsigned.amount_cents == -5010
    assert trap.amount_cents == 29
    assert whole.amount_cents == 30000
    assert credit.date == date(2026, 3, 2) and credit.currency == "BRL" and credit.description == "line credit"
    assert credit.payment_method == "PIX" and credit.reference_number == "E1234"
    assert credit.counterparty is not None
    assert credit.counterparty.document == "12345678909" and credit.counterparty.document_type == "CPF"
    assert credit.counterparty.name == "Maria Silva"
    assert debit.counterparty is None


def test_an_amount_that_is_not_centavos_is_refused_not_rounded() -> None:
    body = page_body([transaction("odd", "10.005", "CREDIT")], 1, 1, 1)
    fake = FakePluggy(lambda request: raw_json(body))
    with pytest.raises(ProviderUnavailableError) as info:
        list(client_with(fake).list_transactions(date(2026, 3, 1), date(2026, 3, 2)))
    assert info.value.code == "invalid_amount"


def test_without_an_account_id_the_items_bank_account_is_used() -> None:
    accounts = (
        '{"total": 2, "totalPages": 1, "page": 1, "results": ['
        '{"id": "acc-card", "itemId": "item-1", "type": "CREDIT", "subtype": "CREDIT_CARD", "balance": 0},'
        '{"id": "acc-checking", "itemId": "item-1", "type": "BANK", "subtype": "CHECKING_ACCOUNT",'
        ' "balance": 1500.75, "currencyCode": "BRL", "bankData": {"transferNumber": "0001/12345-0"}}]}'
    )

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/accounts":
            return raw_json(accounts)
        return raw_json(page_body([], 1, 0, 0))

    fake = FakePluggy(handler)
    creds = CREDS.model_copy(update={"account_id": None})
    client = client_with(fake, creds=creds)
    list(client.list_transactions(date(2026, 3, 1), date(2026, 3, 2)))
    assert fake.api_calls[-1].url.params["accountId"] == "acc-checking"

    [card, checking] = client.list_accounts()
    assert checking.balance_cents == 150075 and checking.transfer_number == "0001/12345-0"
    assert card.type == "CREDIT"


def test_an_item_without_a_bank_account_says_so() -> None:
    fake = FakePluggy(lambda request: httpx.Response(200, json={"results": [{"id": "c", "type": "CREDIT"}]}))
    creds = CREDS.model_copy(update={"account_id": None})
    with pytest.raises(InvalidRequestError) as info:
        client_with(fake, creds=creds).list_transactions(date(2026, 3, 1), date(2026, 3, 2))
    assert info.value.code == "no_bank_account"


def test_a_reversed_period_is_refused_before_any_call() -> None:
    fake = FakePluggy()
    with pytest.raises(InvalidRequestError):
        client_with(fake).list_transactions(date(2026, 3, 2), date(2026, 3, 1))
    assert fake.requests == []


# ----- errors --------------------------------------------------------------------------------


def test_429_waits_for_ratelimit_reset_not_the_constant_retry_after() -> None:
    limited = {"message": "Too many requests. Please try again later (see Retry-After header in seconds)", "code": 429}
    fake = FakePluggy(
        lambda request: httpx.Response(429, json=limited, headers={"RateLimit-Reset": "45", "Retry-After": "60"})
    )
    client = client_with(fake)
    client.retry_policy = RetryPolicy(max_attempts=1, sleep=lambda _: None)
    with pytest.raises(RateLimitedError) as info:
        client.list_accounts()
    assert info.value.retry_after == 45
    assert info.value.code == "429"


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, InvalidRequestError),
        (403, AuthenticationError),
        (404, InvalidRequestError),
        (500, ProviderUnavailableError),
        (503, ProviderUnavailableError),
    ],
)
def test_error_statuses_map_to_the_taxonomy(status: int, error_class: type[Exception]) -> None:
    body = {"message": f"problem {status}", "code": status, "codeDescription": "SOME_CODE"}
    fake = FakePluggy(lambda request: httpx.Response(status, json=body))
    with pytest.raises(error_class) as info:
        client_with(fake).list_accounts()
    assert f"problem {status}" in str(info.value)
    assert getattr(info.value, "code", None) == "SOME_CODE"


# ----- health --------------------------------------------------------------------------------


def item(status: str, error: dict[str, Any] | None = None) -> Handler:
    return lambda request: httpx.Response(200, json={"id": "item-1", "status": status, "error": error})


def test_health_is_the_auth_call_and_the_item() -> None:
    fake = FakePluggy(item("UPDATED"))
    client_with(fake).health_check()
    assert [(r.method, r.url.path) for r in fake.requests] == [("POST", "/auth"), ("GET", "/items/item-1")]


def test_a_login_error_item_needs_the_user_to_reconnect() -> None:
    fake = FakePluggy(item("LOGIN_ERROR", {"code": "INVALID_CREDENTIALS", "message": "Senha inválida"}))
    with pytest.raises(AuthenticationError) as info:
        client_with(fake).health_check()
    assert info.value.code == "item_login_error"
    assert "reconnect" in info.value.message and "Senha inválida" in info.value.message


def test_an_outdated_item_is_unavailable() -> None:
    fake = FakePluggy(item("OUTDATED"))
    with pytest.raises(ProviderUnavailableError) as info:
        client_with(fake).health_check()
    assert info.value.code == "item_outdated"


def test_an_expired_key_never_disables_the_integration_but_rejected_keys_do(monkeypatch: pytest.MonkeyPatch) -> None:
    from hub.providers.base import client as base

    disabled: list[str] = []
    monkeypatch.setattr(base, "blocked", lambda org_id, provider: None)
    monkeypatch.setattr(base, "disable_integration", lambda org_id, provider, reason: disabled.append(reason))

    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers["x-api-key"] == "api-key-1":
            return httpx.Response(401, json={"message": "Unauthorized", "code": 401})
        return httpx.Response(200, json={"results": []})

    fake = FakePluggy(handler)
    http = httpx.Client(transport=httpx.MockTransport(fake))
    client = PluggyClient(CREDS, http=http, retry_policy=RetryPolicy(sleep=lambda _: None), org_id="org-1")
    client.api_key()
    client.list_accounts()  # 401 to the cached key, refreshed, retried
    assert disabled == []

    fake.handler = lambda request: httpx.Response(401, json={"message": "Unauthorized", "code": 401})
    pluggy.clear_api_key_cache()
    with pytest.raises(AuthenticationError):
        client.list_accounts()  # a key fetched just now is refused: the credentials are the problem
    assert disabled == ["401 from pluggy"]
