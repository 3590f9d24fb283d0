"""Money is strict on the way in and checked on the way back (issue 11, parts 3 and 4): the
payments functions and the inbound consumer against moto (the template's tables, queues, bus
and state machines), the providers mocked at HTTP."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx

from hub.errors import HubError, InvalidRequestError
from hub.events import HubEvent, PaymentData
from hub.payments import store
from hub.payments.charges import RefundRequest, refund_charge
from hub.payments.state import apply_payment_event
from localcloud.demo import DEMO_PAYMENTS, demo_secret_values
from tests.aws.conftest import HubAws
from tests.helpers import CUSTOMER, FakeLambdaContext, charge_payload, load_function, resent, sample_event
from tests.signing import signed_headers

ASAAS = "http://127.0.0.1:9/asaas/v3"  # the demo secrets' base URL; every call to it is mocked


@pytest.fixture
def seeded(hub_aws: HubAws) -> HubAws:
    for provider, value in demo_secret_values("http://127.0.0.1:9").items():
        hub_aws.put_secret("demo", provider, value)
    return hub_aws


@pytest.fixture
def provider() -> Iterator[respx.MockRouter]:
    """Every provider call is recorded; none is expected unless a test routes it."""
    with respx.mock(assert_all_called=False, assert_all_mocked=False) as mock:  # unrouted calls: recorded
        yield mock


def invoke(function: str, payload: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = load_function(function).handler(payload, FakeLambdaContext(function))
    return result


def charge(charge_id: str, **extra: Any) -> dict[str, Any]:
    return {**charge_payload(charge_id, 500000, date.today() + timedelta(days=7)), **extra}


def no_charge(charge_id: str) -> bool:
    return store.find_charge("demo", charge_id) is None


def asaas_charge(charge_id: str, amount_cents: int, status: store.ChargeState = "PENDING") -> None:
    """A charge the hub created at Asaas (pay_{charge_id} there)."""
    store.claim("demo", charge_id, fingerprint="f", amount_cents=amount_cents, billing_type="PIX", customer=CUSTOMER)
    store.record_created(
        "demo", charge_id, provider="asaas", provider_charge_id=f"pay_{charge_id}", result={"charge_id": charge_id}
    )
    if status != "PENDING":
        store.transition("demo", charge_id, status)


# ----- part 3: money in is a strict integer of centavos, under the org's ceiling ------------------


@pytest.mark.parametrize("value", [True, "100", 100.0, 0, -100, 2**63, 10**30])
def test_value_cents_that_is_not_a_positive_integer_is_refused_before_anything(
    seeded: HubAws, provider: respx.MockRouter, value: Any
) -> None:
    with pytest.raises(InvalidRequestError) as info:
        invoke("payment_create_charge", charge("CSTRICT1", value_cents=value))
    assert "value_cents" in info.value.message
    assert provider.calls.call_count == 0  # no customer lookup, no charge
    assert no_charge("CSTRICT1")  # the charge id is not burnt


@pytest.mark.parametrize(
    ("function", "payload"),
    [
        ("payment_refund", {"org_id": "demo", "charge_id": "C1", "value_cents": True, "idempotency_key": "k1"}),
        ("payment_link_create", {"org_id": "demo", "name": "Posts", "value_cents": "180000", "idempotency_key": "k2"}),
        (
            "subscription_create",
            {
                "org_id": "demo",
                "customer": CUSTOMER,
                "value_cents": 2500.0,
                "next_due_date": (date.today() + timedelta(days=10)).isoformat(),
                "idempotency_key": "k3",
            },
        ),
        (
            "transfer_create",
            {
                "org_id": "demo",
                "value_cents": 10**30,
                "destination": "Conta PJ (PIX)",
                "requested_by": "fin@somos.com.br",
                "idempotency_key": "k4",
            },
        ),
    ],
)
def test_every_money_field_is_strict(
    seeded: HubAws, provider: respx.MockRouter, function: str, payload: dict[str, Any]
) -> None:
    with pytest.raises(InvalidRequestError) as info:
        invoke(function, payload)
    assert "value_cents" in info.value.message
    assert provider.calls.call_count == 0


def test_a_charge_over_the_default_ceiling_is_refused_and_the_charge_id_stays_free(
    seeded: HubAws, provider: respx.MockRouter
) -> None:
    # R$ 1.000.000,01: one centavo over the default ceiling (the demo org sets none)
    with pytest.raises(InvalidRequestError) as info:
        invoke("payment_create_charge", charge("CCEIL1", value_cents=100_000_001))
    assert info.value.code == "amount_over_limit" and "value_cents" in info.value.message
    with pytest.raises(InvalidRequestError) as in_reais:
        invoke("payment_create_charge", {**charge("CCEIL1"), "value_cents": None, "value": "1000000.01"})
    assert in_reais.value.code == "amount_over_limit" and "value" in in_reais.value.message
    assert provider.calls.call_count == 0
    assert no_charge("CCEIL1")


def test_the_orgs_own_ceiling_applies_to_links_subscriptions_and_transfers(
    seeded: HubAws, provider: respx.MockRouter
) -> None:
    seeded.client("secretsmanager").put_secret_value(
        SecretId="hub/demo/payments", SecretString=json.dumps({**DEMO_PAYMENTS, "max_amount_cents": 50000})
    )
    due = (date.today() + timedelta(days=10)).isoformat()
    for function, payload in [
        ("payment_create_charge", charge("CCEIL2", value_cents=50001)),
        ("payment_link_create", {"org_id": "demo", "name": "Posts", "value_cents": 50001, "idempotency_key": "l1"}),
        (
            "subscription_create",
            {
                "org_id": "demo",
                "customer": CUSTOMER,
                "value_cents": 50001,
                "next_due_date": due,
                "idempotency_key": "s1",
            },
        ),
        (
            "transfer_create",
            {
                "org_id": "demo",
                "value_cents": 50001,
                "destination": "Conta PJ (PIX)",
                "requested_by": "fin@somos.com.br",
                "idempotency_key": "t1",
            },
        ),
    ]:
        with pytest.raises(InvalidRequestError) as info:
            invoke(function, payload)
        assert info.value.code == "amount_over_limit", function
        assert "50000" in info.value.message
    assert provider.calls.call_count == 0


def audit_records(hub_aws: HubAws) -> list[dict[str, Any]]:
    items = hub_aws.client("dynamodb").query(
        TableName=hub_aws.env["AUDIT_TABLE"],
        KeyConditionExpression="org_id = :o",
        ExpressionAttributeValues={":o": {"S": "demo"}},
    )["Items"]
    return [{"action": i["action"]["S"], **json.loads(i["details"]["S"])} for i in items]


def test_a_megabyte_destination_is_a_clear_error_and_the_refused_transfer_is_audited(
    seeded: HubAws, provider: respx.MockRouter
) -> None:
    tap = seeded.bus_tap("sensitive", {"detail-type": ["security.sensitive_action"]})
    payload = {
        "org_id": "demo",
        "value_cents": 50000,
        "destination": "x" * 1_000_000,
        "requested_by": "fin@somos.com.br",
        "idempotency_key": "t-huge",
    }
    with pytest.raises(InvalidRequestError) as info:
        invoke("transfer_create", payload)
    assert info.value.code == "validation_error" and "destination" in info.value.message
    assert provider.calls.call_count == 0
    [record] = audit_records(seeded)
    assert record["action"] == "transfer_refused" and "destination" in record["reason"]
    assert record["destination"].startswith("x" * 100) and "1000000 characters" in record["destination"]
    [note] = seeded.client("sqs").receive_message(QueueUrl=tap, WaitTimeSeconds=2)["Messages"]
    assert json.loads(note["Body"])["detail"]["action"] == "transfer_refused"


def test_a_transfer_over_the_ceiling_is_refused_and_audited(seeded: HubAws, provider: respx.MockRouter) -> None:
    payload = {
        "org_id": "demo",
        "value_cents": 100_000_001,
        "destination": "Conta PJ (PIX)",
        "requested_by": "fin@somos.com.br",
        "idempotency_key": "t-ceiling",
    }
    with pytest.raises(InvalidRequestError):
        invoke("transfer_create", payload)
    [record] = audit_records(seeded)
    assert record["action"] == "transfer_refused" and record["value_cents"] == 100_000_001
    assert provider.calls.call_count == 0


# ----- part 4: money that arrives is checked ------------------------------------------------------


def deliver_asaas(value: str, charge_id: str) -> dict[str, Any]:
    """The documented PAYMENT_RECEIVED, for our charge, with ``value`` as the JSON number sent."""
    event = sample_event("webhook_asaas")
    body = (
        event["body"]
        .replace('"value":100,', f'"value":{value},')
        .replace('"056984"', f'"{charge_id}"')
        .replace("evt_05b708f961d739ea7eba7e4db318f621&368604920", f"evt_{uuid.uuid4().hex}")  # a new event
    )
    request = resent(event, body=body, headers=signed_headers("asaas", body))
    response: dict[str, Any] = load_function("webhook_asaas").handler(request, FakeLambdaContext("WebhookAsaas"))
    return response


def consume(hub_aws: HubAws) -> dict[str, Any]:
    """What the inbound queue holds, through the real consumer."""
    messages = hub_aws.queue_messages("INBOUND_EVENTS_QUEUE_URL")
    # Each record as Lambda hands it over: its own body and attributes (the archive it carries).
    event = hub_aws.as_sqs_event(hub_aws.env["INBOUND_EVENTS_QUEUE_URL"], messages)
    for m in messages:
        hub_aws.client("sqs").delete_message(
            QueueUrl=hub_aws.env["INBOUND_EVENTS_QUEUE_URL"], ReceiptHandle=m["ReceiptHandle"]
        )
    result: dict[str, Any] = load_function("inbound_events_process").handler(event, FakeLambdaContext("Inbound"))
    return result


def nfse_executions(hub_aws: HubAws) -> list[str]:
    arn = hub_aws.env["NFSE_STATE_MACHINE_ARN"]
    return [e["name"] for e in hub_aws.client("stepfunctions").list_executions(stateMachineArn=arn)["executions"]]


@pytest.mark.parametrize(
    ("value", "reported", "problem"),
    [
        ("0.01", 1, "paid 1 centavos for a charge of 500000"),
        ("4999.99", 499999, "paid 499999 centavos"),
        ("-5000.00", None, "negative"),
        ("1000000000000000000000000000000.00", None, "larger than any payment"),
        ("5000.001", None, "fractions of a centavo"),
        # (1e400, Infinity, NaN: the normaliser flags them too — tests/unit/providers/asaas/test_webhook.py —
        # but a receiver's JSON limits may refuse such a body before it, with a 400)
    ],
)
def test_a_payment_with_another_amount_never_marks_the_charge_paid(
    seeded: HubAws, value: str, reported: int | None, problem: str
) -> None:
    # Given an R$ 5.000,00 charge at Asaas
    asaas_charge("CMISMATCH", 500000)
    tap = seeded.bus_tap("mismatch", {"detail-type": ["payment.amount_mismatch"]})
    # When Asaas (validly authenticated) says it was received with another value
    answer = deliver_asaas(value, "CMISMATCH")
    # Then the delivery is accepted (a failure would pause Asaas's queue) ...
    assert answer["statusCode"] == 200, answer["body"]
    assert consume(seeded) == {"batchItemFailures": []}  # ... the consumer does not crash ...
    status = store.get_charge("demo", "CMISMATCH")
    assert status.status == "AMOUNT_MISMATCH" and status.paid_at is None  # ... the charge is not paid ...
    assert status.reported_cents == reported and problem in (status.amount_problem or "")
    assert nfse_executions(seeded) == []  # ... no NFS-e ...
    [note] = seeded.client("sqs").receive_message(QueueUrl=tap, WaitTimeSeconds=2)["Messages"]
    detail = json.loads(note["Body"])["detail"]  # ... and it is announced with both amounts
    assert (detail["charge_id"], detail["expected_cents"], detail["reported_cents"]) == ("CMISMATCH", 500000, reported)
    assert problem in detail["problem"] and detail["status"] == "AMOUNT_MISMATCH"


def test_the_right_amount_after_a_mismatch_marks_the_charge_paid_once(seeded: HubAws) -> None:
    asaas_charge("CRIGHT", 500000)
    assert deliver_asaas("0.01", "CRIGHT")["statusCode"] == 200
    consume(seeded)
    assert store.get_charge("demo", "CRIGHT").status == "AMOUNT_MISMATCH"
    assert deliver_asaas("5000.00", "CRIGHT")["statusCode"] == 200
    assert consume(seeded) == {"batchItemFailures": []}
    status = store.get_charge("demo", "CRIGHT")
    # paid_at is the payment's own date (clientPaymentDate 2021-01-01, Brasília), not the
    # event's dateCreated (2024-06-12 16:45:03)
    assert status.status == "RECEIVED" and status.paid_at == datetime(2021, 1, 1, 3, 0, tzinfo=UTC)
    assert nfse_executions(seeded) == ["demo--CRIGHT--emit"]


def test_a_wrong_amount_for_a_charge_already_paid_keeps_it_paid_and_is_announced(seeded: HubAws) -> None:
    asaas_charge("CPAID", 500000, "RECEIVED")
    tap = seeded.bus_tap("mismatch-paid", {"detail-type": ["payment.amount_mismatch"]})
    assert deliver_asaas("0.01", "CPAID")["statusCode"] == 200
    consume(seeded)
    assert store.get_charge("demo", "CPAID").status == "RECEIVED"
    [note] = seeded.client("sqs").receive_message(QueueUrl=tap, WaitTimeSeconds=2)["Messages"]
    assert json.loads(note["Body"])["detail"]["status"] == "RECEIVED"


# ----- part 4: refunds reserve what they take ---------------------------------------------------


def refund(key: str, cents: int | None) -> str:
    try:
        refund_charge(RefundRequest(org_id="demo", charge_id="CREFUND", value_cents=cents, idempotency_key=key))
    except HubError as exc:
        return type(exc).__name__
    return "refunded"


def refund_route(mock: respx.MockRouter, **answer: Any) -> respx.Route:
    route = mock.post(f"{ASAAS}/payments/pay_CREFUND/refund")
    if answer:
        route.respond(**answer)
    else:
        route.respond(200, json={"id": "pay_CREFUND", "status": "RECEIVED", "value": 1000.00})
    return route


def test_concurrent_refunds_never_ask_for_more_than_the_charge(seeded: HubAws, provider: respx.MockRouter) -> None:
    # Given an R$ 1.000,00 charge, received
    asaas_charge("CREFUND", 100000, "RECEIVED")
    route = refund_route(provider)
    # When 10 refunds of 60 % arrive at once, each with its own key
    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = list(pool.map(lambda i: refund(f"refund-{i}", 60000), range(10)))
    # Then exactly one reaches Asaas; the others are refused before any call
    assert outcomes.count("refunded") == 1 and outcomes.count("InvalidRequestError") == 9
    assert route.call_count == 1
    # and what is left (40 %) can still be refunded, once
    with ThreadPoolExecutor(max_workers=4) as pool:
        rest = list(pool.map(lambda i: refund(f"rest-{i}", None), range(4)))
    assert rest.count("refunded") == 1 and route.call_count == 2
    assert store.get_charge("demo", "CREFUND").refund_reserved_cents == 100000


def test_a_refund_the_provider_refused_gives_the_amount_back(seeded: HubAws, provider: respx.MockRouter) -> None:
    asaas_charge("CREFUND", 100000, "RECEIVED")
    refused = refund_route(provider, status_code=400, json={"errors": [{"code": "invalid_action", "description": "x"}]})
    assert refund("r1", 60000) == "InvalidRequestError"
    assert store.get_charge("demo", "CREFUND").refund_reserved_cents == 0
    refused.respond(200, json={"id": "pay_CREFUND", "status": "RECEIVED", "value": 1000.00})
    assert refund("r2", 60000) == "refunded"


def test_a_refund_with_an_unknown_outcome_keeps_its_reservation(seeded: HubAws, provider: respx.MockRouter) -> None:
    asaas_charge("CREFUND", 100000, "RECEIVED")
    route = refund_route(provider)
    route.side_effect = httpx.ReadTimeout("no answer")
    assert refund("r1", 60000) not in ("refunded", "InvalidRequestError")  # unavailable / unknown outcome
    assert store.get_charge("demo", "CREFUND").refund_reserved_cents == 60000
    route.side_effect = None
    assert refund("r2", 60000) == "InvalidRequestError"  # the first may have happened: not twice
    assert route.call_count == 1


def mercadopago_notification(payment_id: str) -> HubEvent:
    """A MercadoPago payment notification as the receiver normalises it: only the id."""
    now = datetime.now(UTC)
    return HubEvent.build(
        org_id="demo",
        provider="mercadopago",
        type="payment.updated",
        dedupe_key=f"{payment_id}:payment.updated:{uuid.uuid4().hex}",
        occurred_at=now,
        received_at=now,
        data=PaymentData(payment_id=payment_id, status="pending_lookup"),
        raw_ref="raw/mercadopago.json",
    )


@pytest.mark.parametrize(("amount", "status"), [(0.01, "AMOUNT_MISMATCH"), (19.99, "RECEIVED")])
def test_a_mercadopago_payment_is_looked_up_and_its_amount_checked(
    seeded: HubAws, provider: respx.MockRouter, amount: float, status: str
) -> None:
    # Given an R$ 19,99 PIX charge at MercadoPago
    store.claim("demo", "CMP", fingerprint="f", amount_cents=1999, billing_type="PIX", customer=CUSTOMER)
    store.record_created("demo", "CMP", provider="mercadopago", provider_charge_id="123", result={})
    payment = {
        "id": 123,
        "status": "approved",
        "external_reference": "CMP",
        "transaction_amount": amount,
        "date_approved": "2026-11-20T10:00:00.000-04:00",
    }
    provider.get(url__regex=r".*/v1/payments/123$").respond(200, json=payment)
    # When its notification is consumed (the payment is looked up)
    apply_payment_event(mercadopago_notification("123"))
    # Then only the exact amount makes it paid, on the day MercadoPago approved it
    charge = store.get_charge("demo", "CMP")
    assert charge.status == status
    if status == "RECEIVED":
        assert charge.paid_at == datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
    else:
        assert charge.paid_at is None and charge.reported_cents == 1
        assert nfse_executions(seeded) == []
