"""Asaas API v3: the outbound adapter (customers, charges, refunds, payment links, subscriptions, PIX QR codes,
the account statement and transfers).

The provider's API facts this module relies on, with their doc links: README.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, TypeVar

from aws_lambda_powertools.shared.lazy_import import LazyLoader
from pydantic import BaseModel, Field, SecretStr

from hub.config import get_settings
from hub.errors import (
    HubError,
    InvalidRequestError,
    ProviderUnavailableError,
    RateLimitedError,
)
from hub.jsonmoney import dumps_json  # noqa: F401 - re-exported for callers and tests
from hub.money import cents_to_reais, reais_to_cents
from hub.observability import logger
from hub.payments.models import (
    BillingType,
    ChargeResult,
    ChargeSpec,
    Customer,
    ProviderCustomer,
    RefundResult,
    SubscriptionCreated,
    SubscriptionCycle,
    SubscriptionSpec,
)
from hub.phones import brazilian_phone
from hub.providers.base.client import (
    BlankIsNone,
    OptionalSecret,
    ProviderClient,
    ProviderCredentials,
    parse_retry_after,
)
from hub.providers.base.webhook import WebhookRegistration, webhook_target, without_secret
from hub.providers.ports import charge_after_unavailable
from hub.usage.meter import Billing

if TYPE_CHECKING:
    import httpx
else:  # imported on first use, not at init (cold start): a webhook receiver never calls out
    httpx = LazyLoader("httpx", globals(), "httpx")

T = TypeVar("T")

PROVIDER = "asaas"
PRODUCTION_BASE_URL = "https://api.asaas.com/v3"
SANDBOX_BASE_URL = "https://api-sandbox.asaas.com/v3"
BASE_URLS: dict[str, str] = {"production": PRODUCTION_BASE_URL, "sandbox": SANDBOX_BASE_URL}
# Names the integration in Asaas's logs (mandatory for newer accounts, see the module docstring).
DEFAULT_USER_AGENT = "integrations-hub/1.0 (Asaas API v3 client; python-httpx)"
# List endpoints take ``offset`` and ``limit`` (max 100) and answer ``{"object": "list",
# "hasMore", "totalCount", "limit", "offset", "data": [...]}``
# (https://docs.asaas.com/reference/list-payments, https://docs.asaas.com/reference/extrato).
MAX_PAGE_SIZE = 100
# A 429 without RateLimit-Reset or Retry-After: the 12-hour quota or the concurrency limit
# (https://docs.asaas.com/docs/api-limits-1). Check back in a minute.
DEFAULT_RATE_LIMIT_RETRY_AFTER = 60.0

# https://docs.asaas.com/docs/criando-uma-assinatura
# https://docs.asaas.com/docs/creating-a-payment-link
PaymentLinkChargeType = Literal["DETACHED", "RECURRENT", "INSTALLMENT"]
# https://docs.asaas.com/reference/transfer-to-another-institution-account-or-pix-key.md
PixKeyType = Literal["CPF", "CNPJ", "EMAIL", "PHONE", "EVP"]
TransferOperationType = Literal["PIX", "TED"]
# https://docs.asaas.com/docs/transferencia-para-contas-de-outra-instituicao-pix-ted (the
# English page's example says CHECKING_ACCOUNT; the Portuguese reference uses these).
BankAccountType = Literal["CONTA_CORRENTE", "CONTA_POUPANCA"]

# The events the hub's receiver turns into hub events (asaas/webhook.py): payments
# (https://docs.asaas.com/docs/webhook-para-cobrancas) and subscriptions
# (https://docs.asaas.com/docs/eventos-para-assinaturas).
WEBHOOK_EVENTS = (
    "PAYMENT_CREATED",
    "PAYMENT_UPDATED",
    "PAYMENT_CONFIRMED",
    "PAYMENT_RECEIVED",
    "PAYMENT_OVERDUE",
    "PAYMENT_DELETED",
    "PAYMENT_REFUNDED",
    "PAYMENT_PARTIALLY_REFUNDED",
    "SUBSCRIPTION_CREATED",
    "SUBSCRIPTION_UPDATED",
    "SUBSCRIPTION_INACTIVATED",
    "SUBSCRIPTION_DELETED",
)
WEBHOOK_NAME = "integrations-hub"
# https://docs.asaas.com/docs/create-new-webhook-via-api ("Secure Authentication Token"): 32-255
# characters, no spaces, no numeric sequences (e.g. 12345) nor 4 repeated letters, not an API key.
AUTH_TOKEN_LENGTH = (32, 255)
_REPEATED = re.compile(r"(.)\1{3}")


def weak_auth_token(token: str) -> str | None:
    """Why Asaas would refuse ``token`` as a webhook ``authToken`` (None: it meets the rules)."""
    low, high = AUTH_TOKEN_LENGTH
    if not low <= len(token) <= high:
        return f"it must have {low}-{high} characters"
    if any(ch.isspace() for ch in token):
        return "it must not contain spaces"
    if _REPEATED.search(token):
        return "it must not repeat a character 4 times in a row"
    digits = "0123456789"
    for i in range(len(token) - 3):
        run = token[i : i + 4]
        if run.isdigit() and (run in digits or run in digits[::-1]):
            return "it must not contain a numeric sequence"
    if token.startswith("$aact"):
        return "it must not be an Asaas API key"
    return None


class AsaasCredentials(ProviderCredentials):
    api_key: SecretStr = Field(min_length=1)
    environment: Literal["production", "sandbox"] = "production"
    user_agent: Annotated[str | None, BlankIsNone] = Field(None, min_length=1, max_length=200)
    # The webhook's fields (hub.providers.asaas.webhook), so one secret serves both directions.
    webhook_token: OptionalSecret = None
    previous_webhook_token: OptionalSecret = None
    # Where Asaas emails failures of the webhook the hub registers (a required field of
    # POST /v3/webhooks); without it the webhook cannot be registered through the API.
    webhook_email: Annotated[str | None, BlankIsNone] = Field(None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")


# ----- JSON with Decimal money --------------------------------------------------------------


def money_to_cents(value: Any, *, field: str) -> int:
    """An Asaas money value (int or Decimal, as ``json_payload`` parses it) → integer centavos."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ProviderUnavailableError(f"asaas returned no usable {field}", provider=PROVIDER, code="invalid_amount")
    return reais_to_cents(value, field=field)


# ----- results ---------------------------------------------------------------------------------


class PixQrCode(BaseModel):
    """https://docs.asaas.com/reference/obter-qr-code-para-pagamentos-via-pix"""

    payload: str = Field(description="PIX copy-and-paste (BR Code)")
    encoded_image: str | None = Field(None, description="QR code PNG, base64")
    expiration_date: str | None = None


class FinancialTransaction(BaseModel):
    """One line of the account statement (https://docs.asaas.com/reference/extrato)."""

    id: str
    value_cents: int = Field(description="signed: credits positive, debits (fees, transfers, refunds) negative")
    balance_cents: int | None = Field(None, description="account balance after this transaction")
    type: str = Field(description="Asaas's type, verbatim (PAYMENT_RECEIVED, PAYMENT_FEE, TRANSFER, …)")
    date: date
    payment_id: str | None = None
    description: str | None = None


class PaymentLinkResult(BaseModel):
    provider: str = PROVIDER
    link_id: str
    url: str
    active: bool | None = None


class SubscriptionResult(BaseModel):
    provider: str = PROVIDER
    subscription_id: str
    status: str
    customer_id: str | None = None
    amount_cents: int
    cycle: str | None = None
    next_due_date: str | None = None


class BankAccount(BaseModel):
    """A destination account for a TED/PIX transfer by bank details."""

    bank_code: str = Field(pattern=r"^[0-9]{3}$")
    owner_name: str = Field(min_length=1)
    tax_id: str = Field(pattern=r"^([0-9]{11}|[0-9A-Z]{12}[0-9]{2})$")
    agency: str = Field(min_length=1)
    account: str = Field(min_length=1)
    account_digit: str = Field(min_length=1)
    account_type: BankAccountType = "CONTA_CORRENTE"


class TransferResult(BaseModel):
    provider: str = PROVIDER
    transfer_id: str
    status: str = Field(description="Asaas's status, verbatim (PENDING, BANK_PROCESSING, DONE, CANCELLED, FAILED)")
    amount_cents: int
    fee_cents: int | None = None
    operation_type: str | None = None


def _phone_fields(phone: str | None) -> dict[str, str]:
    """E.164 Brazilian number → Asaas's ``mobilePhone`` ("Fone celular") for a mobile, ``phone``
    ("Fone fixo") for a landline, each as the 10-11 national digits
    (https://docs.asaas.com/reference/criar-novo-cliente); Asaas refuses a landline as
    ``mobilePhone`` (``invalid_mobilePhone``). The type comes from Brazil's numbering plan.
    Foreign numbers and numbers without a DDD are not sent."""
    parsed = brazilian_phone(phone)
    if parsed is None:
        return {}
    return {"mobilePhone" if parsed.mobile else "phone": parsed.national}


class AsaasClient(ProviderClient):
    json_floats: ClassVar[bool] = False  # every number sent is money
    """Asaas API v3 (https://docs.asaas.com/reference/getting-started-with-your-api)."""

    provider: ClassVar[str] = PROVIDER
    billing_types: ClassVar[frozenset[BillingType]] = frozenset({"BOLETO", "PIX", "CREDIT_CARD", "UNDEFINED"})
    credentials_model: ClassVar[type[ProviderCredentials]] = AsaasCredentials
    # Asaas has no idempotency header: our charge id goes in ``externalReference``.
    idempotency_header: ClassVar[str | None] = None

    credentials: AsaasCredentials

    def __init__(self, credentials: ProviderCredentials, **kwargs: Any) -> None:
        super().__init__(credentials, **kwargs)
        if not credentials.base_url:
            self.base_url = BASE_URLS[self.credentials.environment]

    # https://docs.asaas.com/docs/autenticacao
    def auth_headers(self) -> dict[str, str]:
        return {
            "access_token": self.credentials.api_key.get_secret_value(),
            "User-Agent": self.credentials.user_agent or DEFAULT_USER_AGENT,
        }

    # ----- errors -----------------------------------------------------------------------
    # https://docs.asaas.com/docs/http-response-codes
    def error_details(self, response: httpx.Response) -> tuple[str, str | None]:
        try:
            body = json.loads(response.content) if response.content else None
        except ValueError:
            return super().error_details(response)
        errors = body.get("errors") if isinstance(body, dict) else None
        if isinstance(errors, list) and errors:
            items = [e for e in errors if isinstance(e, dict)]
            descriptions = [str(e["description"]) for e in items if e.get("description")]
            code = next((str(e["code"]) for e in items if e.get("code")), None)
            if descriptions or code:
                return ("; ".join(descriptions)[:300] or (code or ""), code)
        if body is None:
            return (response.reason_phrase or str(response.status_code), None)
        return super().error_details(response)

    def classify(self, response: httpx.Response) -> HubError | None:
        error = super().classify(response)
        if error is None or response.status_code != 429:
            return error
        # https://docs.asaas.com/docs/api-limits-1: "The RateLimit-Reset header has the missing
        # seconds to reset the limit."
        reset = parse_retry_after(response.headers.get("ratelimit-reset"), default=0.0)
        header = parse_retry_after(response.headers.get("retry-after"), default=0.0)
        details = {
            k: response.headers[h]
            for k, h in (
                ("limit", "ratelimit-limit"),
                ("remaining", "ratelimit-remaining"),
                ("reset", "ratelimit-reset"),
            )
            if h in response.headers
        }
        retry_after = reset or header or DEFAULT_RATE_LIMIT_RETRY_AFTER
        return error.recast(RateLimitedError, retry_after=retry_after, details=details)

    # ----- helpers ------------------------------------------------------------------------
    def _get(self, path: str, params: Mapping[str, Any] | None = None, *, operation: str) -> dict[str, Any]:
        return self.json_object(self.request("GET", path, params=params, operation=operation))

    def _raw_get(self, path: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """One GET sent once (inside a guarded attempt: one attempt of it)."""
        return self.json_object(self.request("GET", path, params=params, attempts=1))

    def _raw_post(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """One POST sent once (inside a guarded attempt: one attempt of it)."""
        return self.json_object(self.request("POST", path, json=body, attempts=1, effect=False))

    def _post_once(self, path: str, body: Mapping[str, Any], *, operation: str) -> dict[str, Any]:
        """Under the breaker and rate limits, but a single attempt: for POSTs that move money
        (refund, transfer) or create billing (payment link, subscription), where a retry after a
        5xx could apply twice and Asaas has no idempotency key. A lost answer is an unknown
        outcome (OutcomeUnknownError): Asaas has no lookup by our reference for these, so the
        same key again answers the recorded outcome until the caller says "resend"
        (docs/errors.md)."""
        return self.effect(
            lambda: self.json_object(
                self.request("POST", path, json=body, operation=operation, attempts=1, effect=True)
            )
        )

    @staticmethod
    def _data(page: dict[str, Any]) -> list[dict[str, Any]]:
        data = page.get("data")
        return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []

    # ----- customers ----------------------------------------------------------------------
    def _pick_customer(self, page: dict[str, Any], external_reference: str | None) -> str | None:
        live = [c for c in self._data(page) if not c.get("deleted") and isinstance(c.get("id"), str)]
        if external_reference:
            for item in live:
                if item.get("externalReference") == external_reference:
                    return str(item["id"])
        return str(live[0]["id"]) if live else None

    # https://docs.asaas.com/reference/listar-clientes (filters cpfCnpj, externalReference)
    def find_customer(self, tax_id: str, external_reference: str | None = None) -> str | None:
        """``GET /customers?cpfCnpj=``: Asaas accepts duplicate customers, so every create is
        preceded by this lookup. Deleted customers are ignored; with several, the one carrying
        our ``external_reference`` wins, else the first Asaas lists."""
        page = self._get("/customers", {"cpfCnpj": tax_id, "limit": MAX_PAGE_SIZE}, operation="find_customer")
        return self._pick_customer(page, external_reference)

    def _customer_body(self, customer: Customer) -> dict[str, Any]:
        body: dict[str, Any] = {"name": customer.name, "cpfCnpj": customer.tax_id}
        if customer.email:
            body["email"] = customer.email
        body.update(_phone_fields(customer.phone))
        if customer.external_reference:
            body["externalReference"] = customer.external_reference
        return body

    # https://docs.asaas.com/reference/criar-novo-cliente
    def create_customer(self, customer: Customer) -> str:
        """``POST /customers``. A retry after a 5xx first looks the customer up by CPF/CNPJ, so
        a create that succeeded before the error is not repeated."""
        body = self._customer_body(customer)
        attempts = 0

        def attempt() -> dict[str, Any]:
            nonlocal attempts
            attempts += 1
            if attempts > 1:
                page = self._raw_get("/customers", {"cpfCnpj": customer.tax_id, "limit": MAX_PAGE_SIZE})
                if found := self._pick_customer(page, customer.external_reference):
                    return {"id": found}
            return self._raw_post("/customers", body)

        created = self.guarded(attempt, operation="create_customer")
        customer_id = created.get("id")
        if not isinstance(customer_id, str) or not customer_id:
            raise ProviderUnavailableError("asaas created the customer but returned no id", provider=self.provider)
        return customer_id

    def ensure_customer(self, customer: Customer) -> ProviderCustomer:
        """Look up by CPF/CNPJ, create only when absent."""
        existing = self.find_customer(customer.tax_id, customer.external_reference)
        if existing:
            return ProviderCustomer(provider=self.provider, customer_id=existing, created=False)
        return ProviderCustomer(provider=self.provider, customer_id=self.create_customer(customer), created=True)

    # ----- charges ------------------------------------------------------------------------
    def _charge_result(self, payment: dict[str, Any], charge_id: str) -> ChargeResult:
        payment_id = payment.get("id")
        status = payment.get("status")
        if not isinstance(payment_id, str) or not payment_id or not isinstance(status, str):
            raise ProviderUnavailableError("asaas returned a payment without id or status", provider=self.provider)
        return ChargeResult(
            provider=self.provider,
            provider_charge_id=payment_id,
            charge_id=str(payment.get("externalReference") or charge_id),
            status=status,
            amount_cents=money_to_cents(payment.get("value"), field="value"),
            payment_url=payment.get("invoiceUrl") or None,
            boleto_url=payment.get("bankSlipUrl") or None,
        )

    def _enrich(self, result: ChargeResult, billing_type: str | None) -> ChargeResult:
        """Add the boleto's digitable line and/or the PIX QR code. Never raises: the charge
        exists at Asaas, and failing here would make the caller fail over and charge twice.
        A detail that is not ready (a PIX QR code right after creation, an account without a
        PIX key) is left empty; :meth:`pix_qr_code` fetches it later."""
        updates: dict[str, Any] = {}
        charge_id = result.provider_charge_id
        if billing_type in ("BOLETO", "UNDEFINED"):
            # https://docs.asaas.com/reference/obter-linha-digitavel-do-boleto
            try:
                line = self._get(f"/payments/{charge_id}/identificationField", operation="charge_details")
                updates["boleto_digitable_line"] = line.get("identificationField") or None
            except HubError as exc:
                logger.warning("asaas_boleto_line_unavailable", extra={"charge": charge_id, "error": exc.code})
        if billing_type in ("PIX", "UNDEFINED"):
            try:
                qr = self.pix_qr_code(charge_id)
                updates.update(
                    pix_payload=qr.payload, pix_qr_png_base64=qr.encoded_image, expires_at=qr.expiration_date
                )
            except HubError as exc:
                logger.warning("asaas_pix_qr_unavailable", extra={"charge": charge_id, "error": exc.code})
        return result.model_copy(update=updates) if updates else result

    def _find_payment(self, page: dict[str, Any], charge_id: str) -> dict[str, Any] | None:
        live = [p for p in self._data(page) if not p.get("deleted") and p.get("externalReference") == charge_id]
        if len(live) > 1:
            # Should never happen (every create looks up first); surface it for reconciliation.
            logger.error(
                "asaas_duplicate_charges", extra={"charge": charge_id, "payments": [p.get("id") for p in live]}
            )
        return live[0] if live else None

    # https://docs.asaas.com/reference/criar-nova-cobranca
    def create_charge(self, spec: ChargeSpec, customer_id: str) -> ChargeResult:
        """``POST /payments`` with our charge id as ``externalReference``, then the boleto line
        and/or PIX QR code (see :meth:`_enrich`).

        Never a double charge: a retry (5xx, dropped connection) first looks the charge up by
        ``externalReference``; if the create still fails with ProviderUnavailableError (read
        timeout, retries spent), one more lookup runs — a found charge is returned as if
        created; otherwise the error is raised with ``details["charge_lookup"]``: ``"not_found"``
        (Asaas has no such charge: failing over is safe), ``"failed"`` (the lookup failed too:
        the outcome is unknown, do not fail over) or ``"not_sent"`` (circuit open)."""
        body: dict[str, Any] = {
            "customer": customer_id,
            "billingType": spec.billing_type,
            "value": cents_to_reais(spec.amount_cents),
            "dueDate": spec.due_date.isoformat(),
            "externalReference": spec.charge_id,
        }
        if spec.description:
            body["description"] = spec.description
        lookup = {"externalReference": spec.charge_id, "limit": MAX_PAGE_SIZE}
        attempts = 0

        def attempt() -> dict[str, Any]:
            nonlocal attempts
            attempts += 1
            if attempts > 1 and (found := self._find_payment(self._raw_get("/payments", lookup), spec.charge_id)):
                return found
            return self._raw_post("/payments", body)

        try:
            payment = self.guarded(attempt, operation="create_charge")
        except ProviderUnavailableError as exc:
            if exc.code == "circuit_open":
                exc.details["charge_lookup"] = "not_sent"
                raise
            payment = charge_after_unavailable(
                exc, lambda: self._find_payment(self._raw_get("/payments", lookup), spec.charge_id)
            )
            logger.warning("asaas_charge_found_after_error", extra={"charge": spec.charge_id, "error": exc.code})
        return self._enrich(self._charge_result(payment, spec.charge_id), spec.billing_type)

    def open_charge(self, spec: ChargeSpec, *, resumed: bool = False) -> ChargeResult:
        """The Charger port: the customer looked up by CPF/CNPJ (or created), then the charge
        (:meth:`create_charge`). ``resumed``: an earlier attempt may have created it, so it is
        looked up first; a failed lookup is an unknown outcome (``charge_lookup: failed``)."""
        if resumed:
            try:
                found = self.find_charge(spec.charge_id)
            except ProviderUnavailableError as exc:
                exc.details["charge_lookup"] = "failed"  # an earlier attempt may have created it
                raise
            if found is not None:
                return found
        try:
            customer = self.ensure_customer(spec.customer)
        except ProviderUnavailableError as exc:
            exc.details.setdefault("charge_lookup", "not_sent")  # no charge was attempted yet
            raise
        return self.create_charge(spec, customer.customer_id)

    # https://docs.asaas.com/reference/list-payments (filter externalReference)
    def find_charge(self, charge_id: str, *, details: bool = True) -> ChargeResult | None:
        """``GET /payments?externalReference=``: the charge we created with this id, if any
        (deleted ones ignored). Used before failing over: a create that timed out may have
        succeeded. ``details`` adds the boleto line / PIX QR code."""
        page = self._get("/payments", {"externalReference": charge_id, "limit": MAX_PAGE_SIZE}, operation="find_charge")
        payment = self._find_payment(page, charge_id)
        if payment is None:
            return None
        result = self._charge_result(payment, charge_id)
        billing_type = payment.get("billingType")
        return self._enrich(result, billing_type if isinstance(billing_type, str) else None) if details else result

    # https://docs.asaas.com/reference/obter-qr-code-para-pagamentos-via-pix
    def pix_qr_code(self, provider_charge_id: str) -> PixQrCode:
        """``GET /payments/{id}/pixQrCode`` → ``{"encodedImage", "payload", "expirationDate"}``."""
        body = self._get(f"/payments/{provider_charge_id}/pixQrCode", operation="pix_qr_code")
        payload = body.get("payload")
        if not isinstance(payload, str) or not payload:
            raise ProviderUnavailableError("asaas returned a PIX QR code without payload", provider=self.provider)
        return PixQrCode(
            payload=payload,
            encoded_image=body.get("encodedImage") or None,
            expiration_date=body.get("expirationDate") or None,
        )

    # https://docs.asaas.com/reference/refund-payment ("If no value is provided, the full amount
    # of the billing will be used"; PIX allows several partial refunds up to the total)
    def refund(
        self,
        provider_charge_id: str,
        amount_cents: int | None = None,
        description: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> RefundResult:
        """``POST /payments/{id}/refund`` with ``value`` in reais for a partial refund. Sent once
        (no retry on 5xx: a repeated partial refund would refund twice). Asaas takes no
        idempotency key: ``idempotency_key`` is the hub's (the function runs once per key)."""
        if amount_cents is not None and amount_cents <= 0:
            raise InvalidRequestError("a refund amount must be positive", provider=self.provider, code="invalid_amount")
        body: dict[str, Any] = {}
        if amount_cents is not None:
            body["value"] = cents_to_reais(amount_cents)
        if description:
            body["description"] = description
        payment = self._post_once(f"/payments/{provider_charge_id}/refund", body, operation="refund")
        status = payment.get("status")
        refunded = amount_cents if amount_cents is not None else money_to_cents(payment.get("value"), field="value")
        return RefundResult(
            provider=self.provider,
            provider_charge_id=str(payment.get("id") or provider_charge_id),
            refunded_cents=refunded,
            status=status if isinstance(status, str) else "UNKNOWN",
        )

    # ----- payment links and subscriptions -------------------------------------------------
    # https://docs.asaas.com/reference/create-a-payment-link, https://docs.asaas.com/docs/creating-a-payment-link
    def create_payment_link(
        self,
        *,
        name: str,
        billing_type: BillingType,
        charge_type: PaymentLinkChargeType = "DETACHED",
        amount_cents: int | None = None,
        description: str | None = None,
        due_date_limit_days: int | None = None,
        subscription_cycle: SubscriptionCycle | None = None,
        max_installment_count: int | None = None,
        end_date: date | None = None,
        external_reference: str | None = None,
        notification_enabled: bool | None = None,
    ) -> PaymentLinkResult:
        """``POST /paymentLinks`` → ``{"id", "url", "active", …}``. Without an amount the payer
        types it. BOLETO/UNDEFINED need ``due_date_limit_days``, RECURRENT a
        ``subscription_cycle``, INSTALLMENT a ``max_installment_count`` (Asaas's rules)."""
        if billing_type in ("BOLETO", "UNDEFINED") and due_date_limit_days is None:
            raise InvalidRequestError("boleto payment links need due_date_limit_days", provider=self.provider)
        if charge_type == "RECURRENT" and subscription_cycle is None:
            raise InvalidRequestError("recurrent payment links need subscription_cycle", provider=self.provider)
        if charge_type == "INSTALLMENT" and not max_installment_count:
            raise InvalidRequestError("installment payment links need max_installment_count", provider=self.provider)
        body: dict[str, Any] = {"name": name, "billingType": billing_type, "chargeType": charge_type}
        optional: dict[str, Any] = {
            "value": cents_to_reais(amount_cents) if amount_cents is not None else None,
            "description": description,
            "dueDateLimitDays": due_date_limit_days,
            "subscriptionCycle": subscription_cycle,
            "maxInstallmentCount": max_installment_count,
            "endDate": end_date.isoformat() if end_date else None,
            "externalReference": external_reference,
            "notificationEnabled": notification_enabled,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        link = self._post_once("/paymentLinks", body, operation="create_payment_link")
        link_id, url = link.get("id"), link.get("url")
        if not isinstance(link_id, str) or not isinstance(url, str):
            raise ProviderUnavailableError(
                "asaas created the payment link but returned no id/url", provider=self.provider
            )
        active = link.get("active")
        return PaymentLinkResult(link_id=link_id, url=url, active=active if isinstance(active, bool) else None)

    def _subscription_result(self, sub: dict[str, Any]) -> SubscriptionResult:
        sub_id, status = sub.get("id"), sub.get("status")
        if not isinstance(sub_id, str) or not isinstance(status, str):
            raise ProviderUnavailableError("asaas returned a subscription without id or status", provider=self.provider)
        return SubscriptionResult(
            subscription_id=sub_id,
            status=status,
            customer_id=sub.get("customer"),
            amount_cents=money_to_cents(sub.get("value"), field="value"),
            cycle=sub.get("cycle"),
            next_due_date=sub.get("nextDueDate"),
        )

    # https://docs.asaas.com/docs/criando-uma-assinatura
    def create_subscription(
        self,
        customer_id: str,
        *,
        billing_type: BillingType,
        amount_cents: int,
        next_due_date: date,
        cycle: SubscriptionCycle = "MONTHLY",
        description: str | None = None,
        external_reference: str | None = None,
    ) -> SubscriptionResult:
        """``POST /subscriptions``: Asaas then creates one charge per cycle (each arrives as a
        PAYMENT_CREATED webhook carrying the subscription id). Sent once (no retry on 5xx)."""
        if amount_cents <= 0:
            raise InvalidRequestError("a subscription amount must be positive", provider=self.provider)
        body: dict[str, Any] = {
            "customer": customer_id,
            "billingType": billing_type,
            "value": cents_to_reais(amount_cents),
            "nextDueDate": next_due_date.isoformat(),
            "cycle": cycle,
        }
        if description:
            body["description"] = description
        if external_reference:
            body["externalReference"] = external_reference
        return self._subscription_result(self._post_once("/subscriptions", body, operation="create_subscription"))

    def start_subscription(self, spec: SubscriptionSpec) -> SubscriptionCreated:
        """The SubscriptionBiller port: the payer looked up (or created), then the subscription."""
        if spec.customer is None or spec.amount_cents is None or spec.next_due_date is None:
            raise InvalidRequestError(
                "asaas subscriptions need customer, value_cents and next_due_date", provider=self.provider
            )
        customer_id = self.ensure_customer(spec.customer).customer_id
        result = self.create_subscription(
            customer_id,
            billing_type=spec.billing_type,
            amount_cents=spec.amount_cents,
            next_due_date=spec.next_due_date,
            cycle=spec.cycle,
            description=spec.description,
            external_reference=spec.external_reference,
        )
        return SubscriptionCreated(
            provider=self.provider,
            subscription_id=result.subscription_id,
            status=result.status,
            customer_id=customer_id,
        )

    def end_subscription(self, subscription_id: str) -> bool:
        return self.cancel_subscription(subscription_id)

    # https://docs.asaas.com/reference/remover-assinatura
    def cancel_subscription(self, subscription_id: str) -> bool:
        """``DELETE /subscriptions/{id}`` → ``{"deleted": true, "id"}``; future charges stop."""
        body = self.json_object(
            self.request("DELETE", f"/subscriptions/{subscription_id}", operation="cancel_subscription")
        )
        return body.get("deleted") is True

    # ----- statement and transfers ---------------------------------------------------------
    # https://docs.asaas.com/reference/extrato, https://docs.asaas.com/reference/financial-transaction
    def list_financial_transactions(self, start: date, end: date) -> Iterator[FinancialTransaction]:
        """``GET /financialTransactions?startDate=&finishDate=``, every page (``offset``/``limit``
        ≤ 100, following ``hasMore``). Values are signed reais → signed centavos."""
        if end < start:
            raise InvalidRequestError("the statement's end date is before its start", provider=self.provider)
        offset = 0
        while True:
            params = {
                "startDate": start.isoformat(),
                "finishDate": end.isoformat(),
                "offset": offset,
                "limit": MAX_PAGE_SIZE,
            }
            page = self._get("/financialTransactions", params, operation="financial_transactions")
            items = self._data(page)
            for item in items:
                yield self._transaction(item)
            if page.get("hasMore") is not True:
                return
            if not items:  # hasMore with an empty page would loop forever
                raise ProviderUnavailableError(
                    "asaas answered hasMore with an empty statement page", provider=self.provider
                )
            offset += len(items)

    def _transaction(self, item: dict[str, Any]) -> FinancialTransaction:
        balance = item.get("balance")
        when = item.get("date")
        try:
            parsed_date = date.fromisoformat(str(when)[:10])
        except ValueError:
            raise ProviderUnavailableError(
                "asaas returned a statement line without a date", provider=self.provider
            ) from None
        return FinancialTransaction(
            id=str(item.get("id")),
            value_cents=money_to_cents(item.get("value"), field="value"),
            balance_cents=money_to_cents(balance, field="balance") if balance is not None else None,
            type=str(item.get("type") or ""),
            date=parsed_date,
            payment_id=item.get("paymentId") or None,
            description=item.get("description") or None,
        )

    # https://docs.asaas.com/reference/transfer-to-another-institution-account-or-pix-key.md,
    # https://docs.asaas.com/docs/transferencia-para-contas-de-outra-instituicao-pix-ted
    def create_transfer(
        self,
        amount_cents: int,
        *,
        pix_key: str | None = None,
        pix_key_type: PixKeyType | None = None,
        bank_account: BankAccount | None = None,
        operation_type: TransferOperationType | None = None,
        description: str | None = None,
        schedule_date: date | None = None,
    ) -> TransferResult:
        """``POST /transfers`` to a PIX key (``pixAddressKey`` + ``pixAddressKeyType``) or a bank
        account (``bankAccount``; PIX when the bank takes part in PIX, else TED, unless
        ``operation_type`` says). The allowlist and audit are the caller's; this only calls.
        Sent once: never retried automatically."""
        if amount_cents <= 0:
            raise InvalidRequestError("a transfer amount must be positive", provider=self.provider)
        if (pix_key is None) == (bank_account is None):
            raise InvalidRequestError(
                "a transfer goes to a PIX key or a bank account (one of them)", provider=self.provider
            )
        if pix_key is not None and pix_key_type is None:
            raise InvalidRequestError("a PIX transfer needs pix_key_type", provider=self.provider)
        body: dict[str, Any] = {"value": cents_to_reais(amount_cents)}
        if pix_key is not None:
            body.update(pixAddressKey=pix_key, pixAddressKeyType=pix_key_type)
        if bank_account is not None:
            body["bankAccount"] = {
                "bank": {"code": bank_account.bank_code},
                "ownerName": bank_account.owner_name,
                "cpfCnpj": bank_account.tax_id,
                "agency": bank_account.agency,
                "account": bank_account.account,
                "accountDigit": bank_account.account_digit,
                "bankAccountType": bank_account.account_type,
            }
        if operation_type:
            body["operationType"] = operation_type
        if description:
            body["description"] = description
        if schedule_date:
            body["scheduleDate"] = schedule_date.isoformat()
        transfer = self._post_once("/transfers", body, operation="create_transfer")
        transfer_id, status = transfer.get("id"), transfer.get("status")
        if not isinstance(transfer_id, str) or not isinstance(status, str):
            raise ProviderUnavailableError(
                "asaas accepted the transfer but returned no id/status", provider=self.provider
            )
        fee = transfer.get("transferFee")
        return TransferResult(
            transfer_id=transfer_id,
            status=status,
            amount_cents=money_to_cents(transfer.get("value"), field="value"),
            fee_cents=money_to_cents(fee, field="transferFee") if fee is not None else None,
            operation_type=transfer.get("operationType"),
        )

    # ----- webhook ---------------------------------------------------------------------------
    # https://docs.asaas.com/docs/create-new-webhook-via-api, https://docs.asaas.com/reference/create-new-webhook
    # (POST /v3/webhooks); https://docs.asaas.com/reference/update-existing-webhook (PUT /v3/webhooks/{id})
    def register_webhook(self, url: str, secret: str, *, existing_id: str | None = None) -> WebhookRegistration:
        """``POST /webhooks`` (or ``PUT /webhooks/{existing_id}``) with ``authToken=secret``: Asaas
        sends it verbatim as ``asaas-access-token`` on every call, which
        :func:`verify_asaas_webhook` checks as ``webhook_token``. A create is sent once (a retry
        could leave two webhooks: Asaas has no idempotency key); an update may be retried. The
        secret's ``webhook_email`` receives Asaas's failure notices (a required field)."""
        webhook_target(url, provider=self.provider)
        problem = weak_auth_token(secret) if isinstance(secret, str) else "it is required"
        if secret == self.credentials.api_key.get_secret_value():
            problem = "it must not be an Asaas API key"
        if problem:
            raise InvalidRequestError(
                f"secret: Asaas refuses this webhook authToken ({problem})",
                provider=self.provider,
                code="weak_webhook_token",
            )
        email = self.credentials.webhook_email
        if not email:
            raise InvalidRequestError(
                "credentials.webhook_email: Asaas needs an email for webhook failure notices",
                provider=self.provider,
                code="missing_webhook_email",
            )
        body: dict[str, Any] = {
            "name": f"{WEBHOOK_NAME} {self.org_id}" if self.org_id else WEBHOOK_NAME,
            "url": url,
            "email": email,
            "enabled": True,
            "interrupted": False,
            "apiVersion": 3,
            "authToken": secret,
            "sendType": "SEQUENTIALLY",
            "events": list(WEBHOOK_EVENTS),
        }
        try:
            if existing_id:
                response = self.request(
                    "PUT", f"/webhooks/{existing_id}", json=body, operation="register_webhook", effect=False
                )
            else:
                response = self.request(
                    "POST", "/webhooks", json=body, operation="register_webhook", effect=False, attempts=1
                )
        except HubError as exc:
            raise without_secret(exc, secret) from None
        webhook = self.json_object(response)
        webhook_id = webhook.get("id")
        if not isinstance(webhook_id, str) or not webhook_id:
            raise ProviderUnavailableError("asaas saved the webhook but returned no id", provider=self.provider)
        return WebhookRegistration(
            provider_webhook_id=webhook_id, secret_fields={"webhook_token": secret}, events=WEBHOOK_EVENTS
        )

    # ----- health ---------------------------------------------------------------------------
    # https://docs.asaas.com/reference/recuperar-saldo-da-conta
    def billed(self, operation: str | None, result: Any) -> Billing | None:
        """A created charge bills Asaas's fee, as Asaas states it on the payment: ``value -
        netValue`` in BRL (https://docs.asaas.com/reference/criar-nova-cobranca). Asaas takes
        it when the charge is paid."""
        if operation != "create_charge" or not isinstance(result, dict):
            return None
        value, net = result.get("value"), result.get("netValue")
        if value is None or net is None:
            return Billing(1, "charge")
        try:
            fee = Decimal(str(value)) - Decimal(str(net))
        except ArithmeticError:
            return Billing(1, "charge")
        return Billing(1, "charge", cost=max(fee, Decimal(0)), currency="BRL")

    def health_check(self) -> None:
        """``GET /finance/balance``: authenticated, read-only, no parameters."""
        self.request("GET", "/finance/balance", timeout=get_settings().health_check_timeout, operation="health")
