"""hub.fiscal.invoicing driven directly, step by step as the NfseWorkflow runs it: the Nuvem
Fiscal and Focus NFe adapters against their sandboxes, the demo org's secrets and fiscal
settings and the payments table in moto. One invoice per charge, the fallback only when the
first issuer surely holds no note, and bad data refused naming what is wrong."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from hub.config import get_settings
from hub.errors import InvalidRequestError, ProviderUnavailableError
from hub.fiscal.invoicing import CancelRequest, StepRequest, cancel_invoice, emit, poll_status, validate
from hub.payments import store
from localcloud.sandboxes import Fault
from localcloud.sandboxes.nuvemfiscal import BAIXADA_CNPJ
from tests.conftest import ServedSandboxes

PAID_AT = datetime(2030, 1, 10, 15, 0, tzinfo=UTC)  # fixed: no test depends on today
CLIENT_CNPJ = "12345678000195"


def paid_charge(charge_id: str, *, tax_id: str = CLIENT_CNPJ, description: str = "Pacote de posts") -> None:
    customer = {"name": "Padaria Pão Quente Ltda", "tax_id": tax_id, "email": "fin@paoquente.com.br"}
    store.claim(
        "demo",
        charge_id,
        fingerprint="f",
        amount_cents=150000,
        billing_type="PIX",
        customer=customer,
        description=description,
    )
    store.record_created("demo", charge_id, provider="asaas", provider_charge_id=f"pay_{charge_id}", result={})
    store.transition("demo", charge_id, "RECEIVED", paid_at=PAID_AT)


def step(op: str, charge_id: str, **fields: Any) -> StepRequest:
    return StepRequest(op=op, org_id="demo", charge_id=charge_id, **fields)  # type: ignore[arg-type]


def authorise(charge_id: str, provider: str = "nuvemfiscal") -> dict[str, Any]:
    """emit, then poll as the workflow's Wait states do until the note leaves processando."""
    invoice = emit(step("emit", charge_id, provider=provider))
    for _ in range(10):
        if invoice["status"] != "processando":
            return invoice
        invoice = poll_status(step("status", charge_id, provider=provider, invoice=invoice))
    raise AssertionError(f"still processando: {invoice}")


def test_a_paid_charge_is_validated_emitted_and_authorised_at_nuvem_fiscal(sandboxed: ServedSandboxes) -> None:
    paid_charge("NF1")

    assert validate(step("validate", "NF1")) == {"tax_id": CLIENT_CNPJ, "kind": "CNPJ"}
    invoice = authorise("NF1")

    assert (invoice["status"], invoice["provider"]) == ("autorizada", "nuvemfiscal")
    assert invoice["number"]
    charge = store.get_charge("demo", "NF1")
    assert (charge.invoice_status, charge.invoice_provider) == ("autorizada", "nuvemfiscal")


def test_emitting_the_same_charge_twice_is_one_note(sandboxed: ServedSandboxes) -> None:
    paid_charge("NF2")

    first = emit(step("emit", "NF2", provider="nuvemfiscal"))
    again = emit(step("emit", "NF2", provider="nuvemfiscal"))

    assert again["provider_id"] == first["provider_id"]
    assert sandboxed["nuvemfiscal"].emissions == 1


def test_focus_nfe_issues_the_note_when_the_workflow_falls_back_to_it(sandboxed: ServedSandboxes) -> None:
    paid_charge("NF3")

    invoice = authorise("NF3", provider="focusnfe")

    assert (invoice["status"], invoice["provider"]) == ("autorizada", "focusnfe")
    assert sandboxed.app.requests_for("nuvemfiscal") == []


def test_an_issuer_that_cannot_say_whether_it_holds_the_note_is_asked_again_not_bypassed(
    sandboxed: ServedSandboxes,
) -> None:
    paid_charge("NF4")
    sandboxed.app.set_fault("nuvemfiscal", Fault(mode="error", status=503))

    answer = emit(step("emit", "NF4", provider="nuvemfiscal"))

    assert answer == {"status": "retry_emit", "provider": "nuvemfiscal", "reference": "NF4"}
    assert sandboxed.app.requests_for("focusnfe") == []


def test_an_issuer_that_never_got_the_note_lets_the_workflow_fall_back(sandboxed: ServedSandboxes) -> None:
    paid_charge("NF5")
    # Focus NFe is down for every attempt of the call (the retries included), then answers the
    # workflow's lookup: it holds no note.
    sandboxed.app.set_fault("focusnfe", Fault(mode="error", status=503, times=get_settings().retry_max_attempts))

    with pytest.raises(ProviderUnavailableError):
        emit(step("emit", "NF5", provider="focusnfe"))

    assert sandboxed["focusnfe"].notes == {}  # surely absent: the next issuer may emit


def test_an_unpaid_charge_is_not_invoiced(sandboxed: ServedSandboxes) -> None:
    store.claim("demo", "NF6", fingerprint="f", amount_cents=1000, billing_type="PIX", customer={"tax_id": CLIENT_CNPJ})

    with pytest.raises(InvalidRequestError) as info:
        validate(step("validate", "NF6"))

    assert info.value.code == "not_paid"


def test_a_tomador_whose_cnpj_is_closed_is_refused_before_any_emission(sandboxed: ServedSandboxes) -> None:
    paid_charge("NF7", tax_id=BAIXADA_CNPJ)

    with pytest.raises(InvalidRequestError) as info:
        validate(step("validate", "NF7"))

    assert info.value.code == "cnpj_inactive"
    assert "BAIXADA" in info.value.message
    assert not [r for r in sandboxed.app.requests_for() if r["path"].startswith("/nfse")]


@pytest.mark.parametrize(
    ("fields", "named"),
    [({"tax_id": "123"}, "tomador"), ({"description": "x" * 1001}, "description")],
)
def test_bad_invoice_data_is_refused_naming_the_field(
    sandboxed: ServedSandboxes, fields: dict[str, Any], named: str
) -> None:
    paid_charge("NF8", **fields)

    with pytest.raises(InvalidRequestError) as info:
        validate(step("validate", "NF8"))

    assert named in info.value.message
    assert sandboxed["nuvemfiscal"].emissions == 0


def test_an_authorised_invoice_is_cancelled_at_its_issuer(sandboxed: ServedSandboxes) -> None:
    paid_charge("NF9")
    authorise("NF9")

    result = cancel_invoice(CancelRequest(org_id="demo", charge_id="NF9"))

    assert result.status == "cancelada"
    assert store.get_charge("demo", "NF9").invoice_status == "cancelada"


def test_a_charge_without_an_authorised_invoice_has_nothing_to_cancel(sandboxed: ServedSandboxes) -> None:
    paid_charge("NF10")

    with pytest.raises(InvalidRequestError) as info:
        cancel_invoice(CancelRequest(org_id="demo", charge_id="NF10"))

    assert info.value.code == "no_invoice"
