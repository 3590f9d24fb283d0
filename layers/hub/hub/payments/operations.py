"""The other payment operations, each a thin layer over one adapter call: payment links,
subscriptions (Asaas for clients; Stripe for the platform product), the PIX QR code of a
charge, and transfers — only to the org's allowlisted accounts, each one audited and
announced as a sensitive action.

Every operation that moves money or creates something billable is invoked with an
``idempotency_key`` (required here): the function runs it at most once per key.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from hub import audit
from hub.bus import put_event
from hub.credentials import ORG_ID_PATTERN, validate_org_id
from hub.errors import InvalidRequestError, OutcomeUnknownError
from hub.observability import logger
from hub.payments import store
from hub.payments.charges import CustomerInput
from hub.payments.models import (
    CHARGE_ID_PATTERN,
    BillingType,
    SubscriptionCreated,
    SubscriptionCycle,
    SubscriptionSpec,
)
from hub.payments.settings import ALLOWLIST_NAME_MAX, check_amount, payment_settings
from hub.providers import ports
from hub.providers.asaas.client import PaymentLinkResult, PixKeyType, PixQrCode, TransferResult
from hub.requests import Centavos, IdempotencyKey, OperationRequest, OrgId

# The gateway behind the org's payment links, PIX QR codes of its charges and transfers.
ACCOUNT_PROVIDER = "asaas"


def _account(port: ports.Port[ports.PortT], org_id: str) -> ports.PortT:
    return ports.for_org(port, validate_org_id(org_id), ACCOUNT_PROVIDER)


class PaymentLinkRequest(OperationRequest):
    org_id: OrgId
    name: str = Field(min_length=1, max_length=255)
    billing_type: BillingType = "UNDEFINED"
    value_cents: Centavos | None = Field(None, description="fixed amount; omit to let the payer type it")
    description: str | None = Field(None, max_length=500)
    due_date_limit_days: int = Field(5, ge=1, le=60, strict=True)
    external_reference: str | None = Field(None, max_length=100)
    idempotency_key: IdempotencyKey


def create_payment_link(request: PaymentLinkRequest) -> PaymentLinkResult:
    validate_org_id(request.org_id)
    if request.value_cents is not None:
        check_amount(request.org_id, request.value_cents, field="value_cents")
    return _account(ports.PaymentLinks, request.org_id).create_payment_link(
        name=request.name,
        billing_type=request.billing_type,
        amount_cents=request.value_cents,
        description=request.description,
        due_date_limit_days=request.due_date_limit_days,
        external_reference=request.external_reference,
    )


class SubscriptionRequest(OperationRequest):
    org_id: OrgId
    provider: Literal["asaas", "stripe"] = "asaas"
    customer: CustomerInput | None = Field(None, description="asaas: the payer (looked up before creating)")
    billing_type: BillingType = "UNDEFINED"
    value_cents: Centavos | None = None
    cycle: SubscriptionCycle = "MONTHLY"
    next_due_date: date | None = None
    description: str | None = Field(None, max_length=500)
    external_reference: str | None = Field(None, max_length=100)
    # Stripe (the platform product): a customer by email and a Price.
    email: str | None = Field(None, max_length=254)
    name: str | None = Field(None, max_length=200)
    price_id: str | None = Field(None, pattern=r"^price_[A-Za-z0-9]{1,250}$")
    idempotency_key: IdempotencyKey

    @model_validator(mode="after")
    def _fields_for_provider(self) -> SubscriptionRequest:
        if self.provider == "asaas":
            missing = [n for n in ("customer", "value_cents", "next_due_date") if getattr(self, n) is None]
        else:
            missing = [n for n in ("email", "price_id") if getattr(self, n) is None]
        if missing:
            raise ValueError(f"{self.provider} subscriptions need {', '.join(missing)}")
        return self


def create_subscription(request: SubscriptionRequest) -> SubscriptionCreated:
    validate_org_id(request.org_id)
    if request.value_cents is not None:
        check_amount(request.org_id, request.value_cents, field="value_cents")
    spec = SubscriptionSpec(
        org_id=request.org_id,
        idempotency_key=request.idempotency_key,
        customer=request.customer.validated() if request.customer else None,
        billing_type=request.billing_type,
        amount_cents=request.value_cents,
        cycle=request.cycle,
        next_due_date=request.next_due_date,
        description=request.description,
        external_reference=request.external_reference,
        email=request.email,
        name=request.name,
        price_id=request.price_id,
    )
    return ports.for_org(ports.SubscriptionBiller, request.org_id, request.provider).start_subscription(spec)


class SubscriptionCancelRequest(OperationRequest):
    org_id: OrgId
    provider: Literal["asaas", "stripe"] = "asaas"
    subscription_id: str = Field(min_length=1, max_length=100)
    idempotency_key: IdempotencyKey | None = None


class SubscriptionCancelled(BaseModel):
    provider: str
    subscription_id: str
    cancelled: bool


def cancel_subscription(request: SubscriptionCancelRequest) -> SubscriptionCancelled:
    validate_org_id(request.org_id)
    biller = ports.for_org(ports.SubscriptionBiller, request.org_id, request.provider)
    cancelled = biller.end_subscription(request.subscription_id)
    return SubscriptionCancelled(
        provider=request.provider, subscription_id=request.subscription_id, cancelled=cancelled
    )


class PixQrCodeRequest(OperationRequest):
    org_id: OrgId
    charge_id: str = Field(pattern=CHARGE_ID_PATTERN)


def pix_qr_code(request: PixQrCodeRequest) -> PixQrCode:
    """The PIX copy-and-paste and QR image of one of our charges, from wherever it lives."""
    charge = store.get_charge(validate_org_id(request.org_id), request.charge_id)
    if charge.provider and charge.provider_charge_id and ports.supports(charge.provider, ports.PixQrCodes):
        return ports.for_org(ports.PixQrCodes, request.org_id, charge.provider).pix_qr_code(charge.provider_charge_id)
    payload = (charge.result or {}).get("pix_payload")
    if not payload:
        raise InvalidRequestError(f"charge {request.charge_id} has no PIX payment method", code="no_pix")
    return PixQrCode(payload=payload, encoded_image=(charge.result or {}).get("pix_qr_png_base64"))


class TransferRequest(OperationRequest):
    org_id: OrgId
    value_cents: Centavos
    destination: str = Field(
        min_length=1,
        max_length=ALLOWLIST_NAME_MAX,
        description="the name of an account on the org's transfer allowlist",
    )
    description: str | None = Field(None, max_length=200)
    requested_by: str = Field(min_length=1, max_length=100, description="who asked (kept in the audit)")
    idempotency_key: IdempotencyKey


def _pix_key_type(key: str) -> PixKeyType:
    if "@" in key:
        return "EMAIL"
    if key.startswith("+"):
        return "PHONE"
    digits = key.replace(".", "").replace("-", "").replace("/", "")
    if len(digits) == 11 and digits.isdigit():
        return "CPF"
    if len(digits) == 14:
        return "CNPJ"
    return "EVP"


def _refused(org_id: str, details: dict[str, Any], reason: str) -> None:
    audit.record(org_id, "transfer_refused", actor=_actor(details), details={**details, "reason": reason})
    put_event("security.sensitive_action", {"org_id": org_id, "action": "transfer_refused", **details})


def _actor(details: dict[str, Any]) -> str | None:
    requested_by = details.get("requested_by")
    return requested_by if isinstance(requested_by, str) and requested_by else None


def _clipped(value: Any) -> Any:
    """A field of a refused payload as the audit keeps it: short, never the whole of a huge value."""
    if isinstance(value, str):
        return value if len(value) <= ALLOWLIST_NAME_MAX else f"{value[:ALLOWLIST_NAME_MAX]}… ({len(value)} characters)"
    if value is None or isinstance(value, bool | int):
        return value
    return f"<{type(value).__name__}>"


def audit_invalid_transfer(payload: Any, error: InvalidRequestError) -> None:
    """A TransferCreate refused by validation is audited and announced too (clipped, so an
    oversized field can never make the audit record itself fail). Without a valid org id
    there is no org to audit it under: it is only logged."""
    org_id = payload.get("org_id") if isinstance(payload, dict) else None
    if not isinstance(org_id, str) or not ORG_ID_PATTERN.fullmatch(org_id):
        logger.warning("transfer_refused_without_org", extra={"reason": error.message[:500]})
        return
    fields = ("destination", "value_cents", "requested_by", "idempotency_key")
    details = {name: _clipped(payload.get(name)) for name in fields}
    _refused(org_id, details, error.message[:500])


def create_transfer(request: TransferRequest) -> TransferResult:
    """Money out: only to an allowlisted account, audited before and after, announced."""
    validate_org_id(request.org_id)
    allowlist = {account.name: account for account in payment_settings(request.org_id).transfer_allowlist}
    account = allowlist.get(request.destination)
    details = {
        "destination": request.destination,
        "value_cents": request.value_cents,
        "requested_by": request.requested_by,
        "idempotency_key": request.idempotency_key,
    }
    try:
        check_amount(request.org_id, request.value_cents, field="value_cents")
    except InvalidRequestError as exc:
        _refused(request.org_id, details, exc.message)
        raise
    if account is None:
        _refused(request.org_id, details, "not on the allowlist")
        raise InvalidRequestError(
            f"destination {request.destination!r} is not on the org's transfer allowlist", code="not_allowlisted"
        )
    if not account.pix_key:
        _refused(request.org_id, details, "the allowlisted account has no PIX key")
        raise InvalidRequestError(f"allowlisted account {request.destination!r} has no PIX key", code="no_pix_key")
    audit.record(request.org_id, "transfer_requested", actor=request.requested_by, details=details)
    try:
        result = _account(ports.PixTransfers, request.org_id).create_transfer(
            request.value_cents,
            pix_key=account.pix_key,
            pix_key_type=_pix_key_type(account.pix_key),
            description=request.description,
        )
    except OutcomeUnknownError as exc:
        # Money may have left: the audit and the announcement say so, the key holds the outcome.
        unknown = {**details, "reason": exc.message}
        audit.record(request.org_id, "transfer_outcome_unknown", actor=request.requested_by, details=unknown)
        put_event(
            "security.sensitive_action", {"org_id": request.org_id, "action": "transfer_outcome_unknown", **unknown}
        )
        raise
    done = {**details, "transfer_id": result.transfer_id, "status": result.status}
    audit.record(request.org_id, "transfer_created", actor=request.requested_by, details=done)
    put_event("security.sensitive_action", {"org_id": request.org_id, "action": "transfer_created", **done})
    return result
