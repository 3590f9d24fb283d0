"""custom/{source} senders signing with Standard Webhooks
(https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md).
Requests are signed with the ``standardwebhooks`` reference library. No network."""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from hub.errors import ConfigurationError, InvalidRequestError
from hub.events import HubEvent
from hub.webhooks import ingress
from hub.webhooks.models import RawWebhook, WebhookAuthenticationError, WebhookSpec
from hub.webhooks.standard import normalise_custom_webhook, verify_custom_webhook
from tests.helpers import raw_webhook, sample_event
from tests.signing import (
    standard_headers,
)
from tests.unit.conftest import OfflineIngress

CRM_SECRET = "whsec_ZGVtby1jdXN0b20tc2VjcmV0LWtleS0xMjM0NTY="
ERP_SECRET = "whsec_ZGVtby1lcnAtc2VjcmV0LWtleS0wMDAwMDAwMDA="
NEW_SECRET = "whsec_bmV3LWN1c3RvbS1zZWNyZXQta2V5LTk4NzY1NA=="
SECRET = {"sources": {"crm": {"webhook_secret": CRM_SECRET}, "erp": {"webhook_secret": ERP_SECRET}}}
SAMPLE_TIMESTAMP = 1763812800
RECEIVED = datetime(2025, 11, 22, 12, 0, 5, tzinfo=UTC)


def headers_for(
    body: str, *, secret: str = CRM_SECRET, msg_id: str = "msg_1", at: datetime | None = None
) -> dict[str, str]:
    return standard_headers("webhook", body, secret=secret, msg_id=msg_id, at=at)


def raw(body: str, headers: dict[str, str], source: str = "crm") -> RawWebhook:
    return raw_webhook(
        "custom",
        body,
        {"content-type": "application/json", **headers},
        path=f"/webhooks/custom/{source}/demo",
        received_at=RECEIVED,
    )


def signed(body: str = '{"type":"lead.created","data":{"id":"L1"}}', **kwargs: Any) -> RawWebhook:
    return raw(body, headers_for(body, **kwargs))


def sample() -> RawWebhook:
    return RawWebhook.from_api_gateway(
        sample_event("webhook_custom"), provider="custom", org_id="demo", received_at=RECEIVED
    )


# ----- signature ------------------------------------------------------------------------
# The checks shared with the other Standard Webhooks verifier (reference vector, tampering,
# timestamps, missing and malformed headers) are in tests/unit/webhooks/test_standard_signatures.py.


def test_sample_is_signed_with_the_demo_crm_secret(frozen_clock: None) -> None:
    assert sample_event("webhook_custom")["pathParameters"] == {"source": "crm", "org_id": "demo"}
    verify_custom_webhook(sample(), SECRET, "crm")


def test_sample_timestamp_is_stale_by_design() -> None:
    with pytest.raises(WebhookAuthenticationError, match="too old"):
        verify_custom_webhook(sample(), SECRET, "crm")


def test_freshly_signed_delivery_is_accepted() -> None:
    verify_custom_webhook(signed(), SECRET, "crm")
    verify_custom_webhook(signed(secret=ERP_SECRET), SECRET, "erp")


def test_another_sources_secret_is_a_wrong_secret() -> None:
    with pytest.raises(WebhookAuthenticationError, match="invalid signature") as info:
        verify_custom_webhook(signed(secret=ERP_SECRET), SECRET, "crm")
    assert "whsec_" not in info.value.message


@pytest.mark.parametrize("source", ["billing", "CRM", "../crm", ""])
def test_unknown_source_is_rejected(source: str) -> None:
    with pytest.raises(WebhookAuthenticationError, match="unknown webhook source"):
        verify_custom_webhook(signed(), SECRET, source)


def test_org_without_sources_rejects_everything() -> None:
    with pytest.raises(WebhookAuthenticationError, match="unknown webhook source"):
        verify_custom_webhook(signed(), {}, "crm")


def test_previous_secret_is_accepted_while_rotating() -> None:
    rotated = {"sources": {"crm": {"webhook_secret": NEW_SECRET, "previous_webhook_secret": CRM_SECRET}}}
    verify_custom_webhook(signed(secret=CRM_SECRET), rotated, "crm")
    verify_custom_webhook(signed(secret=NEW_SECRET), rotated, "crm")
    with pytest.raises(WebhookAuthenticationError):
        verify_custom_webhook(signed(secret=ERP_SECRET), rotated, "crm")


def test_sender_rotating_its_own_keys_sends_two_signatures() -> None:
    body = '{"type":"lead.created"}'
    headers = headers_for(body, secret=NEW_SECRET)
    headers["webhook-signature"] += " " + headers_for(body, secret=CRM_SECRET)["webhook-signature"]
    verify_custom_webhook(raw(body, headers), SECRET, "crm")


def test_malformed_source_secret_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError) as info:
        verify_custom_webhook(signed(), {"sources": {"crm": {"previous_webhook_secret": "whsec_x"}}}, "crm")
    assert "sources.crm.webhook_secret" in info.value.message
    with pytest.raises(ConfigurationError):
        verify_custom_webhook(signed(), {"sources": {"crm": {"webhook_secret": "whsec_"}}}, "crm")


# ----- normalisation ------------------------------------------------------------------------


def normalise(payload: Any, headers: dict[str, str] | None = None, source: str = "crm") -> list[HubEvent]:
    request = raw("{}", headers if headers is not None else {"webhook-id": "msg_9", "webhook-timestamp": "1763812800"})
    return normalise_custom_webhook(
        payload, org_id="demo", received_at=RECEIVED, raw_ref="raw/c.json", request=request, source=source
    )


def test_sample_becomes_custom_lead_created() -> None:
    request = sample()
    payload = json.loads(request.body, parse_float=Decimal)
    [event] = normalise_custom_webhook(
        payload, org_id="demo", received_at=RECEIVED, raw_ref="raw/c.json", request=request, source="crm"
    )
    assert event.type == "custom.lead.created"
    assert event.provider == "custom"
    assert event.dedupe_key == "crm:msg_2pK8YR5nAs2wC0tX4zMe9OgId1U"
    assert event.occurred_at == datetime(2025, 11, 22, 11, 59, 59, 344522, tzinfo=UTC)
    assert event.data == {
        "source": "crm",
        "payload": {"lead_id": "L-1024", "name": "Maria Silva", "phone": "+5511987654321", "channel": "site"},
    }


def test_occurred_at_falls_back_to_the_header_timestamp_then_receipt() -> None:
    [no_timestamp] = normalise({"type": "order.paid", "data": {}})
    assert no_timestamp.occurred_at == datetime.fromtimestamp(1763812800, tz=UTC)
    [not_iso] = normalise({"type": "order.paid", "timestamp": 1763812000})
    assert not_iso.occurred_at == datetime.fromtimestamp(1763812800, tz=UTC)
    [garbage] = normalise({"type": "order.paid", "timestamp": "yesterday"}, headers={"webhook-id": "msg_9"})
    assert garbage.occurred_at == RECEIVED
    [naive] = normalise({"type": "order.paid", "timestamp": "2025-11-22T10:00:00"})
    assert naive.occurred_at == datetime(2025, 11, 22, 10, 0, tzinfo=UTC)


def test_missing_data_is_an_empty_payload_and_the_source_is_kept() -> None:
    [event] = normalise({"type": "ping"}, source="erp")
    assert event.data == {"source": "erp", "payload": {}}
    assert event.type == "custom.ping"


@pytest.mark.parametrize(
    "payload",
    [
        [],
        "lead.created",
        {},
        {"type": ""},
        {"type": 42},
        {"type": "lead created"},
        {"type": "lead..created"},
        {"type": ".lead"},
        {"type": "x" * 121},
    ],
)
def test_body_must_be_an_object_with_a_dotted_string_type(payload: Any) -> None:
    with pytest.raises(InvalidRequestError):
        normalise(payload)


def test_data_that_is_not_an_object_is_a_validation_error() -> None:
    with pytest.raises(ValueError):  # pydantic.ValidationError → 400 in the ingress
        normalise({"type": "lead.created", "data": ["L1"]})


def test_webhook_id_is_the_dedupe_key_and_required() -> None:
    [first] = normalise({"type": "lead.created"}, headers={"webhook-id": "msg_A"})
    [retry] = normalise({"type": "lead.created"}, headers={"webhook-id": "msg_A"})
    [other] = normalise({"type": "lead.created"}, headers={"webhook-id": "msg_B"})
    assert first.dedupe_key == "crm:msg_A"
    assert first.event_id == retry.event_id != other.event_id
    with pytest.raises(InvalidRequestError):
        normalise({"type": "lead.created"}, headers={})


def test_fresh_delivery_runs_through_the_ingress_pipeline(offline_ingress: OfflineIngress) -> None:
    # How a receiver wires the route's {source} into the pipeline.
    published = offline_ingress(SECRET)
    spec = WebhookSpec(
        provider="custom",
        verify=lambda request, secret: verify_custom_webhook(request, secret, "crm"),
        normalise=functools.partial(normalise_custom_webhook, source="crm"),
    )
    body = '{"type":"deal.won","data":{"deal_id":"D-7","amount":1999.90}}'

    result = ingress.receive_webhook(spec, raw(body, headers_for(body, msg_id="msg_live")))

    assert result.status_code == 200, result.body
    [event] = published
    assert (event.type, event.dedupe_key, event.data["source"]) == ("custom.deal.won", "crm:msg_live", "crm")
    assert event.data["payload"]["deal_id"] == "D-7"
    assert ingress.receive_webhook(spec, sample()).status_code == 401  # the stale sample
