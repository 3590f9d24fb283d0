"""PagBankClient against PagBank's documented Orders/Checkout requests, responses and errors.

Orders: https://developer.pagbank.com.br/reference/objeto-order; PIX:
https://developer.pagbank.com.br/docs/criar-pedido-pedido-com-qr-code; boleto:
https://developer.pagbank.com.br/reference/criar-pagar-pedido-com-boleto; checkout:
https://developer.pagbank.com.br/reference/objeto-checkout; idempotency:
https://developer.pagbank.com.br/docs/chaves-publicas-e-de-idempotencia.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from hub.errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidRequestError,
    ProviderUnavailableError,
    RateLimitedError,
)
from hub.payments.models import ChargeSpec, Customer
from hub.providers.pagbank.client import PagBankAddress, PagBankClient, PagBankCredentials
from hub.retry import RetryPolicy
from tests.helpers import AdapterFactory

TOKEN = "pagbank-secret-token-123"
CREDS = PagBankCredentials(token=SecretStr(TOKEN))
CUSTOMER = Customer(name="Jose da Silva", tax_id="12345678909", email="jose@example.com", phone="+5511987654321")
ADDRESS = PagBankAddress(
    street="Avenida Brigadeiro Faria Lima",
    number="1384",
    locality="Pinheiros",
    city="São Paulo",
    region_code="SP",
    postal_code="01452002",
)
ORDER_ID = "ORDE_F87334AC-BB8B-42E2-AA85-8579F70AA328"

# The PIX answer as the docs show it (qr_codes with text and links, no charges yet).
PIX_ORDER: dict[str, Any] = {
    "id": ORDER_ID,
    "reference_id": "ch123",
    "created_at": "2026-11-21T09:39:44.931-03:00",
    "customer": {"name": "Jose da Silva", "email": "jose@example.com", "tax_id": "12345678909"},
    "items": [{"name": "Plano mensal", "quantity": 1, "unit_amount": 1999}],
    "qr_codes": [
        {
            "id": "QRCO_0C3D87C9-7076-4067-8D34-8A7A02037015",
            "expiration_date": "2026-11-30T23:59:59.000-03:00",
            "amount": {"value": 1999},
            "text": "00020101021226850014br.gov.bcb.pix2563api.pagseguro.com/pix/v2/0C3D5204000053039865405"
            "19.995802BR6304ABCD",
            "arrangements": ["PIX"],
            "links": [
                {
                    "rel": "QRCODE.PNG",
                    "href": "https://api.pagseguro.com/qrcode/QRCO_0C3D87C9/png",
                    "media": "image/png",
                    "type": "GET",
                },
                {
                    "rel": "QRCODE.BASE64",
                    "href": "https://api.pagseguro.com/qrcode/QRCO_0C3D87C9/base64",
                    "media": "text/plain",
                    "type": "GET",
                },
            ],
        }
    ],
    "links": [{"rel": "SELF", "href": f"https://api.pagseguro.com/orders/{ORDER_ID}", "type": "GET"}],
}


def boleto_order(status: str = "WAITING") -> dict[str, Any]:
    return {
        "id": ORDER_ID,
        "reference_id": "ch123",
        "charges": [
            {
                "id": "CHAR_60269EC9-9723-444D-AA49-C42813AF9613",
                "reference_id": "ch123",
                "status": status,
                "amount": {"value": 34343, "currency": "BRL", "summary": {"total": 34343, "paid": 0, "refunded": 0}},
                "payment_method": {
                    "type": "BOLETO",
                    "boleto": {
                        "id": "6DD9494E-463C-4689-9436-AA3ADA873214",
                        "barcode": "08197081080010000001701152240436612400000034343",
                        "formatted_barcode": "08197.08108 00100.000017 01152.240436 6 12400000034343",
                        "due_date": "2026-12-20",
                    },
                },
                "links": [
                    {
                        "rel": "SELF",
                        "href": "https://boleto.pagseguro.com.br/6dd9494e.pdf",
                        "media": "application/pdf",
                        "type": "GET",
                    },
                    {
                        "rel": "SELF",
                        "href": "https://boleto.pagseguro.com.br/6dd9494e.png",
                        "media": "image/png",
                        "type": "GET",
                    },
                ],
            }
        ],
    }


def spec(billing_type: str = "PIX", amount_cents: int = 1999, **overrides: Any) -> ChargeSpec:
    values: dict[str, Any] = {
        "charge_id": "ch123",
        "customer": CUSTOMER,
        "billing_type": billing_type,
        "amount_cents": amount_cents,
        "due_date": date(2026, 11, 30),
        "description": "Plano mensal",
    }
    values.update(overrides)
    return ChargeSpec(**values)


client_with = AdapterFactory(PagBankClient, CREDS, attempts=1)


def recording(response: httpx.Response | list[httpx.Response]) -> tuple[list[httpx.Request], Any]:
    seen: list[httpx.Request] = []
    queue = response if isinstance(response, list) else None

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return queue.pop(0) if queue is not None else response  # type: ignore[return-value]

    return seen, handler


def test_pix_order_posts_centavos_with_our_charge_id_as_reference_and_idempotency_key() -> None:
    seen, handler = recording(httpx.Response(201, json=PIX_ORDER))

    result = client_with(handler).create_charge(spec())

    [request] = seen
    assert request.method == "POST"
    assert str(request.url) == "https://api.pagseguro.com/orders"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["x-idempotency-key"] == "ch123"
    body = json.loads(request.content)
    assert body == {
        "reference_id": "ch123",
        "customer": {
            "name": "Jose da Silva",
            "tax_id": "12345678909",
            "email": "jose@example.com",
            "phones": [{"country": "55", "area": "11", "number": "987654321", "type": "MOBILE"}],
        },
        "items": [{"reference_id": "ch123", "name": "Plano mensal", "quantity": 1, "unit_amount": 1999}],
        "qr_codes": [{"amount": {"value": 1999}, "expiration_date": "2026-11-30T23:59:59-03:00"}],
    }
    assert "charges" not in body
    assert result.provider == "pagbank"
    assert result.provider_charge_id == ORDER_ID
    assert result.charge_id == "ch123"
    assert result.amount_cents == 1999
    assert result.pix_payload == PIX_ORDER["qr_codes"][0]["text"]
    assert result.payment_url == "https://api.pagseguro.com/qrcode/QRCO_0C3D87C9/png"
    assert result.status == "WAITING"
    assert result.expires_at == "2026-11-30T23:59:59.000-03:00"


def test_sandbox_environment_uses_the_sandbox_host() -> None:
    seen, handler = recording(httpx.Response(201, json=PIX_ORDER))
    creds = PagBankCredentials(token=SecretStr(TOKEN), environment="sandbox")
    client_with(handler, creds=creds).create_charge(spec())
    assert str(seen[0].url) == "https://sandbox.api.pagseguro.com/orders"


def test_boleto_order_sends_the_holder_with_address_and_returns_the_digitable_line() -> None:
    seen, handler = recording(httpx.Response(201, json=boleto_order()))

    result = client_with(handler).create_charge(spec("BOLETO", 34343), billing_address=ADDRESS)

    body = json.loads(seen[0].content)
    assert "qr_codes" not in body
    [charge] = body["charges"]
    assert charge["amount"] == {"value": 34343, "currency": "BRL"}
    boleto = charge["payment_method"]["boleto"]
    assert charge["payment_method"]["type"] == "BOLETO"
    assert boleto["due_date"] == "2026-11-30"
    assert boleto["holder"] == {
        "name": "Jose da Silva",
        "tax_id": "12345678909",
        "email": "jose@example.com",
        "address": {
            "street": "Avenida Brigadeiro Faria Lima",
            "number": "1384",
            "locality": "Pinheiros",
            "city": "São Paulo",
            # PagBank's own plugin sends region next to region_code, and its notification
            # example's holder.address carries it (see PagBankAddress).
            "region": "SP",
            "region_code": "SP",
            "postal_code": "01452002",
            "country": "BRA",
        },
    }
    assert set(boleto["instruction_lines"]) == {"line_1", "line_2"}
    assert seen[0].headers["x-idempotency-key"] == "ch123"
    assert result.boleto_digitable_line == "08197.08108 00100.000017 01152.240436 6 12400000034343"
    assert result.boleto_url == "https://boleto.pagseguro.com.br/6dd9494e.pdf"
    assert result.status == "WAITING"
    assert result.amount_cents == 34343


def test_boleto_without_an_address_is_refused_before_calling_pagbank() -> None:
    seen, handler = recording(httpx.Response(201, json=boleto_order()))
    with pytest.raises(InvalidRequestError) as info:
        client_with(handler).create_charge(spec("BOLETO", 34343))
    assert info.value.code == "boleto_address_required"
    assert seen == []


def test_boleto_under_the_minimum_is_refused() -> None:
    seen, handler = recording(httpx.Response(201, json=boleto_order()))
    with pytest.raises(InvalidRequestError) as info:
        client_with(handler).create_charge(spec("BOLETO", 19), billing_address=ADDRESS)
    assert info.value.code == "amount_too_small"
    assert seen == []


def test_a_declined_boleto_raises_charge_declined_with_the_order_id() -> None:
    _, handler = recording(httpx.Response(201, json=boleto_order("DECLINED")))
    with pytest.raises(InvalidRequestError) as info:
        client_with(handler).create_charge(spec("BOLETO", 34343), billing_address=ADDRESS)
    assert info.value.code == "charge_declined"
    assert info.value.details == {"order_id": ORDER_ID}


@pytest.mark.parametrize(
    ("billing_type", "methods"),
    [("CREDIT_CARD", ["CREDIT_CARD"]), ("UNDEFINED", ["CREDIT_CARD", "DEBIT_CARD", "PIX", "BOLETO"])],
)
def test_cards_become_a_hosted_checkout_link(billing_type: str, methods: list[str]) -> None:
    checkout = {
        "id": "CHEC_1D7C8E9A-0A1B-4C2D-8E3F-4A5B6C7D8E9F",
        "reference_id": "ch123",
        "status": "ACTIVE",
        "expiration_date": "2026-11-30T23:59:59-03:00",
        "links": [
            {"rel": "SELF", "href": "https://api.pagseguro.com/checkouts/CHEC_1D7C", "method": "GET"},
            {"rel": "PAY", "href": "https://pagamento.pagbank.com.br/pagamento?code=abc", "method": "GET"},
        ],
    }
    seen, handler = recording(httpx.Response(201, json=checkout))

    result = client_with(handler).create_charge(spec(billing_type))

    [request] = seen
    assert str(request.url) == "https://api.pagseguro.com/checkouts"
    assert request.headers["x-idempotency-key"] == "ch123"
    body = json.loads(request.content)
    assert body["payment_methods"] == [{"type": m} for m in methods]
    assert body["reference_id"] == "ch123"
    assert body["items"][0]["unit_amount"] == 1999
    assert body["customer"]["phone"] == {"country": "+55", "area": "11", "number": "987654321"}
    assert body["customer_modifiable"] is False
    assert "number" not in json.dumps(body.get("charges", {}))  # never card data
    assert result.payment_url == "https://pagamento.pagbank.com.br/pagamento?code=abc"
    assert result.provider_charge_id.startswith("CHEC_")
    assert result.status == "ACTIVE"


def test_a_retried_create_after_a_5xx_reuses_the_same_idempotency_key() -> None:
    seen, handler = recording(
        [
            httpx.Response(503, json={"error_messages": [{"code": "50000", "description": "unavailable"}]}),
            httpx.Response(201, json=PIX_ORDER),
        ]
    )
    result = client_with(handler, attempts=2).create_charge(spec())
    assert [r.headers["x-idempotency-key"] for r in seen] == ["ch123", "ch123"]
    assert result.provider_charge_id == ORDER_ID


def test_error_messages_become_the_error_text_and_code() -> None:
    body = {
        "error_messages": [{"code": "40002", "description": "invalid_parameter", "parameter_name": "customer.tax_id"}]
    }
    _, handler = recording(httpx.Response(400, json=body))
    with pytest.raises(InvalidRequestError) as info:
        client_with(handler).create_charge(spec())
    assert info.value.code == "40002"
    assert "invalid_parameter (customer.tax_id)" in info.value.message
    assert info.value.http_status == 400


def test_checkout_error_shape_with_error_instead_of_code() -> None:
    body = {
        "error_messages": [
            {
                "error": "invalid_value",
                "description": "Field has an invalid value.",
                "parameter_name": "expiration_date",
            }
        ]
    }
    _, handler = recording(httpx.Response(400, json=body))
    with pytest.raises(InvalidRequestError) as info:
        client_with(handler).create_charge(spec("CREDIT_CARD"))
    assert info.value.code == "invalid_value"
    assert "expiration_date" in info.value.message


@pytest.mark.parametrize(
    ("status", "body", "error_class"),
    [
        (401, {"error_messages": [{"code": "UNAUTHORIZED", "description": "Invalid credential"}]}, AuthenticationError),
        (
            403,
            {
                "error_messages": [
                    {"code": "ACCESS_DENIED", "description": "whitelist access required. Contact PagSeguro"}
                ]
            },
            AuthenticationError,
        ),
        (429, {"error_messages": [{"code": "429", "description": "too many requests"}]}, RateLimitedError),
        (500, {"error_messages": [{"code": "50000", "description": "internal error"}]}, ProviderUnavailableError),
    ],
)
def test_errors_map_to_the_taxonomy_without_leaking_the_token(
    status: int, body: dict[str, Any], error_class: type[Exception]
) -> None:
    _, handler = recording(httpx.Response(status, json=body))
    with pytest.raises(error_class) as info:
        client_with(handler).create_charge(spec())
    assert TOKEN not in str(info.value)


def test_find_charge_reads_the_order_and_checks_it_is_ours() -> None:
    seen, handler = recording(httpx.Response(200, json=PIX_ORDER))
    client = client_with(handler)
    found = client.find_charge("ch123", order_id=ORDER_ID)
    assert found is not None and found.provider_charge_id == ORDER_ID
    assert seen[0].method == "GET" and seen[0].url.path == f"/orders/{ORDER_ID}"
    assert client.find_charge("another", order_id=ORDER_ID) is None


def test_find_charge_answers_none_for_an_unknown_order() -> None:
    _, handler = recording(
        httpx.Response(404, json={"error_messages": [{"code": "40004", "description": "not found"}]})
    )
    assert client_with(handler).find_charge("ch123", order_id=ORDER_ID) is None


def test_find_charge_without_an_order_id_says_to_replay_the_create() -> None:
    seen, handler = recording(httpx.Response(200, json=PIX_ORDER))
    with pytest.raises(InvalidRequestError) as info:
        client_with(handler).find_charge("ch123")
    assert info.value.code == "lookup_by_reference_unsupported"
    assert seen == []


def test_health_check_reads_the_public_key() -> None:
    seen, handler = recording(httpx.Response(200, json={"public_key": "MIIB...", "created_at": 1}))
    client_with(handler).health_check()
    assert seen[0].method == "GET" and seen[0].url.path == "/public-keys/card"


def test_credentials_need_a_token() -> None:
    with pytest.raises(ConfigurationError, match="token"):
        PagBankClient.parse_credentials({"environment": "sandbox"})


# ----- notifications ---------------------------------------------------------------------------


def org_client(handler: Any, monkeypatch: pytest.MonkeyPatch, public_url: str | None) -> PagBankClient:
    if public_url is None:
        monkeypatch.delenv("PUBLIC_API_URL", raising=False)
    else:
        monkeypatch.setenv("PUBLIC_API_URL", public_url)
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return PagBankClient(CREDS, org_id="acme", http=http, retry_policy=RetryPolicy(max_attempts=1))


def test_orders_ask_pagbank_to_notify_the_orgs_pagbank_receiver(monkeypatch: pytest.MonkeyPatch) -> None:
    # https://developer.pagbank.com.br/reference/webhooks: notification_urls on the order
    seen, handler = recording([httpx.Response(201, json=PIX_ORDER), httpx.Response(201, json=boleto_order())])
    client = org_client(handler, monkeypatch, "https://hub.example.com/")

    client.create_charge(spec())
    client.create_charge(spec("BOLETO", 34343), billing_address=ADDRESS)

    for request in seen:
        assert json.loads(request.content)["notification_urls"] == ["https://hub.example.com/webhooks/pagbank/acme"]


def test_checkouts_ask_for_checkout_and_payment_notifications(monkeypatch: pytest.MonkeyPatch) -> None:
    # https://developer.pagbank.com.br/reference/criar-checkout: payment_notification_urls for
    # the payment's status, notification_urls for the checkout's
    checkout = {"id": "CHEC_1", "status": "ACTIVE", "links": [{"rel": "PAY", "href": "https://pay.example/x"}]}
    seen, handler = recording(httpx.Response(201, json=checkout))

    org_client(handler, monkeypatch, "https://hub.example.com").create_charge(spec("CREDIT_CARD"))

    body = json.loads(seen[0].content)
    assert body["notification_urls"] == ["https://hub.example.com/webhooks/pagbank/acme"]
    assert body["payment_notification_urls"] == ["https://hub.example.com/webhooks/pagbank/acme"]


def test_without_a_public_url_no_notification_url_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    seen, handler = recording(httpx.Response(201, json=PIX_ORDER))
    org_client(handler, monkeypatch, None).create_charge(spec())
    assert "notification_urls" not in json.loads(seen[0].content)


def test_a_named_region_is_sent_as_given() -> None:
    address = ADDRESS.model_copy(update={"region": "São Paulo"})
    assert address.payload()["region"] == "São Paulo" and address.payload()["region_code"] == "SP"


# ----- phones: type from Brazil's numbering plan ----------------------------------------------


def _order_customer(phone: str) -> dict[str, Any]:
    seen, handler = recording(httpx.Response(201, json=PIX_ORDER))
    customer = Customer(name="Jose da Silva", tax_id="12345678909", email="jose@example.com", phone=phone)
    client_with(handler).create_charge(spec(customer=customer))
    return dict(json.loads(seen[0].content)["customer"])


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        ("+5511987654321", [{"country": "55", "area": "11", "number": "987654321", "type": "MOBILE"}]),
        ("+551133334444", [{"country": "55", "area": "11", "number": "33334444", "type": "BUSINESS"}]),
        ("+5555991234567", [{"country": "55", "area": "55", "number": "991234567", "type": "MOBILE"}]),
    ],
)
def test_order_phones_carry_ddd_number_and_type(phone: str, expected: list[dict[str, str]]) -> None:
    assert _order_customer(phone)["phones"] == expected


@pytest.mark.parametrize("phone", ["+5508001234567", "+14155550100"])
def test_numbers_without_a_ddd_or_foreign_are_not_sent(phone: str) -> None:
    # PagBank takes a DDD (area, 2 digits) and a Brazilian number (country 55).
    assert "phones" not in _order_customer(phone)


def test_a_checkout_leaves_a_landline_out_and_lets_the_payer_fill_in_a_phone() -> None:
    # PagBank's checkout refuses a landline in customer.phone when the payer cannot edit it.
    checkout = {
        "id": "CHEC_1D7C8E9A-0A1B-4C2D-8E3F-4A5B6C7D8E9F",
        "reference_id": "ch123",
        "status": "ACTIVE",
        "links": [{"rel": "PAY", "href": "https://pagamento.pagbank.com.br/pagamento?code=abc", "method": "GET"}],
    }
    seen, handler = recording(httpx.Response(201, json=checkout))
    landline = Customer(name="ABC Ltda", tax_id="12345678000195", email="fin@abc.com.br", phone="+554733332222")
    client_with(handler).create_charge(spec("CREDIT_CARD", customer=landline))
    body = json.loads(seen[0].content)
    assert "phone" not in body["customer"]
    assert body["customer_modifiable"] is True
