"""Resend webhooks: Svix signatures (https://resend.com/docs/webhooks/verify-webhooks-requests)
and the documented event payloads (https://resend.com/docs/webhooks/event-types). Requests are
signed with the ``standardwebhooks`` library, the reference implementation of the scheme. No network."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from hub.errors import ConfigurationError, InvalidRequestError
from hub.events import HubEvent
from hub.providers.resend.webhook import normalise_resend_webhook, verify_resend_webhook
from hub.webhooks import ingress
from hub.webhooks.models import RawWebhook, WebhookAuthenticationError, WebhookSpec
from tests.helpers import raw_webhook, sample_event
from tests.signing import (
    standard_headers,
)
from tests.unit.conftest import OfflineIngress

DEMO_SECRET = "whsec_ZGVtby1yZXNlbmQtc2VjcmV0LWtleS0xMjM0NTY="
OTHER_SECRET = "whsec_b3RoZXItcmVzZW5kLXNlY3JldC1rZXktOTg3NjU0"
SECRET = {"webhook_secret": DEMO_SECRET, "api_key": "re_ignored_extra"}
SAMPLE_TIMESTAMP = 1763812800
SAMPLE_ID = "msg_2pK7XQ4mZr1vB9sW3yLd8NfHc0T"
RECEIVED = datetime(2025, 11, 22, 12, 0, 5, tzinfo=UTC)


def svix_headers(
    body: str, *, secret: str = DEMO_SECRET, msg_id: str = "msg_test_1", at: datetime | None = None
) -> dict[str, str]:
    return standard_headers("svix", body, secret=secret, msg_id=msg_id, at=at)


def raw(body: str | bytes, headers: dict[str, str]) -> RawWebhook:
    return raw_webhook("resend", body, {"content-type": "application/json", **headers}, received_at=RECEIVED)


def sample() -> RawWebhook:
    return RawWebhook.from_api_gateway(
        sample_event("webhook_resend"), provider="resend", org_id="demo", received_at=RECEIVED
    )


def signed_now(body: str = '{"type":"email.sent","data":{"email_id":"e1"}}', **kwargs: Any) -> RawWebhook:
    return raw(body, svix_headers(body, **kwargs))


# ----- signature ------------------------------------------------------------------------
# The checks shared with the other Standard Webhooks verifier (reference vector, tampering,
# timestamps, missing and malformed headers) are in tests/unit/webhooks/test_standard_signatures.py.


def test_sample_is_signed_with_the_demo_secret(frozen_clock: None) -> None:
    verify_resend_webhook(sample(), SECRET)


def test_sample_timestamp_is_stale_by_design() -> None:
    with pytest.raises(WebhookAuthenticationError, match="too old"):
        verify_resend_webhook(sample(), SECRET)


def test_freshly_signed_delivery_is_accepted() -> None:
    verify_resend_webhook(signed_now(), SECRET)


def test_wrong_secret_is_rejected_without_leaking_secret_or_signature() -> None:
    request = signed_now(secret=OTHER_SECRET)
    with pytest.raises(WebhookAuthenticationError) as info:
        verify_resend_webhook(request, SECRET)
    assert "whsec_" not in info.value.message
    assert request.headers["svix-signature"][3:] not in info.value.message


def test_standard_webhooks_header_names_are_not_svix_headers() -> None:
    body = "{}"
    headers = {k.replace("svix-", "webhook-"): v for k, v in svix_headers(body).items()}
    with pytest.raises(WebhookAuthenticationError, match="missing svix"):
        verify_resend_webhook(raw(body, headers), SECRET)


def test_one_matching_signature_among_several_is_enough() -> None:
    body = '{"type":"email.opened","data":{"email_id":"e1"}}'
    headers = svix_headers(body)
    other = svix_headers(body, secret=OTHER_SECRET)["svix-signature"]
    headers["svix-signature"] = f"v1a,c2lnbmF0dXJl {other}  \t{headers['svix-signature']} "
    verify_resend_webhook(raw(body, headers), SECRET)


def test_previous_secret_is_accepted_while_rotating() -> None:
    rotated = {"webhook_secret": OTHER_SECRET, "previous_webhook_secret": DEMO_SECRET}
    verify_resend_webhook(signed_now(secret=DEMO_SECRET), rotated)
    verify_resend_webhook(signed_now(secret=OTHER_SECRET), rotated)
    with pytest.raises(WebhookAuthenticationError, match="invalid signature"):
        verify_resend_webhook(signed_now(secret="whsec_c29tZW9uZS1lbHNlcy1zZWNyZXQta2V5LTEyMw=="), rotated)


def test_body_that_is_not_utf8_is_rejected() -> None:
    headers = svix_headers("{}")
    with pytest.raises(WebhookAuthenticationError):
        verify_resend_webhook(raw(b"\xff\xfe{}", headers), SECRET)


def test_org_without_webhook_secret_rejects_everything() -> None:
    with pytest.raises(WebhookAuthenticationError, match="no webhook_secret"):
        verify_resend_webhook(signed_now(), {"api_key": "re_123"})


def test_malformed_secret_is_a_configuration_error_that_does_not_echo_it() -> None:
    with pytest.raises(ConfigurationError) as info:
        verify_resend_webhook(signed_now(), {"webhook_secret": "whsec_not*base64*at_all"})
    assert "not*base64" not in info.value.message


# ----- normalisation ------------------------------------------------------------------------


def normalise(payload: Any, svix_id: str | None = "msg_abc") -> list[HubEvent]:
    request = raw("{}", {"svix-id": svix_id} if svix_id else {})
    return normalise_resend_webhook(payload, org_id="demo", received_at=RECEIVED, raw_ref="raw/r.json", request=request)


def documented(event_type: str, **extra: Any) -> dict[str, Any]:
    """The sample request body of https://resend.com/docs/webhooks/event-types for one type."""
    return {
        "type": event_type,
        "created_at": "2024-02-22T23:41:12.126Z",
        "data": {
            "broadcast_id": "8b146471-e88e-4322-86af-016cd36fd216",
            "created_at": "2024-02-22T23:41:11.894719+00:00",
            "email_id": "56761188-7520-42d8-8898-ff6fc54ce618",
            "from": "Acme <onboarding@resend.dev>",
            "to": ["delivered@resend.dev"],
            "subject": "Sending this example",
            "template_id": "43f68331-0622-4e15-8202-246a0388854b",
            "tags": {"category": "confirm_email"},
            **extra,
        },
    }


def test_sample_bounce_becomes_email_bounced() -> None:
    request = sample()
    payload = json.loads(request.body)
    [event] = normalise_resend_webhook(
        payload, org_id="demo", received_at=RECEIVED, raw_ref="raw/r.json", request=request
    )
    assert event.type == "email.bounced"
    assert event.provider == "resend"
    assert event.dedupe_key == SAMPLE_ID
    assert event.occurred_at == datetime(2025, 11, 22, 11, 59, 58, 126000, tzinfo=UTC)
    assert event.data == {
        "email_id": "56761188-7520-42d8-8898-ff6fc54ce618",
        "to": ["delivered@resend.dev"],
        "from_address": "onboarding@resend.dev",
        "subject": "Sending this example",
        "reason": "Permanent/Suppressed: The recipient's email address is on the suppression list because it has"
        " a recent history of producing hard bounces.",
    }


@pytest.mark.parametrize(
    "event_type",
    [
        "email.sent",
        "email.delivered",
        "email.delivery_delayed",
        "email.complained",
        "email.opened",
        "email.clicked",
    ],
)
def test_each_tracking_event_maps_to_the_same_hub_type(event_type: str) -> None:
    [event] = normalise(documented(event_type))
    assert event.type == event_type
    assert event.data["email_id"] == "56761188-7520-42d8-8898-ff6fc54ce618"
    assert event.data["reason"] is None
    assert event.occurred_at == datetime(2024, 2, 22, 23, 41, 12, 126000, tzinfo=UTC)


def test_failed_email_reason_is_the_failure_reason() -> None:
    [event] = normalise(documented("email.failed", failed={"reason": "reached_daily_quota"}))
    assert (event.type, event.data["reason"]) == ("email.failed", "reached_daily_quota")


def test_suppressed_email_reason_is_the_suppression_message() -> None:
    suppressed = {
        "message": "Resend has suppressed sending to this address because it is on the account-level suppression"
        " list. This does not count toward your bounce rate metric",
        "type": "OnAccountSuppressionList",
    }
    [event] = normalise(documented("email.suppressed", suppressed=suppressed))
    assert event.type == "email.suppressed"
    assert event.data["reason"].startswith("Resend has suppressed sending to this address")


def test_each_delivery_is_its_own_event_even_for_the_same_email() -> None:
    first = normalise(documented("email.opened"), svix_id="msg_1")
    second = normalise(documented("email.opened"), svix_id="msg_2")
    again = normalise(documented("email.opened"), svix_id="msg_1")
    assert first[0].event_id != second[0].event_id
    assert first[0].event_id == again[0].event_id


@pytest.mark.parametrize("event_type", ["email.received", "contact.created", "domain.updated", "email.scheduled"])
def test_non_tracking_events_produce_no_event(event_type: str) -> None:
    assert normalise({"type": event_type, "created_at": "2024-11-17T19:32:22.980Z", "data": {"id": "x"}}) == []


def test_missing_svix_id_or_email_id_is_invalid() -> None:
    with pytest.raises(InvalidRequestError):
        normalise(documented("email.sent"), svix_id=None)
    payload = documented("email.sent")
    del payload["data"]["email_id"]
    with pytest.raises(ValueError):  # pydantic.ValidationError → 400 in the ingress
        normalise(payload)


def test_fresh_delivery_runs_through_the_ingress_pipeline(offline_ingress: OfflineIngress) -> None:
    published = offline_ingress(SECRET)
    spec = WebhookSpec(provider="resend", verify=verify_resend_webhook, normalise=normalise_resend_webhook)
    body = sample().body.decode("utf-8")

    result = ingress.receive_webhook(spec, raw(body, svix_headers(body, msg_id="msg_live_1")))

    assert result.status_code == 200, result.body
    [event] = published
    assert (event.type, event.dedupe_key) == ("email.bounced", "msg_live_1")
    assert ingress.receive_webhook(spec, sample()).status_code == 401  # the stale sample
