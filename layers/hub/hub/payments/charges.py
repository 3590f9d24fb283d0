"""Customers and charges: Asaas → PagBank → manual PIX, and never a double charge.

``create_charge``:
1. validate (CPF/CNPJ incl. alphanumeric, E.164, email, centavos);
2. claim our charge id in the payments table — the same id twice answers the first result,
   a different request under a used id is refused;
3. Asaas (``externalReference`` = our id; Asaas has no idempotency header): customer looked
   up by CPF/CNPJ before creating (Asaas allows duplicates), then the charge. If the create
   fails as unavailable, the adapter has already looked the charge up by our id: found → it
   is the answer; confirmed absent or never sent (breaker open) → fail over; lookup failed
   too → the outcome is unknown, so **no** failover: ProviderUnavailableError, retry later
   with the same id (the retry looks up again);
4. PagBank (``POST /orders`` with our id as ``reference_id`` and idempotency key), same rule;
5. manual: a static PIX BR Code from the org's PIX key with our id as txid — the org
   confirms the payment itself.
An InvalidRequestError at a provider is final (it would fail everywhere): the claim is
released so the caller can fix the request and retry with the same id.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import ConfigDict, Field, Strict, field_validator, model_validator

from hub.credentials import validate_org_id
from hub.documents import normalise_tax_id
from hub.emails import normalise_email
from hub.errors import (
    AuthenticationError,
    HubError,
    InvalidRequestError,
    OutcomeUnknownError,
    ProviderUnavailableError,
    RateLimitedError,
    RequestInProgressError,
)
from hub.money import reais_to_cents
from hub.observability import logger
from hub.payments import store
from hub.payments.models import (
    CHARGE_ID_PATTERN,
    BillingType,
    ChargeResult,
    ChargeSpec,
    Customer,
    ProviderCustomer,
    RefundResult,
)
from hub.payments.pix import static_brcode
from hub.payments.settings import check_amount, payment_settings
from hub.phones import to_e164
from hub.providers import ports
from hub.requests import MAX_CENTAVOS, Centavos, IdempotencyKey, OperationRequest, OrgId

# Who creates customers (upsert_customer): the gateway that keeps a customer registry.
CUSTOMER_PROVIDER = "asaas"
MANUAL = "manual"  # not a provider: a static PIX BR Code from the org's own PIX key
DEFAULT_CHAIN = ("asaas", "pagbank", MANUAL)
# MercadoPago (PIX only) is chosen explicitly: providers=["mercadopago", ...].
CHARGE_PROVIDERS = ("asaas", "pagbank", "mercadopago", MANUAL)
# Old names callers may still send in ``providers`` (PagBank was "pagseguro").
PROVIDER_ALIASES = {"pagseguro": "pagbank"}
# A claim still CREATING after this long belongs to a request that is gone (the function's
# timeout is 60 s): a retry with the same charge id may resume it.
RESUME_AFTER_SECONDS = 90


class CustomerInput(OperationRequest):
    model_config = ConfigDict(str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    cpf_cnpj: str = Field(min_length=11, max_length=20)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=32)
    external_reference: str | None = Field(None, max_length=100)

    def validated(self) -> Customer:
        return Customer(
            name=self.name,
            tax_id=normalise_tax_id(self.cpf_cnpj, field="customer.cpf_cnpj").value,
            email=normalise_email(self.email, field="customer.email") if self.email else None,
            phone=to_e164(self.phone, field="customer.phone") if self.phone else None,
            external_reference=self.external_reference,
        )


class CustomerUpsertRequest(CustomerInput):
    org_id: OrgId
    idempotency_key: IdempotencyKey | None = None


class CustomerUpserted(ProviderCustomer):
    tax_id: str


def upsert_customer(request: CustomerUpsertRequest) -> CustomerUpserted:
    validate_org_id(request.org_id)
    customer = request.validated()
    found = ports.for_org(ports.CustomerRegistry, request.org_id, CUSTOMER_PROVIDER).ensure_customer(customer)
    return CustomerUpserted(**found.model_dump(), tax_id=customer.tax_id)


# Reais as a string with at most two decimals ("3500.00"), never a JSON number (a float).
ReaisString = Annotated[str, Strict(), Field(pattern=r"^[0-9]{1,10}(\.[0-9]{1,2})?$")]


class ChargeRequest(OperationRequest):
    model_config = ConfigDict(str_strip_whitespace=True)

    org_id: OrgId
    charge_id: str = Field(pattern=CHARGE_ID_PATTERN, description="ours: 1-25 letters/digits, the idempotency key")
    customer: CustomerInput
    billing_type: BillingType
    value_cents: Centavos | None = None
    value: ReaisString | None = Field(None, description="reais with at most 2 decimals, as a string")
    due_date: date
    description: str = Field("", max_length=500)
    providers: list[str] | None = Field(
        None,
        max_length=len(CHARGE_PROVIDERS),
        description="default: asaas, pagbank, manual; mercadopago (PIX) when asked for; pagseguro = pagbank",
    )

    @field_validator("providers", mode="after")
    @classmethod
    def _current_names(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        # "pagseguro" is PagBank's old name; keep the order, drop a repeat.
        return list(dict.fromkeys(PROVIDER_ALIASES.get(name, name) for name in value))

    @model_validator(mode="after")
    def _one_amount(self) -> ChargeRequest:
        if (self.value_cents is None) == (self.value is None):
            raise ValueError("give value_cents (integer centavos) or value (reais), not both")
        if self.value is not None and not 0 < reais_to_cents(self.value, field="value") <= MAX_CENTAVOS:
            raise ValueError(f"value must be more than zero and at most {MAX_CENTAVOS // 100} reais")
        if self.providers is not None and (not self.providers or set(self.providers) - set(CHARGE_PROVIDERS)):
            raise ValueError(f"providers must be a non-empty subset of {', '.join(CHARGE_PROVIDERS)}")
        return self

    @property
    def amount_field(self) -> str:
        return "value_cents" if self.value_cents is not None else "value"

    @property
    def amount_cents(self) -> int:
        if self.value_cents is not None:
            return self.value_cents
        assert self.value is not None
        return reais_to_cents(self.value, field="value")


class ChargeCreated(ChargeResult):
    failed_attempts: dict[str, str] = Field(default_factory=dict)
    duplicate: bool = Field(False, description="this charge_id was created before: the first result")


def _spec(request: ChargeRequest) -> ChargeSpec:
    return ChargeSpec(
        charge_id=request.charge_id,
        customer=request.customer.validated(),
        billing_type=request.billing_type,
        amount_cents=request.amount_cents,
        due_date=request.due_date,
        description=request.description,
    )


def _fails_over(provider: str, exc: HubError) -> bool:
    """May the next provider be tried? Only when this one surely holds no charge."""
    if isinstance(exc, InvalidRequestError):
        return False
    if isinstance(exc, ProviderUnavailableError):
        lookup = exc.details.get("charge_lookup")
        return lookup in ("not_found", "not_sent")
    return isinstance(exc, (AuthenticationError, RateLimitedError))


def _manual(org_id: str, spec: ChargeSpec, resumed: bool) -> ChargeResult:
    settings = payment_settings(org_id)
    if not settings.pix_key:
        raise AuthenticationError(
            "no PIX key in the org's payments settings: the manual fallback is unavailable",
            provider="manual",
            code="credentials_missing",
        )
    payload = static_brcode(
        settings.pix_key,
        settings.merchant_name or "Recebedor",
        settings.merchant_city or "Sao Paulo",
        spec.amount_cents,
        spec.charge_id,
        spec.description or None,
    )
    return ChargeResult(
        provider="manual",
        provider_charge_id=spec.charge_id,
        charge_id=spec.charge_id,
        status="PENDING",
        amount_cents=spec.amount_cents,
        pix_payload=payload,
    )


def _create(org_id: str, provider: str, spec: ChargeSpec, resumed: bool) -> ChargeResult:
    """One step of the chain: the manual PIX fallback, or the org's gateway at ``provider``
    (each adapter reports in ``details["charge_lookup"]`` whether it may hold the charge)."""
    if provider == MANUAL:
        return _manual(org_id, spec, resumed)
    charger = ports.adapter_class(ports.Charger, provider, field="providers")
    if spec.billing_type not in charger.billing_types:  # refused before its credentials are read
        raise InvalidRequestError(
            f"{provider} does not take {spec.billing_type} charges (only {', '.join(sorted(charger.billing_types))})",
            provider=provider,
            code="unsupported_billing_type",
        )
    return ports.for_org(ports.Charger, org_id, provider, field="providers").open_charge(spec, resumed=resumed)


def create_charge(request: ChargeRequest) -> ChargeCreated:
    validate_org_id(request.org_id)
    # Before the claim: a refused amount never burns the charge id.
    check_amount(request.org_id, request.amount_cents, field=request.amount_field)
    spec = _spec(request)
    fingerprint = store.request_fingerprint(request.model_dump(mode="json", exclude={"providers"}))
    existing = store.claim(
        request.org_id,
        spec.charge_id,
        fingerprint=fingerprint,
        amount_cents=spec.amount_cents,
        billing_type=spec.billing_type,
        customer=spec.customer.model_dump(mode="json"),
        description=spec.description,
    )
    resumed = False
    if existing is not None:
        if existing.result is not None:
            return ChargeCreated(**existing.result, duplicate=True)
        # Created by nobody yet: another request is at it, or one ended with an unknown
        # outcome. Once stale, this retry resumes, looking the charge up before creating.
        if not store.take_over(request.org_id, spec.charge_id, stale_after_seconds=RESUME_AFTER_SECONDS):
            raise RequestInProgressError(
                f"charge {spec.charge_id!r} is being created by another request (or its outcome is still "
                "unknown); retry with the same charge_id after retry_after seconds, or ask PaymentStatus",
                code="charge_in_progress",
                retry_after=RESUME_AFTER_SECONDS,
            )
        resumed = True
    failed: dict[str, str] = {}
    providers = request.providers or list(DEFAULT_CHAIN)
    for provider in providers:
        try:
            result = _create(request.org_id, provider, spec, resumed)
        except HubError as exc:
            failed[provider] = f"{type(exc).__name__}: {exc.message}"
            logger.warning(
                "charge_provider_failed",
                extra={"provider": provider, "error": type(exc).__name__, "lookup": exc.details.get("charge_lookup")},
            )
            if not _fails_over(provider, exc):
                if not isinstance(exc, ProviderUnavailableError):
                    store.release(request.org_id, spec.charge_id)  # nothing exists anywhere
                elif exc.details.get("charge_lookup") == "failed":
                    # The provider may hold the charge: the claim stays, and the same charge_id
                    # after RESUME_AFTER_SECONDS looks it up before creating anything.
                    raise OutcomeUnknownError(
                        f"{provider} may have created charge {spec.charge_id!r} ({exc.message}); retry with the "
                        f"same charge_id after {RESUME_AFTER_SECONDS} s: it is looked up before anything is created",
                        provider=provider,
                        code="charge_outcome_unknown",
                        idempotency_key=spec.charge_id,
                        details={**exc.details, "retry_after": RESUME_AFTER_SECONDS},
                    ) from exc
                raise
            continue
        created = ChargeCreated(**result.model_dump(), failed_attempts=failed)
        store.record_created(
            request.org_id,
            spec.charge_id,
            provider=result.provider,
            provider_charge_id=result.provider_charge_id,
            result=created.model_dump(mode="json", exclude={"duplicate"}),
        )
        return created
    store.release(request.org_id, spec.charge_id)
    raise ProviderUnavailableError(
        "no payment provider could create the charge: " + "; ".join(f"{p}: {e}" for p, e in failed.items()),
        code="all_providers_failed",
    )


class ChargeStatusRequest(OperationRequest):
    org_id: OrgId
    charge_id: str = Field(pattern=CHARGE_ID_PATTERN)


def charge_status(request: ChargeStatusRequest) -> store.ChargeRecord:
    return store.get_charge(validate_org_id(request.org_id), request.charge_id)


class RefundRequest(OperationRequest):
    org_id: OrgId
    charge_id: str = Field(pattern=CHARGE_ID_PATTERN)
    value_cents: Centavos | None = Field(None, description="partial refund in centavos; omit for the whole charge")
    description: str | None = Field(None, max_length=500)
    idempotency_key: IdempotencyKey = Field(description="required: a repeated refund moves money")


def refund_charge(request: RefundRequest) -> RefundResult:
    """Refund at the provider that holds the charge. The amount is reserved on the charge
    first (one conditional update), so concurrent refunds never ask the provider for more than
    the charge; the reservation is given back only when the provider definitely refused (or
    was never reached), never on an unknown outcome. The state moves when the provider's
    ``payment.refunded`` webhook arrives, which also starts the invoice's cancellation."""
    validate_org_id(request.org_id)
    charge = store.get_charge(request.org_id, request.charge_id)
    if charge.status not in store.REFUNDABLE_STATES:
        raise InvalidRequestError(f"charge {request.charge_id!r} is {charge.status}: only paid charges are refunded")
    if not ports.supports(charge.provider or "", ports.Refunder):
        raise InvalidRequestError(
            f"charges at {charge.provider} are refunded by hand (no refund API in the hub for it)",
            code="refund_unsupported",
        )
    taken = max(charge.refunded_cents, charge.refund_reserved_cents)
    cents = request.value_cents if request.value_cents is not None else charge.amount_cents - taken
    if not store.reserve_refund(request.org_id, request.charge_id, cents=cents, amount_cents=charge.amount_cents):
        raise InvalidRequestError(
            "value_cents is more than what is left to refund" if request.value_cents else "nothing is left to refund",
            code="invalid_amount",
        )
    try:
        return _provider_refund(request, charge)
    except (InvalidRequestError, AuthenticationError):
        store.release_refund(request.org_id, request.charge_id, cents=cents)  # refused: nothing moved
        raise
    except ProviderUnavailableError as exc:
        if exc.code in ("circuit_open", "connect_failed"):  # never sent
            store.release_refund(request.org_id, request.charge_id, cents=cents)
        raise  # otherwise (timeouts, OutcomeUnknownError, …) the refund may have happened: keep it


def _provider_refund(request: RefundRequest, charge: store.ChargeRecord) -> RefundResult:
    refunder = ports.for_org(ports.Refunder, request.org_id, charge.provider or "")
    return refunder.refund(
        charge.provider_charge_id or "",
        request.value_cents,
        description=request.description,
        idempotency_key=request.idempotency_key,
    )
