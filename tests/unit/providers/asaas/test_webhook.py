"""Asaas webhooks: the access-token header and the documented payment/subscription events."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from hub.errors import ConfigurationError, InvalidRequestError
from hub.providers.asaas.webhook import normalise_asaas_webhook, reais_to_centavos, verify_asaas_webhook
from hub.webhooks.models import RawWebhook, WebhookAuthenticationError
from tests.helpers import raw_webhook, sample_event

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
SECRET = {
    "api_key": "$aact_ignored",
    "webhook_token": "tok-current-5f2c",
    "previous_webhook_token": "tok-previous-9a1e",
}

# https://docs.asaas.com/docs/eventos-para-assinaturas
SUBSCRIPTION_EVENT = """{
  "id": "evt_6561b631fa5580caadd00bbe3b858607&9193",
  "event": "SUBSCRIPTION_CREATED",
  "dateCreated": "2024-10-16 11:11:04",
  "subscription": {
    "object": "subscription",
    "id": "sub_m5gdy1upm25fbwgx",
    "dateCreated": "16/10/2024",
    "customer": "cus_000000008773",
    "paymentLink": null,
    "value": 19.9,
    "nextDueDate": "22/11/2024",
    "cycle": "MONTHLY",
    "description": "Assinatura Plano Pró",
    "billingType": "BOLETO",
    "deleted": false,
    "status": "ACTIVE",
    "externalReference": null,
    "sendPaymentByPostalService": false,
    "discount": {"value": 10, "limitDate": null, "dueDateLimitDays": 0, "type": "PERCENTAGE"},
    "fine": {"value": 1, "type": "PERCENTAGE"},
    "interest": {"value": 2, "type": "PERCENTAGE"},
    "split": [
      {"walletId": "a0188304-4860-4d97-9178-4da0cde5fdc1", "fixedValue": null, "percentualValue": 20,
       "externalReference": null, "description": null}
    ]
  }
}"""


def _sample_event() -> dict[str, Any]:
    return sample_event("webhook_asaas")


def _payment_event(event: str = "PAYMENT_RECEIVED", **payment: Any) -> dict[str, Any]:
    """The documented payment event (the sample file's body), parsed as the pipeline does."""
    payload: dict[str, Any] = json.loads(_sample_event()["body"], parse_float=Decimal)
    payload["event"] = event
    payload["payment"].update(payment)
    return payload


def _normalise(payload: Any) -> list[Any]:
    return normalise_asaas_webhook(payload, org_id="demo", received_at=NOW, raw_ref="raw/asaas.json")


def _raw(headers: dict[str, str]) -> RawWebhook:
    return raw_webhook("asaas", headers=headers, received_at=NOW)


# ----- access token --------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["tok-current-5f2c", "tok-previous-9a1e"])
def test_the_current_and_the_previous_token_are_accepted(token: str) -> None:
    verify_asaas_webhook(_raw({"asaas-access-token": token}), SECRET)


def test_the_sample_event_carries_the_demo_token() -> None:
    event = _sample_event()
    request = RawWebhook.from_api_gateway(event, provider="asaas", org_id="demo", received_at=NOW)
    verify_asaas_webhook(request, {"webhook_token": "demo-asaas-webhook-token-for-the-hub"})


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"asaas-access-token": ""},
        {"asaas-access-token": "tok-current-5f2"},  # a prefix
        {"asaas-access-token": "tok-current-5f2c "},  # trailing space
        {"asaas-access-token": "TOK-CURRENT-5F2C"},
        {"asaas-access-token": "tók-çurrent"},  # non-ASCII must not crash the comparison
        {"Authorization": "Bearer tok-current-5f2c"},  # the right token in the wrong header
    ],
)
def test_a_missing_or_wrong_token_is_rejected(headers: dict[str, str]) -> None:
    with pytest.raises(WebhookAuthenticationError) as info:
        verify_asaas_webhook(_raw(headers), SECRET)
    assert "tok-current-5f2c" not in info.value.message


@pytest.mark.parametrize("secret", [{"api_key": "$aact_x"}, {"webhook_token": ""}])
def test_an_org_secret_without_a_token_is_a_configuration_error(secret: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError) as info:
        verify_asaas_webhook(_raw({"asaas-access-token": "anything"}), secret)
    assert "webhook_token" in info.value.message


def test_a_blank_previous_token_is_ignored_and_never_matches_an_empty_header() -> None:
    secret = {"webhook_token": "tok-current-5f2c", "previous_webhook_token": ""}
    verify_asaas_webhook(_raw({"asaas-access-token": "tok-current-5f2c"}), secret)
    with pytest.raises(WebhookAuthenticationError):
        verify_asaas_webhook(_raw({"asaas-access-token": ""}), secret)


# ----- payment events ------------------------------------------------------------------------


def test_the_documented_payment_received_event_becomes_payment_received() -> None:
    # Given the docs' PAYMENT_RECEIVED example (the sample API Gateway event body)
    [event] = _normalise(_payment_event())
    # Then
    assert event.type == "payment.received"
    assert event.provider == "asaas"
    assert event.dedupe_key == "evt_05b708f961d739ea7eba7e4db318f621&368604920"
    assert event.raw_ref == "raw/asaas.json"
    # dateCreated "2024-06-12 16:45:03" is Brasília time (UTC-03:00)
    assert event.occurred_at == datetime(2024, 6, 12, 19, 45, 3, tzinfo=UTC)
    assert event.data == {
        "payment_id": "pay_080225913252",
        "external_reference": "056984",
        "status": "RECEIVED",
        "amount_cents": 10000,
        "currency": "BRL",
        "method": "credit_card",
        "customer_id": "cus_G7Dvo4iphUNk",
        "subscription_id": "sub_VXJBYgP2u0eO",
        "refunded_cents": None,
        # clientPaymentDate "2021-01-01": that day in Brasília
        "paid_at": "2021-01-01T03:00:00Z",
        "amount_problem": None,
    }


@pytest.mark.parametrize(
    ("asaas_event", "hub_type"),
    [
        ("PAYMENT_CREATED", "payment.created"),
        ("PAYMENT_CONFIRMED", "payment.confirmed"),
        ("PAYMENT_RECEIVED", "payment.received"),
        ("PAYMENT_OVERDUE", "payment.overdue"),
        ("PAYMENT_REFUNDED", "payment.refunded"),
        ("PAYMENT_PARTIALLY_REFUNDED", "payment.refunded"),
        ("PAYMENT_DELETED", "payment.deleted"),
        ("PAYMENT_UPDATED", "payment.updated"),
    ],
)
def test_every_mapped_payment_event(asaas_event: str, hub_type: str) -> None:
    [event] = _normalise(_payment_event(asaas_event))
    assert event.type == hub_type
    assert event.data["payment_id"] == "pay_080225913252"


@pytest.mark.parametrize(
    ("billing_type", "method"),
    [("PIX", "pix"), ("BOLETO", "boleto"), ("CREDIT_CARD", "credit_card"), ("UNDEFINED", "undefined")],
)
def test_billing_type_becomes_a_lower_case_method(billing_type: str, method: str) -> None:
    [event] = _normalise(_payment_event(billingType=billing_type))
    assert event.data["method"] == method


def test_a_full_refund_without_a_refunds_list_refunds_the_whole_value() -> None:
    [event] = _normalise(_payment_event("PAYMENT_REFUNDED", status="REFUNDED", refunds=None))
    assert event.data["refunded_cents"] == 10000


def test_a_partial_refund_sums_only_the_done_refunds() -> None:
    # https://docs.asaas.com/docs/refunds
    refunds = [
        {"dateCreated": "2022-02-21 10:28:40", "status": "DONE", "value": Decimal("2.00"), "description": "a"},
        {"dateCreated": "2022-02-22 09:00:00", "status": "DONE", "value": Decimal("10.15"), "description": "b"},
        {"dateCreated": "2022-02-23 09:00:00", "status": "PENDING", "value": Decimal("50.00"), "description": "c"},
        {"dateCreated": "2022-02-24 09:00:00", "status": "CANCELLED", "value": Decimal("7.00"), "description": "d"},
    ]
    [event] = _normalise(_payment_event("PAYMENT_PARTIALLY_REFUNDED", refunds=refunds))
    assert event.data["refunded_cents"] == 1215
    assert event.data["amount_cents"] == 10000


def test_non_refund_events_carry_no_refunded_amount() -> None:
    [event] = _normalise(_payment_event("PAYMENT_CONFIRMED"))
    assert event.data["refunded_cents"] is None


@pytest.mark.parametrize(
    "asaas_event",
    ["PAYMENT_BANK_SLIP_VIEWED", "PAYMENT_CHECKOUT_VIEWED", "PAYMENT_ANTICIPATED", "TRANSFER_CREATED", "BILL_PAID"],
)
def test_unmapped_events_produce_no_event(asaas_event: str) -> None:
    assert _normalise(_payment_event(asaas_event)) == []


def test_without_an_event_id_the_dedupe_key_falls_back_to_event_and_payment() -> None:
    payload = _payment_event()
    del payload["id"]
    [event] = _normalise(payload)
    assert event.dedupe_key == "PAYMENT_RECEIVED:pay_080225913252"


def test_the_same_delivery_always_gets_the_same_event_id() -> None:
    [first] = _normalise(_payment_event())
    [again] = normalise_asaas_webhook(_payment_event(), org_id="demo", received_at=datetime.now(UTC), raw_ref="r2")
    assert again.event_id == first.event_id


def test_without_a_usable_date_created_the_receive_time_is_used() -> None:
    for date_created in (None, "12/06/2024 16:45"):
        payload = _payment_event()
        payload["dateCreated"] = date_created
        [event] = _normalise(payload)
        assert event.occurred_at == NOW


@pytest.mark.parametrize("field", ["payment", "event"])  # a payment event's payment; the envelope's event
def test_a_payment_event_without_a_required_field_names_it(field: str) -> None:
    payload = _payment_event()
    del payload[field]
    with pytest.raises(ValidationError) as info:
        _normalise(payload)
    assert (field,) in {tuple(err["loc"]) for err in info.value.errors()}


def test_new_unknown_attributes_are_ignored() -> None:
    payload = _payment_event()
    payload["somethingNew"] = {"x": 1}
    payload["payment"]["anotherNewField"] = [1, 2]
    assert len(_normalise(payload)) == 1


# ----- money ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("json_value", "centavos"),
    [
        ("1234.56", 123456),
        ("0.30", 30),  # 0.1 + 0.2 in reais: exact in Decimal, 0.30000000000000004 in float
        ("0.07", 7),
        ("100", 10000),
        ("94.51", 9451),
        ("10.500", 1050),  # three decimals, but a whole number of centavos
        ("1E+2", 10000),
        ("99999999.99", 9999999999),
        ("0", 0),
    ],
)
def test_values_in_reais_become_exact_integer_centavos(json_value: str, centavos: int) -> None:
    # Given a payment whose value is the JSON number json_value, parsed as the pipeline does
    body = _sample_event()["body"].replace('"value":100,', f'"value":{json_value},')
    payload = json.loads(body, parse_float=Decimal)
    # When
    [event] = _normalise(payload)
    # Then
    assert event.data["amount_cents"] == centavos
    assert isinstance(event.data["amount_cents"], int)


def test_float_arithmetic_would_have_lost_a_centavo() -> None:
    # 0.29 reais is 28.999999999999996 centavos in float; int() would make it 28.
    assert int(0.29 * 100) == 28
    assert reais_to_centavos(Decimal("0.29"), field="v") == 29


# A validly authenticated delivery whose value is not money is still accepted (Asaas pauses
# its queue after 15 failed deliveries), but flagged: no amount, and the reason, so the charge
# is never marked paid by it (hub.payments.state).
@pytest.mark.parametrize(
    ("json_value", "problem"),
    [
        ("10.005", "fractions of a centavo"),
        ("0.30000000000000004", "fractions of a centavo"),
        ("1234.567", "fractions of a centavo"),
        ("-5000.00", "negative"),
        ("-0.01", "negative"),
        ("1e400", "larger than any payment"),
        ("1E+999999999", "larger than any payment"),  # would overflow Decimal's context if multiplied
        ("100000000000000000000000000000", "larger than any payment"),
        ("1E-999999999", "fractions of a centavo"),
    ],
)
def test_a_value_that_is_not_money_is_flagged_never_converted(json_value: str, problem: str) -> None:
    body = _sample_event()["body"].replace('"value":100,', f'"value":{json_value},')
    payload = json.loads(body, parse_float=Decimal)
    [event] = _normalise(payload)
    assert event.data["amount_cents"] is None
    assert event.data["amount_problem"].startswith("payment.value: ")
    assert problem in event.data["amount_problem"]


@pytest.mark.parametrize("value", [0.1, True, "12.34", [1], float("inf"), float("nan")])
def test_values_that_are_not_decimal_numbers_are_flagged(value: Any) -> None:
    [event] = _normalise(_payment_event(value=value))
    assert event.data["amount_cents"] is None
    assert event.data["amount_problem"] == "payment.value: not a JSON number"


def test_infinity_and_nan_in_the_body_are_flagged() -> None:
    # json.loads accepts Infinity/NaN and parses them as floats even with parse_float=Decimal
    for constant in ("Infinity", "-Infinity", "NaN"):
        body = _sample_event()["body"].replace('"value":100,', f'"value":{constant},')
        [event] = _normalise(json.loads(body, parse_float=Decimal))
        assert event.data["amount_problem"] == "payment.value: not a JSON number"


def test_a_refund_with_fractions_of_a_centavo_is_flagged() -> None:
    refunds = [{"status": "DONE", "value": Decimal("1.001")}]
    [event] = _normalise(_payment_event("PAYMENT_PARTIALLY_REFUNDED", refunds=refunds))
    assert event.data["refunded_cents"] is None
    assert "payment.refunds.value" in event.data["amount_problem"]


@pytest.mark.parametrize("value", [Decimal("1.001"), Decimal("-1"), Decimal("Infinity"), 0.5])
def test_reais_to_centavos_still_refuses_what_is_not_money(value: Any) -> None:
    with pytest.raises(InvalidRequestError, match="v: "):
        reais_to_centavos(value, field="v")


def test_a_payment_without_value_has_no_amount() -> None:
    payload = _payment_event()
    del payload["payment"]["value"]
    [event] = _normalise(payload)
    assert event.data["amount_cents"] is None


# ----- subscription events -------------------------------------------------------------------


def _subscription_event(event: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(SUBSCRIPTION_EVENT, parse_float=Decimal)
    payload["event"] = event
    return copy.deepcopy(payload)


@pytest.mark.parametrize(
    ("asaas_event", "hub_type"),
    [
        ("SUBSCRIPTION_CREATED", "subscription.updated"),
        ("SUBSCRIPTION_UPDATED", "subscription.updated"),
        ("SUBSCRIPTION_SPLIT_DIVERGENCE_BLOCK", "subscription.updated"),
        ("SUBSCRIPTION_SPLIT_DIVERGENCE_BLOCK_FINISHED", "subscription.updated"),
        ("SUBSCRIPTION_INACTIVATED", "subscription.canceled"),
        ("SUBSCRIPTION_DELETED", "subscription.canceled"),
    ],
)
def test_subscription_events(asaas_event: str, hub_type: str) -> None:
    [event] = _normalise(_subscription_event(asaas_event))
    assert event.type == hub_type
    assert event.dedupe_key == "evt_6561b631fa5580caadd00bbe3b858607&9193"
    assert event.occurred_at == datetime(2024, 10, 16, 14, 11, 4, tzinfo=UTC)
    assert event.data == {
        "subscription_id": "sub_m5gdy1upm25fbwgx",
        "status": "ACTIVE",
        "customer_id": "cus_000000008773",
        "external_reference": None,
        "current_period_end": None,
    }


def test_a_subscription_event_without_id_falls_back_to_event_and_subscription() -> None:
    payload = _subscription_event("SUBSCRIPTION_DELETED")
    del payload["id"]
    [event] = _normalise(payload)
    assert event.dedupe_key == "SUBSCRIPTION_DELETED:sub_m5gdy1upm25fbwgx"


def test_a_subscription_event_without_its_subscription_names_the_field() -> None:
    payload = _subscription_event("SUBSCRIPTION_UPDATED")
    del payload["subscription"]
    with pytest.raises(ValidationError) as info:
        _normalise(payload)
    assert ("subscription",) in {tuple(err["loc"]) for err in info.value.errors()}


# ----- when the charge was paid --------------------------------------------------------------


def test_paid_at_is_the_payments_own_date_not_when_the_event_was_sent() -> None:
    # Given a PAYMENT_RECEIVED sent on 2024-06-12 (a retried delivery, or a late update) for a
    # payment the customer made on 2024-06-10
    payload = _payment_event(clientPaymentDate="2024-06-10", paymentDate="2024-06-11", confirmedDate="2024-06-11")
    # When
    [event] = _normalise(payload)
    # Then paid_at is that day in Brasília (00:00-03:00), not the event's dateCreated
    assert event.data["paid_at"] == "2024-06-10T03:00:00Z"


def test_paid_at_keeps_the_send_time_when_it_is_the_same_brasilia_day() -> None:
    # dateCreated "2024-06-12 16:45:03" Brasília
    [event] = _normalise(_payment_event(clientPaymentDate=None, paymentDate="2024-06-12", confirmedDate=None))
    assert event.data["paid_at"] == "2024-06-12T19:45:03Z"


@pytest.mark.parametrize("dates", [{}, {"paymentDate": "12/06/2024"}, {"paymentDate": 20240612}])
def test_without_a_usable_payment_date_there_is_no_paid_at(dates: dict[str, Any]) -> None:
    payment = {"clientPaymentDate": None, "paymentDate": None, "confirmedDate": None, **dates}
    [event] = _normalise(_payment_event(**payment))
    assert event.data["paid_at"] is None
