"""PagBank notifications: the x-authenticity-token check and the documented order/charge bodies.

Authenticity: https://developer.pagbank.com.br/reference/confirmar-autenticidade-da-notificacao
(SHA-256 of the account token and the payload, ``{token}-{payload}``). Bodies: the Order object
(https://developer.pagbank.com.br/reference/webhooks) and the Charge object of the
authenticity page's example.
"""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from hub.providers.pagbank.webhook import (
    authenticity_token,
    normalise_pagbank_webhook,
    order_payment,
    verify_pagbank_webhook,
)
from hub.webhooks.models import RawWebhook, WebhookAuthenticationError
from hub.webhooks.specs import webhook_spec
from tests.helpers import raw_webhook, sample_event

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
TOKEN = "pagbank-account-token-2f9c"
PREVIOUS = "pagbank-account-token-old-71ab"
SECRET = {"token": TOKEN, "environment": "production", "previous_notification_token": PREVIOUS}

# Shaped like the authenticity page's example payload (a Charge object, compact JSON), with our reference_id.
DOC_CHARGE = (
    '{"id":"CHAR_354828dd-786b-4cca-8ce4-6f7a1f3f2a1a","status":"WAITING","created_at":"2019-09-24T18:31:19.027-03:00",'
    '"description":"This is the payment transaction description","amount":{"value":100,"currency":"BRL",'
    '"summary":{"total":100,"paid":0,"refunded":0}},"payment_response":{"code":"20000","message":"SUCESSO"},'
    '"payment_method":{"type":"BOLETO","boleto":{"id":"eafadc9b-6e15-41ff-ab07-86218770d93b",'
    '"due_date":"2020-05-08","holder":{"name":"Jose da Silva","tax_id":"90792099028",'
    '"address":{"region":"Sao Paulo","city":"Sao Paulo","postal_code":"01452002",'
    '"street":"Avenida Brigadeiro Faria Lima","number":"1384","locality":"Pinheiros","country":"Brasil",'
    '"region_code":"SP"}}}},"reference_id":"C2F1A9B7D3E5"}'
)


def _raw(body: bytes, headers: dict[str, str]) -> RawWebhook:
    return raw_webhook("pagbank", body, headers, received_at=NOW)


def _signed(body: bytes, token: str = TOKEN) -> RawWebhook:
    return _raw(body, {"x-authenticity-token": hashlib.sha256(f"{token}-".encode() + body).hexdigest()})


def _sample_order() -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(sample_event("webhook_pagbank")["body"], parse_float=Decimal)
    return payload


# ----- authenticity ------------------------------------------------------------------------------


def test_the_signature_is_the_sha256_of_token_hyphen_raw_body() -> None:
    # Given the documented recipe: SHA-256 over the account token, "-", the payload as received
    body = DOC_CHARGE.encode()
    # Then
    assert authenticity_token(TOKEN, body) == hashlib.sha256((TOKEN + "-" + DOC_CHARGE).encode()).hexdigest()
    verify_pagbank_webhook(_signed(body), SECRET)


def test_the_previous_token_is_accepted_while_rotating() -> None:
    verify_pagbank_webhook(_signed(DOC_CHARGE.encode(), PREVIOUS), SECRET)


def test_a_notification_token_replaces_the_api_token_for_signatures() -> None:
    secret = {"token": "api-token", "notification_token": TOKEN}
    verify_pagbank_webhook(_signed(DOC_CHARGE.encode()), secret)
    with pytest.raises(WebhookAuthenticationError):
        verify_pagbank_webhook(_signed(DOC_CHARGE.encode(), "api-token"), secret)


def test_an_upper_case_hex_digest_is_the_same_signature() -> None:
    body = DOC_CHARGE.encode()
    verify_pagbank_webhook(_raw(body, {"x-authenticity-token": authenticity_token(TOKEN, body).upper()}), SECRET)


def test_a_forged_signature_is_refused() -> None:
    with pytest.raises(WebhookAuthenticationError, match="invalid"):
        verify_pagbank_webhook(_raw(DOC_CHARGE.encode(), {"x-authenticity-token": "ab" * 32}), SECRET)


def test_a_signature_with_another_token_is_refused() -> None:
    with pytest.raises(WebhookAuthenticationError, match="invalid"):
        verify_pagbank_webhook(_signed(DOC_CHARGE.encode(), "someone-elses-token"), SECRET)


def test_a_tampered_body_is_refused() -> None:
    # Given a genuine signature over the WAITING body, replayed with the status changed
    signature = authenticity_token(TOKEN, DOC_CHARGE.encode())
    tampered = DOC_CHARGE.replace('"status":"WAITING"', '"status":"PAID"').encode()
    # Then
    with pytest.raises(WebhookAuthenticationError, match="invalid"):
        verify_pagbank_webhook(_raw(tampered, {"x-authenticity-token": signature}), SECRET)


def test_a_re_serialised_body_is_refused() -> None:
    # The body is hashed as received: the same JSON with other whitespace is another payload.
    signature = authenticity_token(TOKEN, DOC_CHARGE.encode())
    pretty = json.dumps(json.loads(DOC_CHARGE), indent=2).encode()
    with pytest.raises(WebhookAuthenticationError):
        verify_pagbank_webhook(_raw(pretty, {"x-authenticity-token": signature}), SECRET)


@pytest.mark.parametrize("headers", [{}, {"x-authenticity-token": ""}, {"x-authenticity-token": "   "}])
def test_a_missing_signature_is_refused(headers: dict[str, str]) -> None:
    with pytest.raises(WebhookAuthenticationError, match="missing"):
        verify_pagbank_webhook(_raw(DOC_CHARGE.encode(), headers), SECRET)


@pytest.mark.parametrize("value", ["abc", "zz" * 32, "é" * 64, "ab" * 33])
def test_a_malformed_signature_is_refused(value: str) -> None:
    with pytest.raises(WebhookAuthenticationError):
        verify_pagbank_webhook(_raw(DOC_CHARGE.encode(), {"x-authenticity-token": value}), SECRET)


def test_an_org_without_a_token_refuses_every_notification() -> None:
    body = DOC_CHARGE.encode()
    with pytest.raises(WebhookAuthenticationError, match="no PagBank token"):
        verify_pagbank_webhook(_signed(body), {"environment": "production"})


def test_the_sample_event_is_signed_with_the_demo_token() -> None:
    event = sample_event("webhook_pagbank")
    request = _raw(event["body"].encode(), event["headers"])
    verify_pagbank_webhook(request, {"token": "demo-pagbank-token"})
    assert webhook_spec("pagbank").provider == "pagbank"


# ----- normalisation -------------------------------------------------------------------------------


def _normalise(payload: Any) -> list[Any]:
    return normalise_pagbank_webhook(payload, org_id="demo", received_at=NOW, raw_ref="raw/pagbank.json")


def test_a_paid_pix_order_is_payment_received_for_our_charge() -> None:
    [event] = _normalise(_sample_order())
    assert event.type == "payment.received" and event.provider == "pagbank"
    data = event.data
    assert data["payment_id"] == "ORDE_F87334AC-BB8B-42E2-AA85-8579F70AA328"
    assert data["external_reference"] == "C2F1A9B7D3E5"  # the order's reference_id: our charge id
    assert data["status"] == "PAID" and data["method"] == "pix"
    assert data["amount_cents"] == 350000 and data["amount_problem"] is None
    assert data["paid_at"] == "2026-11-21T23:30:23-03:00"


def test_the_amount_is_what_the_charge_was_paid_not_the_qr_codes_or_items() -> None:
    order = _sample_order()
    order["charges"][0]["amount"]["summary"]["paid"] = 100
    [event] = _normalise(order)
    assert event.data["amount_cents"] == 100  # the state machine's amount check flags it


def test_an_amount_that_is_not_integer_centavos_is_flagged_never_applied() -> None:
    order = _sample_order()
    order["charges"][0]["amount"]["summary"]["paid"] = Decimal("3500.00")
    [event] = _normalise(order)
    assert event.data["amount_cents"] is None and "not an integer" in event.data["amount_problem"]


def test_a_pix_order_not_paid_yet_has_no_charge_and_no_event() -> None:
    order = _sample_order()
    del order["charges"]
    assert _normalise(order) == []


@pytest.mark.parametrize(
    ("status", "hub_type"),
    [
        ("WAITING", "payment.updated"),
        ("IN_ANALYSIS", "payment.updated"),
        ("AUTHORIZED", "payment.updated"),  # a card pre-authorisation: not captured, not paid
        ("DECLINED", "payment.failed"),
        ("CANCELED", "payment.deleted"),
    ],
)
def test_charge_statuses_map_to_payment_events(status: str, hub_type: str) -> None:
    order = _sample_order()
    order["charges"][0]["status"] = status
    order["charges"][0]["amount"]["summary"]["paid"] = 0
    [event] = _normalise(order)
    assert event.type == hub_type and event.data["status"] == status


def test_a_canceled_charge_that_was_paid_is_a_refund() -> None:
    order = _sample_order()
    order["charges"][0]["status"] = "CANCELED"
    order["charges"][0]["amount"]["summary"]["refunded"] = 350000
    [event] = _normalise(order)
    assert event.type == "payment.refunded" and event.data["refunded_cents"] == 350000


def test_an_unknown_status_produces_no_event() -> None:
    order = _sample_order()
    order["charges"][0]["status"] = "SOMETHING_NEW"
    assert _normalise(order) == []


def test_the_documented_bare_charge_body_is_read_too() -> None:
    [event] = _normalise(json.loads(DOC_CHARGE))
    assert event.type == "payment.updated" and event.data["status"] == "WAITING"
    assert event.data["external_reference"] == "C2F1A9B7D3E5" and event.data["amount_cents"] == 100


def test_the_same_state_twice_is_one_event_and_a_new_state_another() -> None:
    first = _normalise(_sample_order())[0]
    again = normalise_pagbank_webhook(
        _sample_order(), org_id="demo", received_at=datetime(2026, 11, 23, tzinfo=UTC), raw_ref="raw/other.json"
    )[0]
    assert first.event_id == again.event_id
    refunded = copy.deepcopy(_sample_order())
    refunded["charges"][0].update(status="CANCELED")
    refunded["charges"][0]["amount"]["summary"]["refunded"] = 350000
    assert _normalise(refunded)[0].event_id != first.event_id


def test_a_looked_up_order_and_its_notification_are_the_same_payment() -> None:
    # The scheduled lookup reads GET /orders/{id}: the same object as the notification's body.
    payment = order_payment(_sample_order())
    assert payment is not None
    assert payment.dedupe_key == _normalise(_sample_order())[0].dedupe_key
