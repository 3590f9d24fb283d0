"""Messaging through the real functions on moto: consent, the 24-hour window, suppression,
delivery states from webhooks, the email fallback, media from our buckets, NotifyContact."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx

from hub.errors import AuthenticationError, InvalidRequestError, OutcomeUnknownError
from hub.events import EmailEventData, HubEvent, InboundMessage, MessageStatusData
from hub.inbound import process_inbound_event
from tests.aws.conftest import HubAws
from tests.helpers import FakeLambdaContext, load_function

EVO = {"base_url": "https://evo.test", "api_key": "evo-key", "instance": "somos-principal"}
EVO_SEND = "https://evo.test/message/sendText/somos-principal"
EVO_SENT = {"key": {"remoteJid": "5511987654321@s.whatsapp.net", "fromMe": True, "id": "BAE5F00D"}, "status": "PENDING"}
CLOUD = {"access_token": "EAAG-test", "phone_number_id": "106540352242922", "graph_version": "v26.0"}
CLOUD_SEND = "https://graph.facebook.com/v26.0/106540352242922/messages"
WAMID = "wamid.HBgMNTUxMTk4NzY1NDMyMRUCABEYEjBBQkM="
CLOUD_SENT = {
    "messaging_product": "whatsapp",
    "contacts": [{"input": "5511987654321", "wa_id": "5511987654321"}],
    "messages": [{"id": WAMID, "message_status": "accepted"}],
}
TEMPLATE = {"name": "retomar_conversa", "language": "pt_BR", "body_parameters": ["{name}"]}
TWILIO = {"account_sid": "AC" + "a" * 32, "auth_token": "twilio-token", "from_number": "+5511940000000"}
TWILIO_SEND = f"https://api.twilio.com/2010-04-01/Accounts/{TWILIO['account_sid']}/Messages.json"
RESEND = {"api_key": "re_test_key", "webhook_secret": "whsec_dGVzdA=="}
FROM = "Somos Produtora <contato@somosprodutora.com.br>"
PHONE = "+5511987654321"


def ctx() -> FakeLambdaContext:
    return FakeLambdaContext()


def twilio_sent(sid: str = "SM" + "b" * 32) -> dict[str, Any]:
    return {"sid": sid, "status": "queued", "to": PHONE, "from": TWILIO["from_number"], "body": "Oi"}


def event(type_: str, data: Any, *, provider: str, key: str, at: datetime | None = None) -> HubEvent:
    now = at or datetime.now(UTC)
    return HubEvent.build(
        org_id="demo",
        provider=provider,
        type=type_,
        dedupe_key=key,
        occurred_at=now,
        received_at=now,
        data=data,
        raw_ref="s3://archive/test",
    )


def inbound(text: str, *, channel: str = "whatsapp", at: datetime | None = None, provider: str = "evolution") -> None:
    message = InboundMessage(
        channel=channel,  # type: ignore[arg-type]
        message_id=f"IN-{text}-{channel}",
        from_address=PHONE,
        from_name="Maria",
        message_type="text",
        text=text,
    )
    process_inbound_event(event("message.received", message, provider=provider, key=message.message_id, at=at))


def status(message_id: str, state: str, *, channel: str = "whatsapp", code: str | None = None) -> None:
    data = MessageStatusData(
        channel=channel,  # type: ignore[arg-type]
        message_id=message_id,
        status=state,  # type: ignore[arg-type]
        recipient=PHONE,
        error_code=code,
        error_message="Re-engagement message" if code else None,
    )
    process_inbound_event(event("message.status", data, provider="meta", key=f"{message_id}:{state}"))


@pytest.fixture
def aws(hub_aws: HubAws) -> HubAws:
    hub_aws.put_secret("demo", "evolution", EVO)
    hub_aws.put_secret("demo", "twilio", TWILIO)
    hub_aws.put_secret("demo", "resend", RESEND)
    hub_aws.put_secret("demo", "ses", {})
    hub_aws.put_secret("demo", "messaging", {"email_from": FROM})
    hub_aws.client("ses").verify_domain_identity(Domain="somosprodutora.com.br")
    return hub_aws


# ----- WhatsApp: consent, records, statuses --------------------------------------------------------


def test_a_whatsapp_send_is_recorded_and_webhook_statuses_move_it_forward_only(aws: HubAws) -> None:
    send, status_fn = load_function("whatsapp_send_text"), load_function("message_status")
    with respx.mock(assert_all_called=False) as mock:
        mock.post(EVO_SEND).respond(201, json=EVO_SENT)
        sent = send.handler({"org_id": "demo", "to": "11987654321", "text": "Oi Maria"}, ctx())
    assert sent["channel"] == "whatsapp" and sent["message_id"] == "BAE5F00D"
    query = {"org_id": "demo", "message_id": "BAE5F00D"}
    assert status_fn.handler(query, ctx())["status"] == "queued"
    status("BAE5F00D", "read")
    status("BAE5F00D", "delivered")  # late delivery receipt: must not move it back
    status("BAE5F00D", "sent")
    record = status_fn.handler(query, ctx())
    assert record["status"] == "read"
    assert record["channel"] == "whatsapp" and record["to"] == PHONE and record["provider"] == "evolution"


def test_message_status_of_an_unknown_message_is_a_clear_4xx(aws: HubAws) -> None:
    with pytest.raises(InvalidRequestError, match="no message 'nope'"):
        load_function("message_status").handler({"org_id": "demo", "message_id": "nope"}, ctx())


def test_a_sair_reply_opts_the_contact_out_and_voltar_back_in(aws: HubAws) -> None:
    send = load_function("whatsapp_send_text")
    tap = aws.bus_tap("consent-tap", {"detail-type": ["contact.opted_out"]})
    inbound("Sair.", at=datetime.now(UTC) - timedelta(minutes=5))
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(EVO_SEND).respond(201, json=EVO_SENT)
        with pytest.raises(InvalidRequestError, match="opted out of whatsapp") as info:
            send.handler({"org_id": "demo", "to": PHONE, "text": "Oi"}, ctx())
        assert info.value.code == "opted_out"
        assert route.call_count == 0
        # The opt-out is per channel: SMS is still allowed.
        mock.post(TWILIO_SEND).respond(201, json=twilio_sent())
        load_function("sms_send").handler({"org_id": "demo", "to": PHONE, "body": "Oi"}, ctx())
        inbound("VOLTAR")
        send.handler({"org_id": "demo", "to": PHONE, "text": "Oi de novo"}, ctx())
        assert route.call_count == 1
    detail = json.loads(aws.client("sqs").receive_message(QueueUrl=tap, WaitTimeSeconds=1)["Messages"][0]["Body"])
    assert detail["detail"]["data"] == {"channel": "whatsapp", "address": PHONE, "source": "reply"}


def test_consent_set_records_source_and_an_older_decision_never_overrides_a_newer_one(aws: HubAws) -> None:
    consent = load_function("contact_consent_set")
    base = {"org_id": "demo", "channel": "sms", "address": "(11) 98765-4321"}
    newer = consent.handler(
        {**base, "status": "opted_out", "source": "DPO request", "at": "2026-11-20T10:00:00Z"}, ctx()
    )
    assert newer["consent_status"] == "opted_out" and newer["consent_source"] == "DPO request"
    older = consent.handler({**base, "status": "opted_in", "source": "old form", "at": "2026-10-01T10:00:00Z"}, ctx())
    assert older["consent_status"] == "opted_out"
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(TWILIO_SEND).respond(201, json=twilio_sent())
        with pytest.raises(InvalidRequestError, match="opted out of sms"):
            load_function("sms_send").handler({"org_id": "demo", "to": PHONE, "body": "Oi"}, ctx())
        assert route.call_count == 0


def test_require_opt_in_refuses_contacts_without_one(aws: HubAws) -> None:
    aws.client("secretsmanager").put_secret_value(
        SecretId="hub/demo/messaging", SecretString=json.dumps({"email_from": FROM, "require_opt_in": True})
    )
    with pytest.raises(InvalidRequestError, match="explicit opt-in"):
        load_function("sms_send").handler({"org_id": "demo", "to": PHONE, "body": "Oi"}, ctx())


# ----- WhatsApp Cloud API: the 24-hour window ---------------------------------------------------------


@pytest.fixture
def cloud(aws: HubAws) -> HubAws:
    aws.put_secret("cloudorg", "whatsapp_cloud", CLOUD)
    aws.put_secret("cloudorg", "messaging", {"whatsapp_provider": "whatsapp_cloud"})
    return aws


def cloud_inbound(minutes_ago: int) -> None:
    message = InboundMessage(
        channel="whatsapp", message_id="wamid.IN", from_address=PHONE, message_type="text", text="Oi"
    )
    at = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    process_inbound_event(
        HubEvent.build(
            org_id="cloudorg",
            provider="meta",
            type="message.received",
            dedupe_key="wamid.IN",
            occurred_at=at,
            received_at=at,
            data=message,
            raw_ref="s3://archive/test",
        )
    )


def test_inside_the_window_a_text_goes_out_as_text(cloud: HubAws) -> None:
    cloud_inbound(minutes_ago=23 * 60)
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(CLOUD_SEND).respond(200, json=CLOUD_SENT)
        sent = load_function("whatsapp_send_text").handler({"org_id": "cloudorg", "to": PHONE, "text": "Oi"}, ctx())
    body = json.loads(route.calls.last.request.content)
    assert body["type"] == "text" and body["text"]["body"] == "Oi" and body["to"] == "5511987654321"
    assert sent == {
        "channel": "whatsapp",
        "provider": "whatsapp_cloud",
        "message_id": WAMID,
        "to": PHONE,
        "status": "accepted",
    }


def test_outside_the_window_a_text_is_refused_naming_the_rule(cloud: HubAws) -> None:
    cloud_inbound(minutes_ago=25 * 60)
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(CLOUD_SEND).respond(200, json=CLOUD_SENT)
        with pytest.raises(InvalidRequestError, match="24-hour customer-service window") as info:
            load_function("whatsapp_send_text").handler({"org_id": "cloudorg", "to": PHONE, "text": "Oi"}, ctx())
        assert route.call_count == 0
    assert info.value.code == "outside_service_window"


def test_outside_the_window_the_orgs_fallback_template_is_sent(cloud: HubAws) -> None:
    cloud.client("secretsmanager").put_secret_value(
        SecretId="hub/cloudorg/messaging",
        SecretString=json.dumps({"whatsapp_provider": "whatsapp_cloud", "whatsapp_fallback_template": TEMPLATE}),
    )
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(CLOUD_SEND).respond(200, json=CLOUD_SENT)
        sent = load_function("whatsapp_send_text").handler(
            {"org_id": "cloudorg", "to": PHONE, "text": "Oi", "contact_name": "Maria"}, ctx()
        )
    body = json.loads(route.calls.last.request.content)
    assert body["type"] == "template"
    assert body["template"]["name"] == "retomar_conversa"
    assert body["template"]["components"] == [{"type": "body", "parameters": [{"type": "text", "text": "Maria"}]}]
    assert sent["via_template"] == "retomar_conversa"


def test_a_131047_failed_status_marks_the_message_failed(cloud: HubAws) -> None:
    cloud_inbound(minutes_ago=10)
    with respx.mock(assert_all_called=False) as mock:
        mock.post(CLOUD_SEND).respond(200, json=CLOUD_SENT)
        load_function("whatsapp_send_text").handler({"org_id": "cloudorg", "to": PHONE, "text": "Oi"}, ctx())
    data = MessageStatusData(
        channel="whatsapp",
        message_id=WAMID,
        status="failed",
        error_code="131047",
        error_message="Re-engagement message",
    )
    process_inbound_event(
        HubEvent.build(
            org_id="cloudorg",
            provider="meta",
            type="message.status",
            dedupe_key=f"{WAMID}:failed",
            occurred_at=datetime.now(UTC),
            received_at=datetime.now(UTC),
            data=data,
            raw_ref="s3://x",
        )
    )
    record = load_function("message_status").handler({"org_id": "cloudorg", "message_id": WAMID}, ctx())
    assert record["status"] == "failed" and record["error_code"] == "131047"


def test_templates_are_validated_before_any_call(cloud: HubAws) -> None:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(CLOUD_SEND).respond(200, json=CLOUD_SENT)
        with pytest.raises(InvalidRequestError) as info:
            load_function("whatsapp_send_template").handler(
                {
                    "org_id": "cloudorg",
                    "to": PHONE,
                    "template": {"name": "Lembrete Reunião", "language": "portuguese", "body_parameters": ["a\nb"]},
                },
                ctx(),
            )
        assert route.call_count == 0
    for field in ("template.name", "template.language", "template.body_parameters"):
        assert field in info.value.message


# ----- media from our buckets ------------------------------------------------------------------------


def test_media_from_our_bucket_goes_out_as_a_presigned_url_and_other_orgs_keys_are_refused(aws: HubAws) -> None:
    bucket = aws.env["GENERATED_CONTENT_BUCKET"]
    aws.client("s3").put_object(Bucket=bucket, Key="demo/images/banner.png", Body=b"\x89PNG")
    send = load_function("whatsapp_send_media")
    media_url = "https://evo.test/message/sendMedia/somos-principal"
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(media_url).respond(201, json=EVO_SENT)
        send.handler(
            {
                "org_id": "demo",
                "to": PHONE,
                "media_type": "image",
                "media": {"bucket": bucket, "key": "demo/images/banner.png"},
                "caption": "Nova campanha",
            },
            ctx(),
        )
        body = json.loads(route.calls.last.request.content)
        assert "demo/images/banner.png" in body["media"] and "Signature" in body["media"]
        assert body["caption"] == "Nova campanha" and body["mediatype"] == "image"
        with pytest.raises(InvalidRequestError, match="under the org's prefix"):
            send.handler(
                {
                    "org_id": "demo",
                    "to": PHONE,
                    "media_type": "image",
                    "media": {"bucket": bucket, "key": "other-org/images/secret.png"},
                },
                ctx(),
            )
        with pytest.raises(InvalidRequestError, match="sendable buckets"):
            send.handler(
                {
                    "org_id": "demo",
                    "to": PHONE,
                    "media_type": "image",
                    "media": {"bucket": aws.env["WEBHOOK_ARCHIVE_BUCKET"], "key": "demo/x.png"},
                },
                ctx(),
            )
        assert route.call_count == 1


# ----- email ---------------------------------------------------------------------------------------------


def resend_ok(email_id: str = "4ef9a417-02e9-4d39-ad75-9611e0fcc33c") -> httpx.Response:
    return httpx.Response(200, json={"id": email_id})


def test_email_goes_through_resend_with_the_idempotency_key_and_is_sent_once(aws: HubAws) -> None:
    send = load_function("email_send")
    payload = {
        "org_id": "demo",
        "to": "Maria.Silva@Example.com.br",
        "subject": "Proposta",
        "html": "<p>Oi</p>",
        "tags": {"campaign": "proposta"},
        "idempotency_key": "lead-1-email",
    }
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post("https://api.resend.com/emails").mock(return_value=resend_ok())
        first = send.handler(payload, ctx())
        second = send.handler(payload, ctx())
    assert first == second and route.call_count == 1
    request = route.calls.last.request
    assert request.headers["Idempotency-Key"] == "lead-1-email"
    assert request.headers["Authorization"] == "Bearer re_test_key"
    body = json.loads(request.content)
    assert body["from"] == FROM and body["to"] == ["Maria.Silva@example.com.br"]
    assert body["tags"] == [{"name": "campaign", "value": "proposta"}]
    assert first["provider"] == "resend" and first["status"] == "queued"


def test_a_hard_bounce_suppresses_the_address_and_later_sends_are_refused(aws: HubAws) -> None:
    bounced = EmailEventData(email_id="e-1", to=["maria.silva@example.com.br"], reason="Permanent/General: no mailbox")
    process_inbound_event(event("email.bounced", bounced, provider="resend", key="msg_1"))
    soft = EmailEventData(email_id="e-2", to=["joao@example.com.br"], reason="Transient/MailboxFull: full")
    process_inbound_event(event("email.bounced", soft, provider="resend", key="msg_2"))
    send = load_function("email_send")
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post("https://api.resend.com/emails").mock(return_value=resend_ok())
        with pytest.raises(InvalidRequestError, match=r"to\[0\]: email address is on the org's suppression list"):
            send.handler({"org_id": "demo", "to": "MARIA.SILVA@example.com.br", "subject": "Oi", "text": "Oi"}, ctx())
        assert route.call_count == 0
        # A soft bounce does not suppress.
        send.handler({"org_id": "demo", "to": "joao@example.com.br", "subject": "Oi", "text": "Oi"}, ctx())
        assert route.call_count == 1


def test_a_complaint_suppresses_too_and_clear_suppression_lifts_it(aws: HubAws) -> None:
    complaint = EmailEventData(email_id="e-3", to=["ana@example.com.br"])
    process_inbound_event(event("email.complained", complaint, provider="resend", key="msg_3"))
    send = load_function("email_send")
    payload = {"org_id": "demo", "to": "ana@example.com.br", "subject": "Oi", "text": "Oi"}
    with respx.mock(assert_all_called=False) as mock:
        mock.post("https://api.resend.com/emails").mock(return_value=resend_ok())
        with pytest.raises(InvalidRequestError, match="complaint"):
            send.handler(payload, ctx())
        load_function("contact_consent_set").handler(
            {
                "org_id": "demo",
                "channel": "email",
                "address": "ana@example.com.br",
                "status": "opted_in",
                "source": "contact asked to be re-added",
                "clear_suppression": True,
            },
            ctx(),
        )
        assert send.handler(payload, ctx())["provider"] == "resend"


def test_resend_down_falls_back_to_ses(aws: HubAws) -> None:
    with respx.mock(assert_all_called=False) as mock:
        mock.post("https://api.resend.com/emails").respond(
            503, json={"statusCode": 503, "name": "internal_server_error", "message": "down"}
        )
        mock.route(host__regex=r"127\.0\.0\.1|localhost").pass_through()
        sent = load_function("email_send").handler(
            {"org_id": "demo", "to": "maria@example.com.br", "subject": "Oi", "text": "Oi"}, ctx()
        )
    assert sent["provider"] == "ses"
    assert "resend" in sent["failed_attempts"]
    status = load_function("message_status").handler({"org_id": "demo", "message_id": sent["message_id"]}, ctx())
    assert status["provider"] == "ses" and status["status"] == "queued"


def test_a_resend_read_timeout_is_not_a_fallback(aws: HubAws) -> None:
    """Resend may have accepted the email: sending it through SES too would send it twice."""
    with respx.mock(assert_all_called=False) as mock:
        mock.post("https://api.resend.com/emails").mock(side_effect=httpx.ReadTimeout("slow"))
        ses = mock.route(host__regex=r"127\.0\.0\.1|localhost").pass_through()
        with pytest.raises(OutcomeUnknownError):
            load_function("email_send").handler(
                {"org_id": "demo", "to": "maria@example.com.br", "subject": "Oi", "text": "Oi"}, ctx()
            )
        assert not any(
            "ses" in str(call.request.url) or "SendEmail" in call.request.content.decode(errors="ignore")
            for call in ses.calls
        )


def test_a_batch_refuses_suppressed_recipients_by_index_and_sends_the_rest(aws: HubAws) -> None:
    process_inbound_event(
        event("email.complained", EmailEventData(email_id="e-9", to=["b@example.com.br"]), provider="resend", key="c9")
    )
    payload = {
        "org_id": "demo",
        "idempotency_key": "newsletter-1",
        "emails": [
            {"to": "a@example.com.br", "subject": "Novidades", "html": "<p>A</p>"},
            {"to": "b@example.com.br", "subject": "Novidades", "html": "<p>B</p>"},
            {"to": "c@example.com.br", "subject": "Novidades", "html": "<p>C</p>"},
        ],
    }
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post("https://api.resend.com/emails/batch").respond(
            200, json={"data": [{"id": "id-a"}, {"id": "id-c"}]}
        )
        result = load_function("email_send_batch").handler(payload, ctx())
    assert [json.loads(route.calls.last.request.content)[i]["to"] for i in (0, 1)] == [
        ["a@example.com.br"],
        ["c@example.com.br"],
    ]
    assert [(r["index"], r["status"], r.get("message_id")) for r in result["results"]] == [
        (0, "queued", "id-a"),
        (1, "refused", None),
        (2, "queued", "id-c"),
    ]


def test_email_without_a_sender_anywhere_is_a_clear_error(aws: HubAws) -> None:
    aws.client("secretsmanager").put_secret_value(SecretId="hub/demo/messaging", SecretString="{}")
    with pytest.raises(InvalidRequestError, match="from is required"):
        load_function("email_send").handler(
            {"org_id": "demo", "to": "a@example.com.br", "subject": "x", "text": "x"}, ctx()
        )


# ----- SMS -----------------------------------------------------------------------------------------------------


def test_sms_status_callbacks_update_the_message(aws: HubAws) -> None:
    sid = "SM" + "c" * 32
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(TWILIO_SEND).respond(201, json=twilio_sent(sid))
        sent = load_function("sms_send").handler({"org_id": "demo", "to": "(11) 98765-4321", "body": "Oi"}, ctx())
    form = dict(httpx.QueryParams(route.calls.last.request.content.decode()))
    assert form["To"] == PHONE and form["From"] == TWILIO["from_number"] and form["Body"] == "Oi"
    assert sent == {"channel": "sms", "provider": "twilio", "message_id": sid, "to": PHONE, "status": "queued"}
    status(sid, "failed", channel="sms", code="30003")
    record = load_function("message_status").handler({"org_id": "demo", "message_id": sid}, ctx())
    assert record["status"] == "failed" and record["error_code"] == "30003"


def test_sms_without_twilio_credentials_is_an_authentication_error(aws: HubAws) -> None:
    aws.put_secret("other", "messaging", {})
    with pytest.raises(AuthenticationError, match="no twilio credentials"):
        load_function("sms_send").handler({"org_id": "other", "to": PHONE, "body": "Oi"}, ctx())


# ----- NotifyContact ----------------------------------------------------------------------------------------------


def test_notify_contact_plans_channels_and_starts_the_chain_once(aws: HubAws) -> None:
    notify = load_function("notify_contact")
    load_function("contact_consent_set").handler(
        {"org_id": "demo", "channel": "sms", "address": PHONE, "status": "opted_out", "source": "form"}, ctx()
    )
    payload = {
        "org_id": "demo",
        "notification_id": "n-1",
        "contact": {"name": "Maria", "phone": "11987654321", "email": "maria@example.com.br"},
        "message": {"text": "Lembrete"},
        "requester": {"service": "sdr-agent"},
    }
    first = notify.handler(payload, ctx())
    assert first["channels"] == ["whatsapp", "email"]
    assert "opted out of sms" in first["skipped"]["sms"]
    assert first["status"] == "started"
    again = notify.handler({**payload, "message": {"text": "Lembrete (editado)"}}, ctx())
    assert again["execution_arn"] == first["execution_arn"] and again["status"] == "duplicate"
    described = aws.client("stepfunctions").describe_execution(executionArn=first["execution_arn"])
    request = json.loads(described["input"])["request"]
    assert request["plan"] == {"whatsapp": True, "sms": False, "email": True}
    assert request["contact"]["phone"] == PHONE


def test_notify_contact_with_no_usable_channel_says_why(aws: HubAws) -> None:
    with pytest.raises(InvalidRequestError, match="no channel can reach this contact") as info:
        load_function("notify_contact").handler(
            {"org_id": "demo", "contact": {"name": "Maria"}, "message": {"text": "Oi"}}, ctx()
        )
    assert "whatsapp: the contact has no phone" in info.value.message


def test_a_late_whatsapp_failure_continues_the_notification_on_the_next_channel(aws: HubAws) -> None:
    notify, channel_send = load_function("notify_contact"), load_function("notify_channel_send")
    started = notify.handler(
        {
            "org_id": "demo",
            "notification_id": "n-2",
            "contact": {"phone": PHONE, "email": "maria@example.com.br"},
            "message": {"text": "Lembrete"},
        },
        ctx(),
    )
    chain_request = json.loads(
        aws.client("stepfunctions").describe_execution(executionArn=started["execution_arn"])["input"]
    )["request"]
    with respx.mock(assert_all_called=False) as mock:
        mock.post(EVO_SEND).respond(201, json=EVO_SENT)
        answer = channel_send.handler(
            {**chain_request, "provider": "whatsapp", "execution_arn": started["execution_arn"]}, ctx()
        )
    assert answer["message_id"] == "BAE5F00D"
    status("BAE5F00D", "failed", code="131026")
    executions = aws.client("stepfunctions").list_executions(stateMachineArn=aws.env["NOTIFY_STATE_MACHINE_ARN"])[
        "executions"
    ]
    continued = [e for e in executions if e["name"].endswith("-after-whatsapp")]
    assert len(continued) == 1
    plan = json.loads(
        aws.client("stepfunctions").describe_execution(executionArn=continued[0]["executionArn"])["input"]
    )["request"]["plan"]
    assert plan == {"whatsapp": False, "sms": True, "email": True}
    status("BAE5F00D", "failed", code="131026")  # redelivered: nothing new
    assert (
        len(
            aws.client("stepfunctions").list_executions(stateMachineArn=aws.env["NOTIFY_STATE_MACHINE_ARN"])[
                "executions"
            ]
        )
        == 2
    )


def test_a_channel_attempt_retried_by_the_chain_sends_once(aws: HubAws) -> None:
    channel_send = load_function("notify_channel_send")
    request = {
        "org_id": "demo",
        "notification_id": "n-3",
        "provider": "sms",
        "contact": {"phone": PHONE},
        "message": {"text": "Lembrete"},
    }
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(TWILIO_SEND).respond(201, json=twilio_sent())
        first = channel_send.handler(request, ctx())
        second = channel_send.handler(request, ctx())
    assert first == second and route.call_count == 1


def test_operations_and_webhook_events_in_one_process_keep_separate_idempotency_keys(aws: HubAws) -> None:
    """Locally every function shares one process: an idempotent send must not make the next
    webhook events look like duplicates of each other."""
    from hub.webhooks import delivery
    from hub.webhooks.publish import publish_once

    with respx.mock(assert_all_called=False) as mock:
        mock.post(TWILIO_SEND).respond(201, json=twilio_sent())
        load_function("sms_send").handler({"org_id": "demo", "to": PHONE, "body": "Oi", "idempotency_key": "k"}, ctx())
    first = event(
        "message.status",
        MessageStatusData(channel="sms", message_id="SM1", status="delivered"),
        provider="twilio",
        key="SM1:delivered",
    )
    second = event(
        "message.received",
        InboundMessage(channel="sms", message_id="SM2", from_address=PHONE, message_type="text", text="STOP"),
        provider="twilio",
        key="SM2",
    )
    assert publish_once(first, ttl_seconds=3600) and publish_once(second, ttl_seconds=3600)
    delivery.mark_delivered(second.event_id)  # the consumer put it on the bus
    assert not publish_once(second, ttl_seconds=3600)


# ----- the outbox: delayed, not dropped ----------------------------------------------------------------------------


def outbox_event(aws: HubAws, bodies: list[dict[str, Any]]) -> dict[str, Any]:
    [url] = [u for u in aws.client("sqs").list_queues()["QueueUrls"] if u.endswith("messagesoutboxqueue")]
    return aws.sqs_event(url, [json.dumps(body) for body in bodies])


def outbox_text(key: str, to: str = PHONE) -> dict[str, Any]:
    return {
        "operation": "whatsapp.send_text",
        "request": {"org_id": "demo", "to": to, "text": "Oi", "idempotency_key": key},
    }


def test_outbox_sends_over_the_daily_tier_are_delayed_not_dropped(aws: HubAws, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import reset_hub_caches

    limits = {
        "evolution": [
            {"name": "messages_per_day", "limit": 1, "window_seconds": 86400, "scope": "account", "applies_to": "send"}
        ]
    }
    monkeypatch.setenv("RATE_LIMIT_OVERRIDES", json.dumps(limits))
    reset_hub_caches()
    event_ = outbox_event(aws, [outbox_text("c-1"), outbox_text("c-2", "+5511976543210")])
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(EVO_SEND).respond(201, json=EVO_SENT)
        result = load_function("messages_outbox_process").handler(event_, ctx())
    assert route.call_count == 1
    assert result == {"batchItemFailures": [{"itemIdentifier": event_["Records"][1]["messageId"]}]}


def test_outbox_refusals_are_consumed_and_announced(aws: HubAws) -> None:
    tap = aws.bus_tap("rejected-tap", {"detail-type": ["message.rejected"]})
    load_function("contact_consent_set").handler(
        {"org_id": "demo", "channel": "whatsapp", "address": PHONE, "status": "opted_out", "source": "form"}, ctx()
    )
    no_key = {"operation": "sms.send", "request": {"org_id": "demo", "to": PHONE, "body": "Oi"}}
    event_ = outbox_event(aws, [outbox_text("c-3"), no_key])
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(EVO_SEND).respond(201, json=EVO_SENT)
        result = load_function("messages_outbox_process").handler(event_, ctx())
    assert result == {"batchItemFailures": []} and route.call_count == 0
    notes = aws.client("sqs").receive_message(QueueUrl=tap, MaxNumberOfMessages=10, WaitTimeSeconds=1)["Messages"]
    codes = sorted(json.loads(n["Body"])["detail"]["error"]["code"] for n in notes)
    assert codes == ["missing_idempotency_key", "opted_out"]


def test_an_outbox_message_delivered_twice_is_sent_once(aws: HubAws) -> None:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(EVO_SEND).respond(201, json=EVO_SENT)
        for _ in range(2):
            load_function("messages_outbox_process").handler(outbox_event(aws, [outbox_text("c-4")]), ctx())
    assert route.call_count == 1


def test_resend_tracking_webhooks_move_the_email_forward(aws: HubAws) -> None:
    with respx.mock(assert_all_called=False) as mock:
        mock.post("https://api.resend.com/emails").mock(return_value=resend_ok("em-1"))
        load_function("email_send").handler(
            {"org_id": "demo", "to": "a@example.com.br", "subject": "x", "text": "x"}, ctx()
        )
    status_fn = load_function("message_status")
    for type_, key in (("email.delivered", "d1"), ("email.opened", "o1"), ("email.sent", "s1")):
        process_inbound_event(
            event(type_, EmailEventData(email_id="em-1", to=["a@example.com.br"]), provider="resend", key=key)
        )
    record = status_fn.handler({"org_id": "demo", "message_id": "em-1"}, ctx())
    assert (record["status"], record["channel"], record["provider"]) == ("read", "email", "resend")


def test_attachments_come_from_our_buckets_under_the_orgs_prefix(aws: HubAws) -> None:
    bucket = aws.env["INVOICES_BUCKET"]
    aws.client("s3").put_object(Bucket=bucket, Key="demo/2026/11/charge-1.pdf", Body=b"%PDF-1.7 nota")
    send = load_function("email_send")
    base = {"org_id": "demo", "to": "a@example.com.br", "subject": "Sua nota fiscal", "text": "Segue a NFS-e."}
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post("https://api.resend.com/emails").mock(return_value=resend_ok())
        send.handler({**base, "attachments": [{"bucket": bucket, "key": "demo/2026/11/charge-1.pdf"}]}, ctx())
        [attachment] = json.loads(route.calls.last.request.content)["attachments"]
        assert attachment["filename"] == "charge-1.pdf"
        assert base64.b64decode(attachment["content"]) == b"%PDF-1.7 nota"
        with pytest.raises(InvalidRequestError, match="under the org's prefix"):
            send.handler({**base, "attachments": [{"bucket": bucket, "key": "acme/2026/11/charge-9.pdf"}]}, ctx())
        with pytest.raises(InvalidRequestError, match=r"attachments\[0\]: no such object"):
            send.handler({**base, "attachments": [{"bucket": bucket, "key": "demo/missing.pdf"}]}, ctx())
        assert route.call_count == 1
