"""hub.payments.charges driven directly: real adapters against the Asaas, PagBank and Mercado
Pago sandboxes, the demo org's secrets and the payments table in moto. What a caller of
PaymentCreateCharge/PaymentStatus/PaymentRefund notices: one charge per charge id, failover
only when no provider can hold the charge, fields named on bad input."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from hub.errors import InvalidRequestError, OutcomeUnknownError, RequestInProgressError
from hub.payments import store
from hub.payments.charges import (
    ChargeRequest,
    ChargeStatusRequest,
    RefundRequest,
    charge_status,
    create_charge,
    refund_charge,
)
from localcloud.demo import DEMO_PAYMENTS
from localcloud.sandboxes import Fault
from tests.conftest import ServedSandboxes
from tests.helpers import CUSTOMER, charge_payload

DUE = date(2030, 1, 15)  # a fixed date far ahead: no test depends on today


def request(charge_id: str, **fields: Any) -> ChargeRequest:
    values = charge_payload(charge_id, 150000, DUE, description="Pacote de posts")
    return ChargeRequest.model_validate({**values, **fields})


def provider_writes(sandboxes: ServedSandboxes, provider: str) -> list[dict[str, Any]]:
    return [r for r in sandboxes.app.requests_for(provider) if r["method"] == "POST"]


def test_a_charge_is_created_at_asaas_and_recorded(sandboxed: ServedSandboxes) -> None:
    created = create_charge(request("CH1"))

    assert created.provider == "asaas"
    assert created.charge_id == "CH1"
    assert created.amount_cents == 150000
    assert created.pix_payload  # the PIX copy-and-paste the customer pays with
    assert not created.duplicate and created.failed_attempts == {}
    status = charge_status(ChargeStatusRequest(org_id="demo", charge_id="CH1"))
    assert (status.provider, status.status) == ("asaas", "PENDING")
    assert status.provider_charge_id == created.provider_charge_id


def test_the_same_charge_id_again_answers_the_first_charge_and_charges_once(sandboxed: ServedSandboxes) -> None:
    first = create_charge(request("CH2"))
    writes = len(provider_writes(sandboxed, "asaas"))

    again = create_charge(request("CH2"))

    assert again.duplicate
    assert again.provider_charge_id == first.provider_charge_id
    assert len(provider_writes(sandboxed, "asaas")) == writes  # nothing sent the second time
    assert len(sandboxed["asaas"].payments) == 1


def test_the_same_charge_id_for_another_charge_is_refused(sandboxed: ServedSandboxes) -> None:
    create_charge(request("CH3"))

    with pytest.raises(InvalidRequestError):
        create_charge(request("CH3", value_cents=999))


def test_asaas_down_fails_over_to_pagbank(sandboxed: ServedSandboxes) -> None:
    sandboxed.app.set_fault("asaas", Fault(mode="error", status=503))

    created = create_charge(request("CH4"))

    assert created.provider == "pagbank"
    assert list(created.failed_attempts) == ["asaas"]
    assert "ProviderUnavailableError" in created.failed_attempts["asaas"]
    assert len(sandboxed["pagbank"].orders) == 1
    assert store.get_charge("demo", "CH4").provider == "pagbank"


def test_with_asaas_down_the_manual_fallback_is_a_pix_of_the_orgs_key(sandboxed: ServedSandboxes) -> None:
    sandboxed.app.set_fault("asaas", Fault(mode="error", status=503))

    created = create_charge(request("CH5", providers=["asaas", "manual"]))

    assert created.provider == "manual"
    assert created.pix_payload and created.pix_payload.startswith("000201")
    assert DEMO_PAYMENTS["pix_key"] in created.pix_payload
    assert list(created.failed_attempts) == ["asaas"]


def test_a_pagbank_create_whose_answer_is_lost_is_an_unknown_outcome_and_never_fails_over(
    sandboxed: ServedSandboxes,
) -> None:
    sandboxed.app.set_fault("pagbank", Fault(mode="down"))

    with pytest.raises(OutcomeUnknownError) as info:
        create_charge(request("CH6", providers=["pagbank", "manual"]))

    assert info.value.code == "charge_outcome_unknown"
    assert info.value.idempotency_key == "CH6"
    assert "manual" not in str(info.value.details)
    # The claim stays: the same charge id right away is told to wait, not charged elsewhere.
    sandboxed.app.clear_faults()
    with pytest.raises(RequestInProgressError) as again:
        create_charge(request("CH6", providers=["pagbank", "manual"]))
    assert again.value.retry_after > 0


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"customer": {**CUSTOMER, "cpf_cnpj": "123.456.789-00"}}, "customer.cpf_cnpj"),
        ({"customer": {**CUSTOMER, "email": "not-an-email"}}, "customer.email"),
        ({"customer": {**CUSTOMER, "phone": "12"}}, "customer.phone"),
    ],
)
def test_bad_customer_data_is_refused_naming_the_field_before_any_provider_call(
    sandboxed: ServedSandboxes, fields: dict[str, Any], named: str
) -> None:
    with pytest.raises(InvalidRequestError) as info:
        create_charge(request("CH7", **fields))

    assert named in info.value.message
    assert sandboxed.app.requests_for() == []
    assert store.find_charge("demo", "CH7") is None  # the charge id is not burnt


def test_a_provider_refusal_releases_the_charge_id_for_a_corrected_retry(sandboxed: ServedSandboxes) -> None:
    with pytest.raises(InvalidRequestError):
        create_charge(request("CH8", billing_type="BOLETO", providers=["mercadopago"]))

    created = create_charge(request("CH8", providers=["mercadopago"]))
    assert created.provider == "mercadopago"


def test_a_refund_of_an_unpaid_charge_is_refused(sandboxed: ServedSandboxes) -> None:
    create_charge(request("CH9"))

    with pytest.raises(InvalidRequestError) as info:
        refund_charge(RefundRequest(org_id="demo", charge_id="CH9", idempotency_key="refund-CH9"))

    assert "PENDING" in info.value.message
