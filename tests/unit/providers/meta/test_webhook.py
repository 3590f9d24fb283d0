"""Meta Graph webhooks (WhatsApp Cloud API, Instagram, Facebook Pages) against Meta's documented
requests: https://developers.facebook.com/docs/graph-api/webhooks/getting-started and the
payload references linked from hub/providers/meta.py. No network."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from hub.errors import ConfigurationError, InvalidRequestError
from hub.events import HubEvent
from hub.providers.meta.webhook import meta_subscription_challenge, normalise_meta_webhook, verify_meta_webhook
from hub.webhooks import ingress
from hub.webhooks.models import RawWebhook, WebhookAuthenticationError, WebhookSpec
from tests.helpers import raw_webhook, sample_event
from tests.unit.conftest import OfflineIngress

APP_SECRET = "demo-meta-app-secret"
SECRET = {"app_secret": APP_SECRET, "verify_token": "demo-meta-verify-token", "access_token": "ignored-extra"}
RECEIVED = datetime(2025, 11, 22, 12, 0, 5, tzinfo=UTC)
WAMID = "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABIYFDNBMDJCNjFGMEM1QjNFMjE5QjQyAA=="


def signature(body: bytes, secret: str = APP_SECRET) -> str:
    """As documented: sha256= + lowercase hex HMAC-SHA256 of the raw payload, keyed with the app secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def raw(body: bytes, headers: dict[str, str] | None = None, *, signed_with: str | None = APP_SECRET) -> RawWebhook:
    all_headers = {"content-type": "application/json", **{k.lower(): v for k, v in (headers or {}).items()}}
    if signed_with is not None and "x-hub-signature-256" not in all_headers:
        all_headers["x-hub-signature-256"] = signature(body, signed_with)
    return raw_webhook("meta", body, all_headers, received_at=RECEIVED)


def from_sample(name: str) -> RawWebhook:
    return RawWebhook.from_api_gateway(sample_event(name), provider="meta", org_id="demo", received_at=RECEIVED)


def body_of(name: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(sample_event(name)["body"], parse_float=Decimal)
    return payload


def normalise(payload: Any) -> list[HubEvent]:
    return normalise_meta_webhook(payload, org_id="demo", received_at=RECEIVED, raw_ref="raw/meta.json")


def whatsapp(value: dict[str, Any], *, entries: int = 1) -> dict[str, Any]:
    value = {"messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550783881"}, **value}
    entry = {"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}
    return {"object": "whatsapp_business_account", "entry": [copy.deepcopy(entry) for _ in range(entries)]}


def wa_message(kind: str, content: dict[str, Any], *, message_id: str = WAMID) -> dict[str, Any]:
    return whatsapp(
        {
            "contacts": [{"profile": {"name": "Maria Silva"}, "wa_id": "5511987654321"}],
            "messages": [
                {"from": "5511987654321", "id": message_id, "timestamp": "1763812800", "type": kind, kind: content}
            ],
        }
    )


# ----- signature ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["webhook_meta", "webhook_meta_status", "webhook_meta_instagram"])
def test_sample_deliveries_are_signed_with_the_demo_app_secret(name: str) -> None:
    verify_meta_webhook(from_sample(name), SECRET)


def test_valid_signature_is_accepted_and_upper_case_hex_too() -> None:
    body = b'{"object":"page","entry":[]}'
    verify_meta_webhook(raw(body), SECRET)
    upper = "sha256=" + signature(body).removeprefix("sha256=").upper()
    verify_meta_webhook(raw(body, {"X-Hub-Signature-256": upper}), SECRET)


def test_tampered_body_is_rejected() -> None:
    request = from_sample("webhook_meta")
    tampered = dataclasses.replace(request, body=request.body.replace(b"Maria", b"Mario"))
    with pytest.raises(WebhookAuthenticationError, match="invalid signature"):
        verify_meta_webhook(tampered, SECRET)


def test_wrong_secret_is_rejected_without_leaking_secret_or_signature() -> None:
    body = b'{"object":"instagram","entry":[]}'
    request = raw(body, signed_with="someone-elses-secret")
    with pytest.raises(WebhookAuthenticationError) as info:
        verify_meta_webhook(request, SECRET)
    assert APP_SECRET not in info.value.message
    assert request.headers["x-hub-signature-256"][7:] not in info.value.message


def test_missing_signature_header_is_rejected() -> None:
    with pytest.raises(WebhookAuthenticationError, match="missing"):
        verify_meta_webhook(raw(b"{}", signed_with=None), SECRET)


@pytest.mark.parametrize(
    "header",
    [
        "",  # empty counts as missing
        "sha1=2fd4e1c67a2d28fced849ee1bb76e7391b93eb12",  # the legacy X-Hub-Signature form
        "sha256=",
        "sha256=xyz",
        "sha256=" + "0" * 63,
        "0" * 64,  # no sha256= prefix
        "sha256=" + "g" * 64,
    ],
)
def test_malformed_signature_header_is_rejected(header: str) -> None:
    with pytest.raises(WebhookAuthenticationError):
        verify_meta_webhook(raw(b"{}", {"X-Hub-Signature-256": header}), SECRET)


def test_previous_app_secret_is_accepted_while_rotating() -> None:
    rotated = {**SECRET, "app_secret": "the-new-app-secret", "previous_app_secret": APP_SECRET}
    verify_meta_webhook(from_sample("webhook_meta"), rotated)
    verify_meta_webhook(raw(b"{}", signed_with="the-new-app-secret"), rotated)
    with pytest.raises(WebhookAuthenticationError):
        verify_meta_webhook(raw(b"{}", signed_with="an-old-old-secret"), rotated)


def test_malformed_credentials_name_the_field_but_not_the_value() -> None:
    with pytest.raises(ConfigurationError) as info:
        verify_meta_webhook(raw(b"{}"), {"verify_token": "super-secret-token"})
    assert "app_secret" in info.value.message
    assert "super-secret-token" not in info.value.message


# ----- GET subscription verification ------------------------------------------------------


def test_subscription_challenge_is_echoed_when_the_token_matches() -> None:
    query = {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": "demo-meta-verify-token"}
    assert meta_subscription_challenge(query, SECRET) == "1158201444"


@pytest.mark.parametrize(
    "query",
    [
        {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": "meatyhamhock"},
        {"hub.mode": "unsubscribe", "hub.challenge": "1158201444", "hub.verify_token": "demo-meta-verify-token"},
        {"hub.challenge": "1158201444", "hub.verify_token": "demo-meta-verify-token"},
        {"hub.mode": "subscribe", "hub.challenge": "1158201444"},
        {"hub.mode": "subscribe", "hub.verify_token": "demo-meta-verify-token"},
        {"hub_mode": "subscribe", "hub_challenge": "1", "hub_verify_token": "demo-meta-verify-token"},
    ],
)
def test_subscription_challenge_rejects_wrong_token_mode_or_missing_parameters(query: dict[str, str]) -> None:
    with pytest.raises(WebhookAuthenticationError) as info:
        meta_subscription_challenge(query, SECRET)
    assert "demo-meta-verify-token" not in info.value.message


# ----- WhatsApp Cloud API -----------------------------------------------------------------


def test_whatsapp_text_message_becomes_message_received() -> None:
    [event] = normalise(body_of("webhook_meta"))
    assert event.type == "message.received"
    assert event.provider == "meta"
    assert event.dedupe_key == WAMID
    assert event.occurred_at == datetime.fromtimestamp(1763812800, tz=UTC)
    assert event.raw_ref == "raw/meta.json"
    assert event.data == {
        "channel": "whatsapp",
        "message_id": WAMID,
        "from_address": "+5511987654321",
        "from_name": "Maria Silva",
        "message_type": "text",
        "text": "Olá, gostaria de um orçamento",
        "media_url": None,
        "instance": None,
    }
    # Redelivery of the same message: same event id, so it is deduped downstream too.
    [again] = normalise(body_of("webhook_meta"))
    assert again.event_id == event.event_id


@pytest.mark.parametrize(
    ("kind", "content", "text"),
    [
        (
            "image",
            {"caption": "Foto do produto", "mime_type": "image/jpeg", "sha256": "81d3", "id": "2754"},
            "Foto do produto",
        ),
        ("video", {"caption": "Vídeo", "mime_type": "video/mp4", "id": "1"}, "Vídeo"),
        ("document", {"caption": "Contrato", "filename": "contrato.pdf", "id": "2"}, "Contrato"),
        ("image", {"mime_type": "image/jpeg", "id": "3"}, None),
        ("button", {"payload": "confirm-payload", "text": "Confirmar"}, "Confirmar"),
        ("interactive", {"type": "button_reply", "button_reply": {"id": "cancel-button", "title": "Cancel"}}, "Cancel"),
        (
            "interactive",
            {"type": "list_reply", "list_reply": {"id": "priority_express", "title": "Priority Mail Express"}},
            "Priority Mail Express",
        ),
        ("reaction", {"message_id": WAMID, "emoji": "👍"}, None),
        ("location", {"latitude": Decimal("-23.55"), "longitude": Decimal("-46.63")}, None),
    ],
)
def test_whatsapp_message_text_comes_from_body_caption_button_or_reply_title(
    kind: str, content: dict[str, Any], text: str | None
) -> None:
    [event] = normalise(wa_message(kind, content, message_id=f"wamid.{kind}"))
    assert event.data["message_type"] == kind
    assert event.data["text"] == text
    assert event.dedupe_key == f"wamid.{kind}"


def test_whatsapp_sender_name_is_matched_by_wa_id() -> None:
    payload = whatsapp(
        {
            "contacts": [
                {"profile": {"name": "Ana"}, "wa_id": "5521999998888"},
                {"profile": {"name": "Bruno"}, "wa_id": "5511987654321"},
            ],
            "messages": [
                {
                    "from": "5511987654321",
                    "id": "wamid.B",
                    "timestamp": "1763812800",
                    "type": "text",
                    "text": {"body": "b"},
                },
                {
                    "from": "5521999998888",
                    "id": "wamid.A",
                    "timestamp": "1763812801",
                    "type": "text",
                    "text": {"body": "a"},
                },
            ],
        }
    )
    events = normalise(payload)
    assert [(e.data["message_id"], e.data["from_name"], e.data["from_address"]) for e in events] == [
        ("wamid.B", "Bruno", "+5511987654321"),
        ("wamid.A", "Ana", "+5521999998888"),
    ]


def test_whatsapp_statuses_become_message_status_with_one_dedupe_key_per_transition() -> None:
    events = normalise(body_of("webhook_meta_status"))
    assert [e.type for e in events] == ["message.status"] * 3
    delivered, read, failed = events
    sent_id = "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABEYEjg1QkI3RjNBMDRGQ0I2NjM4MQA="
    assert delivered.data["message_id"] == read.data["message_id"] == sent_id
    assert (delivered.data["status"], read.data["status"]) == ("delivered", "read")
    assert delivered.dedupe_key == f"{sent_id}:delivered"
    assert read.dedupe_key == f"{sent_id}:read"
    assert len({e.dedupe_key for e in events}) == 3
    assert len({e.event_id for e in events}) == 3
    assert delivered.data["recipient"] == "+5511987654321"
    assert delivered.data["error_code"] is None
    assert delivered.occurred_at == datetime.fromtimestamp(1763812770, tz=UTC)
    # 131047: outside the 24-hour customer service window.
    assert failed.data["status"] == "failed"
    assert failed.data["recipient"] == "+5511912345678"
    assert failed.data["error_code"] == "131047"
    assert failed.data["error_message"] == (
        "Re-engagement message: Message failed to send because more than 24 hours have passed"
        " since the customer last replied to this number."
    )


def test_rate_limited_failure_carries_code_and_details() -> None:
    status = {
        "id": "wamid.RATE",
        "status": "failed",
        "timestamp": "1763812800",
        "recipient_id": "5511987654321",
        "errors": [
            {
                "code": 130429,
                "title": "Rate limit hit",
                "message": "Rate limit hit",
                "error_data": {
                    "details": "Message failed to send because there were too many messages sent from this phone"
                    " number in a short period of time"
                },
                "href": "/documentation/business-messaging/whatsapp/support/error-codes",
            }
        ],
    }
    [event] = normalise(whatsapp({"statuses": [status]}))
    assert event.data["error_code"] == "130429"
    assert event.data["error_message"].startswith("Rate limit hit: Message failed to send because there were too many")
    assert event.dedupe_key == "wamid.RATE:failed"


def test_failed_status_with_title_only_keeps_the_title() -> None:
    status = {
        "id": "wamid.T",
        "status": "failed",
        "timestamp": "1763812800",
        "recipient_id": "5511987654321",
        "errors": [{"code": 131047, "title": "Message failed to send because more than 24 hours have passed."}],
    }
    [event] = normalise(whatsapp({"statuses": [status]}))
    assert event.data["error_code"] == "131047"
    assert event.data["error_message"] == "Message failed to send because more than 24 hours have passed."


def test_statuses_without_a_hub_equivalent_and_non_phone_recipients() -> None:
    statuses = [
        {"id": "wamid.X", "status": "deleted", "timestamp": "1763812800", "recipient_id": "5511987654321"},
        {"id": "wamid.Y", "status": "sent", "timestamp": "1763812800", "recipient_id": "not-a-phone"},
    ]
    [event] = normalise(whatsapp({"statuses": statuses}))
    assert event.dedupe_key == "wamid.Y:sent"
    assert event.data["recipient"] is None


def test_multi_entry_delivery_yields_every_event() -> None:
    payload = wa_message("text", {"body": "oi"})
    payload["entry"][0]["changes"][0]["value"]["statuses"] = [
        {"id": "wamid.S1", "status": "sent", "timestamp": "1763812800", "recipient_id": "5511987654321"},
        {"id": "wamid.S1", "status": "delivered", "timestamp": "1763812801", "recipient_id": "5511987654321"},
    ]
    second = whatsapp(
        {
            "contacts": [{"profile": {"name": "Ana"}, "wa_id": "5521999998888"}],
            "messages": [
                {
                    "from": "5521999998888",
                    "id": "wamid.M2",
                    "timestamp": "1763812802",
                    "type": "text",
                    "text": {"body": "olá"},
                }
            ],
        }
    )
    payload["entry"].append(second["entry"][0])
    events = normalise(payload)
    assert [(e.type, e.dedupe_key) for e in events] == [
        ("message.received", WAMID),
        ("message.status", "wamid.S1:sent"),
        ("message.status", "wamid.S1:delivered"),
        ("message.received", "wamid.M2"),
    ]


def test_other_fields_objects_and_messaging_entries_produce_no_event() -> None:
    template_update = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "time": 1763812800,
                "changes": [{"field": "message_template_status_update", "value": {"event": "APPROVED"}}],
            }
        ],
    }
    errors_only = whatsapp({"errors": [{"code": 130429, "title": "Rate limit hit", "message": "Rate limit hit"}]})
    messenger = {
        "object": "page",
        "entry": [
            {
                "id": "111111",
                "time": 1457764198246,
                "messaging": [
                    {"sender": {"id": "USER_ID"}, "recipient": {"id": "PAGE_ID"}, "message": {"mid": "m", "text": "hi"}}
                ],
            }
        ],
    }
    for payload in (template_update, errors_only, messenger, {"object": "user", "entry": []}):
        assert normalise(payload) == []


def test_malformed_whatsapp_message_is_a_validation_error() -> None:
    payload = wa_message("text", {"body": "x"})
    del payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    with pytest.raises(ValueError):  # pydantic.ValidationError → 400 in the ingress
        normalise(payload)


def test_sender_that_is_not_a_phone_number_is_an_invalid_request() -> None:
    payload = wa_message("text", {"body": "x"})
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["from"] = "abc"
    with pytest.raises(InvalidRequestError):
        normalise(payload)


# ----- Instagram and Facebook Pages -------------------------------------------------------


def test_numeric_ids_are_accepted_as_strings() -> None:
    payload = body_of("webhook_meta_instagram")
    value = payload["entry"][0]["changes"][0]["value"]
    value.update(id=17865799348089039, media={"id": 18023345989012587}, **{"from": {"id": 232323232}})
    [event] = normalise(payload)
    assert (event.dedupe_key, event.data["post_id"], event.data["author_id"]) == (
        "17865799348089039",
        "18023345989012587",
        "232323232",
    )


def feed(value: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "page",
        "entry": [{"id": "1755847768034402", "time": 1763812801, "changes": [{"field": "feed", "value": value}]}],
    }


FEED_COMMENT: dict[str, Any] = {
    "from": {"id": "24242424242", "name": "Maria Silva"},
    "post": {"status_type": "added_photos", "is_published": True, "id": "1755847768034402_444444444"},
    "message": "Vocês entregam em Santa Maria?",
    "post_id": "1755847768034402_444444444",
    "comment_id": "444444444_555555555",
    "created_time": 1763812800,
    "item": "comment",
    "parent_id": "1755847768034402_444444444",
    "verb": "add",
}


@pytest.mark.parametrize(
    ("payload", "dedupe_key", "data"),
    [
        pytest.param(
            lambda: body_of("webhook_meta_instagram"),
            "17865799348089039",
            {
                "network": "instagram",
                "comment_id": "17865799348089039",
                "post_id": "18023345989012587",
                "author_id": "232323232",
                "author_name": "maria.silva",
                "text": "Qual o preço do pacote?",
            },
            id="instagram",
        ),
        pytest.param(
            lambda: feed(FEED_COMMENT),
            "444444444_555555555:add",
            {
                "network": "facebook",
                "comment_id": "444444444_555555555",
                "post_id": "1755847768034402_444444444",
                "author_id": "24242424242",
                "author_name": "Maria Silva",
                "text": "Vocês entregam em Santa Maria?",
            },
            id="facebook-page",
        ),
    ],
)
def test_a_comment_becomes_social_comment(
    payload: Callable[[], dict[str, Any]], dedupe_key: str, data: dict[str, str]
) -> None:
    [event] = normalise(payload())
    assert event.type == "social.comment"
    assert event.dedupe_key == dedupe_key
    assert event.occurred_at == datetime.fromtimestamp(1763812800, tz=UTC)
    assert event.data == data


@pytest.mark.parametrize(
    "change",
    [
        {"verb": "edited"},
        {"verb": "remove"},
        {"item": "reaction", "reaction_type": "like"},
        {"item": "status", "comment_id": None},
    ],
)
def test_other_feed_changes_produce_no_event(change: dict[str, Any]) -> None:
    assert normalise(feed({**FEED_COMMENT, **change})) == []


# ----- through the ingress pipeline ----------------------------------------------------------


def test_signed_delivery_runs_through_the_ingress_pipeline(offline_ingress: OfflineIngress) -> None:
    published = offline_ingress(SECRET)
    spec = WebhookSpec(provider="meta", verify=verify_meta_webhook, normalise=normalise_meta_webhook)

    result = ingress.receive_webhook(spec, from_sample("webhook_meta_status"))

    assert result.status_code == 200, result.body
    assert [e.dedupe_key.rsplit(":", 1)[1] for e in published] == ["delivered", "read", "failed"]
    forged = dataclasses.replace(from_sample("webhook_meta"), body=b'{"object":"page","entry":[]}')
    assert ingress.receive_webhook(spec, forged).status_code == 401
