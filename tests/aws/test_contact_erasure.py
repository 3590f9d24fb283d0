"""ContactErase on moto with the sandboxes: what a DPO sees when a contact asks to be forgotten.

The whole-hub proof (every path seeded through the local cloud, every table and object
searched afterwards) is tests/e2e/test_contact_erasure.py; these cover the rules one by one."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from hub import audit, lgpd
from hub.errors import InvalidRequestError
from hub.events import EmailEventData, HubEvent, InboundMessage
from hub.inbound import process_inbound_event
from tests.aws.conftest import HubAws
from tests.conftest import ServedSandboxes
from tests.helpers import FakeLambdaContext, load_function

PHONE = "+5511987654321"
EMAIL = "maria.silva@example.com.br"
OTHER_PHONE = "+5521998765432"


def ctx(timeout_ms: int = 120_000) -> FakeLambdaContext:
    return FakeLambdaContext(function_name="ContactErase", timeout_ms=timeout_ms)


def erase(org_id: str = "demo", **contact: str) -> dict[str, Any]:
    payload = {"org_id": org_id, "contact": contact or {"phone": PHONE, "email": EMAIL}, "actor": "dpo@agency"}
    result: dict[str, Any] = load_function("contact_erase").handler(payload, ctx())
    return result


def event(type_: str, data: Any, *, provider: str, key: str, org_id: str = "demo") -> HubEvent:
    now = datetime.now(UTC)
    return HubEvent.build(
        org_id=org_id,
        provider=provider,
        type=type_,
        dedupe_key=key,
        occurred_at=now,
        received_at=now,
        data=data,
        raw_ref="s3://archive/test",
    )


def inbound(phone: str, text: str, *, org_id: str = "demo") -> None:
    message = InboundMessage(
        channel="whatsapp",
        message_id=f"IN-{phone}-{text}",
        from_address=phone,
        from_name="Maria",
        message_type="text",
        text=text,
    )
    process_inbound_event(
        event("message.received", message, provider="evolution", key=message.message_id, org_id=org_id)
    )


def bounce(address: str, key: str = "bounce-1") -> None:
    data = EmailEventData(email_id=f"e-{key}", to=[address], reason=f"Permanent/General: {address} does not exist")
    process_inbound_event(event("email.bounced", data, provider="resend", key=key))


def table_text(aws: HubAws, env_name: str) -> str:
    items = aws.client("dynamodb").scan(TableName=aws.env[env_name])["Items"]
    return json.dumps(items)


def send_email(to: str) -> dict[str, Any]:
    result: dict[str, Any] = load_function("email_send").handler(
        {"org_id": "demo", "to": to, "subject": "Oi", "text": "Oi"}, ctx()
    )
    return result


# ----- suppression and consent survive as hashes ---------------------------------------------------


def test_a_suppressed_email_stays_refused_after_the_erasure_without_the_address_stored(
    hub_aws: HubAws, sandboxed: ServedSandboxes
) -> None:
    # Given: a hard bounce put the address on the org's suppression list
    bounce(EMAIL)
    # When
    report = erase(email=EMAIL)
    # Then: the address is gone from the contacts table, the suppression kept as a hash
    assert report["status"] == "completed" and report["erased"]["contacts"] == 1
    assert report["kept"] == {"suppression_hashes": 1}
    stored = table_text(hub_aws, "CONTACTS_TABLE")
    assert "maria" not in stored.lower() and "example.com.br" not in stored
    # and a send to it (in any case) is still refused, before any provider is called
    sandboxed.reset()
    with pytest.raises(InvalidRequestError, match="suppression list") as refused:
        send_email("Maria.Silva@EXAMPLE.com.br")
    assert refused.value.code == "suppressed"
    assert httpx.get(f"{sandboxed.url}/__sandbox/requests", params={"provider": "resend"}).json() == []


def test_an_opt_out_stays_after_the_erasure_and_a_newer_opt_in_lifts_it(
    hub_aws: HubAws, sandboxed: ServedSandboxes
) -> None:
    inbound(PHONE, "SAIR")
    erase(phone="(11) 98765-4321")
    send = load_function("whatsapp_send_text")
    with pytest.raises(InvalidRequestError) as refused:
        send.handler({"org_id": "demo", "to": PHONE, "text": "Oi"}, ctx())
    assert refused.value.code == "opted_out"
    assert PHONE.lstrip("+") not in table_text(hub_aws, "CONTACTS_TABLE")
    # The contact comes back on their own and opts in again: that newer decision wins.
    load_function("contact_consent_set").handler(
        {"org_id": "demo", "channel": "whatsapp", "address": PHONE, "status": "opted_in", "source": "site form"},
        ctx(),
    )
    assert send.handler({"org_id": "demo", "to": PHONE, "text": "Oi"}, ctx())["provider"] == "evolution"


def test_clear_suppression_also_lifts_a_suppression_kept_as_a_hash(hub_aws: HubAws, sandboxed: ServedSandboxes) -> None:
    bounce(EMAIL)
    erase(email=EMAIL)
    load_function("contact_consent_set").handler(
        {
            "org_id": "demo",
            "channel": "email",
            "address": EMAIL,
            "status": "opted_in",
            "source": "the mailbox exists again",
            "clear_suppression": True,
        },
        ctx(),
    )
    assert send_email(EMAIL)["provider"] == "resend"


# ----- the report, idempotency, other orgs ---------------------------------------------------------


def test_erasing_twice_answers_zero_counts_and_audits_and_announces_each_run(
    hub_aws: HubAws, sandboxed: ServedSandboxes
) -> None:
    tap = hub_aws.bus_tap("erased-tap", {"detail-type": ["contact.erased"]})
    inbound(PHONE, "Oi, quero um orçamento")
    load_function("whatsapp_send_text").handler({"org_id": "demo", "to": PHONE, "text": "Olá Maria"}, ctx())
    first = erase()
    second = erase()
    assert first["erased"]["contacts"] == 1 and first["erased"]["messages"] == 1
    assert set(first["erased"]) == set(lgpd.STORES)
    assert second["erased"] == dict.fromkeys(lgpd.STORES, 0)
    assert first["contact_hash"] == second["contact_hash"] and len(first["contact_hash"]) == 64
    assert first["completed_at"] and PHONE not in json.dumps(first)
    # Audit: contact_erased with counts and the hash, never the phone or email
    audit = hub_aws.client("dynamodb").query(
        TableName=hub_aws.env["AUDIT_TABLE"],
        KeyConditionExpression="org_id = :o",
        ExpressionAttributeValues={":o": {"S": "demo"}},
    )["Items"]
    erased = [a for a in audit if a["action"]["S"] == "contact_erased"]
    assert len(erased) == 2 and erased[0]["actor"]["S"] == "dpo@agency"
    details = json.loads(erased[0]["details"]["S"])
    assert details["contact_hash"] == first["contact_hash"] and details["erased"]["messages"] in (0, 1)
    assert "98765" not in json.dumps(audit) and "maria" not in json.dumps(audit).lower()
    # Bus: contact.erased per run
    notes = hub_aws.client("sqs").receive_message(QueueUrl=tap, MaxNumberOfMessages=10, WaitTimeSeconds=1)["Messages"]
    details_on_bus = [json.loads(n["Body"])["detail"] for n in notes]
    assert {d["contact_hash"] for d in details_on_bus} == {first["contact_hash"]}
    assert all("98765" not in json.dumps(d) for d in details_on_bus)


def test_the_same_idempotency_key_answers_the_first_report(hub_aws: HubAws, sandboxed: ServedSandboxes) -> None:
    inbound(PHONE, "Oi")
    payload = {"org_id": "demo", "contact": {"phone": PHONE}, "actor": "dpo", "idempotency_key": "erase-maria"}
    fn = load_function("contact_erase")
    first = fn.handler(payload, ctx())
    assert fn.handler(payload, ctx()) == first and first["erased"]["contacts"] == 1


def test_another_orgs_contact_with_the_same_phone_is_untouched(hub_aws: HubAws, sandboxed: ServedSandboxes) -> None:
    inbound(PHONE, "Oi", org_id="demo")
    inbound(PHONE, "Oi", org_id="acme")
    inbound(OTHER_PHONE, "Oi", org_id="demo")
    erase(phone=PHONE)
    items = hub_aws.client("dynamodb").scan(TableName=hub_aws.env["CONTACTS_TABLE"])["Items"]
    left = {(i["org_id"]["S"], i["contact"]["S"]) for i in items}
    assert ("acme", f"whatsapp#{PHONE}") in left and ("demo", f"whatsapp#{OTHER_PHONE}") in left
    assert ("demo", f"whatsapp#{PHONE}") not in left


@pytest.mark.parametrize(
    ("contact", "field"),
    [({}, "contact"), ({"phone": "12"}, "contact.phone"), ({"email": "not-an-email"}, "contact.email")],
)
def test_bad_input_is_refused_naming_the_field_before_anything_is_erased(
    hub_aws: HubAws, sandboxed: ServedSandboxes, contact: dict[str, str], field: str
) -> None:
    inbound(PHONE, "Oi")
    payload = {"org_id": "demo", "contact": contact, "actor": "dpo"}
    with pytest.raises(InvalidRequestError, match=field):
        load_function("contact_erase").handler(payload, ctx())
    assert f"whatsapp#{PHONE}" in table_text(hub_aws, "CONTACTS_TABLE")


def test_missing_actor_is_refused(hub_aws: HubAws) -> None:
    with pytest.raises(InvalidRequestError, match="actor"):
        load_function("contact_erase").handler({"org_id": "demo", "contact": {"phone": PHONE}}, ctx())


# ----- payments ------------------------------------------------------------------------------------


def _charge(aws: HubAws, charge_id: str, status: str, **extra: dict[str, str]) -> None:
    customer = {"name": "Maria Silva", "tax_id": "12345678909", "email": EMAIL, "phone": PHONE}
    aws.client("dynamodb").put_item(
        TableName=aws.env["PAYMENTS_TABLE"],
        Item={
            "org_id": {"S": "demo"},
            "charge_id": {"S": charge_id},
            "status": {"S": status},
            "customer": {"S": json.dumps(customer)},
            "description": {"S": "Pacote de fotos"},
            **extra,
        },
    )


def test_an_unpaid_charge_is_anonymised_and_a_paid_or_invoiced_one_retained(hub_aws: HubAws) -> None:
    _charge(hub_aws, "c-open", "PENDING")
    _charge(hub_aws, "c-paid", "RECEIVED")
    _charge(hub_aws, "c-invoiced", "CANCELLED", invoice_number={"S": "123"})
    report = erase(email=EMAIL)
    assert report["erased"]["payments"] == 1 and report["retained"]["payments"] == 2
    items = {
        i["charge_id"]["S"]: i
        for i in hub_aws.client("dynamodb").scan(TableName=hub_aws.env["PAYMENTS_TABLE"])["Items"]
    }
    assert json.loads(items["c-open"]["customer"]["S"]) == {"erased": True}
    assert EMAIL in items["c-paid"]["customer"]["S"]  # a fiscal record (LGPD art. 16, I)


# ----- large orgs: continued on the queue ----------------------------------------------------------


def test_work_that_does_not_fit_continues_on_the_queue_until_done(
    hub_aws: HubAws, sandboxed: ServedSandboxes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: more contact data than one page, and an invocation that is always out of time
    for n in range(5):
        load_function("whatsapp_send_text").handler({"org_id": "demo", "to": PHONE, "text": f"Oi {n}"}, ctx())
    inbound(PHONE, "Oi")
    monkeypatch.setattr(lgpd, "PAGE_SIZE", 2)
    monkeypatch.setattr(lgpd, "STOP_MARGIN_SECONDS", 10_000.0)
    tap = hub_aws.bus_tap("erased-tap-2", {"detail-type": ["contact.erased"]})
    fn = load_function("contact_erase")
    # When
    first = fn.handler({"org_id": "demo", "contact": {"phone": PHONE}, "actor": "dpo"}, ctx())
    assert first["status"] == "continuing" and "completed_at" not in first
    rounds = 1
    queue = hub_aws.env["CONTACT_ERASURE_QUEUE_URL"]
    while True:
        messages = hub_aws.client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=1).get("Messages", [])
        if not messages:
            break
        assert PHONE in messages[0]["Body"]  # the job carries the contact while it runs (SSE queue)
        result = fn.handler(hub_aws.as_sqs_event(queue, messages), ctx())
        assert result == {"batchItemFailures": []}
        rounds += 1
        assert rounds < 40
    # Then: everything erased over several rounds, announced once with the totals
    assert rounds > 3
    notes = hub_aws.client("sqs").receive_message(QueueUrl=tap, MaxNumberOfMessages=10, WaitTimeSeconds=1)["Messages"]
    assert len(notes) == 1
    final = json.loads(notes[0]["Body"])["detail"]
    assert final["status"] == "completed" and final["erased"]["messages"] == 5 and final["erased"]["contacts"] == 1
    assert PHONE.lstrip("+") not in table_text(hub_aws, "MESSAGES_TABLE")


# ----- the outbox: sends queued before the erasure ---------------------------------------------------


def test_a_send_queued_before_the_erasure_is_not_sent_and_one_queued_after_is(
    hub_aws: HubAws, sandboxed: ServedSandboxes
) -> None:
    # Given: an SMS waiting in the outbox (a campaign), and a tap on refusals
    sandboxed.reset()
    tap = hub_aws.bus_tap("rejected-tap-lgpd", {"detail-type": ["message.rejected"]})
    queue: str = hub_aws.template.ref_resource("MessagesOutboxQueue")
    sqs = hub_aws.client("sqs")

    def queue_sms(key: str) -> None:
        request = {"org_id": "demo", "to": PHONE, "body": "Promoção!", "idempotency_key": key}
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"operation": "sms.send", "request": request}))

    def consume() -> dict[str, Any]:
        messages = sqs.receive_message(QueueUrl=queue, AttributeNames=["All"], MaxNumberOfMessages=10)["Messages"]
        result: dict[str, Any] = load_function("messages_outbox_process").handler(
            hub_aws.as_sqs_event(queue, messages), ctx()
        )
        return result

    queue_sms("campaign-1")
    # When: the contact is erased before the outbox gets to it
    erase(phone=PHONE)
    # Then: it is consumed without sending, and announced as refused
    assert consume() == {"batchItemFailures": []}
    sent = httpx.get(f"{sandboxed.url}/__sandbox/requests", params={"provider": "twilio"}).json()
    assert sent == []
    note = sqs.receive_message(QueueUrl=tap, WaitTimeSeconds=1)["Messages"][0]
    assert json.loads(note["Body"])["detail"]["error"]["code"] == "contact_erased"
    # A send queued after the erasure (the contact came back) goes out
    queue_sms("campaign-2")
    assert consume() == {"batchItemFailures": []}
    sent = httpx.get(f"{sandboxed.url}/__sandbox/requests", params={"provider": "twilio"}).json()
    assert len(sent) == 1


# ----- the archive: every version ------------------------------------------------------------------


def test_old_versions_of_archived_deliveries_are_erased_too(hub_aws: HubAws) -> None:
    # Given: a delivery archived, then deleted (a delete marker on a versioned bucket) — its bytes
    # are still there as a noncurrent version — and another org's delivery about the same phone
    s3, bucket = hub_aws.client("s3"), hub_aws.env["WEBHOOK_ARCHIVE_BUCKET"]
    body = json.dumps({"body": json.dumps({"From": "whatsapp:" + PHONE, "Body": "Oi"})})
    s3.put_object(Bucket=bucket, Key="raw/twilio/demo/2026/11/22/000000000000-a.json", Body=body.encode())
    s3.delete_object(Bucket=bucket, Key="raw/twilio/demo/2026/11/22/000000000000-a.json")
    s3.put_object(Bucket=bucket, Key="raw/evolution/acme/2026/11/22/000000000000-b.json", Body=body.encode())
    # When
    report = erase(phone=PHONE)
    # Then: the old version is gone; the other org's archive is untouched
    assert report["erased"]["webhook_archive"] == 1
    versions = s3.list_object_versions(Bucket=bucket).get("Versions", [])
    assert [v["Key"] for v in versions] == ["raw/evolution/acme/2026/11/22/000000000000-b.json"]


def test_audit_records_that_mention_the_contact_stay_and_are_counted_as_retained(hub_aws: HubAws) -> None:
    # A PIX transfer to the contact's email key: the audit trail is append-only (and financial)
    audit.record("demo", "transfer.created", actor="finance", details={"destination": EMAIL, "value_cents": 100})
    report = erase(email=EMAIL)
    assert report["retained"]["audit"] == 1
    assert erase(email=EMAIL)["retained"]["audit"] == 1  # still there, still counted
