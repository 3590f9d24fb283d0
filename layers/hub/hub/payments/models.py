"""What payment adapters take and return, shared by every gateway (Asaas, PagBank, MercadoPago,
Stripe) so the charge chain can route one request to any of them.

Money is integer centavos plus a currency everywhere inside the hub; each adapter converts
at its own edge (Asaas and MercadoPago take reais as decimal numbers, PagBank and Stripe
take centavos) with :mod:`hub.money`. Our charge id is the idempotency key at every provider.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

BillingType = Literal["BOLETO", "PIX", "CREDIT_CARD", "UNDEFINED"]
# Our charge ids travel as provider references (Asaas externalReference, PagBank
# reference_id, MercadoPago external_reference, PIX txid ≤ 25 alphanumerics): keep them short.
CHARGE_ID_PATTERN = r"^[A-Za-z0-9]{1,25}$"


class Customer(BaseModel):
    """A payer, validated: ``tax_id`` is the 11-digit CPF or 14-character CNPJ (uppercase,
    alphanumeric allowed since July 2026), no punctuation."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1, max_length=200)
    tax_id: str = Field(pattern=r"^([0-9]{11}|[0-9A-Z]{12}[0-9]{2})$")
    email: str | None = None
    phone: str | None = Field(None, description="E.164")
    external_reference: str | None = Field(None, description="our id of the customer")


class ProviderCustomer(BaseModel):
    provider: str
    customer_id: str
    created: bool = Field(description="False when an existing customer was found and reused")


class ChargeSpec(BaseModel):
    """One charge, as every gateway adapter takes it."""

    model_config = ConfigDict(frozen=True)

    charge_id: str = Field(pattern=CHARGE_ID_PATTERN, description="ours; the idempotency key everywhere")
    customer: Customer
    billing_type: BillingType
    amount_cents: int = Field(gt=0)
    currency: Literal["BRL"] = "BRL"
    due_date: date
    description: str = Field("", max_length=500)


class ChargeResult(BaseModel):
    """A gateway created (or already had) the charge."""

    provider: str
    provider_charge_id: str
    charge_id: str
    status: str = Field(description="the provider's status, verbatim")
    amount_cents: int
    payment_url: str | None = None
    boleto_digitable_line: str | None = None
    boleto_url: str | None = None
    pix_payload: str | None = Field(None, description="PIX copy-and-paste (BR Code)")
    pix_qr_png_base64: str | None = None
    expires_at: str | None = None
    paid_at: datetime | None = Field(None, description="when the payer paid (MercadoPago date_approved)")


SubscriptionCycle = Literal["WEEKLY", "BIWEEKLY", "MONTHLY", "QUARTERLY", "SEMIANNUALLY", "YEARLY"]


class SubscriptionSpec(BaseModel):
    """One subscription, as every subscription biller takes it: Asaas bills ``customer`` an
    amount per ``cycle``; Stripe (the platform product) subscribes ``email`` to ``price_id``."""

    model_config = ConfigDict(frozen=True)

    org_id: str
    idempotency_key: str
    customer: Customer | None = None
    billing_type: BillingType = "UNDEFINED"
    amount_cents: int | None = None
    cycle: SubscriptionCycle = "MONTHLY"
    next_due_date: date | None = None
    description: str | None = None
    external_reference: str | None = None
    email: str | None = None
    name: str | None = None
    price_id: str | None = None


class SubscriptionCreated(BaseModel):
    provider: str
    subscription_id: str
    status: str
    customer_id: str | None = None


class RefundResult(BaseModel):
    provider: str
    provider_charge_id: str
    refunded_cents: int
    status: str
