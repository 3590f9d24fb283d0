"""Mercado Pago webhooks: the documented x-signature manifest and the notification body."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from hub.errors import ConfigurationError, InvalidRequestError
from hub.providers.mercadopago.webhook import normalise_mercadopago_webhook, verify_mercadopago_webhook
from hub.webhooks.models import RawWebhook, WebhookAuthenticationError
from tests.helpers import raw_webhook, sample_event
from tests.signing import assert_fresh_then_stale

CURRENT = "mp-secret-current-8c1f"
PREVIOUS = "mp-secret-previous-2b7d"
SECRET = {"access_token": "APP_USR-ignored", "webhook_secret": CURRENT, "previous_webhook_secret": PREVIOUS}
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
T = int(NOW.timestamp())
REQUEST_ID = "bb56a2f1-6aae-46ac-982e-9dcd3581d08e"

# The sample API Gateway event is signed with this secret at a fixed moment (stale by design).
SAMPLE_SECRET = "demo-mercadopago-secret"
SAMPLE_SIGNED_AT = datetime.fromtimestamp(1763812800, tz=UTC)

# https://www.mercadopago.com.br/developers/en/docs/your-integrations/notifications/webhooks
BODY = {
    "id": 12345,
    "live_mode": True,
    "type": "payment",
    "date_created": "2015-03-25T10:04:58.396-04:00",
    "user_id": 44444,
    "api_version": "v1",
    "action": "payment.updated",
    "data": {"id": "999999999"},
}


def _sign(manifest: str, secret: str = CURRENT) -> str:
    """The docs' recipe: HMAC-SHA256 of the filled template, keyed with the secret, in hex."""
    return hmac.new(secret.encode(), manifest.encode(), hashlib.sha256).hexdigest()


def _raw(headers: dict[str, str], query: dict[str, str], received_at: datetime = NOW) -> RawWebhook:
    return raw_webhook("mercadopago", json.dumps(BODY), headers, query=query, received_at=received_at)


def _signed(
    data_id: str = "999999999",
    *,
    secret: str = CURRENT,
    ts: int | str = T,
    request_id: str | None = REQUEST_ID,
    manifest: str | None = None,
) -> RawWebhook:
    if manifest is None:
        manifest = f"id:{data_id};request-id:{request_id};ts:{ts};"
    headers = {"x-signature": f"ts={ts},v1={_sign(manifest, secret)}"}
    if request_id is not None:
        headers["x-request-id"] = request_id
    return _raw(headers, {"data.id": data_id, "type": "payment"})


# ----- signatures ----------------------------------------------------------------------------


def test_a_signature_over_the_documented_manifest_is_accepted() -> None:
    verify_mercadopago_webhook(_signed(), SECRET)


def test_the_previous_secret_is_accepted_while_resetting() -> None:
    verify_mercadopago_webhook(_signed(secret=PREVIOUS), SECRET)


def test_spaces_around_the_signature_parts_are_tolerated() -> None:
    manifest = f"id:999999999;request-id:{REQUEST_ID};ts:{T};"
    headers = {"x-signature": f"ts={T}, v1={_sign(manifest)}", "x-request-id": REQUEST_ID}
    verify_mercadopago_webhook(_raw(headers, {"data.id": "999999999"}), SECRET)


def test_an_alphanumeric_data_id_enters_the_manifest_in_lower_case() -> None:
    # Given a preapproval id with capitals in the query, signed over its lower-case form
    request = _signed(
        "2C938084726FCA480172750000000000",
        manifest=f"id:2c938084726fca480172750000000000;request-id:{REQUEST_ID};ts:{T};",
    )
    # When / Then
    verify_mercadopago_webhook(request, SECRET)
    # And a signature over the original casing does not verify
    with pytest.raises(WebhookAuthenticationError):
        verify_mercadopago_webhook(_signed("2C938084726FCA480172750000000000"), SECRET)


def test_without_x_request_id_its_part_is_left_out_of_the_manifest() -> None:
    verify_mercadopago_webhook(_signed(request_id=None, manifest=f"id:999999999;ts:{T};"), SECRET)


def test_without_the_data_id_query_parameter_its_part_is_left_out_of_the_manifest() -> None:
    manifest = f"request-id:{REQUEST_ID};ts:{T};"
    headers = {"x-signature": f"ts={T},v1={_sign(manifest)}", "x-request-id": REQUEST_ID}
    verify_mercadopago_webhook(_raw(headers, {"type": "payment"}), SECRET)


def test_a_timestamp_in_milliseconds_is_understood() -> None:
    verify_mercadopago_webhook(_signed(ts=T * 1000 + 123), SECRET)


def test_a_different_data_id_in_the_query_is_rejected() -> None:
    request = _signed()
    forged = _raw(dict(request.headers), {"data.id": "111111111", "type": "payment"})
    with pytest.raises(WebhookAuthenticationError, match="invalid x-signature"):
        verify_mercadopago_webhook(forged, SECRET)


def test_a_different_request_id_is_rejected() -> None:
    request = _signed()
    headers = dict(request.headers) | {"x-request-id": "another-request"}
    with pytest.raises(WebhookAuthenticationError, match="invalid x-signature"):
        verify_mercadopago_webhook(_raw(headers, dict(request.query)), SECRET)


def test_a_wrong_secret_is_rejected() -> None:
    with pytest.raises(WebhookAuthenticationError, match="invalid x-signature"):
        verify_mercadopago_webhook(_signed(secret="someone-else"), SECRET)


@pytest.mark.parametrize("offset", [299, -299])
def test_timestamps_within_300_seconds_either_way_are_accepted(offset: int) -> None:
    verify_mercadopago_webhook(_signed(ts=T - offset), SECRET)


def test_a_stale_timestamp_is_rejected_even_with_a_valid_signature() -> None:
    with pytest.raises(WebhookAuthenticationError, match="too old"):
        verify_mercadopago_webhook(_signed(ts=T - 301), SECRET)


def test_a_future_timestamp_is_rejected_even_with_a_valid_signature() -> None:
    with pytest.raises(WebhookAuthenticationError, match="in the future"):
        verify_mercadopago_webhook(_signed(ts=T + 301), SECRET)


def test_a_stale_millisecond_timestamp_is_rejected() -> None:
    with pytest.raises(WebhookAuthenticationError, match="too old"):
        verify_mercadopago_webhook(_signed(ts=(T - 301) * 1000), SECRET)


def test_a_missing_header_is_rejected() -> None:
    with pytest.raises(WebhookAuthenticationError, match="missing x-signature"):
        verify_mercadopago_webhook(_raw({"x-request-id": REQUEST_ID}, {"data.id": "999999999"}), SECRET)


@pytest.mark.parametrize(
    "header",
    [
        "garbage",
        f"ts={T}",  # no v1
        "v1=abc",  # no ts
        "ts=yesterday,v1=abc",
        f"ts={T},ts={T},v1=abc",
        f"ts={T},v1=",
        f"ts={T};v1=abc",
        f"ts={T},v1=abc," + "v1=abc," * 600,
    ],
)
def test_malformed_headers_are_rejected(header: str) -> None:
    request = _raw({"x-signature": header, "x-request-id": REQUEST_ID}, {"data.id": "999999999"})
    with pytest.raises(WebhookAuthenticationError):
        verify_mercadopago_webhook(request, SECRET)


def test_rejections_never_echo_secrets_or_signatures() -> None:
    request = _signed(secret="someone-else")
    with pytest.raises(WebhookAuthenticationError) as info:
        verify_mercadopago_webhook(request, SECRET)
    signature = (request.header("x-signature") or "").split("v1=")[1]
    for value in (CURRENT, PREVIOUS, signature):
        assert value not in info.value.message


def test_an_org_secret_without_webhook_secret_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError) as info:
        verify_mercadopago_webhook(_signed(), {"access_token": "APP_USR-secret-value"})
    assert "webhook_secret" in info.value.message
    assert "APP_USR-secret-value" not in info.value.message


def test_the_sample_event_verifies_at_its_signing_time_and_is_stale_now() -> None:
    # Given the API Gateway sample event, signed with the demo secret at a fixed timestamp
    event = sample_event("webhook_mercadopago")
    # Then it verifies when received right after signing, and is refused as stale today (by design)
    assert_fresh_then_stale(verify_mercadopago_webhook, event, {"webhook_secret": SAMPLE_SECRET}, SAMPLE_SIGNED_AT)


# ----- normalisation -------------------------------------------------------------------------


def _normalise(payload: Any, request: RawWebhook | None = None) -> list[Any]:
    parsed = json.loads(json.dumps(payload), parse_float=Decimal)
    return normalise_mercadopago_webhook(
        parsed, org_id="demo", received_at=NOW, raw_ref="raw/mercadopago.json", request=request
    )


def test_a_payment_notification_becomes_payment_updated_pending_lookup() -> None:
    [event] = _normalise(BODY, _signed())
    assert event.type == "payment.updated"
    assert event.provider == "mercadopago"
    assert event.dedupe_key == "999999999:payment.updated:12345"
    assert event.occurred_at == NOW
    assert event.data["payment_id"] == "999999999"
    assert event.data["status"] == "pending_lookup"
    assert event.data["amount_cents"] is None


def test_the_sample_event_body_becomes_payment_updated() -> None:
    event = sample_event("webhook_mercadopago")
    request = RawWebhook.from_api_gateway(event, provider="mercadopago", org_id="demo", received_at=NOW)
    payload = json.loads(event["body"], parse_float=Decimal)
    [hub_event] = normalise_mercadopago_webhook(
        payload, org_id="demo", received_at=NOW, raw_ref="raw/x.json", request=request
    )
    assert hub_event.type == "payment.updated"
    assert hub_event.dedupe_key == "999999999:payment.created:12345"


def test_created_and_updated_notifications_of_one_payment_are_distinct() -> None:
    [created] = _normalise(BODY | {"action": "payment.created"})
    [updated] = _normalise(BODY)
    assert created.event_id != updated.event_id


def test_redeliveries_of_one_notification_get_the_same_event_id() -> None:
    [first] = _normalise(BODY)
    [again] = _normalise(dict(BODY))
    assert again.event_id == first.event_id


def test_a_later_change_to_the_same_payment_is_not_dropped_as_a_duplicate() -> None:
    # Approved, then refunded days later: both are "payment.updated" for the same data.id,
    # but they are different notifications and must both reach the payment state machine.
    [approved] = _normalise(BODY)
    [refunded] = _normalise(BODY | {"id": 67890})
    assert refunded.event_id != approved.event_id


def test_a_subscription_preapproval_notification_becomes_subscription_updated() -> None:
    body = BODY | {"type": "subscription_preapproval", "action": "updated", "data": {"id": "2c938084726fca48"}}
    [event] = _normalise(body)
    assert event.type == "subscription.updated"
    assert event.dedupe_key == "2c938084726fca48:updated:12345"
    assert event.data["subscription_id"] == "2c938084726fca48"
    assert event.data["status"] == "pending_lookup"


def test_an_integer_data_id_is_read_as_text() -> None:
    [event] = _normalise(BODY | {"data": {"id": 999999999}})
    assert event.data["payment_id"] == "999999999"


@pytest.mark.parametrize(
    "topic",
    [
        "merchant_order",
        "topic_merchant_order_wh",
        "subscription_authorized_payment",
        "subscription_preapproval_plan",
        "mp-connect",
        "topic_claims_integration_wh",
        "topic_chargebacks_wh",
    ],
)
def test_other_topics_produce_no_event(topic: str) -> None:
    assert _normalise(BODY | {"type": topic}) == []


def test_a_payment_notification_without_data_names_the_field() -> None:
    body = {key: value for key, value in BODY.items() if key != "data"}
    with pytest.raises(ValidationError) as info:
        _normalise(body)
    assert ("data",) in {tuple(err["loc"]) for err in info.value.errors()}


def test_a_notification_without_type_names_the_field() -> None:
    body = {key: value for key, value in BODY.items() if key != "type"}
    with pytest.raises(ValidationError) as info:
        _normalise(body)
    assert ("type",) in {tuple(err["loc"]) for err in info.value.errors()}


def test_a_body_data_id_that_differs_from_the_signed_query_is_refused() -> None:
    # Given a request whose signature covers data.id=999999999 in the query
    request = _signed()
    # When the (unsigned) body names another payment
    with pytest.raises(InvalidRequestError, match=r"data\.id"):
        _normalise(BODY | {"data": {"id": "111111111"}}, request)


def test_the_body_data_id_matches_the_query_regardless_of_case() -> None:
    request = _signed("2C938084726FCA48")
    body = BODY | {"type": "subscription_preapproval", "action": "updated", "data": {"id": "2C938084726FCA48"}}
    [event] = _normalise(body, request)
    assert event.data["subscription_id"] == "2C938084726FCA48"
