"""PagBank (PagSeguro) Orders API: PIX and boleto charges, checkout links for cards.

The provider's API facts this module relies on, with their doc links: README.md.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from aws_lambda_powertools.shared.lazy_import import LazyLoader
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from hub.config import get_settings
from hub.errors import InvalidRequestError, ProviderUnavailableError
from hub.payments.models import BillingType, ChargeResult, ChargeSpec, Customer
from hub.phones import brazilian_phone
from hub.providers.base.client import ProviderClient, ProviderCredentials

if TYPE_CHECKING:
    import httpx
else:  # imported on first use, not at init (cold start): a webhook receiver never calls out
    httpx = LazyLoader("httpx", globals(), "httpx")

PROVIDER = "pagbank"
PRODUCTION_URL = "https://api.pagseguro.com"
SANDBOX_URL = "https://sandbox.api.pagseguro.com"
IDEMPOTENCY_HEADER = "x-idempotency-key"
# Boleto minimum (https://developer.pagbank.com.br/reference/criar-pagar-pedido-com-boleto).
BOLETO_MIN_CENTS = 20
ITEM_NAME_MAX = 64  # items[].name: 1-64 characters in the Order object reference
# PIX QR codes expire at the end of the due date, Brasília time (UTC-03:00 since 2019).
_END_OF_DAY = "T23:59:59-03:00"
# The status we report for a PIX order that has no charge yet (PagBank adds a charge to the
# order only once the QR code is paid; the QR code itself carries no status).
PIX_WAITING_STATUS = "WAITING"

# Our billing type -> the methods offered on the hosted checkout page.
_CHECKOUT_METHODS: dict[str, list[str]] = {
    "CREDIT_CARD": ["CREDIT_CARD"],
    "UNDEFINED": ["CREDIT_CARD", "DEBIT_CARD", "PIX", "BOLETO"],
}


class PagBankCredentials(ProviderCredentials):
    token: SecretStr = Field(min_length=1)
    environment: Literal["production", "sandbox"] = "production"
    # The token PagBank signs notifications with (x-authenticity-token), when it is not the
    # API token itself: see hub.providers.pagbank.webhook.
    notification_token: SecretStr | None = None
    previous_notification_token: SecretStr | None = None


class PagBankAddress(BaseModel):
    """The payer's billing address, required by PagBank on a boleto (``holder.address``)."""

    model_config = ConfigDict(frozen=True)

    street: str = Field(min_length=1, max_length=160)
    number: str = Field(min_length=1, max_length=20)
    complement: str | None = Field(None, max_length=40)
    locality: str = Field(min_length=1, max_length=60, description="bairro")
    city: str = Field(min_length=1, max_length=90)
    # PagBank's own plugin sends ``region`` next to ``region_code`` on every address
    # (pagseguro/pagbank-for-woocommerce, src/core/Presentation/ApiHelpers.php,
    # get_order_billing_address_api_data), and the boleto holder of the notification example
    # carries it (https://developer.pagbank.com.br/reference/confirmar-autenticidade-da-notificacao).
    # Like the plugin, we send the UF when no state name is given.
    region: str | None = Field(None, min_length=1, max_length=40, description="estado")
    region_code: str = Field(pattern=r"^[A-Z]{2}$", description="UF")
    postal_code: str = Field(pattern=r"^[0-9]{8}$")
    country: str = "BRA"

    def payload(self) -> dict[str, Any]:
        out = self.model_dump(exclude_none=True)
        out.setdefault("region", self.region_code)
        return out


def _link(links: Any, *, rel: str | None = None, media: str | None = None) -> str | None:
    for link in links if isinstance(links, list) else []:
        if not isinstance(link, dict):
            continue
        if rel is not None and link.get("rel") != rel:
            continue
        if media is not None and link.get("media") != media:
            continue
        href = link.get("href")
        if isinstance(href, str) and href:
            return href
    return None


def _phones(customer: Customer) -> list[dict[str, str]]:
    phone = brazilian_phone(customer.phone)
    if phone is None:
        return []  # PagBank takes Brazilian phones with a DDD only (country 55, area 2 digits)
    # phones[].type MOBILE | BUSINESS | HOME (https://developer.pagbank.com.br/reference/objeto-order),
    # from the numbering plan: a landline is not MOBILE whatever its length.
    kind = "MOBILE" if phone.mobile else "BUSINESS"
    return [{"country": "55", "area": phone.area, "number": phone.number, "type": kind}]


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int_amount(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProviderUnavailableError(f"pagbank answered a non-integer {field}", provider=PROVIDER)
    return value


class PagBankClient(ProviderClient):
    provider: ClassVar[str] = PROVIDER
    # PIX and boleto as orders, card and "let the payer choose" as a hosted checkout.
    billing_types: ClassVar[frozenset[BillingType]] = frozenset({"BOLETO", "PIX", "CREDIT_CARD", "UNDEFINED"})
    credentials_model: ClassVar[type[ProviderCredentials]] = PagBankCredentials
    idempotency_header: ClassVar[str | None] = IDEMPOTENCY_HEADER

    credentials: PagBankCredentials

    def __init__(self, credentials: ProviderCredentials, **kwargs: Any) -> None:
        super().__init__(credentials, **kwargs)
        assert isinstance(credentials, PagBankCredentials)
        if not credentials.base_url:
            self.base_url = SANDBOX_URL if credentials.environment == "sandbox" else PRODUCTION_URL

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.credentials.token.get_secret_value()}"}

    # ----- errors -----------------------------------------------------------------------
    def error_details(self, response: httpx.Response) -> tuple[str, str | None]:
        try:
            body = self.json_body(response)
        except ValueError:
            return super().error_details(response)
        messages = body.get("error_messages") if isinstance(body, dict) else None
        if not isinstance(messages, list) or not messages:
            return super().error_details(response)
        parts: list[str] = []
        code: str | None = None
        for item in messages:
            if not isinstance(item, dict):
                continue
            item_code = item.get("code") or item.get("error")
            if code is None and item_code is not None:
                code = str(item_code)
            text = str(item.get("description") or item_code or "error")
            if item.get("parameter_name"):
                text = f"{text} ({item['parameter_name']})"
            parts.append(text)
        return ("; ".join(parts)[:300] or response.reason_phrase, code)

    # ----- charges ----------------------------------------------------------------------
    def create_charge(self, spec: ChargeSpec, *, billing_address: PagBankAddress | None = None) -> ChargeResult:
        """One charge, idempotent on ``spec.charge_id`` (the ``x-idempotency-key`` and the
        order's ``reference_id``): sending the same spec again answers the same order.

        * PIX → ``POST /orders`` with ``qr_codes`` (pix_payload, QR PNG link as payment_url);
        * BOLETO → ``POST /orders`` with a boleto charge; needs ``billing_address`` and the
          customer's email (PagBank requires the holder's full address and email);
        * CREDIT_CARD / UNDEFINED → ``POST /checkouts`` (hosted page; payment_url).

        A boleto PagBank declines (risk analysis) raises InvalidRequestError
        ``charge_declined``: nothing can be paid, the caller may fail over."""
        if spec.billing_type in _CHECKOUT_METHODS:
            return self._create_checkout(spec)
        body = self._order_body(spec, billing_address)
        response = self.request("POST", "/orders", json=body, idempotency_key=spec.charge_id, operation="create_charge")
        result = self._order_result(self.json_body(response), spec.charge_id)
        if result.status == "DECLINED":
            raise InvalidRequestError(
                "pagbank declined the boleto (risk analysis)",
                provider=self.provider,
                code="charge_declined",
                request_id=self.request_id_of(response),
                details={"order_id": result.provider_charge_id},
            )
        return result

    def open_charge(self, spec: ChargeSpec, *, resumed: bool = False) -> ChargeResult:
        """The Charger port. PagBank keeps the answer per idempotency key (our charge id), so a
        resumed or retried create returns the first order instead of a second one. Its API has
        no lookup by our reference, so after an unavailable create the outcome is unknown
        (``charge_lookup: failed``) unless nothing was sent."""
        try:
            return self.create_charge(spec)
        except ProviderUnavailableError as exc:
            nothing_sent = exc.code in ("circuit_open", "connect_failed")
            exc.details["charge_lookup"] = "not_sent" if nothing_sent else "failed"
            raise

    def notification_urls(self) -> list[str]:
        """``[{PUBLIC_API_URL}/webhooks/pagbank/{org_id}]``, or none when either is unknown."""
        base = get_settings().public_api_url
        if not base or not self.org_id:
            return []
        return [f"{base.rstrip('/')}/webhooks/pagbank/{self.org_id}"]

    def _customer(self, customer: Customer) -> dict[str, Any]:
        out: dict[str, Any] = {"name": customer.name[:120], "tax_id": customer.tax_id}
        if customer.email:
            out["email"] = customer.email
        phones = _phones(customer)
        if phones:
            out["phones"] = phones
        return out

    def _items(self, spec: ChargeSpec) -> list[dict[str, Any]]:
        name = (spec.description or f"Cobrança {spec.charge_id}")[:ITEM_NAME_MAX]
        return [{"reference_id": spec.charge_id, "name": name, "quantity": 1, "unit_amount": spec.amount_cents}]

    def _order_body(self, spec: ChargeSpec, billing_address: PagBankAddress | None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "reference_id": spec.charge_id,
            "customer": self._customer(spec.customer),
            "items": self._items(spec),
        }
        # https://developer.pagbank.com.br/reference/webhooks ("Configurando o recebimento de notificação")
        if urls := self.notification_urls():
            body["notification_urls"] = urls
        if spec.billing_type == "PIX":
            body["qr_codes"] = [
                {"amount": {"value": spec.amount_cents}, "expiration_date": pix_expiration(spec.due_date)}
            ]
            return body
        # BOLETO
        if billing_address is None:
            raise InvalidRequestError(
                "a PagBank boleto needs the payer's billing address (holder.address)",
                provider=self.provider,
                code="boleto_address_required",
            )
        if not spec.customer.email:
            raise InvalidRequestError(
                "a PagBank boleto needs the payer's email (holder.email)",
                provider=self.provider,
                code="boleto_email_required",
            )
        if spec.amount_cents < BOLETO_MIN_CENTS:
            raise InvalidRequestError(
                f"a PagBank boleto is at least {BOLETO_MIN_CENTS} centavos",
                provider=self.provider,
                code="amount_too_small",
            )
        body["charges"] = [
            {
                "reference_id": spec.charge_id,
                "description": (spec.description or f"Cobrança {spec.charge_id}")[:64],
                "amount": {"value": spec.amount_cents, "currency": spec.currency},
                "payment_method": {
                    "type": "BOLETO",
                    "boleto": {
                        "due_date": spec.due_date.isoformat(),
                        "instruction_lines": {
                            "line_1": "Pagamento até a data de vencimento",
                            "line_2": f"Cobrança {spec.charge_id}",
                        },
                        "holder": {
                            "name": spec.customer.name[:120],
                            "tax_id": spec.customer.tax_id,
                            "email": spec.customer.email,
                            "address": billing_address.payload(),
                        },
                    },
                },
            }
        ]
        return body

    def _create_checkout(self, spec: ChargeSpec) -> ChargeResult:
        # https://developer.pagbank.com.br/reference/objeto-checkout: customer.phone is one
        # object (country "+55"), not the Orders API's phones[] array.
        customer: dict[str, Any] = {"name": spec.customer.name[:120], "tax_id": spec.customer.tax_id}
        if spec.customer.email:
            customer["email"] = spec.customer.email
        phones = _phones(spec.customer)
        # A checkout refuses a landline in customer.phone unless the payer may edit it (PagBank
        # community, developer.pagbank.com.br/discuss/660fea2e66e0ec0044a45fdd): mobiles only.
        if phones and phones[0]["type"] == "MOBILE":
            customer["phone"] = {"country": "+55", "area": phones[0]["area"], "number": phones[0]["number"]}
        complete = "email" in customer and "phone" in customer
        body: dict[str, Any] = {
            "reference_id": spec.charge_id,
            "expiration_date": pix_expiration(spec.due_date),
            "customer": customer,
            # Let the payer fill in what we do not know (email/phone).
            "customer_modifiable": not complete,
            "items": self._items(spec),
            "payment_methods": [{"type": kind} for kind in _CHECKOUT_METHODS[spec.billing_type]],
        }
        # https://developer.pagbank.com.br/reference/criar-checkout: checkout events go to
        # notification_urls, the payments' (PAID, DECLINED, …) to payment_notification_urls.
        if urls := self.notification_urls():
            body["notification_urls"] = urls
            body["payment_notification_urls"] = urls
        response = self.request(
            "POST", "/checkouts", json=body, idempotency_key=spec.charge_id, operation="create_charge"
        )
        payload = self.json_body(response)
        checkout_id = payload.get("id") if isinstance(payload, dict) else None
        pay_url = _link(payload.get("links"), rel="PAY") if isinstance(payload, dict) else None
        if not isinstance(checkout_id, str) or not pay_url:
            raise ProviderUnavailableError(
                "pagbank created a checkout without an id or PAY link",
                provider=self.provider,
                request_id=self.request_id_of(response),
            )
        return ChargeResult(
            provider=self.provider,
            provider_charge_id=checkout_id,
            charge_id=spec.charge_id,
            status=str(payload.get("status") or "ACTIVE"),
            amount_cents=spec.amount_cents,
            payment_url=pay_url,
            expires_at=payload.get("expiration_date"),
        )

    def _order_result(self, order: Any, charge_id: str) -> ChargeResult:
        if not isinstance(order, dict) or not isinstance(order.get("id"), str):
            raise ProviderUnavailableError("pagbank answered an order without an id", provider=self.provider)
        charges = [c for c in order.get("charges") or [] if isinstance(c, dict)]
        qr_codes = [q for q in order.get("qr_codes") or [] if isinstance(q, dict)]
        result: dict[str, Any] = {
            "provider": self.provider,
            "provider_charge_id": order["id"],
            "charge_id": order.get("reference_id") or charge_id,
        }
        if charges:
            charge = charges[0]
            amount = _obj(charge.get("amount"))
            boleto = _obj(_obj(charge.get("payment_method")).get("boleto"))
            pdf = _link(charge.get("links"), media="application/pdf")
            result.update(
                status=str(charge.get("status") or "UNKNOWN"),
                amount_cents=_int_amount(amount.get("value"), "charges[0].amount.value"),
                boleto_digitable_line=boleto.get("formatted_barcode") or boleto.get("barcode"),
                boleto_url=pdf,
                payment_url=pdf,
                expires_at=boleto.get("due_date"),
            )
            if qr_codes:  # a paid PIX order: keep its payload
                result["pix_payload"] = qr_codes[0].get("text")
        elif qr_codes:
            qr = qr_codes[0]
            amount = _obj(qr.get("amount"))
            result.update(
                status=PIX_WAITING_STATUS,
                amount_cents=_int_amount(amount.get("value"), "qr_codes[0].amount.value"),
                pix_payload=qr.get("text"),
                # The QR image: ChargeResult has no image-URL field; the PNG link is the
                # page a payer can open.
                payment_url=_link(qr.get("links"), rel="QRCODE.PNG"),
                expires_at=qr.get("expiration_date"),
            )
        else:
            items = order.get("items") or [{}]
            result.update(status="CREATED", amount_cents=_int_amount(_obj(items[0]).get("unit_amount"), "items[0]"))
        return ChargeResult(**result)

    def get_order_payload(self, order_id: str) -> dict[str, Any] | None:
        """``GET /orders/{order_id}`` → the Order object as PagBank answers it, or None on 404
        (https://developer.pagbank.com.br/reference/consultar-pedido)."""
        try:
            response = self.request("GET", f"/orders/{order_id}", operation="get_charge")
        except InvalidRequestError as exc:
            if exc.http_status == 404:
                return None
            raise
        order = self.json_body(response)
        if not isinstance(order, dict):
            raise ProviderUnavailableError("pagbank answered an order that is not an object", provider=self.provider)
        return order

    def get_order(self, order_id: str) -> ChargeResult | None:
        """``GET /orders/{order_id}`` → the charge, or None on 404."""
        order = self.get_order_payload(order_id)
        return None if order is None else self._order_result(order, "")

    def find_charge(self, charge_id: str, *, order_id: str | None = None) -> ChargeResult | None:
        """Our charge at PagBank, by our charge id.

        PagBank documents no search by ``reference_id`` (only ``GET /orders/{id}`` and
        ``GET /orders?charge_id=`` with *its* charge id), so this needs the PagBank order id
        when one was recorded; the result must carry our charge id as ``reference_id``.
        Without an order id (a create that timed out before we saw the answer), call
        :meth:`create_charge` again with the same spec: PagBank answers the stored response
        for the same idempotency key instead of creating a second order."""
        if order_id is None:
            raise InvalidRequestError(
                "PagBank cannot look an order up by our reference; replay create_charge with the same "
                "charge id (same x-idempotency-key) to get the existing order",
                provider=self.provider,
                code="lookup_by_reference_unsupported",
            )
        result = self.get_order(order_id)
        if result is None or result.charge_id != charge_id:
            return None
        return result

    def health_check(self) -> None:
        """``GET /public-keys/card``: authenticated and read-only."""
        self.request("GET", "/public-keys/card", timeout=get_settings().health_check_timeout)


def pix_expiration(due: date) -> str:
    """The ``expiration_date`` we send for a PIX QR code due on ``due``."""
    return f"{due.isoformat()}{_END_OF_DAY}"
