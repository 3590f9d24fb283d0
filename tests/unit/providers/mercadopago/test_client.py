"""MercadoPagoClient against Mercado Pago's documented Payments API (PIX), refunds, search and
error bodies. PIX: https://www.mercadopago.com.br/developers/pt/docs/checkout-api-v2/payment-integration/pix;
reference: https://www.mercadopago.com.br/developers/pt/reference/payments/_payments/post."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from hub.config import get_settings
from hub.errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidRequestError,
    ProviderUnavailableError,
    RateLimitedError,
)
from hub.payments.models import ChargeSpec, Customer
from hub.providers.mercadopago.client import MercadoPagoClient, MercadoPagoCredentials
from tests.helpers import AdapterFactory, recording

TOKEN = "APP_USR-1234567890-secret"
CREDS = MercadoPagoCredentials(access_token=SecretStr(TOKEN))
CUSTOMER = Customer(name="Maria Souza Lima", tax_id="12345678909", email="maria@example.com")

# A created PIX payment as the docs show it (amounts are JSON numbers in reais).
PAYMENT_RAW = (
    '{"id": 1325000001, "status": "pending", "status_detail": "pending_waiting_transfer",'
    ' "payment_method_id": "pix", "external_reference": "ch123", "transaction_amount": 19.99,'
    ' "date_of_expiration": "2026-11-30T23:59:59.000-03:00",'
    ' "point_of_interaction": {"type": "OPENPLATFORM", "transaction_data": {'
    '"qr_code": "00020126580014br.gov.bcb.pix0136b76aa9c2-2ec4-4110-954e-ebfe34f05b61'
    '520400005303986540519.995802BR6304ABCD",'
    ' "qr_code_base64": "iVBORw0KGgoAAAANSUhEUgAAA",'
    ' "ticket_url": "https://www.mercadopago.com.br/payments/1325000001/ticket?hash=x"}}}'
)


def spec(amount_cents: int = 1999, **overrides: Any) -> ChargeSpec:
    values: dict[str, Any] = {
        "charge_id": "ch123",
        "customer": CUSTOMER,
        "billing_type": "PIX",
        "amount_cents": amount_cents,
        "due_date": date(2026, 11, 30),
        "description": "Plano mensal",
    }
    values.update(overrides)
    return ChargeSpec(**values)


client_with = AdapterFactory(MercadoPagoClient, CREDS, attempts=1)


def raw(status: int, text: str) -> httpx.Response:
    return httpx.Response(status, content=text.encode(), headers={"content-type": "application/json"})


@pytest.mark.parametrize(
    ("cents", "wire"),
    [(1999, "19.99"), (100000, "1000.00"), (1, "0.01"), (10, "0.10"), (123456789, "1234567.89")],
)
def test_transaction_amount_is_an_exact_json_number_in_reais(cents: int, wire: str) -> None:
    seen, handler = recording(raw(201, PAYMENT_RAW))
    client_with(handler).create_pix_payment(spec(cents))
    text = seen[0].content.decode()
    assert f'"transaction_amount":{wire},' in text  # a JSON number, not a string, no float artefacts
    assert json.loads(text, parse_float=Decimal)["transaction_amount"] == Decimal(wire)


def test_create_pix_payment_posts_the_documented_body_with_our_idempotency_key() -> None:
    seen, handler = recording(raw(201, PAYMENT_RAW))

    result = client_with(handler).create_pix_payment(spec())

    [request] = seen
    assert request.method == "POST"
    assert str(request.url) == "https://api.mercadopago.com/v1/payments"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["x-idempotency-key"] == "ch123"
    assert request.headers["content-type"] == "application/json"
    body = json.loads(request.content, parse_float=Decimal)
    assert body == {
        "transaction_amount": Decimal("19.99"),
        "payment_method_id": "pix",
        "description": "Plano mensal",
        "external_reference": "ch123",
        "date_of_expiration": "2026-11-30T23:59:59.000-03:00",
        "payer": {
            "email": "maria@example.com",
            "first_name": "Maria",
            "last_name": "Souza Lima",
            "identification": {"type": "CPF", "number": "12345678909"},
        },
    }
    assert result.provider == "mercadopago"
    assert result.provider_charge_id == "1325000001"
    assert result.charge_id == "ch123"
    assert result.amount_cents == 1999
    assert result.status == "pending"
    assert result.pix_payload is not None and result.pix_payload.startswith("000201")
    assert result.pix_qr_png_base64 == "iVBORw0KGgoAAAANSUhEUgAAA"
    assert result.payment_url == "https://www.mercadopago.com.br/payments/1325000001/ticket?hash=x"


def test_a_cnpj_payer_is_identified_as_cnpj() -> None:
    seen, handler = recording(raw(201, PAYMENT_RAW))
    company = Customer(name="Acme", tax_id="12ABC34501DE35", email="fin@acme.com.br")
    client_with(handler).create_pix_payment(spec(customer=company))
    payer = json.loads(seen[0].content)["payer"]
    assert payer["identification"] == {"type": "CNPJ", "number": "12ABC34501DE35"}
    assert "last_name" not in payer


def test_notification_url_points_at_our_webhook_when_known(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLIC_API_URL", "https://api.example.com/Prod/")
    get_settings.cache_clear()
    try:
        seen, handler = recording(raw(201, PAYMENT_RAW))
        client_with(handler, org_id="demo").create_pix_payment(spec())
    finally:
        get_settings.cache_clear()
    assert json.loads(seen[0].content)["notification_url"] == "https://api.example.com/Prod/webhooks/mercadopago/demo"


def test_only_pix_with_a_payer_email_is_sent() -> None:
    seen, handler = recording(raw(201, PAYMENT_RAW))
    client = client_with(handler)
    with pytest.raises(InvalidRequestError) as info:
        client.create_pix_payment(spec(billing_type="BOLETO"))
    assert info.value.code == "unsupported_billing_type"
    no_email = Customer(name="Sem Email", tax_id="12345678909")
    with pytest.raises(InvalidRequestError) as info:
        client.create_pix_payment(spec(customer=no_email))
    assert info.value.code == "payer_email_required"
    assert seen == []


def test_a_retry_after_a_5xx_sends_the_same_idempotency_key() -> None:
    seen, handler = recording(
        raw(500, '{"message": "internal_error", "error": "internal_error", "status": 500, "cause": []}'),
        raw(201, PAYMENT_RAW),
    )
    result = client_with(handler, attempts=2).create_pix_payment(spec())
    assert [r.headers["x-idempotency-key"] for r in seen] == ["ch123", "ch123"]
    assert result.provider_charge_id == "1325000001"


def test_get_payment_and_search_by_external_reference() -> None:
    search = '{"paging": {"total": 1, "limit": 30, "offset": 0}, "results": [' + PAYMENT_RAW + "]}"
    seen, handler = recording(raw(200, PAYMENT_RAW), raw(200, search), raw(200, search))
    client = client_with(handler)

    assert client.get_payment("1325000001").amount_cents == 1999
    [found] = client.search_by_external_reference("ch123")
    assert found.charge_id == "ch123"
    assert client.find_charge("ch123") == found

    assert seen[0].url.path == "/v1/payments/1325000001"
    assert seen[1].url.path == "/v1/payments/search"
    assert seen[1].url.params["external_reference"] == "ch123"


def test_find_charge_answers_none_when_nothing_carries_our_reference() -> None:
    _, handler = recording(raw(200, '{"paging": {"total": 0, "limit": 30, "offset": 0}, "results": []}'))
    assert client_with(handler).find_charge("ch999") is None


def test_partial_refund_sends_reais_and_the_refund_idempotency_key() -> None:
    refund = '{"id": 13250000011, "payment_id": 1325000001, "amount": 5.5, "status": "approved"}'
    seen, handler = recording(raw(201, refund))

    result = client_with(handler).refund("1325000001", 550, idempotency_key="rf1")

    [request] = seen
    assert request.url.path == "/v1/payments/1325000001/refunds"
    assert request.headers["x-idempotency-key"] == "rf1"
    assert request.content == b'{"amount":5.50}'
    assert result.refunded_cents == 550
    assert result.provider_charge_id == "1325000001"
    assert result.status == "approved"


def test_full_refund_sends_an_empty_body() -> None:
    refund = '{"id": 1, "payment_id": 1325000001, "amount": 19.99, "status": "approved"}'
    seen, handler = recording(raw(201, refund))
    result = client_with(handler).refund("1325000001", idempotency_key="rf-full")
    assert seen[0].content == b"{}"
    assert result.refunded_cents == 1999


@pytest.mark.parametrize(
    ("status", "body", "error_class", "code"),
    [
        (
            400,
            '{"message": "Invalid user identification number", "error": "bad_request", "status": 400,'
            ' "cause": [{"code": 2067, "description": "Invalid user identification number"}]}',
            InvalidRequestError,
            "2067",
        ),
        (
            400,
            '{"message": "Header X-Idempotency-Key is required", "error": "bad_request", "status": 400, "cause": []}',
            InvalidRequestError,
            "bad_request",
        ),
        (
            401,
            '{"message": "invalid access token", "error": "unauthorized", "status": 401, "cause": []}',
            AuthenticationError,
            "unauthorized",
        ),
        (
            429,
            '{"message": "too many requests", "error": "too_many_requests", "status": 429}',
            RateLimitedError,
            "too_many_requests",
        ),
        (
            503,
            '{"message": "service unavailable", "error": "service_unavailable", "status": 503}',
            ProviderUnavailableError,
            "service_unavailable",
        ),
    ],
)
def test_documented_errors_map_to_the_taxonomy(status: int, body: str, error_class: type[Exception], code: str) -> None:
    _, handler = recording(raw(status, body))
    with pytest.raises(error_class) as info:
        client_with(handler).create_pix_payment(spec())
    assert getattr(info.value, "code", None) == code
    assert TOKEN not in str(info.value)


def test_an_amount_with_fractions_of_a_centavo_is_refused() -> None:
    broken = PAYMENT_RAW.replace('"transaction_amount": 19.99', '"transaction_amount": 19.999')
    _, handler = recording(raw(201, broken))
    with pytest.raises(ProviderUnavailableError):
        client_with(handler).create_pix_payment(spec())


def test_request_bodies_write_decimals_as_numbers_and_refuse_floats() -> None:
    seen, handler = recording(raw(201, PAYMENT_RAW))
    client = client_with(handler)
    client.request("POST", "/v1/payments", json={"a": Decimal("19.99"), "b": [Decimal("0.10")], "c": "19.99"})
    assert seen[-1].content == b'{"a":19.99,"b":[0.10],"c":"19.99"}'
    with pytest.raises(TypeError):
        client.request("POST", "/v1/payments", json={"a": 19.99})
    assert len(seen) == 1  # a float is refused before anything is sent


def test_health_check_lists_payment_methods() -> None:
    seen, handler = recording(httpx.Response(200, json=[{"id": "pix"}]))
    client_with(handler).health_check()
    assert seen[0].url.path == "/v1/payment_methods"


def test_credentials_need_an_access_token_and_ignore_webhook_fields() -> None:
    creds = MercadoPagoClient.parse_credentials({"access_token": TOKEN, "webhook_secret": "x"})
    assert isinstance(creds, MercadoPagoCredentials)
    with pytest.raises(ConfigurationError, match="access_token"):
        MercadoPagoClient.parse_credentials({"webhook_secret": "x"})
