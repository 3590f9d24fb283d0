"""Issue 14 §6, through the local cloud: a contact reached the hub by every path (WhatsApp, SMS
and email sends, an inbound WhatsApp webhook, a consent, an email bounce, a notification, an
outbox send); ContactErase leaves nothing identifying in any DynamoDB table or S3 object (every
version), and the hub still refuses what the contact had refused."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from hub import lgpd
from localcloud import LocalCloud
from tests.e2e.conftest import client, invoke
from tests.helpers import sample_event, wait_until
from tests.signing import signed_headers

pytestmark = pytest.mark.e2e

PHONE = "+5511987654321"
EMAIL = "maria.silva@example.com.br"
OTHER = "+5521998765432"  # another contact of the org: must stay
# Every stored form, searched case-insensitively: E.164 and digits and the JID contain the
# national number; the legacy JID drops the mobile 9; the national form with punctuation.
NEEDLES = (
    "11987654321",
    "551187654321",
    "98765-4321",
    "98765 4321",
    "(11) 98765",
    EMAIL,
    EMAIL.replace("@", "%40"),
)


def env(cloud: LocalCloud, name: str) -> str:
    assert cloud.template is not None
    value = cloud.template.env_value(name)
    assert value
    return value


def outbox_url(cloud: LocalCloud) -> str:
    assert cloud.template is not None
    url: str = cloud.template.ref_resource("MessagesOutboxQueue")
    return url


def post_webhook(cloud: LocalCloud, provider: str, body: dict[str, Any]) -> None:
    text = json.dumps(body)
    response = httpx.post(
        f"{cloud.api_url}/webhooks/{provider}/demo",
        content=text.encode(),
        headers=signed_headers(provider, text),
        timeout=10,
    )
    assert response.status_code == 200, response.text


def inbound_whatsapp(cloud: LocalCloud, phone: str, text: str) -> None:
    body = json.loads(sample_event("webhook_evolution")["body"])
    body["data"]["key"]["remoteJid"] = phone.lstrip("+") + "@s.whatsapp.net"
    body["data"]["key"]["id"] = "E2E-" + str(time.time_ns())
    body["data"]["message"] = {"conversation": text}
    post_webhook(cloud, "evolution", body)


def hard_bounce(cloud: LocalCloud, address: str) -> None:
    body = json.loads(sample_event("webhook_resend")["body"])
    body["data"]["email_id"] = f"e2e-{time.time_ns()}"
    body["data"]["to"] = [address]
    post_webhook(cloud, "resend", body)


def contact_item(cloud: LocalCloud, key: str) -> dict[str, Any] | None:
    item: dict[str, Any] | None = (
        client(cloud, "dynamodb")
        .get_item(TableName=env(cloud, "CONTACTS_TABLE"), Key={"org_id": {"S": "demo"}, "contact": {"S": key}})
        .get("Item")
    )
    return item


def messages_to(cloud: LocalCloud, address: str) -> list[dict[str, Any]]:
    items = client(cloud, "dynamodb").scan(TableName=env(cloud, "MESSAGES_TABLE"))["Items"]
    return [i for i in items if i.get("to", {}).get("S") == address]


def refused(cloud: LocalCloud, function: str, payload: dict[str, Any]) -> dict[str, Any]:
    response = client(cloud, "lambda").invoke(FunctionName=function, Payload=json.dumps(payload).encode())
    body: dict[str, Any] = json.loads(response["Payload"].read())
    assert response.get("FunctionError"), body
    return body


def wait_for_execution(cloud: LocalCloud, arn: str) -> dict[str, Any]:
    sfn = client(cloud, "stepfunctions")

    def finished() -> dict[str, Any] | None:
        described: dict[str, Any] = sfn.describe_execution(executionArn=arn)
        return described if described["status"] != "RUNNING" else None

    result: dict[str, Any] = wait_until(finished, timeout=90, interval=0.3)
    return result


def everything_stored(cloud: LocalCloud) -> dict[str, str]:
    """Every DynamoDB item and every S3 object version the hub holds, as text by location."""
    found: dict[str, str] = {}
    db = client(cloud, "dynamodb")
    for table in db.list_tables()["TableNames"]:
        for page in db.get_paginator("scan").paginate(TableName=table):
            for n, item in enumerate(page["Items"]):
                found[f"dynamodb:{table}:{len(found)}:{n}"] = json.dumps(item, ensure_ascii=False)
    s3 = client(cloud, "s3")
    for bucket in (b["Name"] for b in s3.list_buckets()["Buckets"]):
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            for version in page.get("Versions", []):
                body = s3.get_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])["Body"].read()
                found[f"s3:{bucket}/{version['Key']}@{version['VersionId']}"] = version["Key"] + body.decode(
                    "utf-8", errors="replace"
                )
    return found


def mentions(needles: tuple[str, ...]) -> Callable[[dict[str, str]], dict[str, str]]:
    def search(stored: dict[str, str]) -> dict[str, str]:
        return {
            where: next(n for n in needles if n.lower() in text.lower())
            for where, text in stored.items()
            if any(n.lower() in text.lower() for n in needles)
        }

    return search


def test_an_erased_contact_leaves_no_trace(cloud: LocalCloud) -> None:
    # ----- Given: the contact reached the hub by every path -----
    sent = [
        invoke(cloud, "WhatsAppSendText", {"org_id": "demo", "to": "(11) 98765-4321", "text": "Olá Maria!"}),
        invoke(cloud, "SmsSend", {"org_id": "demo", "to": PHONE, "body": "Seu código: 1234"}),
        invoke(
            cloud,
            "EmailSend",
            {
                "org_id": "demo",
                "to": "Maria.Silva@Example.com.br",
                "subject": "Proposta",
                "text": "Oi Maria",
                "idempotency_key": "e2e-lgpd-email",
            },
        ),
    ]
    assert [s["channel"] for s in sent] == ["whatsapp", "sms", "email"]
    started = invoke(
        cloud,
        "NotifyContact",
        {
            "org_id": "demo",
            "notification_id": "e2e-lgpd-notify",
            "contact": {"name": "Maria", "phone": "(11) 98765-4321", "email": EMAIL},
            "message": {"text": "Sua reunião é amanhã às 10h.", "subject": "Lembrete"},
        },
    )
    assert wait_for_execution(cloud, started["execution_arn"])["status"] == "SUCCEEDED"
    outbox = {
        "operation": "sms.send",
        "request": {"org_id": "demo", "to": PHONE, "body": "Campanha", "idempotency_key": "e2e-lgpd-outbox"},
    }
    client(cloud, "sqs").send_message(QueueUrl=outbox_url(cloud), MessageBody=json.dumps(outbox))
    wait_until(lambda: len([m for m in messages_to(cloud, PHONE) if m["channel"]["S"] == "sms"]) >= 2, timeout=30)
    inbound_whatsapp(cloud, PHONE, "Oi, quero um orçamento")
    inbound_whatsapp(cloud, OTHER, "Oi, sou o João")
    hard_bounce(cloud, "Maria.Silva@Example.com.br")
    invoke(
        cloud,
        "ContactConsentSet",
        {"org_id": "demo", "channel": "sms", "address": PHONE, "status": "opted_out", "source": "site form"},
    )
    wait_until(lambda: contact_item(cloud, f"whatsapp#{PHONE}"), timeout=30)
    wait_until(lambda: contact_item(cloud, f"whatsapp#{OTHER}"), timeout=30)
    wait_until(lambda: (contact_item(cloud, f"email#{EMAIL}") or {}).get("suppressed_reason"), timeout=30)
    before = mentions(NEEDLES)(everything_stored(cloud))
    stores = {where.split(":")[1].split("/")[0] for where in before}
    assert len(stores) >= 4, before  # contacts, messages, idempotency, the archive at least

    # ----- When -----
    report = invoke(
        cloud,
        "ContactErase",
        {
            "org_id": "demo",
            "contact": {"phone": "11 98765-4321", "email": "MARIA.SILVA@example.com.br"},
            "actor": "dpo",
        },
    )

    # ----- Then: nothing identifying remains, anywhere -----
    assert report["status"] == "completed", report
    assert report["erased"]["contacts"] >= 3 and report["erased"]["messages"] >= 5, report
    assert report["erased"]["webhook_archive"] >= 2 and report["erased"]["idempotency"] >= 1, report
    left = mentions(NEEDLES)(everything_stored(cloud))
    assert left == {}, left
    # The other contact is untouched
    assert contact_item(cloud, f"whatsapp#{OTHER}") is not None
    assert mentions(("21998765432",))(everything_stored(cloud))
    # What the contact refused stays refused (kept as hashes)
    email = refused(
        cloud, "EmailSend", {"org_id": "demo", "to": "maria.silva@EXAMPLE.com.br", "subject": "Oi", "text": "Oi"}
    )
    assert email["errorType"] == "InvalidRequestError" and "suppression list" in email["errorMessage"]
    sms = refused(cloud, "SmsSend", {"org_id": "demo", "to": PHONE, "body": "Oi"})
    assert sms["errorType"] == "InvalidRequestError" and "opted out" in sms["errorMessage"]
    # Erasing again finds nothing
    again = invoke(
        cloud, "ContactErase", {"org_id": "demo", "contact": {"phone": PHONE, "email": EMAIL}, "actor": "dpo"}
    )
    assert set(again["erased"].values()) == {0}, again


def test_an_erasure_continued_on_the_queue_is_finished_by_contact_erase(cloud: LocalCloud) -> None:
    # Given: a contact, and an erasure job that did not fit its first invocation (as ContactErase
    # leaves it on ContactErasureQueue, at the contacts stage)
    phone = "+5531987654321"
    inbound_whatsapp(cloud, phone, "Oi")
    wait_until(lambda: contact_item(cloud, f"whatsapp#{phone}"), timeout=30)
    ids = lgpd.identifiers(phone, None)
    job = lgpd.ErasureJob(
        org_id="demo",
        phone=ids.phone,
        actor="dpo",
        contact_hash=lgpd.contact_hash("demo", ids),
        started_at=datetime.now(UTC),
        rounds=1,
    )
    assert cloud.template is not None
    queue: str = cloud.template.ref_resource("ContactErasureQueue")
    # When
    client(cloud, "sqs").send_message(QueueUrl=queue, MessageBody=job.model_dump_json())
    # Then: the function consumes it, erases, and writes the audit record once done
    wait_until(lambda: contact_item(cloud, f"whatsapp#{phone}") is None, timeout=30)

    def audited() -> list[dict[str, Any]]:
        items = client(cloud, "dynamodb").query(
            TableName=env(cloud, "AUDIT_TABLE"),
            KeyConditionExpression="org_id = :o",
            ExpressionAttributeValues={":o": {"S": "demo"}},
        )["Items"]
        return [i for i in items if job.contact_hash in i.get("details", {}).get("S", "")]

    record = wait_until(audited, timeout=30)[0]
    assert record["action"]["S"] == "contact_erased"
    assert json.loads(record["details"]["S"])["rounds"] == 2
    assert mentions(("31987654321",))(everything_stored(cloud)) == {}
