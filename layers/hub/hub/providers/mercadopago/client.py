"""Mercado Pago Payments API: PIX payments, lookups and refunds (outbound adapter).

The provider's API facts this module relies on, with their doc links: README.md.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from aws_lambda_powertools.shared.lazy_import import LazyLoader
from pydantic import Field, SecretStr

from hub.config import get_settings
from hub.errors import InvalidRequestError, ProviderUnavailableError
from hub.money import cents_to_reais, reais_to_cents
from hub.payments.models import BillingType, ChargeResult, ChargeSpec, RefundResult
from hub.providers.base.client import ProviderClient, ProviderCredentials
from hub.providers.ports import charge_after_unavailable

if TYPE_CHECKING:
    import httpx
else:  # imported on first use, not at init (cold start): a webhook receiver never calls out
    httpx = LazyLoader("httpx", globals(), "httpx")

PROVIDER = "mercadopago"
IDEMPOTENCY_HEADER = "X-Idempotency-Key"
# date_of_expiration: "yyyy-MM-dd'T'HH:mm:ss.SSSz"; the end of the due date in Brasília time.
_END_OF_DAY = "T23:59:59.000-03:00"


class MercadoPagoCredentials(ProviderCredentials):
    access_token: SecretStr = Field(min_length=1)


class MercadoPagoClient(ProviderClient):
    json_floats: ClassVar[bool] = False  # transaction_amount is money
    provider: ClassVar[str] = PROVIDER
    billing_types: ClassVar[frozenset[BillingType]] = frozenset({"PIX"})  # the hub uses it for PIX only
    credentials_model: ClassVar[type[ProviderCredentials]] = MercadoPagoCredentials
    idempotency_header: ClassVar[str | None] = IDEMPOTENCY_HEADER

    credentials: MercadoPagoCredentials

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.credentials.access_token.get_secret_value()}"}

    # ----- errors -----------------------------------------------------------------------
    def error_details(self, response: httpx.Response) -> tuple[str, str | None]:
        # {"message": "...", "error": "bad_request", "status": 400,
        #  "cause": [{"code": 2067, "description": "Invalid user identification number"}]}
        try:
            body = self.json_body(response)
        except ValueError:
            return super().error_details(response)
        if not isinstance(body, dict):
            return super().error_details(response)
        causes = [c for c in body.get("cause") or [] if isinstance(c, dict)]
        code: str | None = None
        texts: list[str] = []
        for cause in causes:
            if code is None and cause.get("code") is not None:
                code = str(cause["code"])
            if cause.get("description"):
                texts.append(str(cause["description"]))
        message = body.get("message")
        if isinstance(message, str) and message:
            texts.insert(0, message)
        if code is None and isinstance(body.get("error"), str):
            code = body["error"]
        return ("; ".join(texts)[:300] or response.reason_phrase, code)

    # ----- payments ---------------------------------------------------------------------
    def pix_payment_body(self, spec: ChargeSpec) -> dict[str, Any]:
        if spec.billing_type != "PIX":
            raise InvalidRequestError(
                f"the Mercado Pago adapter creates PIX payments only, not {spec.billing_type}",
                provider=self.provider,
                code="unsupported_billing_type",
            )
        customer = spec.customer
        if not customer.email:
            raise InvalidRequestError(
                "Mercado Pago requires the payer's email", provider=self.provider, code="payer_email_required"
            )
        first, _, last = customer.name.partition(" ")
        payer: dict[str, Any] = {
            "email": customer.email,
            "first_name": first,
            "identification": {"type": "CPF" if len(customer.tax_id) == 11 else "CNPJ", "number": customer.tax_id},
        }
        if last:
            payer["last_name"] = last
        body: dict[str, Any] = {
            "transaction_amount": cents_to_reais(spec.amount_cents),  # Decimal → JSON number
            "payment_method_id": "pix",
            "description": spec.description or f"Cobrança {spec.charge_id}",
            "external_reference": spec.charge_id,
            "date_of_expiration": f"{spec.due_date.isoformat()}{_END_OF_DAY}",
            "payer": payer,
        }
        notification_url = self.default_notification_url()
        if notification_url:
            body["notification_url"] = notification_url
        return body

    def create_pix_payment(self, spec: ChargeSpec) -> ChargeResult:
        """``POST /v1/payments`` (PIX) with ``X-Idempotency-Key`` = our charge id: sending the
        same spec again answers the payment already created."""
        body = self.pix_payment_body(spec)
        response = self.request(
            "POST", "/v1/payments", json=body, idempotency_key=spec.charge_id, operation="create_charge"
        )
        return self._result(self.json_body(response), response)

    def open_charge(self, spec: ChargeSpec, *, resumed: bool = False) -> ChargeResult:
        """The Charger port, PIX only: ``X-Idempotency-Key`` (mandatory here) = our charge id,
        and ``external_reference`` searchable, so an unavailable create is looked up."""
        if spec.billing_type != "PIX":
            raise InvalidRequestError("MercadoPago is used for PIX charges only", code="unsupported_billing_type")
        try:
            return self.create_pix_payment(spec)
        except ProviderUnavailableError as exc:
            if exc.code in ("circuit_open", "connect_failed"):
                exc.details["charge_lookup"] = "not_sent"
                raise
            return charge_after_unavailable(exc, lambda: self.find_charge(spec.charge_id))

    def get_payment(self, payment_id: str) -> ChargeResult:
        response = self.request("GET", f"/v1/payments/{payment_id}", operation="get_charge")
        return self._result(self.json_body(response), response)

    def search_by_external_reference(self, charge_id: str) -> list[ChargeResult]:
        """Every payment carrying our charge id, newest first."""
        response = self.request(
            "GET",
            "/v1/payments/search",
            params={"external_reference": charge_id, "sort": "date_created", "criteria": "desc"},
            operation="get_charge",
        )
        payload = self.json_body(response)
        results = payload.get("results") if isinstance(payload, dict) else None
        if not isinstance(results, list):
            raise ProviderUnavailableError("mercadopago answered a search without results", provider=self.provider)
        return [self._result(item, response) for item in results if isinstance(item, dict)]

    def find_charge(self, charge_id: str) -> ChargeResult | None:
        """Our charge at Mercado Pago (the newest payment with that external_reference)."""
        found = self.search_by_external_reference(charge_id)
        return found[0] if found else None

    def refund(
        self,
        payment_id: str,
        amount_cents: int | None = None,
        *,
        description: str | None = None,
        idempotency_key: str,
    ) -> RefundResult:
        """Full (``amount_cents=None``) or partial refund. ``idempotency_key`` identifies this
        refund (ours, e.g. the refund id): a retry with it never refunds twice. A refund takes
        only ``amount`` (``description`` has no field there and is not sent)."""
        if amount_cents is not None and amount_cents <= 0:
            raise InvalidRequestError("refund amount must be positive", provider=self.provider, code="invalid_amount")
        body: dict[str, Any] = {} if amount_cents is None else {"amount": cents_to_reais(amount_cents)}
        # A lost answer is an unknown outcome; the same key again is safe (MercadoPago answers the
        # first refund for an X-Idempotency-Key it has seen).
        response = self.effect(
            lambda: self.request(
                "POST",
                f"/v1/payments/{payment_id}/refunds",
                json=body,
                idempotency_key=idempotency_key,
                operation="refund",
                effect=True,
            ),
            keyed=True,
        )
        payload = self.json_body(response)
        if not isinstance(payload, dict) or payload.get("amount") is None:
            raise ProviderUnavailableError("mercadopago answered a refund without an amount", provider=self.provider)
        return RefundResult(
            provider=self.provider,
            provider_charge_id=str(payload.get("payment_id") or payment_id),
            refunded_cents=_cents(payload["amount"], "amount"),
            status=str(payload.get("status") or "unknown"),
        )

    def _result(self, payment: Any, response: httpx.Response) -> ChargeResult:
        if not isinstance(payment, dict) or payment.get("id") is None:
            raise ProviderUnavailableError(
                "mercadopago answered a payment without an id",
                provider=self.provider,
                request_id=self.request_id_of(response),
            )
        data = ((payment.get("point_of_interaction") or {}).get("transaction_data")) or {}
        return ChargeResult(
            provider=self.provider,
            provider_charge_id=str(payment["id"]),
            charge_id=str(payment.get("external_reference") or ""),
            status=str(payment.get("status") or "unknown"),
            amount_cents=_cents(payment.get("transaction_amount"), "transaction_amount"),
            payment_url=data.get("ticket_url"),
            pix_payload=data.get("qr_code"),
            pix_qr_png_base64=data.get("qr_code_base64"),
            expires_at=payment.get("date_of_expiration"),
            paid_at=_instant(payment.get("date_approved")),
        )

    def default_notification_url(self) -> str | None:
        base = get_settings().public_api_url
        if not base or not self.org_id:
            return None
        return f"{base.rstrip('/')}/webhooks/mercadopago/{self.org_id}"

    def health_check(self) -> None:
        self.request("GET", "/v1/payment_methods", timeout=get_settings().health_check_timeout)


def _instant(value: Any) -> datetime | None:
    """``date_approved`` ("2026-12-03T10:00:00.000-04:00", with its offset): when the payment
    was approved — https://www.mercadopago.com.br/developers/pt/reference/payments/_payments_id/get"""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _cents(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ProviderUnavailableError(f"mercadopago answered a non-numeric {field}", provider=PROVIDER)
    try:
        return reais_to_cents(value, field=field)
    except InvalidRequestError as exc:
        raise ProviderUnavailableError(f"mercadopago answered {field}: {exc.message}", provider=PROVIDER) from None
