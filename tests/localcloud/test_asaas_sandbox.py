"""The Asaas sandbox: its HTTP contract, and the Asaas adapter driven against it."""

from __future__ import annotations

import json
import re
import time
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from hub.errors import AuthenticationError, InvalidRequestError, ProviderUnavailableError, RateLimitedError
from hub.payments.models import ChargeSpec, Customer
from hub.providers.asaas.client import AsaasClient
from hub.retry import RetryPolicy
from localcloud.sandboxes.asaas import (
    DEMO_API_KEY,
    DEMO_INITIAL_BALANCE,
    AsaasSandbox,
    crc16_ccitt,
)
from tests.conftest import ServedSandboxes

NO_SLEEP = RetryPolicy(sleep=lambda _: None)
HEADERS = {"access_token": DEMO_API_KEY, "User-Agent": "tests"}
TOMORROW = date.today() + timedelta(days=2)
CUSTOMER = Customer(name="Maria Souza", tax_id="12345678909", email="maria@example.com", external_reference="c1")


@pytest.fixture
def sandbox(sandboxes: ServedSandboxes) -> AsaasSandbox:
    sandbox: AsaasSandbox = sandboxes["asaas"]
    return sandbox


@pytest.fixture
def url(sandboxes: ServedSandboxes) -> str:
    return sandboxes.url  # state and faults are reset around every test


def client(url: str, timeout: float | None = None, **overrides: Any) -> AsaasClient:
    secret = {"base_url": f"{url}/asaas/v3", "api_key": DEMO_API_KEY, "environment": "sandbox", **overrides}
    http = httpx.Client(timeout=timeout) if timeout else None
    return AsaasClient(AsaasClient.parse_credentials(secret), http=http, retry_policy=NO_SLEEP)


def spec(charge_id: str = "ch1", billing_type: str = "BOLETO", cents: int = 1234567) -> ChargeSpec:
    return ChargeSpec(
        charge_id=charge_id, customer=CUSTOMER, billing_type=billing_type, amount_cents=cents, due_date=TOMORROW
    )


def control(url: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
    response = httpx.post(f"{url}/asaas/__control/{path}", json=body or {})
    assert response.status_code == 200, response.text
    return response


def test_every_endpoint_requires_the_access_token(url: str) -> None:
    for headers in ({}, {"access_token": "wrong"}):
        resp = httpx.get(f"{url}/asaas/v3/finance/balance", headers=headers)
        assert resp.status_code == 401
        assert resp.json() == {
            "errors": [{"code": "invalid_access_token", "description": "A chave de API fornecida é inválida"}]
        }
    with pytest.raises(AuthenticationError):
        client(url, api_key="wrong").health_check()
    client(url).health_check()


def test_charges_end_to_end_through_the_adapter(url: str, sandbox: AsaasSandbox) -> None:
    asaas = client(url)
    customer = asaas.ensure_customer(CUSTOMER)
    assert customer.created and re.fullmatch(r"cus_[0-9]{12}", customer.customer_id)
    assert asaas.ensure_customer(CUSTOMER) == customer.model_copy(update={"created": False})

    boleto = asaas.create_charge(spec("ch1"), customer.customer_id)
    assert re.fullmatch(r"pay_[a-z0-9]{16}", boleto.provider_charge_id)
    assert (boleto.status, boleto.amount_cents, boleto.charge_id) == ("PENDING", 1234567, "ch1")
    assert boleto.boleto_url and boleto.payment_url and boleto.boleto_digitable_line
    assert boleto.pix_payload is None

    # The value travelled and is stored as an exact number of reais.
    raw = httpx.get(f"{url}/asaas/v3/payments/{boleto.provider_charge_id}", headers=HEADERS)
    assert '"value": 12345.67' in raw.text
    [post] = [r for r in httpx.get(f"{url}/__sandbox/requests?provider=asaas").json() if r["path"] == "/v3/payments"]
    assert '"value":12345.67' in post["body"] and post["headers"]["User-Agent"]

    pix = asaas.create_charge(spec("ch2", "PIX", 990), customer.customer_id)
    assert pix.pix_payload and pix.pix_qr_png_base64 and pix.boleto_url is None
    assert pix.pix_payload[-4:] == crc16_ccitt(pix.pix_payload[:-4].encode())
    assert "54049.90" in pix.pix_payload  # the BR Code's amount field

    found = asaas.find_charge("ch1")
    assert found is not None and found.provider_charge_id == boleto.provider_charge_id
    assert asaas.find_charge("nothere") is None


def test_asaas_validation_errors(url: str) -> None:
    asaas = client(url)
    cid = asaas.create_customer(CUSTOMER)
    late = ChargeSpec(
        charge_id="ch1", customer=CUSTOMER, billing_type="PIX", amount_cents=100, due_date=date(2020, 1, 1)
    )
    with pytest.raises(InvalidRequestError) as info:
        asaas.create_charge(late, cid)
    assert info.value.code == "invalid_dueDate" and "inferior à hoje" in info.value.message

    body = {"customer": cid, "billingType": "PIX", "value": "10.00", "dueDate": TOMORROW.isoformat()}
    resp = httpx.post(f"{url}/asaas/v3/payments", headers=HEADERS, json=body)
    assert resp.status_code == 400 and resp.json()["errors"][0]["code"] == "invalid_value"
    resp = httpx.post(f"{url}/asaas/v3/payments", headers=HEADERS, content=json.dumps({**body, "value": 10.001}))
    assert resp.status_code == 400 and resp.json()["errors"][0]["code"] == "invalid_value"
    resp = httpx.post(f"{url}/asaas/v3/payments", headers=HEADERS, json={**body, "customer": "cus_nobody", "value": 1})
    assert resp.json()["errors"][0]["code"] == "invalid_customer"


def test_a_slow_create_that_succeeded_is_found_not_repeated(url: str, sandbox: AsaasSandbox) -> None:
    cid = client(url).create_customer(CUSTOMER)
    control(url, "slow_create", {"delay_seconds": 1.5, "times": 1})
    charge = client(url, timeout=0.5).create_charge(spec("ch9", "CREDIT_CARD"), cid)
    assert charge.charge_id == "ch9" and charge.status == "PENDING"
    assert [p["externalReference"] for p in sandbox.payments.values()] == ["ch9"]


def test_a_slow_fault_delays_the_create_itself(url: str, sandbox: AsaasSandbox) -> None:
    """The server's "slow" fault sleeps before handling: right after the timeout Asaas has no
    charge (failing over looks safe), yet the create lands later — the caller must treat a
    timed-out create as possibly pending (reconciliation finds it)."""
    cid = client(url).create_customer(CUSTOMER)
    httpx.put(f"{url}/__sandbox/faults/asaas", json={"mode": "slow", "delay_seconds": 1.0, "times": 1})
    with pytest.raises(ProviderUnavailableError) as info:
        client(url, timeout=0.3).create_charge(spec("ch7", "CREDIT_CARD"), cid)
    assert info.value.details == {"charge_lookup": "not_found"}
    time.sleep(1.2)
    assert client(url).find_charge("ch7") is not None


def test_payment_and_statement_lifecycle(url: str, sandbox: AsaasSandbox) -> None:
    asaas = client(url)
    cid = asaas.create_customer(CUSTOMER)
    charge = asaas.create_charge(spec("ch1", "PIX", 10000), cid)
    with pytest.raises(InvalidRequestError):  # nothing to refund before payment
        asaas.refund(charge.provider_charge_id, 100)

    assert control(url, f"payments/{charge.provider_charge_id}/confirm").json()["status"] == "CONFIRMED"
    received = control(url, f"payments/{charge.provider_charge_id}/receive", {"fee": 1.99}).json()
    assert received["status"] == "RECEIVED" and received["netValue"] == 98.01

    partial = asaas.refund(charge.provider_charge_id, 2550, "Ajuste")
    assert (partial.refunded_cents, partial.status) == (2550, "RECEIVED")
    full = asaas.refund(charge.provider_charge_id)
    assert full.status == "REFUNDED"
    with pytest.raises(InvalidRequestError):
        asaas.refund(charge.provider_charge_id, 1)

    for n in range(118):  # plus the 4 lines above: 122, two pages of the adapter's 100
        control(url, "financialTransactions", {"value": n + 1, "type": "TRANSFER", "description": f"x{n}"})
    today = date.today()
    lines = list(asaas.list_financial_transactions(today - timedelta(days=1), today + timedelta(days=1)))
    assert len(lines) == 122
    assert [(t.type, t.value_cents, t.payment_id) for t in lines[:4]] == [
        ("PAYMENT_RECEIVED", 10000, charge.provider_charge_id),
        ("PAYMENT_FEE", -199, charge.provider_charge_id),
        ("PAYMENT_REFUND", -2550, charge.provider_charge_id),
        ("PAYMENT_REFUND", -7450, charge.provider_charge_id),
    ]
    expected_balance = int(DEMO_INITIAL_BALANCE * 100) + 10000 - 199 - 10000 + sum(range(1, 119)) * 100
    assert lines[-1].balance_cents == expected_balance
    pages = [
        r["query"]
        for r in httpx.get(f"{url}/__sandbox/requests?provider=asaas").json()
        if r["path"] == "/v3/financialTransactions"
    ]
    assert [p["offset"] for p in pages] == ["0", "100"]
    assert list(asaas.list_financial_transactions(today + timedelta(days=5), today + timedelta(days=6))) == []

    resp = httpx.get(f"{url}/asaas/v3/financialTransactions", headers=HEADERS, params={"limit": 101})
    assert resp.status_code == 400


def test_deleted_charges_are_not_found(url: str) -> None:
    asaas = client(url)
    charge = asaas.create_charge(spec("ch5", "CREDIT_CARD"), asaas.create_customer(CUSTOMER))
    resp = httpx.delete(f"{url}/asaas/v3/payments/{charge.provider_charge_id}", headers=HEADERS)
    assert resp.json() == {"deleted": True, "id": charge.provider_charge_id}
    assert asaas.find_charge("ch5") is None


def test_a_qr_code_not_ready_leaves_the_charge_usable(url: str) -> None:
    asaas = client(url)
    cid = asaas.create_customer(CUSTOMER)
    control(url, "pix_qr_unavailable", {"times": 1})
    charge = asaas.create_charge(spec("ch3", "PIX", 500), cid)
    assert charge.pix_payload is None and charge.provider_charge_id
    assert asaas.pix_qr_code(charge.provider_charge_id).payload.startswith("000201")


def test_links_subscriptions_and_transfers(url: str, sandbox: AsaasSandbox) -> None:
    asaas = client(url)
    cid = asaas.create_customer(CUSTOMER)
    link = asaas.create_payment_link(name="Ensaio", billing_type="PIX", amount_cents=5000)
    assert link.url.endswith(link.link_id) and link.active is True

    sub = asaas.create_subscription(cid, billing_type="BOLETO", amount_cents=1990, next_due_date=TOMORROW)
    assert re.fullmatch(r"sub_[a-z0-9]{12}", sub.subscription_id) and sub.status == "ACTIVE"
    [first] = [p for p in sandbox.payments.values() if p["subscription"] == sub.subscription_id]
    assert first["value"] == Decimal("19.90")
    assert asaas.cancel_subscription(sub.subscription_id) is True
    with pytest.raises(InvalidRequestError):
        asaas.cancel_subscription(sub.subscription_id)

    transfer = asaas.create_transfer(150075, pix_key="maria@example.com", pix_key_type="EMAIL")
    assert (transfer.status, transfer.amount_cents, transfer.fee_cents) == ("PENDING", 150075, 0)
    balance = httpx.get(f"{url}/asaas/v3/finance/balance", headers=HEADERS).json()["balance"]
    assert Decimal(str(balance)) == DEMO_INITIAL_BALANCE - Decimal("1500.75")
    with pytest.raises(InvalidRequestError) as info:
        asaas.create_transfer(10_000_000_00, pix_key="maria@example.com", pix_key_type="EMAIL")
    assert info.value.code == "insufficient_balance"


def test_limits_and_faults_answer_in_asaas_format(url: str) -> None:
    control(url, "rate_limit", {"times": 1, "reset_seconds": 42})
    with pytest.raises(RateLimitedError) as limited:
        client(url).health_check()
    assert limited.value.retry_after == 42 and limited.value.details["remaining"] == "0"
    client(url).health_check()  # the limit was for one request

    httpx.put(f"{url}/__sandbox/faults/asaas", json={"mode": "rate_limited", "retry_after": 4, "times": 1})
    with pytest.raises(RateLimitedError) as fault:
        client(url).health_check()
    assert fault.value.retry_after == 4

    httpx.put(f"{url}/__sandbox/faults/asaas", json={"mode": "error", "status": 503, "times": 3})
    with pytest.raises(ProviderUnavailableError) as down:
        client(url).health_check()
    assert down.value.code == "internal_error"


def test_customer_phones_go_to_the_field_of_their_type(url: str) -> None:
    # The sandbox refuses a landline as mobilePhone, as Asaas does; the adapter sends it as phone.
    body = {"name": "ABC Ltda", "cpfCnpj": "12345678000195", "mobilePhone": "1133334444"}
    resp = httpx.post(f"{url}/asaas/v3/customers", headers=HEADERS, json=body)
    assert resp.status_code == 400 and resp.json()["errors"][0]["code"] == "invalid_mobilePhone"

    asaas = client(url)
    landline = asaas.create_customer(Customer(name="ABC Ltda", tax_id="12345678000195", phone="+551133334444"))
    mobile = asaas.create_customer(Customer(name="Maria", tax_id="12345678909", phone="+5511987654321"))
    stored = [httpx.get(f"{url}/asaas/v3/customers/{cid}", headers=HEADERS).json() for cid in (landline, mobile)]
    assert [(c["phone"], c["mobilePhone"]) for c in stored] == [("1133334444", None), (None, "11987654321")]
