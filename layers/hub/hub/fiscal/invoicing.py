"""The NFS-e workflow's steps (one Lambda, ``NfseWorkflowStep``, routed by ``op``); the
workflow itself is the ``NfseWorkflow`` state machine (statemachines/nfse.py):

validate → emit (Nuvem Fiscal, else Focus NFe) → poll with Wait states while ``processando``
→ ``autorizada``: finalize (PDF and XML to the invoices bucket, email the customer,
``invoice.issued``) | ``negada``: reject (``invoice.rejected`` with the provider's reasons;
no retry loop). ``cancel`` cancels a charge's invoice after a refund.

Exactly one invoice per charge: the workflow runs once per charge (its execution is named
after the charge), every provider gets our charge id as its reference (a repeated emit
returns the existing note), and the second provider is only tried when the first surely
holds no note: if the first's outcome is unknown, the step answers ``retry_emit`` and the
workflow waits and asks the same provider again.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.bus import put_event
from hub.config import get_settings
from hub.credentials import parse_secret
from hub.documents import TaxId, normalise_tax_id
from hub.errors import ConfigurationError, HubError, InvalidRequestError, ProviderUnavailableError
from hub.fiscal.nfse_models import (
    DESCRIPTION_MAX_LENGTH,
    IbsCbs,
    NfseRequest,
    NfseStatus,
    OwnPisCofins,
    Prestador,
    Servico,
    Tomador,
    Valores,
)
from hub.fiscal.taxes import FiscalSettings, compute_invoice
from hub.observability import logger
from hub.payments import store
from hub.payments.models import CHARGE_ID_PATTERN
from hub.payments.settings import payment_settings
from hub.providers import ports
from hub.requests import OperationRequest, OrgId
from hub.storage import ObjectStorage

NfseProvider = Literal["nuvemfiscal", "focusnfe"]
# Who answers the tomador's CNPJ situation (whichever issuer the note goes to).
CNPJ_LOOKUP_PROVIDER = "nuvemfiscal"
CNPJ_CACHE_SECONDS = 24 * 3600
_cnpj_cache: dict[str, tuple[float, dict[str, Any]]] = {}


class StepRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    op: Literal["validate", "emit", "status", "finalize", "reject", "cancel"]
    org_id: str
    charge_id: str
    provider: NfseProvider | None = None
    invoice: dict[str, Any] | None = Field(None, description="the last NfseStatus of the workflow")
    error: dict[str, Any] | None = Field(None, description="a Catch's {Error, Cause}")


def fiscal_settings(org_id: str) -> tuple[FiscalSettings, dict[str, Any]]:
    raw = payment_settings(org_id).fiscal
    if not raw:
        raise ConfigurationError("the org has no fiscal settings (payments secret, field fiscal)", provider="payments")
    return parse_secret(FiscalSettings, raw, what="fiscal settings", provider=None), raw


def _cnpj_situation(org_id: str, cnpj: str) -> dict[str, Any]:
    cached = _cnpj_cache.get(cnpj)
    if cached and time.monotonic() - cached[0] < CNPJ_CACHE_SECONDS:
        return cached[1]
    situation = ports.for_org(ports.CnpjLookup, org_id, CNPJ_LOOKUP_PROVIDER).cnpj_lookup(cnpj)
    _cnpj_cache[cnpj] = (time.monotonic(), situation)
    return situation


def validate(request: StepRequest) -> dict[str, Any]:
    """The charge is paid, the tomador's CPF/CNPJ valid and, for a CNPJ, active."""
    charge = store.get_charge(request.org_id, request.charge_id)
    if charge.paid_at is None:
        raise InvalidRequestError(f"charge {request.charge_id} is not paid", code="not_paid")
    customer = charge.customer or {}
    tax_id = normalise_tax_id(str(customer.get("tax_id", "")), field="tomador")
    if tax_id.kind == "CNPJ":
        situation = _cnpj_situation(request.org_id, tax_id.value)
        if not situation.get("ativa", True):
            status = situation.get("situacao_cadastral") or "not active"
            raise InvalidRequestError(f"the tomador's CNPJ is {status} at the Receita Federal", code="cnpj_inactive")
    fiscal_settings(request.org_id)  # fail early on missing/malformed settings
    service_description(charge)
    store.set_invoice(request.org_id, request.charge_id, status="validando")
    return {"tax_id": tax_id.value, "kind": tax_id.kind}


def service_description(charge: store.ChargeRecord) -> str:
    """The note's service description; longer than ``xDescServ`` / ``descricao_servico`` take
    (1000 characters) is refused before any emission, never cut."""
    description = charge.description or f"Serviços - cobrança {charge.charge_id}"
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise InvalidRequestError(
            f"the service description (description) has {len(description)} characters; "
            f"the NFS-e takes at most {DESCRIPTION_MAX_LENGTH}",
            code="description_too_long",
        )
    return description


def build_request(org_id: str, charge: store.ChargeRecord) -> NfseRequest:
    settings, raw = fiscal_settings(org_id)
    customer = charge.customer or {}
    return nfse_request(
        settings,
        raw,
        reference=charge.charge_id,
        amount_cents=charge.amount_cents,
        description=service_description(charge),
        tax_id=normalise_tax_id(str(customer.get("tax_id", "")), field="tomador"),
        name=str(customer.get("name") or "Tomador"),
        email=customer.get("email"),
        now=datetime.now(UTC),
    )


def nfse_request(
    settings: FiscalSettings,
    raw: dict[str, Any],
    *,
    reference: str,
    amount_cents: int,
    description: str,
    tax_id: TaxId,
    name: str,
    email: str | None,
    now: datetime,
) -> NfseRequest:
    """The NFS-e for ``amount_cents`` of service to ``tax_id`` under the org's fiscal settings."""
    values = compute_invoice(amount_cents, settings, tax_id, competence=now.date())
    own_pis_cofins = None
    if values.own_pis_rate is not None and values.own_cofins_rate is not None:
        own_pis_cofins = OwnPisCofins.at_rates(values.base_cents, values.own_pis_rate, values.own_cofins_rate)
    ibs_cbs = None
    codes = raw.get("ibs_cbs")
    if values.ibs_cbs_applies and isinstance(codes, dict) and values.ibs_cbs_base_cents is not None:
        ibs_cbs = IbsCbs.test_year(
            base_cents=values.ibs_cbs_base_cents,
            cst=str(codes["cst"]),
            cclasstrib=str(codes["cclasstrib"]),
            cind_op=str(codes["cind_op"]),
        )
    return NfseRequest(
        reference=reference,
        issued_at=now,
        competence=now.date(),
        prestador=Prestador(
            cnpj=settings.prestador_cnpj,
            inscricao_municipal=settings.inscricao_municipal,
            municipality_ibge=settings.municipality_ibge,
            simples_nacional_option=3 if settings.simples_nacional else 1,
            simples_nacional_regime=1 if settings.simples_nacional else None,
        ),
        tomador=Tomador(tax_id=tax_id.value, name=name, email=email),
        servico=Servico(
            ctribnac=settings.c_trib_nac,
            lc116_item=settings.lc116_item,
            cnae=settings.cnae,
            description=description,
            municipality_ibge=settings.municipality_ibge,
        ),
        valores=Valores(
            service_cents=values.gross_cents,
            iss_rate=values.iss_rate,
            iss_cents=values.iss_cents,
            iss_withheld=values.iss_withheld,
            irrf_cents=values.irrf_cents,
            pis_cents=values.pis_cents,
            cofins_cents=values.cofins_cents,
            csll_cents=values.csll_cents,
            own_pis_cofins=own_pis_cofins,
        ),
        ibs_cbs=ibs_cbs,
    )


def _client(org_id: str, provider: str) -> ports.NfseIssuer:
    return ports.nfse_issuer(org_id, provider)


def emit(request: StepRequest) -> dict[str, Any]:
    """Emit at ``provider`` (the reference is our charge id). Unavailable: the note is looked
    up — found → its status; surely absent → raise (the workflow tries the next provider);
    unknown → ``retry_emit`` (the workflow waits and comes back to this provider)."""
    assert request.provider is not None
    charge = store.get_charge(request.org_id, request.charge_id)
    nfse = build_request(request.org_id, charge)
    client = _client(request.org_id, request.provider)
    try:
        status = client.emit(nfse)
    except ProviderUnavailableError as exc:
        if exc.code in ("circuit_open", "connect_failed"):
            raise
        try:
            found = client.find(nfse.reference, nfse.prestador.cnpj)
        except HubError:
            logger.warning(
                "nfse_emit_outcome_unknown", extra={"provider": request.provider, "charge": charge.charge_id}
            )
            return {"status": "retry_emit", "provider": request.provider, "reference": charge.charge_id}
        if found is None:
            raise
        status = found
    store.set_invoice(
        request.org_id,
        request.charge_id,
        status=status.status,
        provider=status.provider,
        provider_id=status.provider_id,
    )
    return status.model_dump(mode="json")


def poll_status(request: StepRequest) -> dict[str, Any]:
    invoice = request.invoice or {}
    provider: NfseProvider = invoice.get("provider") or request.provider or "nuvemfiscal"
    status = _client(request.org_id, provider).status(_note_id(invoice, request.charge_id))
    store.set_invoice(request.org_id, request.charge_id, status=status.status, number=status.number)
    return status.model_dump(mode="json")


def _note_id(invoice: dict[str, Any], charge_id: str) -> str:
    """The note's id at its issuer, from the workflow's last NfseStatus (``provider_id``: Nuvem
    Fiscal's own id; at Focus NFe our reference, which is also the fallback)."""
    return str(invoice.get("provider_id") or invoice.get("reference") or charge_id)


def invoice_keys(org_id: str, charge_id: str, at: datetime) -> tuple[str, str]:
    prefix = f"{org_id}/{at:%Y}/{at:%m}/{charge_id}"
    return f"{prefix}.pdf", f"{prefix}.xml"


def _publish(org_id: str, detail_type: str, detail: dict[str, Any]) -> None:
    put_event(detail_type, {"org_id": org_id, **detail})


def finalize(request: StepRequest) -> dict[str, Any]:
    """Autorizada: PDF (DANFSe) and XML to the invoices bucket, the customer emailed the PDF
    (once: idempotency key per charge), ``invoice.issued`` on the bus."""
    from hub.messaging.email import AttachmentRef, EmailSendRequest, send_email

    invoice = NfseStatus.model_validate(request.invoice or {})
    charge = store.get_charge(request.org_id, request.charge_id)
    client = _client(request.org_id, invoice.provider)
    note_id = invoice.provider_id or charge.charge_id
    pdf, xml = client.download_pdf(note_id), client.download_xml(note_id)
    bucket = get_settings().require("invoices_bucket")
    pdf_key, xml_key = invoice_keys(request.org_id, charge.charge_id, datetime.now(UTC))
    storage = ObjectStorage()
    storage.put_bytes(bucket, pdf_key, pdf, content_type="application/pdf")
    storage.put_bytes(bucket, xml_key, xml, content_type="application/xml")
    store.set_invoice(request.org_id, charge.charge_id, status="autorizada", number=invoice.number)
    emailed = None
    email = (charge.customer or {}).get("email")
    if email:
        sent = send_email(
            EmailSendRequest(
                org_id=request.org_id,
                to=[email],
                subject=f"Nota fiscal de serviço nº {invoice.number or charge.charge_id}",
                text=(
                    f"Olá! Segue a nota fiscal de serviço referente à cobrança {charge.charge_id}.\n"
                    f"Número: {invoice.number or '-'}  Código de verificação: {invoice.verification_code or '-'}"
                ),
                attachments=[AttachmentRef(bucket=bucket, key=pdf_key, filename=f"nfse-{charge.charge_id}.pdf")],
                idempotency_key=f"nfse-{charge.charge_id}",
            )
        )
        emailed = sent.message_id
    detail = {
        "charge_id": charge.charge_id,
        "provider": invoice.provider,
        "number": invoice.number,
        "verification_code": invoice.verification_code,
        "pdf": f"s3://{bucket}/{pdf_key}",
        "xml": f"s3://{bucket}/{xml_key}",
        "emailed_message_id": emailed,
    }
    _publish(request.org_id, "invoice.issued", detail)
    return detail


def reject(request: StepRequest) -> dict[str, Any]:
    """Negada (or refused before emission): ``invoice.rejected`` with the reasons; the org
    fixes the data and re-runs by hand — no retry loop on a rejection."""
    reasons = list((request.invoice or {}).get("reasons") or [])
    if not reasons and request.error:
        reasons = [str(request.error.get("Cause") or request.error.get("Error") or "rejected")[:500]]
    store.set_invoice(request.org_id, request.charge_id, status="negada")
    detail = {"charge_id": request.charge_id, "provider": (request.invoice or {}).get("provider"), "reasons": reasons}
    _publish(request.org_id, "invoice.rejected", detail)
    detail["org_notified"] = _notify_org_of_rejection(request.org_id, request.charge_id, reasons)
    return detail


def _notify_org_of_rejection(org_id: str, charge_id: str, reasons: list[str]) -> bool:
    """Email the org's own address (messaging settings ``email_reply_to`` or ``email_from``).
    Best effort: the ``invoice.rejected`` event is the record; a mail failure must not turn a
    rejection into a retried workflow."""
    import email.utils

    from hub.messaging.email import EmailSendRequest, send_email
    from hub.messaging.settings import messaging_settings

    settings = messaging_settings(org_id)
    address = settings.email_reply_to or (email.utils.parseaddr(settings.email_from or "")[1] or None)
    if not address:
        return False
    try:
        send_email(
            EmailSendRequest(
                org_id=org_id,
                to=[address],
                subject=f"NFS-e negada - cobrança {charge_id}",
                text="A nota fiscal da cobrança {} foi negada:\n- {}\nCorrija os dados e emita novamente.".format(
                    charge_id, "\n- ".join(reasons) or "motivo não informado"
                ),
                idempotency_key=f"nfse-rejected-{charge_id}",
            )
        )
    except HubError as exc:
        logger.warning("nfse_rejection_mail_failed", extra={"org_id": org_id, "error": type(exc).__name__})
        return False
    return True


class CancelRequest(OperationRequest):
    org_id: OrgId
    charge_id: str = Field(pattern=CHARGE_ID_PATTERN)
    justification: str = Field("Cancelamento por estorno do pagamento", min_length=15, max_length=255)


class CancelResult(BaseModel):
    charge_id: str
    status: str = Field(description="cancelada, pendente (the municipality decides later) or rejeitada")
    reasons: list[str] = Field(default_factory=list)


def cancel_invoice(request: CancelRequest) -> CancelResult:
    """NfseCancel: cancel the charge's invoice at the provider that issued it."""
    charge = store.get_charge(request.org_id, request.charge_id)
    if not charge.invoice_provider or charge.invoice_status not in ("autorizada", "cancelamento_pendente"):
        raise InvalidRequestError(
            f"charge {request.charge_id} has no authorised invoice to cancel (invoice: {charge.invoice_status})",
            code="no_invoice",
        )
    client = _client(request.org_id, charge.invoice_provider)
    note_id = charge.invoice_id or charge.charge_id
    result = client.cancel(note_id, request.justification)
    status = {"cancelada": "cancelada", "pendente": "cancelamento_pendente"}.get(result.status, "autorizada")
    store.set_invoice(request.org_id, request.charge_id, status=status)
    answer = CancelResult(charge_id=request.charge_id, status=result.status, reasons=result.reasons)
    kind = "invoice.cancelled" if result.status == "cancelada" else "invoice.cancel_requested"
    _publish(request.org_id, kind, answer.model_dump())
    return answer


def run_step(request: StepRequest) -> dict[str, Any]:
    if request.op == "validate":
        return validate(request)
    if request.op == "emit":
        return emit(request)
    if request.op == "status":
        return poll_status(request)
    if request.op == "finalize":
        return finalize(request)
    if request.op == "reject":
        return reject(request)
    return cancel_invoice(CancelRequest(org_id=request.org_id, charge_id=request.charge_id)).model_dump()
