"""hub.payments.operations driven directly: the Asaas adapter against its sandbox, the demo
org's secrets, payments table and audit in moto. Payment links, subscriptions, PIX QR codes
and transfers as the caller and the org's auditors see them."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from hub.errors import InvalidRequestError, OutcomeUnknownError
from hub.payments.charges import ChargeRequest, create_charge
from hub.payments.operations import (
    PaymentLinkRequest,
    PixQrCodeRequest,
    SubscriptionCancelRequest,
    SubscriptionRequest,
    TransferRequest,
    cancel_subscription,
    create_payment_link,
    create_subscription,
    create_transfer,
    pix_qr_code,
)
from localcloud.demo import DEMO_PAYMENTS
from localcloud.sandboxes import Fault
from tests.aws.conftest import HubAws
from tests.conftest import ServedSandboxes
from tests.helpers import CUSTOMER, charge_payload

DUE = date(2030, 1, 15)  # fixed: no test depends on today
ALLOWLISTED = DEMO_PAYMENTS["transfer_allowlist"][0]["name"]


def audited(hub_aws: HubAws) -> list[str]:
    items = hub_aws.client("dynamodb").query(
        TableName=hub_aws.env["AUDIT_TABLE"],
        KeyConditionExpression="org_id = :o",
        ExpressionAttributeValues={":o": {"S": "demo"}},
    )["Items"]
    return sorted(item["action"]["S"] for item in items)


def asaas_posts(sandboxes: ServedSandboxes, path: str) -> list[dict[str, Any]]:
    return [r for r in sandboxes.app.requests_for("asaas") if r["method"] == "POST" and r["path"].endswith(path)]


def transfer(**fields: Any) -> TransferRequest:
    values: dict[str, Any] = {
        "org_id": "demo",
        "value_cents": 12345,
        "destination": ALLOWLISTED,
        "requested_by": "fin@somosprodutora.com.br",
        "idempotency_key": "tr-1",
    }
    return TransferRequest.model_validate({**values, **fields})


def test_a_payment_link_is_created_at_asaas(sandboxed: ServedSandboxes) -> None:
    link = create_payment_link(
        PaymentLinkRequest(org_id="demo", name="Pacote de posts", value_cents=180000, idempotency_key="pl-1")
    )

    assert link.provider == "asaas"
    assert link.url.startswith("http")
    assert link.link_id in sandboxed["asaas"].payment_links


def test_a_subscription_is_created_for_the_customer_and_can_be_cancelled(sandboxed: ServedSandboxes) -> None:
    created = create_subscription(
        SubscriptionRequest.model_validate(
            {
                "org_id": "demo",
                "customer": CUSTOMER,
                "value_cents": 250000,
                "next_due_date": DUE.isoformat(),
                "idempotency_key": "sub-1",
            }
        )
    )

    assert (created.provider, created.status) == ("asaas", "ACTIVE")
    assert created.customer_id in sandboxed["asaas"].customers
    assert created.subscription_id in sandboxed["asaas"].subscriptions

    cancelled = cancel_subscription(SubscriptionCancelRequest(org_id="demo", subscription_id=created.subscription_id))
    assert cancelled.cancelled


def test_the_pix_qr_code_of_a_charge_comes_from_where_the_charge_lives(sandboxed: ServedSandboxes) -> None:
    def charge(charge_id: str, providers: list[str]) -> None:
        create_charge(ChargeRequest.model_validate(charge_payload(charge_id, 5000, DUE, providers=providers)))

    charge("QR1", ["asaas"])
    charge("QR2", ["manual"])

    at_asaas = pix_qr_code(PixQrCodeRequest(org_id="demo", charge_id="QR1"))
    manual = pix_qr_code(PixQrCodeRequest(org_id="demo", charge_id="QR2"))

    assert at_asaas.payload.startswith("000201") and at_asaas.encoded_image
    assert manual.payload.startswith("000201") and DEMO_PAYMENTS["pix_key"] in manual.payload


def test_a_transfer_to_an_allowlisted_account_is_sent_and_audited(sandboxed: ServedSandboxes, hub_aws: HubAws) -> None:
    result = create_transfer(transfer())

    assert result.amount_cents == 12345
    assert result.transfer_id in sandboxed["asaas"].transfers
    assert audited(hub_aws) == ["transfer_created", "transfer_requested"]


def test_a_transfer_to_an_account_off_the_allowlist_is_refused_audited_and_never_sent(
    sandboxed: ServedSandboxes, hub_aws: HubAws
) -> None:
    with pytest.raises(InvalidRequestError) as info:
        create_transfer(transfer(destination="Conta do golpista"))

    assert info.value.code == "not_allowlisted"
    assert "destination" in info.value.message
    assert asaas_posts(sandboxed, "/transfers") == []
    assert audited(hub_aws) == ["transfer_refused"]


def test_a_transfer_whose_answer_is_lost_is_an_unknown_outcome_sent_once_and_audited(
    sandboxed: ServedSandboxes, hub_aws: HubAws
) -> None:
    sandboxed.app.set_fault("asaas", Fault(mode="down"))

    with pytest.raises(OutcomeUnknownError):
        create_transfer(transfer())

    assert len(asaas_posts(sandboxed, "/transfers")) == 1  # money may have left: never sent again
    assert audited(hub_aws) == ["transfer_outcome_unknown", "transfer_requested"]
