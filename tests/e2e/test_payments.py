"""Charges in the local cloud, driven as services drive them (Lambda invoke endpoint) against
the Asaas/PagBank sandboxes: never a double charge, failover, payment state from webhooks."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from localcloud import LocalCloud
from localcloud.sandboxes import asaas as asaas_sandbox
from tests.e2e.conftest import booted, client, fault, invoke, wait_status
from tests.helpers import CUSTOMER, charge_payload

pytestmark = pytest.mark.e2e

# Asaas (and its sandbox) speak Brasília time: "today" is Brasília's today, whatever the clock's zone.
BRASILIA = ZoneInfo("America/Sao_Paulo")


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    # A short read timeout, so "the create timed out but succeeded" takes seconds, not minutes.
    with booted(env={"HTTP_READ_TIMEOUT": "1.5"}) as running:
        yield running


@pytest.fixture(autouse=True)
def no_faults(cloud: LocalCloud) -> Iterator[None]:
    yield
    for provider in ("asaas", "pagbank"):
        httpx.delete(f"{cloud.sandbox_url}/__sandbox/faults/{provider}", timeout=5)


def invoke_error(cloud: LocalCloud, function: str, payload: dict[str, Any]) -> dict[str, Any]:
    response = client(cloud, "lambda").invoke(FunctionName=function, Payload=json.dumps(payload).encode())
    body: dict[str, Any] = json.loads(response["Payload"].read())
    assert response.get("FunctionError"), body
    return body


def charge(charge_id: str, **extra: Any) -> dict[str, Any]:
    due = date.today() + timedelta(days=7)
    return {**charge_payload(charge_id, 350000, due, description="Produção de vídeo institucional"), **extra}


def new_id() -> str:
    return "C" + uuid.uuid4().hex[:20].upper()


def requests_to(cloud: LocalCloud, provider: str, method: str, path_part: str) -> list[dict[str, Any]]:
    log = httpx.get(f"{cloud.sandbox_url}/__sandbox/requests", params={"provider": provider}, timeout=5).json()
    return [r for r in log if r.get("method") == method and path_part in r.get("path", "")]


def test_a_pix_charge_through_asaas_in_exact_reais(cloud: LocalCloud) -> None:
    charge_id = new_id()
    created = invoke(cloud, "PaymentCreateCharge", charge(charge_id))
    assert created["provider"] == "asaas" and created["charge_id"] == charge_id
    assert created["amount_cents"] == 350000 and created["pix_payload"].startswith("000201")
    posts = [r for r in requests_to(cloud, "asaas", "POST", "/v3/payments") if charge_id in json.dumps(r)]
    assert len(posts) == 1
    status = invoke(cloud, "PaymentStatus", {"org_id": "demo", "charge_id": charge_id})
    assert status["status"] == "PENDING" and status["provider"] == "asaas"


def test_the_same_charge_request_twice_is_one_charge(cloud: LocalCloud) -> None:
    charge_id = new_id()
    first = invoke(cloud, "PaymentCreateCharge", charge(charge_id))
    second = invoke(cloud, "PaymentCreateCharge", charge(charge_id))
    assert second["provider_charge_id"] == first["provider_charge_id"] and second["duplicate"] is True
    posts = [r for r in requests_to(cloud, "asaas", "POST", "/v3/payments") if charge_id in json.dumps(r)]
    assert len(posts) == 1
    refused = invoke_error(cloud, "PaymentCreateCharge", charge(charge_id, value_cents=1))
    assert refused["errorType"] == "InvalidRequestError" and "already used" in refused["errorMessage"]


def test_a_create_that_timed_out_but_succeeded_is_found_not_repeated(cloud: LocalCloud) -> None:
    charge_id = new_id()
    httpx.post(f"{cloud.sandbox_url}/asaas/__control/slow_create", json={"delay_seconds": 3, "times": 1}, timeout=5)
    created = invoke(cloud, "PaymentCreateCharge", charge(charge_id))
    assert created["provider"] == "asaas"  # found by externalReference: no failover
    assert requests_to(cloud, "pagbank", "POST", "/orders") == [] or all(
        charge_id not in json.dumps(r) for r in requests_to(cloud, "pagbank", "POST", "/orders")
    )
    listed = httpx.get(
        f"{cloud.sandbox_url}/asaas/v3/payments",
        params={"externalReference": charge_id},
        headers={"access_token": asaas_sandbox.DEMO_API_KEY},
        timeout=5,
    ).json()
    assert listed["totalCount"] == 1


def test_asaas_down_fails_over_to_pagbank_with_our_id_as_idempotency_key(cloud: LocalCloud) -> None:
    charge_id = new_id()
    fault(cloud, "asaas", mode="error", status=503)
    created = invoke(cloud, "PaymentCreateCharge", charge(charge_id))
    assert created["provider"] == "pagbank" and "asaas" in created["failed_attempts"]
    [order] = [r for r in requests_to(cloud, "pagbank", "POST", "/orders") if charge_id in json.dumps(r)]
    headers = {k.lower(): v for k, v in order["headers"].items()}
    assert headers["x-idempotency-key"] == charge_id


def test_every_gateway_unavailable_leaves_a_manual_pix_with_our_id_as_txid(cloud: LocalCloud) -> None:
    charge_id = new_id()
    fault(cloud, "asaas", mode="error", status=503)
    fault(cloud, "pagbank", mode="rate_limited")
    created = invoke(cloud, "PaymentCreateCharge", charge(charge_id))
    assert created["provider"] == "manual"
    assert f"05{len(charge_id):02d}{charge_id}" in created["pix_payload"]  # EMV 62/05 txid


def brasilia_now() -> datetime:
    return datetime.now(BRASILIA)


def asaas_webhook(cloud: LocalCloud, event: str, payment: dict[str, Any]) -> httpx.Response:
    # Asaas writes dateCreated in Brasília time, without a zone.
    sent_at = brasilia_now().strftime("%Y-%m-%d %H:%M:%S")
    body = {"id": f"evt_{uuid.uuid4().hex}", "event": event, "dateCreated": sent_at, "payment": payment}
    return httpx.post(
        f"{cloud.api_url}/webhooks/asaas/demo",
        json=body,
        headers={"asaas-access-token": asaas_sandbox.DEMO_WEBHOOK_TOKEN},
        timeout=10,
    )


def charge_status(cloud: LocalCloud, charge_id: str, expected: str) -> dict[str, Any]:
    return wait_status(cloud, "PaymentStatus", {"org_id": "demo", "charge_id": charge_id}, expected)


def test_received_before_confirmed_and_a_late_overdue_never_move_the_charge_back(cloud: LocalCloud) -> None:
    charge_id = new_id()
    created = invoke(cloud, "PaymentCreateCharge", charge(charge_id))
    payment = {
        "id": created["provider_charge_id"],
        "customer": "cus_x",
        "value": 3500.00,
        "netValue": 3465.35,
        "billingType": "PIX",
        "status": "RECEIVED",
        "externalReference": charge_id,
    }
    assert asaas_webhook(cloud, "PAYMENT_RECEIVED", payment).status_code == 200
    received = charge_status(cloud, charge_id, "RECEIVED")
    assert received["paid_at"]
    assert asaas_webhook(cloud, "PAYMENT_CONFIRMED", {**payment, "status": "CONFIRMED"}).status_code == 200
    assert asaas_webhook(cloud, "PAYMENT_OVERDUE", {**payment, "status": "OVERDUE"}).status_code == 200
    time.sleep(2)
    later = invoke(cloud, "PaymentStatus", {"org_id": "demo", "charge_id": charge_id})
    assert later["status"] == "RECEIVED" and later["paid_at"] == received["paid_at"]


def test_an_unknown_outcome_at_pagbank_stops_the_chain_rather_than_risk_a_second_charge(cloud: LocalCloud) -> None:
    """PagBank has no lookup by our reference: a dropped connection after the request may
    have created the order, so the manual fallback is not used; a retry resumes with the same
    idempotency key."""
    charge_id = new_id()
    fault(cloud, "asaas", mode="error", status=503)
    fault(cloud, "pagbank", mode="down")
    error = invoke_error(cloud, "PaymentCreateCharge", charge(charge_id))
    assert error["errorType"] == "OutcomeUnknownError" and charge_id in error["errorMessage"]
    status = invoke(cloud, "PaymentStatus", {"org_id": "demo", "charge_id": charge_id})
    assert status["status"] == "CREATING" and status.get("provider") is None
    # The same charge at once: still unresolved, answered as in progress, nothing sent anywhere
    orders_before = len(requests_to(cloud, "pagbank", "POST", "/orders"))
    again = invoke_error(cloud, "PaymentCreateCharge", charge(charge_id))
    assert again["errorType"] == "RequestInProgressError"
    assert len(requests_to(cloud, "pagbank", "POST", "/orders")) == orders_before


# ----- NFS-e on payment ------------------------------------------------------------------------------


def bus_tap(cloud: LocalCloud, name: str, detail_types: list[str]) -> str:
    sqs, events = client(cloud, "sqs"), client(cloud, "events")
    url: str = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert cloud.template is not None
    bus = cloud.template.env_value("EVENT_BUS_NAME")
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps({"detail-type": detail_types}))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "t", "Arn": arn}])
    return url


def wait_invoice(cloud: LocalCloud, charge_id: str, expected: str, seconds: float = 60) -> dict[str, Any]:
    payload = {"org_id": "demo", "charge_id": charge_id}
    return wait_status(cloud, "PaymentStatus", payload, expected, field="invoice_status", seconds=seconds, interval=0.5)


def paid_charge(cloud: LocalCloud, description: str) -> tuple[str, dict[str, Any]]:
    charge_id = new_id()
    created = invoke(cloud, "PaymentCreateCharge", charge(charge_id, description=description))
    payment = {
        "id": created["provider_charge_id"],
        "customer": "cus_x",
        "value": 3500.00,
        "billingType": "PIX",
        "status": "RECEIVED",
        "externalReference": charge_id,
    }
    return charge_id, payment


def dps_posts(cloud: LocalCloud, charge_id: str) -> int:
    return len([r for r in requests_to(cloud, "nuvemfiscal", "POST", "/nfse/dps") if charge_id in json.dumps(r)])


def test_a_paid_charge_gets_exactly_one_invoice_stored_emailed_and_announced(cloud: LocalCloud) -> None:
    tap = bus_tap(cloud, "invoice-issued-tap", ["invoice.issued"])
    charge_id, payment = paid_charge(cloud, "[POLLS=1] Produção de vídeo institucional")
    # Out of order and duplicated: RECEIVED, then CONFIRMED, then RECEIVED again.
    assert asaas_webhook(cloud, "PAYMENT_RECEIVED", payment).status_code == 200
    assert asaas_webhook(cloud, "PAYMENT_CONFIRMED", {**payment, "status": "CONFIRMED"}).status_code == 200
    assert asaas_webhook(cloud, "PAYMENT_RECEIVED", payment).status_code == 200
    status = wait_invoice(cloud, charge_id, "autorizada")
    assert status["invoice_number"]
    assert dps_posts(cloud, charge_id) == 1
    # The poll can record "autorizada" before the finalize step stores the files; invoice.issued
    # is published after both are stored, so wait for it first (this charge's: an earlier test's
    # invoice may still be finishing).
    sqs, deadline, notes = client(cloud, "sqs"), time.monotonic() + 30, []
    while not notes and time.monotonic() < deadline:
        received = sqs.receive_message(QueueUrl=tap, WaitTimeSeconds=2, MaxNumberOfMessages=10).get("Messages", [])
        notes = [m for m in received if json.loads(m["Body"])["detail"].get("charge_id") == charge_id]
    [note] = notes
    assert cloud.template is not None
    bucket = cloud.template.env_value("INVOICES_BUCKET")
    today = datetime.now(UTC)  # the invoices bucket is keyed by the UTC month of issue
    keys = {
        o["Key"]
        for o in client(cloud, "s3").list_objects_v2(Bucket=bucket, Prefix=f"demo/{today:%Y}/{today:%m}/")["Contents"]
    }
    assert {f"demo/{today:%Y}/{today:%m}/{charge_id}.pdf", f"demo/{today:%Y}/{today:%m}/{charge_id}.xml"} <= keys
    detail = json.loads(note["Body"])["detail"]
    assert detail["charge_id"] == charge_id and detail["emailed_message_id"]
    emails = [r for r in requests_to(cloud, "resend", "POST", "/emails") if charge_id in json.dumps(r)]
    assert len(emails) == 1 and "attachments" in json.dumps(emails[0])


def test_a_denied_invoice_is_announced_with_the_reasons_and_not_retried(cloud: LocalCloud) -> None:
    tap = bus_tap(cloud, "invoice-rejected-tap", ["invoice.rejected"])
    charge_id, payment = paid_charge(cloud, "[POLLS=0] NEGAR este serviço")
    assert asaas_webhook(cloud, "PAYMENT_RECEIVED", payment).status_code == 200
    wait_invoice(cloud, charge_id, "negada")
    [note] = client(cloud, "sqs").receive_message(QueueUrl=tap, WaitTimeSeconds=5)["Messages"]
    detail = json.loads(note["Body"])["detail"]
    assert detail["charge_id"] == charge_id and detail["reasons"]
    time.sleep(1)
    assert dps_posts(cloud, charge_id) == 1
    # The org is told by email too (its own address from the messaging settings).
    mails = [r for r in requests_to(cloud, "resend", "POST", "/emails") if "NFS-e negada - cobran" in json.dumps(r)]
    assert any(charge_id in json.dumps(m) and "contato@somosprodutora.com.br" in json.dumps(m) for m in mails)


def test_a_refund_cancels_the_charges_invoice(cloud: LocalCloud) -> None:
    charge_id, payment = paid_charge(cloud, "[POLLS=0] Edição de vídeo")
    assert asaas_webhook(cloud, "PAYMENT_RECEIVED", payment).status_code == 200
    wait_invoice(cloud, charge_id, "autorizada")
    refunded = {**payment, "status": "REFUNDED", "refunds": [{"value": 3500.00, "status": "DONE"}]}
    assert asaas_webhook(cloud, "PAYMENT_REFUNDED", refunded).status_code == 200
    status = wait_invoice(cloud, charge_id, "cancelada")
    assert status["status"] == "REFUNDED"


# ----- reconciliation --------------------------------------------------------------------------------


def test_reconciliation_finds_each_kind_of_mismatch_and_writes_the_report(cloud: LocalCloud) -> None:
    control = f"{cloud.sandbox_url}/asaas/__control"
    # 1. paid and credited: clean.
    clean_id, clean = paid_charge(cloud, "Pacote de posts")
    httpx.post(f"{control}/payments/{clean['id']}/receive", json={}, timeout=5).raise_for_status()
    assert asaas_webhook(cloud, "PAYMENT_RECEIVED", clean).status_code == 200
    # 2. marked paid by a webhook, but no money on the statement.
    unpaid_id, unpaid = paid_charge(cloud, "Roteiro")
    assert asaas_webhook(cloud, "PAYMENT_RECEIVED", unpaid).status_code == 200
    # 3. credited with a different amount.
    short_id, short = paid_charge(cloud, "Edição")
    assert asaas_webhook(cloud, "PAYMENT_RECEIVED", short).status_code == 200
    today = brasilia_now().date().isoformat()
    httpx.post(
        f"{control}/financialTransactions",
        json={"value": 3499.99, "type": "PAYMENT_RECEIVED", "paymentId": short["id"], "date": today},
        timeout=5,
    ).raise_for_status()
    # 4. money for a payment the hub never created.
    httpx.post(
        f"{control}/financialTransactions",
        json={"value": 120.00, "type": "PAYMENT_RECEIVED", "paymentId": "pay_outside", "date": today},
        timeout=5,
    ).raise_for_status()
    for charge_id in (clean_id, unpaid_id, short_id):
        charge_status(cloud, charge_id, "RECEIVED")
    # 5. money sent to the payout account that never reached it, and a bank credit from
    #    Asaas with no transfer behind it (the bank side read through the aggregator).
    sent = invoke(
        cloud,
        "TransferCreate",
        {
            "org_id": "demo",
            "value_cents": 77777,
            "destination": "Conta PJ (PIX)",
            "requested_by": "financeiro@somosprodutora.com.br",
            "idempotency_key": new_id(),
        },
    )
    httpx.post(
        f"{cloud.sandbox_url}/pluggy/__control/transactions",
        json={"date": today, "amount": 123.45, "description": "TED ASAAS IP S.A.", "type": "CREDIT"},
        timeout=5,
    ).raise_for_status()

    run = invoke(cloud, "PaymentsReconcile", {"org_id": "demo", "start": today, "end": today})
    [report] = run["reports"]
    kinds = {(m["kind"], m.get("charge_id") or m.get("provider_charge_id")) for m in report["mismatches"]}
    assert ("paid_without_money", unpaid_id) in kinds
    assert ("amount_mismatch", short_id) in kinds
    assert ("money_without_charge", "pay_outside") in kinds
    assert not any(clean_id == (m.get("charge_id")) for m in report["mismatches"])
    assert report["bank_checked"] is True
    bank = [m for m in report["mismatches"] if m["kind"] in ("transfer_not_in_bank", "bank_credit_without_transfer")]
    assert {(m["kind"], m.get("expected_cents") or m.get("actual_cents")) for m in bank} >= {
        ("transfer_not_in_bank", 77777),
        ("bank_credit_without_transfer", 12345),
    }
    assert sent["amount_cents"] == 77777
    assert cloud.template is not None
    csv_body = (
        client(cloud, "s3")
        .get_object(Bucket=cloud.template.env_value("EXPORTS_BUCKET"), Key=report["report_key"])["Body"]
        .read()
        .decode()
    )
    assert csv_body.splitlines()[0].startswith("kind,") and unpaid_id in csv_body and "pay_outside" in csv_body


# ----- the other operations ---------------------------------------------------------------------------


def test_mercadopago_pix_when_asked_for_with_the_mandatory_idempotency_key(cloud: LocalCloud) -> None:
    charge_id = new_id()
    created = invoke(cloud, "PaymentCreateCharge", charge(charge_id, value_cents=1999, providers=["mercadopago"]))
    assert created["provider"] == "mercadopago" and created["pix_payload"]
    [post] = [r for r in requests_to(cloud, "mercadopago", "POST", "/v1/payments") if charge_id in json.dumps(r)]
    headers = {k.lower(): v for k, v in post["headers"].items()}
    assert headers["x-idempotency-key"] == charge_id
    assert '"transaction_amount": 19.99' in json.dumps(post) or "19.99" in json.dumps(post)


def test_pix_qr_code_link_and_subscription(cloud: LocalCloud) -> None:
    charge_id = new_id()
    invoke(cloud, "PaymentCreateCharge", charge(charge_id))
    qr = invoke(cloud, "PixQrCode", {"org_id": "demo", "charge_id": charge_id})
    assert qr["payload"].startswith("000201")
    link = invoke(
        cloud,
        "PaymentLinkCreate",
        {"org_id": "demo", "name": "Pacote de posts", "value_cents": 180000, "idempotency_key": new_id()},
    )
    assert link["url"].startswith("http")
    sub = invoke(
        cloud,
        "SubscriptionCreate",
        {
            "org_id": "demo",
            "customer": CUSTOMER,
            "billing_type": "BOLETO",
            "value_cents": 250000,
            "next_due_date": (date.today() + timedelta(days=10)).isoformat(),
            "idempotency_key": new_id(),
        },
    )
    assert sub["provider"] == "asaas" and sub["subscription_id"]
    cancelled = invoke(cloud, "SubscriptionCancel", {"org_id": "demo", "subscription_id": sub["subscription_id"]})
    assert cancelled["cancelled"] is True


def test_transfers_only_to_allowlisted_accounts_and_every_attempt_is_announced(cloud: LocalCloud) -> None:
    tap = bus_tap(cloud, "sensitive-tap", ["security.sensitive_action"])
    base = {"org_id": "demo", "value_cents": 50000, "requested_by": "financeiro@somosprodutora.com.br"}
    before = len(requests_to(cloud, "asaas", "POST", "/v3/transfers"))
    refused = invoke_error(
        cloud, "TransferCreate", {**base, "destination": "Conta do primo", "idempotency_key": new_id()}
    )
    assert refused["errorType"] == "InvalidRequestError" and "allowlist" in refused["errorMessage"]
    assert len(requests_to(cloud, "asaas", "POST", "/v3/transfers")) == before  # nothing left the account
    made = invoke(cloud, "TransferCreate", {**base, "destination": "Conta PJ (PIX)", "idempotency_key": new_id()})
    assert made["transfer_id"] and made["amount_cents"] == 50000
    notes = client(cloud, "sqs").receive_message(QueueUrl=tap, MaxNumberOfMessages=10, WaitTimeSeconds=5)["Messages"]
    actions = sorted(json.loads(n["Body"])["detail"]["action"] for n in notes)
    assert actions == ["transfer_created", "transfer_refused"]


def test_a_mercadopago_notification_is_looked_up_and_moves_the_charge(cloud: LocalCloud) -> None:
    from tests.signing import signed_headers

    charge_id = new_id()
    created = invoke(cloud, "PaymentCreateCharge", charge(charge_id, value_cents=1999, providers=["mercadopago"]))
    payment_id = created["provider_charge_id"]
    httpx.post(f"{cloud.sandbox_url}/mercadopago/sandbox/payments/{payment_id}/approve", timeout=5).raise_for_status()
    body = json.dumps(
        {
            "id": int(uuid.uuid4().int % 10**10),
            "live_mode": False,
            "type": "payment",
            "date_created": brasilia_now().isoformat(timespec="milliseconds"),
            "user_id": 123456,
            "api_version": "v1",
            "action": "payment.updated",
            "data": {"id": str(payment_id)},
        }
    )
    query = {"data.id": str(payment_id), "type": "payment"}
    answer = httpx.post(
        f"{cloud.api_url}/webhooks/mercadopago/demo",
        params=query,
        content=body,
        headers=signed_headers("mercadopago", body, query),
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    status = charge_status(cloud, charge_id, "RECEIVED")
    assert status["provider"] == "mercadopago" and status["paid_at"]


def test_an_alphanumeric_cnpj_customer_is_stored_as_14_uppercase_characters(cloud: LocalCloud) -> None:
    upserted = invoke(
        cloud,
        "PaymentCustomerUpsert",
        {"org_id": "demo", "name": "Nova Empresa Ltda", "cpf_cnpj": "12.abc.345/01de-35", "email": "a@nova.com.br"},
    )
    assert upserted["tax_id"] == "12ABC34501DE35" and upserted["created"] is True
    again = invoke(
        cloud, "PaymentCustomerUpsert", {"org_id": "demo", "name": "Nova Empresa Ltda", "cpf_cnpj": "12ABC34501DE35"}
    )
    assert again["customer_id"] == upserted["customer_id"] and again["created"] is False
    bad = invoke_error(
        cloud, "PaymentCustomerUpsert", {"org_id": "demo", "name": "X", "cpf_cnpj": "12.ABC.345/01DE-36"}
    )
    assert bad["errorType"] == "InvalidRequestError" and "cpf_cnpj" in bad["errorMessage"]
    assert "01DE-36" not in bad["errorMessage"]  # never echoes the value


# ----- PagBank: a paid charge becomes paid (notification, or the scheduled lookup) ---------------


def pagbank_charge(cloud: LocalCloud, description: str) -> tuple[str, str]:
    """A PIX charge that Asaas cannot take (503): PaymentCreateCharge fails over to PagBank."""
    charge_id = new_id()
    fault(cloud, "asaas", mode="error", status=503)
    created = invoke(cloud, "PaymentCreateCharge", charge(charge_id, description=description))
    httpx.delete(f"{cloud.sandbox_url}/__sandbox/faults/asaas", timeout=5)
    assert created["provider"] == "pagbank", created
    return charge_id, created["provider_charge_id"]


def pay_at_pagbank(cloud: LocalCloud, order_id: str, **body: Any) -> dict[str, Any]:
    answer = httpx.post(f"{cloud.sandbox_url}/pagbank/__control/orders/{order_id}/pay", json=body, timeout=60)
    answer.raise_for_status()
    paid: dict[str, Any] = answer.json()
    return paid


def test_a_pagbank_pix_paid_and_notified_becomes_received_with_exactly_one_invoice(cloud: LocalCloud) -> None:
    # Given a PIX charge at PagBank, created asking PagBank to notify the org's receiver
    charge_id, order_id = pagbank_charge(cloud, "[POLLS=1] Produção de vídeo institucional")
    [order] = [r for r in requests_to(cloud, "pagbank", "POST", "/orders") if charge_id in json.dumps(r)]
    assert json.loads(order["body"])["notification_urls"] == [f"{cloud.api_url}/webhooks/pagbank/demo"]
    # A forged "paid" notification is refused and moves nothing
    lie = {"id": order_id, "reference_id": charge_id, "charges": [{"id": "CHAR_X", "status": "PAID"}]}
    forged = httpx.post(
        f"{cloud.api_url}/webhooks/pagbank/demo",
        content=json.dumps(lie),
        headers={"Content-Type": "application/json", "x-authenticity-token": "ab" * 32},
        timeout=10,
    )
    assert forged.status_code == 401
    assert invoke(cloud, "PaymentStatus", {"org_id": "demo", "charge_id": charge_id})["status"] == "PENDING"
    # When the payer pays: PagBank posts the signed order to notification_urls
    paid = pay_at_pagbank(cloud, order_id)
    assert paid["notifications"] == [{"url": f"{cloud.api_url}/webhooks/pagbank/demo", "status": 200}]
    # Then the charge is RECEIVED and gets one NFS-e
    received = charge_status(cloud, charge_id, "RECEIVED")
    assert received["provider"] == "pagbank" and received["paid_at"]
    status = wait_invoice(cloud, charge_id, "autorizada")
    assert status["invoice_number"]
    # The paid charge has left the pending index: the scheduled lookup no longer reads it
    later = datetime.now(UTC) + timedelta(hours=1)
    synced = invoke(cloud, "PaymentsPendingSync", {"now": later.isoformat()})
    assert f"demo/{charge_id}" not in synced["applied"]
    assert not requests_to(cloud, "pagbank", "GET", f"/orders/{order_id}")
    assert dps_posts(cloud, charge_id) == 1


def test_a_lost_pagbank_notification_is_caught_by_the_scheduled_lookup(cloud: LocalCloud) -> None:
    # Given a PagBank PIX charge paid, whose notification never arrived
    charge_id, order_id = pagbank_charge(cloud, "[POLLS=1] Edição de vídeo")
    assert pay_at_pagbank(cloud, order_id, notify=False)["notifications"] == []
    # When the schedule runs before the window has passed: not looked up yet
    early = invoke(cloud, "PaymentsPendingSync", {"now": datetime.now(UTC).isoformat()})
    assert f"demo/{charge_id}" not in early["applied"]
    assert invoke(cloud, "PaymentStatus", {"org_id": "demo", "charge_id": charge_id})["status"] == "PENDING"
    # When it runs after the window (30 min by default): GET /orders/{id} finds it paid
    later = datetime.now(UTC) + timedelta(minutes=31)
    synced = invoke(cloud, "PaymentsPendingSync", {"now": later.isoformat()})
    assert f"demo/{charge_id}" in synced["applied"], synced
    assert requests_to(cloud, "pagbank", "GET", f"/orders/{order_id}")
    # Then it is RECEIVED, with exactly one NFS-e, and is no longer looked up
    assert charge_status(cloud, charge_id, "RECEIVED")["paid_at"]
    wait_invoice(cloud, charge_id, "autorizada")
    again = invoke(cloud, "PaymentsPendingSync", {"now": (later + timedelta(minutes=15)).isoformat()})
    assert f"demo/{charge_id}" not in again["applied"]
    assert dps_posts(cloud, charge_id) == 1


def test_callers_naming_pagseguro_still_get_pagbank(cloud: LocalCloud) -> None:
    charge_id = new_id()
    created = invoke(cloud, "PaymentCreateCharge", charge(charge_id, providers=["pagseguro"]))
    assert created["provider"] == "pagbank"


def test_a_pagbank_payment_of_another_amount_is_amount_mismatch_without_invoice(cloud: LocalCloud) -> None:
    # Given a PagBank PIX charge of R$ 3.500,00 paid R$ 1,00 (the notification is signed and genuine)
    charge_id, order_id = pagbank_charge(cloud, "[POLLS=1] Roteiro")
    paid = pay_at_pagbank(cloud, order_id, amount=100)
    assert paid["notifications"][0]["status"] == 200
    # Then the same amount check as every provider: not paid, no NFS-e
    status = charge_status(cloud, charge_id, "AMOUNT_MISMATCH")
    assert status["reported_cents"] == 100 and not status.get("paid_at")
    assert dps_posts(cloud, charge_id) == 0
