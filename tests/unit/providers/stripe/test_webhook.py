"""Stripe webhooks: signatures made by the official ``stripe`` library, documented payloads."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import stripe
from pydantic import ValidationError

from hub.errors import ConfigurationError
from hub.providers.stripe.webhook import normalise_stripe_webhook, verify_stripe_webhook
from hub.webhooks.models import RawWebhook, WebhookAuthenticationError
from tests.helpers import raw_webhook, sample_event
from tests.signing import assert_fresh_then_stale

CURRENT = "whsec_test_current_0f3b9c"
PREVIOUS = "whsec_test_previous_7d2a41"
SECRET = {"webhook_secret": CURRENT, "previous_webhook_secret": PREVIOUS, "api_key": "sk_test_ignored"}
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
T = int(NOW.timestamp())

# The sample API Gateway event is signed with this secret at a fixed moment (stale by design).
SAMPLE_SECRET = "whsec_demo_stripe_secret"
SAMPLE_SIGNED_AT = datetime.fromtimestamp(1763812800, tz=UTC)


def _sample_event() -> dict[str, Any]:
    return sample_event("webhook_stripe")


def _sample_payload() -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(_sample_event()["body"], parse_float=Decimal)
    return payload


def _raw(body: str | bytes, headers: dict[str, str], received_at: datetime = NOW) -> RawWebhook:
    return raw_webhook("stripe", body, headers, received_at=received_at)


def _signed(body: str, secret: str = CURRENT, timestamp: int = T) -> RawWebhook:
    # The library's own test-header generation: the interop check the verifier must pass.
    header = stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=timestamp)
    return _raw(body, {"Stripe-Signature": header})


BODY = json.dumps({"id": "evt_1", "object": "event", "type": "payment_intent.succeeded"})


# ----- signatures ----------------------------------------------------------------------------


def test_a_signature_made_by_the_stripe_library_is_accepted() -> None:
    # Given a body signed by stripe-python with the endpoint secret
    request = _signed(BODY)
    # When / Then it verifies, and stripe-python itself agrees on the signature (tolerance off:
    # NOW is fixed, stripe-python compares with the wall clock)
    verify_stripe_webhook(request, SECRET)
    header = request.header("stripe-signature")
    assert stripe.WebhookSignature.verify_header(BODY, header, CURRENT, tolerance=None)


def test_the_previous_secret_is_accepted_while_rolling() -> None:
    verify_stripe_webhook(_signed(BODY, secret=PREVIOUS), SECRET)


def test_any_matching_v1_is_accepted_and_other_schemes_are_ignored() -> None:
    # Given a header with a stale v1, the right v1 and a v0 (Stripe sends several while rolling)
    good = stripe.WebhookSignature._compute_signature(f"{T}.{BODY}", CURRENT)
    stale = stripe.WebhookSignature._compute_signature(f"{T}.{BODY}", "whsec_old_one")
    header = f"t={T},v1={stale},v1={good},v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39"
    # When / Then
    verify_stripe_webhook(_raw(BODY, {"Stripe-Signature": header}), SECRET)


def test_the_exact_body_bytes_are_signed_including_non_ascii_text() -> None:
    body = json.dumps({"id": "evt_2", "description": "Cobrança de março"}, ensure_ascii=False)
    verify_stripe_webhook(_signed(body), SECRET)


def test_a_tampered_body_is_rejected() -> None:
    request = _signed(BODY)
    tampered = _raw(BODY.replace("evt_1", "evt_2"), dict(request.headers))
    with pytest.raises(WebhookAuthenticationError, match="no matching Stripe signature"):
        verify_stripe_webhook(tampered, SECRET)


def test_a_wrong_secret_is_rejected() -> None:
    with pytest.raises(WebhookAuthenticationError, match="no matching Stripe signature"):
        verify_stripe_webhook(_signed(BODY, secret="whsec_someone_else"), SECRET)


@pytest.mark.parametrize("offset", [299, -299])
def test_timestamps_within_300_seconds_either_way_are_accepted(offset: int) -> None:
    verify_stripe_webhook(_signed(BODY, timestamp=T - offset), SECRET)


def test_a_stale_timestamp_is_rejected_even_with_a_valid_signature() -> None:
    with pytest.raises(WebhookAuthenticationError, match="too old"):
        verify_stripe_webhook(_signed(BODY, timestamp=T - 301), SECRET)


def test_a_far_future_timestamp_is_rejected_even_with_a_valid_signature() -> None:
    with pytest.raises(WebhookAuthenticationError, match="in the future"):
        verify_stripe_webhook(_signed(BODY, timestamp=T + 301), SECRET)


def test_a_missing_header_is_rejected() -> None:
    with pytest.raises(WebhookAuthenticationError, match="missing Stripe-Signature"):
        verify_stripe_webhook(_raw(BODY, {}), SECRET)


@pytest.mark.parametrize(
    "header",
    [
        "garbage",
        ",,,",
        f"t={T}",  # no v1
        f"t={T},v0=abc",  # only a scheme we ignore
        "v1=abc",  # no timestamp
        "t=abc,v1=abc",  # non-numeric timestamp
        f"t={T},t={T},v1=abc",  # two timestamps
        f"t={T},v1=",  # empty signature
        f"t={T},v1=abc," + "v1=abc," * 600,  # absurdly long
    ],
)
def test_malformed_headers_are_rejected(header: str) -> None:
    with pytest.raises(WebhookAuthenticationError):
        verify_stripe_webhook(_raw(BODY, {"Stripe-Signature": header}), SECRET)


def test_rejections_never_echo_secrets_or_signatures() -> None:
    request = _signed(BODY, secret="whsec_someone_else")
    with pytest.raises(WebhookAuthenticationError) as info:
        verify_stripe_webhook(request, SECRET)
    signature = (request.header("stripe-signature") or "").split("v1=")[1]
    for secret_value in (CURRENT, PREVIOUS, signature):
        assert secret_value not in info.value.message


@pytest.mark.parametrize(
    ("secret", "field"),
    [
        ({"api_key": "sk_test_x"}, "webhook_secret"),
        ({"webhook_secret": "sk_live_pasted_by_mistake"}, "webhook_secret"),
        ({"webhook_secret": CURRENT, "previous_webhook_secret": "not-a-whsec"}, "previous_webhook_secret"),
    ],
)
def test_a_malformed_org_secret_names_the_field_but_not_the_value(secret: dict[str, str], field: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        verify_stripe_webhook(_signed(BODY), secret)
    assert field in info.value.message
    assert "sk_live_pasted_by_mistake" not in info.value.message


def test_a_blank_previous_secret_is_ignored() -> None:
    verify_stripe_webhook(_signed(BODY), {"webhook_secret": CURRENT, "previous_webhook_secret": ""})


def test_the_sample_event_verifies_at_its_signing_time_and_is_stale_now() -> None:
    # Given the API Gateway sample event, signed with the demo secret at a fixed timestamp
    event = _sample_event()
    # Then it verifies when received right after signing, and is refused as stale today (by design)
    assert_fresh_then_stale(verify_stripe_webhook, event, {"webhook_secret": SAMPLE_SECRET}, SAMPLE_SIGNED_AT)


# ----- normalisation -------------------------------------------------------------------------


def _event(event_type: str, obj: dict[str, Any], event_id: str = "evt_1QLx9t") -> dict[str, Any]:
    """The Event object of https://docs.stripe.com/api/events/object around ``obj``."""
    return {
        "id": event_id,
        "object": "event",
        "api_version": "2025-03-31.basil",
        "created": 1763812799,
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


def _normalise(payload: dict[str, Any]) -> list[Any]:
    # Through JSON with Decimal floats, exactly as the pipeline hands payloads over.
    parsed = json.loads(json.dumps(payload), parse_float=Decimal)
    return normalise_stripe_webhook(parsed, org_id="demo", received_at=NOW, raw_ref="raw/stripe.json")


def _payment_intent(status: str, **overrides: Any) -> dict[str, Any]:
    obj = copy.deepcopy(_sample_payload()["data"]["object"])
    obj.update(status=status, **overrides)
    return obj


CHARGE = {
    # https://docs.stripe.com/api/charges/object, after a partial refund
    "id": "ch_3QLx9tLkdIwHu7ix1aB8mC4d",
    "object": "charge",
    "amount": 15990,
    "amount_captured": 15990,
    "amount_refunded": 5000,
    "currency": "brl",
    "customer": "cus_RE2mDq9bXcL7Vt",
    "metadata": {"charge_id": "6f8e2d1c-4b7a-4f3e-9c21-5a0d7e9b3c41"},
    "paid": True,
    "payment_intent": "pi_3QLx9tLkdIwHu7ix1FgVbN2c",
    "payment_method_details": {"card": {"brand": "visa", "last4": "4242"}, "type": "card"},
    "refunded": False,
    "status": "succeeded",
}

INVOICE_BASIL = {
    # https://docs.stripe.com/api/invoices/object (2025-03-31.basil: subscription under parent)
    "id": "in_1QLxA2LkdIwHu7ixq0PkU1aB",
    "object": "invoice",
    "amount_due": 4990,
    "amount_paid": 4990,
    "amount_remaining": 0,
    "currency": "brl",
    "customer": "cus_RE2mDq9bXcL7Vt",
    "metadata": {},
    "parent": {
        "quote_details": None,
        "subscription_details": {"metadata": {}, "subscription": "sub_1QLxA1LkdIwHu7ixV6c9dE2f"},
        "type": "subscription_details",
    },
    "status": "paid",
}

SUBSCRIPTION = {
    # https://docs.stripe.com/api/subscriptions/object (2024-09-30.acacia: period on the subscription)
    "id": "sub_1QLxA1LkdIwHu7ixV6c9dE2f",
    "object": "subscription",
    "current_period_end": 1766404800,
    "current_period_start": 1763812800,
    "customer": "cus_RE2mDq9bXcL7Vt",
    "metadata": {"charge_id": "plan-pro-demo"},
    "status": "active",
}


def test_the_sample_payment_intent_succeeded_becomes_payment_confirmed() -> None:
    # Given the documented event from the sample API Gateway event
    [event] = _normalise(_sample_payload())
    # Then
    assert event.type == "payment.confirmed"
    assert event.provider == "stripe"
    assert event.dedupe_key == "evt_3QLx9tLkdIwHu7ix1Y8pXk2R"
    assert event.occurred_at == datetime.fromtimestamp(1763812799, tz=UTC)
    assert event.raw_ref == "raw/stripe.json"
    assert event.data == {
        "payment_id": "pi_3QLx9tLkdIwHu7ix1FgVbN2c",
        "external_reference": "6f8e2d1c-4b7a-4f3e-9c21-5a0d7e9b3c41",
        "status": "succeeded",
        "amount_cents": 15990,
        "currency": "BRL",
        "method": "card",
        "customer_id": "cus_RE2mDq9bXcL7Vt",
        "subscription_id": None,
        "refunded_cents": None,
        "paid_at": None,
        "amount_problem": None,
    }
    assert isinstance(event.data["amount_cents"], int)


def test_the_same_stripe_event_always_gets_the_same_event_id() -> None:
    [first] = _normalise(_sample_payload())
    [again] = normalise_stripe_webhook(_sample_payload(), org_id="demo", received_at=datetime.now(UTC), raw_ref="r2")
    assert again.event_id == first.event_id


def test_payment_intent_payment_failed_becomes_payment_failed() -> None:
    obj = _payment_intent("requires_payment_method", amount_received=0, metadata={})
    [event] = _normalise(_event("payment_intent.payment_failed", obj))
    assert event.type == "payment.failed"
    assert event.data["amount_cents"] == 15990  # the intended amount, nothing was received
    assert event.data["status"] == "requires_payment_method"
    assert event.data["external_reference"] is None


def test_charge_refunded_becomes_payment_refunded_with_the_refunded_amount() -> None:
    [event] = _normalise(_event("charge.refunded", CHARGE))
    assert event.type == "payment.refunded"
    assert event.data["payment_id"] == "pi_3QLx9tLkdIwHu7ix1FgVbN2c"  # correlates with payment.confirmed
    assert event.data["refunded_cents"] == 5000
    assert event.data["amount_cents"] == 15990
    assert event.data["method"] == "card"
    assert event.data["currency"] == "BRL"


def test_a_charge_without_payment_intent_keeps_its_own_id() -> None:
    [event] = _normalise(_event("charge.refunded", {**CHARGE, "payment_intent": None}))
    assert event.data["payment_id"] == "ch_3QLx9tLkdIwHu7ix1aB8mC4d"


@pytest.mark.parametrize("event_type", ["invoice.paid", "invoice.payment_succeeded"])
def test_paid_invoices_become_payment_confirmed(event_type: str) -> None:
    [event] = _normalise(_event(event_type, INVOICE_BASIL))
    assert event.type == "payment.confirmed"
    assert event.data["payment_id"] == "in_1QLxA2LkdIwHu7ixq0PkU1aB"
    assert event.data["amount_cents"] == 4990
    assert event.data["subscription_id"] == "sub_1QLxA1LkdIwHu7ixV6c9dE2f"
    assert event.data["status"] == "paid"


def test_invoice_payment_failed_becomes_payment_failed_with_the_amount_due() -> None:
    # Given the pre-basil invoice shape: subscription at the top level, no parent
    invoice = {key: value for key, value in INVOICE_BASIL.items() if key != "parent"}
    invoice.update(amount_paid=0, status="open", subscription="sub_old_shape", metadata={"charge_id": "inv-2025-11"})
    [event] = _normalise(_event("invoice.payment_failed", invoice))
    assert event.type == "payment.failed"
    assert event.data["amount_cents"] == 4990
    assert event.data["subscription_id"] == "sub_old_shape"
    assert event.data["external_reference"] == "inv-2025-11"


@pytest.mark.parametrize(
    ("event_type", "hub_type"),
    [
        ("customer.subscription.created", "subscription.updated"),
        ("customer.subscription.updated", "subscription.updated"),
        ("customer.subscription.deleted", "subscription.canceled"),
    ],
)
def test_subscription_events(event_type: str, hub_type: str) -> None:
    [event] = _normalise(_event(event_type, SUBSCRIPTION))
    assert event.type == hub_type
    assert event.data == {
        "subscription_id": "sub_1QLxA1LkdIwHu7ixV6c9dE2f",
        "status": "active",
        "customer_id": "cus_RE2mDq9bXcL7Vt",
        "external_reference": "plan-pro-demo",
        "current_period_end": "2025-12-22T12:00:00Z",
    }


def test_the_period_end_is_read_from_the_items_since_basil() -> None:
    obj = {key: value for key, value in SUBSCRIPTION.items() if not key.startswith("current_period")}
    obj["items"] = {"object": "list", "data": [{"id": "si_1", "current_period_end": 1766404800}]}
    [event] = _normalise(_event("customer.subscription.updated", obj))
    assert event.data["current_period_end"] == "2025-12-22T12:00:00Z"


def test_an_expanded_customer_is_reduced_to_its_id() -> None:
    obj = {**SUBSCRIPTION, "customer": {"id": "cus_expanded", "object": "customer", "email": "x@example.com"}}
    [event] = _normalise(_event("customer.subscription.updated", obj))
    assert event.data["customer_id"] == "cus_expanded"


@pytest.mark.parametrize("event_type", ["customer.created", "charge.succeeded", "payout.paid", "setup_intent.created"])
def test_unmapped_event_types_produce_no_event(event_type: str) -> None:
    assert _normalise(_event(event_type, {"id": "obj_1", "object": "whatever"})) == []


@pytest.mark.parametrize("missing", ["id", "type", "data"])
def test_a_malformed_envelope_names_the_missing_field(missing: str) -> None:
    payload = _event("payment_intent.succeeded", _payment_intent("succeeded"))
    del payload[missing]
    with pytest.raises(ValidationError) as info:
        _normalise(payload)
    assert missing in {str(err["loc"][0]) for err in info.value.errors()}


def test_an_envelope_without_data_object_names_it() -> None:
    payload = _event("payment_intent.succeeded", {})
    payload["data"] = {"previous_attributes": {}}
    with pytest.raises(ValidationError) as info:
        _normalise(payload)
    assert ("data", "object") in {tuple(err["loc"]) for err in info.value.errors()}


def test_a_mapped_object_missing_its_amount_names_the_full_path() -> None:
    obj = _payment_intent("succeeded")
    del obj["amount"]
    with pytest.raises(ValidationError) as info:
        _normalise(_event("payment_intent.succeeded", obj))
    assert ("data", "object", "amount") in {tuple(err["loc"]) for err in info.value.errors()}


def test_a_fractional_amount_is_refused_not_truncated() -> None:
    obj = _payment_intent("succeeded", amount_received=Decimal("159.90"))
    with pytest.raises(ValidationError):
        normalise_stripe_webhook(
            _event("payment_intent.succeeded", obj), org_id="demo", received_at=NOW, raw_ref="raw/x.json"
        )
