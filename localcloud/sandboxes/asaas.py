"""Asaas API v3 sandbox, mounted at ``/asaas``; the secret's base_url is ``<sandbox>/asaas/v3``
(paths as on https://api.asaas.com/v3). In-memory state, reset by ``DELETE /__sandbox/requests``.

Auth: the ``access_token`` header must equal the sandbox's key (:data:`DEMO_API_KEY`); anything
else → 401 ``invalid_access_token`` (https://docs.asaas.com/docs/autenticacao). werkzeug's
development server drops headers with underscores: serve the sandbox with
:class:`UnderscoreHeadersRequestHandler` (``make_server(..., request_handler=...)``), or every call
is a 401.

Errors: ``{"errors": [{"code", "description"}]}`` (https://docs.asaas.com/docs/http-response-codes).
Money: JSON numbers in reais, parsed as Decimal and written back digit for digit. Stricter than
Asaas on purpose: a money value sent as a string or with more than two decimals is a 400
``invalid_value``, so a client that would send floats-as-strings is caught.

Implemented (ids look like Asaas's: ``cus_…``, ``pay_…``, ``sub_…``):

* ``GET/POST /v3/customers`` (filters ``cpfCnpj``, ``externalReference``; duplicates allowed, as
  Asaas does), ``GET /v3/customers/{id}``.
* ``POST /v3/payments`` (``customer``, ``billingType``, ``value``, ``dueDate`` not in the past,
  ``description``, ``externalReference``) → status ``PENDING`` with ``invoiceUrl`` and, for
  BOLETO/UNDEFINED, ``bankSlipUrl``; ``GET /v3/payments`` (filters ``externalReference``,
  ``customer``, ``status``, ``billingType``; deleted ones excluded), ``GET/DELETE
  /v3/payments/{id}``, ``GET /v3/payments/{id}/identificationField`` (BOLETO/UNDEFINED),
  ``GET /v3/payments/{id}/pixQrCode`` (a BR Code payload with a valid CRC and a PNG),
  ``POST /v3/payments/{id}/refund`` (full or partial, only once paid; a ``PAYMENT_REFUND`` debit
  on the statement).
* ``POST /v3/paymentLinks``, ``POST /v3/subscriptions`` (creates the first charge, as Asaas
  does), ``DELETE /v3/subscriptions/{id}``.
* ``POST /v3/webhooks`` (``name``, ``url`` http(s), ``email``, ``sendType``
  SEQUENTIALLY|NON_SEQUENTIALLY, ``events`` from :data:`WEBHOOK_EVENTS`, ``enabled``,
  ``interrupted``, ``apiVersion``, ``authToken`` 32-255 characters without spaces, numeric
  sequences or 4 repeated characters, generated and answered once when absent), at most 10 per
  account (https://docs.asaas.com/docs/create-new-webhook-via-api); ``PUT /v3/webhooks/{id}``
  (the same fields, each optional), ``GET /v3/webhooks[/{id}]``, ``DELETE /v3/webhooks/{id}``.
  Answers never carry the token (``hasAuthToken``), except the create that generated it.
  :meth:`AsaasSandbox.webhook_delivery` builds the POST Asaas would send for an event to every
  enabled webhook taking it (``asaas-access-token: <authToken>``): tests post it to the hub.
* ``GET /v3/financialTransactions`` (``startDate``, ``finishDate``, ``offset``, ``limit`` ≤ 100,
  ``hasMore``), ``POST /v3/transfers`` (PIX key or bank account; refused beyond the balance),
  ``GET /v3/finance/balance``.

Control endpoints (tests call them over HTTP; they are logged like other requests and, like
them, subject to ``/__sandbox/faults/asaas`` — set faults after using them):

* ``POST /asaas/__control/payments/{id}/confirm`` → ``CONFIRMED`` (paid, money not available).
* ``POST /asaas/__control/payments/{id}/receive`` ``{"fee"?: 1.99}`` → ``RECEIVED``, with a
  ``PAYMENT_RECEIVED`` credit (and a ``PAYMENT_FEE`` debit when a fee is given) on the statement.
* ``POST /asaas/__control/financialTransactions`` ``{"value", "type"?, "description"?,
  "paymentId"?, "date"?}`` → an arbitrary statement line (money without a charge, …).
* ``POST /asaas/__control/slow_create`` ``{"delay_seconds": 2, "times": 1}`` → the next
  ``POST /v3/payments`` *stores the charge first* and answers only after the delay: a client
  with a shorter timeout sees a timeout although the charge exists (timeout-then-lookup). The
  server's ``slow`` fault, by contrast, sleeps *before* handling: the charge does not exist yet.
* ``POST /asaas/__control/pix_qr_unavailable`` ``{"times": 1}`` → the next pixQrCode calls
  answer 404 (a QR code that is not ready).
* ``POST /asaas/__control/rate_limit`` ``{"times": 1, "reset_seconds": 30, "limit": 100}`` →
  the next requests answer 429 with ``RateLimit-Limit``/``-Remaining: 0``/``-Reset``
  (https://docs.asaas.com/docs/api-limits-1).

Not emulated: webhooks are never sent by the sandbox itself (``webhook_delivery`` builds them,
post them to the hub yourself); no queue penalties or interruption after failures; no fees unless
asked, no interest/fines, installments, split, card payments or notifications.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

import phonenumbers
from werkzeug.wrappers import Request, Response

from localcloud.sandboxes import brcode
from localcloud.sandboxes.base import DemoSecret, Sandbox, reason
from localcloud.sandboxes.brcode import crc16_ccitt  # noqa: F401 - tests check payloads with it
from localcloud.servers import QuietRequestHandler

DEMO_API_KEY = "$aact_demo_somos_produtora_sandbox_key"
DEMO_INITIAL_BALANCE = Decimal("10000.00")
PUBLIC_BASE = "https://sandbox.asaas.com"
MAX_LIMIT = 100

BRASILIA = timezone(timedelta(hours=-3))
BILLING_TYPES = ("BOLETO", "PIX", "CREDIT_CARD", "UNDEFINED")
CYCLES = ("WEEKLY", "BIWEEKLY", "MONTHLY", "QUARTERLY", "SEMIANNUALLY", "YEARLY")
CHARGE_TYPES = ("DETACHED", "RECURRENT", "INSTALLMENT")
PIX_KEY_TYPES = ("CPF", "CNPJ", "EMAIL", "PHONE", "EVP")
_TAX_ID = re.compile(r"^([0-9]{11}|[0-9A-Z]{12}[0-9]{2})$")
_CENT = Decimal("0.01")
# A 1x1 transparent PNG: what encodedImage decodes to.
_PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")


# ----- JSON with Decimal numbers -------------------------------------------------------------

_MARK = "\u0000dec:"
_MARKED = re.compile(r'"\\u0000dec:(-?[0-9]+(?:\.[0-9]+)?)"')


DEMO_WEBHOOK_TOKEN = "demo-asaas-webhook-token-for-the-hub"
DEMO_WEBHOOK_EMAIL = "financeiro@somosprodutora.com.br"
MAX_WEBHOOKS = 10
SEND_TYPES = ("SEQUENTIALLY", "NON_SEQUENTIALLY")
# Event names a webhook may subscribe to (https://docs.asaas.com/docs/webhook-para-cobrancas,
# https://docs.asaas.com/docs/eventos-para-assinaturas, transfers); others are refused.
WEBHOOK_EVENTS = frozenset(
    {
        "PAYMENT_CREATED",
        "PAYMENT_AWAITING_RISK_ANALYSIS",
        "PAYMENT_APPROVED_BY_RISK_ANALYSIS",
        "PAYMENT_REPROVED_BY_RISK_ANALYSIS",
        "PAYMENT_AUTHORIZED",
        "PAYMENT_UPDATED",
        "PAYMENT_CONFIRMED",
        "PAYMENT_RECEIVED",
        "PAYMENT_CREDIT_CARD_CAPTURE_REFUSED",
        "PAYMENT_ANTICIPATED",
        "PAYMENT_OVERDUE",
        "PAYMENT_DELETED",
        "PAYMENT_RESTORED",
        "PAYMENT_REFUNDED",
        "PAYMENT_PARTIALLY_REFUNDED",
        "PAYMENT_REFUND_IN_PROGRESS",
        "PAYMENT_RECEIVED_IN_CASH_UNDONE",
        "PAYMENT_CHARGEBACK_REQUESTED",
        "PAYMENT_CHARGEBACK_DISPUTE",
        "PAYMENT_AWAITING_CHARGEBACK_REVERSAL",
        "PAYMENT_DUNNING_RECEIVED",
        "PAYMENT_DUNNING_REQUESTED",
        "PAYMENT_BANK_SLIP_VIEWED",
        "PAYMENT_CHECKOUT_VIEWED",
        "SUBSCRIPTION_CREATED",
        "SUBSCRIPTION_UPDATED",
        "SUBSCRIPTION_INACTIVATED",
        "SUBSCRIPTION_DELETED",
        "TRANSFER_CREATED",
        "TRANSFER_PENDING",
        "TRANSFER_IN_BANK_PROCESSING",
        "TRANSFER_BLOCKED",
        "TRANSFER_DONE",
        "TRANSFER_FAILED",
        "TRANSFER_CANCELLED",
    }
)
_HTTP_URL = re.compile(r"^https?://[^\s/]+")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def auth_token_problem(token: Any) -> str | None:
    """Asaas's rules for a webhook authToken (https://docs.asaas.com/docs/create-new-webhook-via-api)."""
    if not isinstance(token, str) or not 32 <= len(token) <= 255:
        return "O authToken deve ter entre 32 e 255 caracteres"
    if any(ch.isspace() for ch in token):
        return "O authToken não pode conter espaços"
    if re.search(r"(.)\1{3}", token):
        return "O authToken não pode conter 4 caracteres repetidos em sequência"
    digits = "0123456789"
    if any(token[i : i + 4].isdigit() and token[i : i + 4] in (digits + digits[::-1]) for i in range(len(token) - 3)):
        return "O authToken não pode conter sequências numéricas"
    if token.startswith("$aact"):
        return "O authToken não pode ser uma chave de API"
    return None


def _mark(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{_MARK}{format(value, 'f')}"
    if isinstance(value, dict):
        return {k: _mark(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mark(v) for v in value]
    return value


def dumps(body: Any) -> str:
    """json.dumps, but a Decimal is written as a JSON number with exactly its digits."""
    return _MARKED.sub(r"\1", json.dumps(_mark(body)))


def asaas_json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    resp = Response(dumps(body), status=status, content_type="application/json")
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def br_code(url: str, amount: Decimal, txid: str) -> str:
    """A dynamic-PIX-style BR Code (a location URL, the amount, the txid) with a valid CRC."""
    return brcode.br_code(
        account=brcode.emv("25", url), amount=format(amount, "f"), txid=txid, dynamic=True, name="SOMOS PRODUTORA"
    )


def _digits(n: int) -> str:
    return "".join(str(secrets.randbelow(10)) for _ in range(n))


def _alnum(n: int) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(n))


# Asaas authenticates with an ``access_token`` header, which werkzeug's development server
# silently drops (a guard against ``X_Forwarded_For``-style spoofing behind proxies); the local
# cloud's request handler keeps headers with underscores (a hyphenated one of the same name
# still wins). Without it the sandbox never sees the key and answers 401.
UnderscoreHeadersRequestHandler = QuietRequestHandler


def _national_phone(value: Any, field: str) -> str | None:
    """Asaas's ``phone`` ("Fone fixo") and ``mobilePhone`` ("Fone celular"), DDD + number
    (https://docs.asaas.com/reference/criar-novo-cliente): a landline as ``mobilePhone`` is
    refused (``invalid_mobilePhone``), judged by Brazil's numbering plan."""
    if value in (None, ""):
        return None
    digits = re.sub(r"[^0-9]", "", str(value))
    try:
        number = phonenumbers.parse(digits, "BR")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number) or len(digits) not in (10, 11):
        raise _Invalid(f"invalid_{field}", "O telefone informado é inválido")
    if field == "mobilePhone" and phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.MOBILE:
        raise _Invalid("invalid_mobilePhone", "O celular informado é inválido")
    return digits


class _Invalid(Exception):
    """An Asaas error answer (400 unless ``status`` says otherwise), raised from an endpoint."""

    def __init__(self, code: str, description: str, *, status: int = 400) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.status = status


def _live(records: dict[str, dict[str, Any]], rid: str, not_found: str) -> dict[str, Any]:
    """The record ``rid`` when it exists and was not deleted; else Asaas's 404 ``not_found``."""
    record = records.get(rid)
    if record is None or record["deleted"]:
        raise _Invalid("not_found", not_found, status=404)
    return record


class AsaasSandbox(Sandbox):
    provider = "asaas"

    def __init__(self, api_key: str = DEMO_API_KEY, initial_balance: Decimal = DEMO_INITIAL_BALANCE) -> None:
        super().__init__()
        self.api_key = api_key
        self.initial_balance = initial_balance
        self._control_lock = threading.Lock()
        self._init_state()
        v3 = "/v3"
        self.route(f"{v3}/customers", ["GET"], self.list_customers)
        self.route(f"{v3}/customers", ["POST"], self.create_customer)
        self.route(f"{v3}/customers/<cid>", ["GET"], self.get_customer)
        self.route(f"{v3}/payments", ["GET"], self.list_payments)
        self.route(f"{v3}/payments", ["POST"], self.create_payment)
        self.route(f"{v3}/payments/<pid>", ["GET"], self.get_payment)
        self.route(f"{v3}/payments/<pid>", ["DELETE"], self.delete_payment)
        self.route(f"{v3}/payments/<pid>/identificationField", ["GET"], self.identification_field)
        self.route(f"{v3}/payments/<pid>/pixQrCode", ["GET"], self.pix_qr_code)
        self.route(f"{v3}/payments/<pid>/refund", ["POST"], self.refund_payment)
        self.route(f"{v3}/paymentLinks", ["POST"], self.create_payment_link)
        self.route(f"{v3}/subscriptions", ["POST"], self.create_subscription)
        self.route(f"{v3}/subscriptions/<sid>", ["DELETE"], self.delete_subscription)
        self.route(f"{v3}/financialTransactions", ["GET"], self.list_financial_transactions)
        self.route(f"{v3}/transfers", ["POST"], self.create_transfer)
        self.route(f"{v3}/finance/balance", ["GET"], self.get_balance)
        self.route(f"{v3}/webhooks", ["GET"], self.list_webhooks)
        self.route(f"{v3}/webhooks", ["POST"], self.create_webhook)
        self.route(f"{v3}/webhooks/<wid>", ["GET"], self.get_webhook)
        self.route(f"{v3}/webhooks/<wid>", ["PUT"], self.update_webhook)
        self.route(f"{v3}/webhooks/<wid>", ["DELETE"], self.delete_webhook)
        self.route("/__control/payments/<pid>/confirm", ["POST"], self.control_confirm)
        self.route("/__control/payments/<pid>/receive", ["POST"], self.control_receive)
        self.route("/__control/financialTransactions", ["POST"], self.control_transaction)
        self.route("/__control/slow_create", ["POST"], self.control_slow_create)
        self.route("/__control/pix_qr_unavailable", ["POST"], self.control_pix_qr_unavailable)
        self.route("/__control/rate_limit", ["POST"], self.control_rate_limit)

    def _init_state(self) -> None:
        self.customers: dict[str, dict[str, Any]] = {}
        self.payments: dict[str, dict[str, Any]] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.payment_links: dict[str, dict[str, Any]] = {}
        self.transfers: dict[str, dict[str, Any]] = {}
        self.transactions: list[dict[str, Any]] = []
        # id -> the webhook as configured, authToken included (never answered back).
        self.webhooks: dict[str, dict[str, Any]] = {}
        self.balance = self.initial_balance
        self.slow_create: tuple[float, int] | None = None
        self.pix_qr_unavailable = 0
        self.rate_limit: dict[str, int] | None = None

    def reset(self) -> None:
        with self.lock:
            self._init_state()

    # -- errors ------------------------------------------------------------- #

    def asaas_error(self, status: int, code: str, description: str, headers: dict[str, str] | None = None) -> Response:
        return asaas_json({"errors": [{"code": code, "description": description}]}, status, headers)

    def error_response(self, status: int, message: str | None = None) -> Response:
        if status == 401:
            return self.asaas_error(401, "invalid_access_token", "A chave de API fornecida é inválida")
        if status == 429:
            # The server's rate_limited fault adds Retry-After; Asaas's own headers are RateLimit-*.
            return self.asaas_error(429, "rate_limit_exceeded", message or "Too Many Requests")
        code = "internal_error" if status >= 500 else "invalid_request"
        return self.asaas_error(status, code, message or reason(status))

    def not_found(self, request: Request, subpath: str) -> Response:
        return self.asaas_error(404, "not_found", f"Recurso {subpath} não encontrado")

    def dispatch(self, request: Request, subpath: str) -> Response:
        if not subpath.startswith("/__control/"):
            limited = self._take_rate_limit()
            if limited is not None:
                return limited
            token = request.headers.get("access_token", "")
            if not token or not secrets.compare_digest(token, self.api_key):
                return self.error_response(401)
        try:
            return super().dispatch(request, subpath)
        except _Invalid as exc:
            return self.asaas_error(exc.status, exc.code, exc.description)

    def _take_rate_limit(self) -> Response | None:
        with self._control_lock:
            if not self.rate_limit or self.rate_limit["times"] <= 0:
                return None
            self.rate_limit["times"] -= 1
            limit, reset = self.rate_limit["limit"], self.rate_limit["reset_seconds"]
        headers = {"RateLimit-Limit": str(limit), "RateLimit-Remaining": "0", "RateLimit-Reset": str(reset)}
        return self.asaas_error(429, "rate_limit_exceeded", "Too Many Requests", headers)

    # -- parsing helpers ---------------------------------------------------- #

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        raw = request.get_data(cache=True)
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw, parse_float=Decimal)
        except ValueError:
            raise _Invalid("invalid_request", "JSON inválido") from None
        if not isinstance(body, dict):
            raise _Invalid("invalid_request", "JSON inválido")
        return body

    @staticmethod
    def _money(value: Any, field: str, *, required: bool = True) -> Decimal | None:
        if value is None:
            if required:
                raise _Invalid(f"invalid_{field}", f"O campo {field} deve ser informado")
            return None
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise _Invalid(f"invalid_{field}", f"O campo {field} deve ser um número")
        amount = Decimal(value)
        if amount != amount.quantize(_CENT):
            raise _Invalid(f"invalid_{field}", f"O campo {field} aceita no máximo 2 casas decimais")
        if amount <= 0:
            raise _Invalid(f"invalid_{field}", f"O campo {field} deve ser maior que zero")
        return amount.quantize(_CENT)

    @staticmethod
    def _date(value: Any, field: str) -> date:
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise _Invalid(f"invalid_{field}", f"O campo {field} deve ser uma data válida (AAAA-MM-DD)") from None

    @staticmethod
    def _today() -> date:
        return datetime.now(BRASILIA).date()

    @staticmethod
    def _page(request: Request, items: list[dict[str, Any]]) -> Response:
        try:
            offset = int(request.args.get("offset", 0))
            limit = int(request.args.get("limit", 10))
        except ValueError:
            raise _Invalid("invalid_request", "offset e limit devem ser números") from None
        if limit > MAX_LIMIT or limit < 1 or offset < 0:
            raise _Invalid("invalid_limit", f"O limite deve estar entre 1 e {MAX_LIMIT}")
        data = items[offset : offset + limit]
        return asaas_json(
            {
                "object": "list",
                "hasMore": offset + len(data) < len(items),
                "totalCount": len(items),
                "limit": limit,
                "offset": offset,
                "data": data,
            }
        )

    # -- customers ---------------------------------------------------------- #

    def list_customers(self, request: Request) -> Response:
        args = request.args
        with self.lock:
            items = [
                dict(c)
                for c in self.customers.values()
                if not c["deleted"]
                and all(args.get(f) in (None, c.get(f)) for f in ("cpfCnpj", "externalReference", "email"))
            ]
        return self._page(request, items)

    def create_customer(self, request: Request) -> Response:
        body = self._body(request)
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _Invalid("invalid_name", "O campo name deve ser informado")
        tax_id = re.sub(r"[./-]", "", str(body.get("cpfCnpj") or "")).upper()
        if not _TAX_ID.match(tax_id):
            raise _Invalid("invalid_cpfCnpj", "O CPF/CNPJ informado é inválido")
        phones = {field: _national_phone(body.get(field), field) for field in ("phone", "mobilePhone")}
        cid = "cus_" + _digits(12)
        customer = {
            "object": "customer",
            "id": cid,
            "dateCreated": self._today().isoformat(),
            "name": name,
            "email": body.get("email"),
            **phones,
            "cpfCnpj": tax_id,
            "personType": "FISICA" if len(tax_id) == 11 else "JURIDICA",
            "deleted": False,
            "externalReference": body.get("externalReference"),
            "notificationDisabled": bool(body.get("notificationDisabled", False)),
        }
        with self.lock:
            self.customers[cid] = customer
        return asaas_json(customer)

    def get_customer(self, request: Request, cid: str) -> Response:
        with self.lock:
            customer = self.customers.get(cid)
        if customer is None:
            return self.asaas_error(404, "not_found", "Cliente não encontrado")
        return asaas_json(customer)

    # -- payments ----------------------------------------------------------- #

    def _new_payment(self, body: dict[str, Any], subscription: str | None = None) -> dict[str, Any]:
        customer = body.get("customer")
        if not isinstance(customer, str) or customer not in self.customers:
            raise _Invalid("invalid_customer", "Customer inválido ou não informado")
        billing_type = body.get("billingType")
        if billing_type not in BILLING_TYPES:
            raise _Invalid("invalid_billingType", "Informe a forma de pagamento (billingType)")
        value = self._money(body.get("value"), "value")
        due = self._date(body.get("dueDate") or body.get("nextDueDate"), "dueDate")
        if due < self._today():
            raise _Invalid("invalid_dueDate", "A data de vencimento não pode ser inferior à hoje")
        token = _alnum(16)
        pid = "pay_" + token
        boleto = billing_type in ("BOLETO", "UNDEFINED")
        return {
            "object": "payment",
            "id": pid,
            "dateCreated": self._today().isoformat(),
            "customer": customer,
            "subscription": subscription,
            "paymentLink": None,
            "value": value,
            "netValue": value,
            "description": body.get("description"),
            "billingType": billing_type,
            "status": "PENDING",
            "dueDate": due.isoformat(),
            "originalDueDate": due.isoformat(),
            "paymentDate": None,
            "clientPaymentDate": None,
            "confirmedDate": None,
            "invoiceUrl": f"{PUBLIC_BASE}/i/{token}",
            "invoiceNumber": _digits(8),
            "externalReference": body.get("externalReference"),
            "deleted": False,
            "nossoNumero": _digits(8) if boleto else None,
            "bankSlipUrl": f"{PUBLIC_BASE}/b/pdf/{token}" if boleto else None,
            "transactionReceiptUrl": None,
            "refunds": None,
        }

    def create_payment(self, request: Request) -> Response:
        body = self._body(request)
        with self.lock:
            payment = self._new_payment(body)
            self.payments[payment["id"]] = payment
            snapshot = dict(payment)
        with self._control_lock:
            delay = 0.0
            if self.slow_create is not None:
                delay, times = self.slow_create
                self.slow_create = (delay, times - 1) if times > 1 else None
        if delay:
            time.sleep(delay)  # the charge already exists: only the answer is late
        return asaas_json(snapshot)

    def list_payments(self, request: Request) -> Response:
        args = request.args
        filters = ("externalReference", "customer", "status", "billingType", "subscription")
        with self.lock:
            items = [
                dict(p)
                for p in self.payments.values()
                if not p["deleted"] and all(args.get(f) in (None, p.get(f)) for f in filters)
            ]
        return self._page(request, items)

    def get_payment(self, request: Request, pid: str) -> Response:
        with self.lock:
            payment = self.payments.get(pid)
            snapshot = dict(payment) if payment else None
        if snapshot is None:
            return self.asaas_error(404, "not_found", "Cobrança não encontrada")
        return asaas_json(snapshot)

    def delete_payment(self, request: Request, pid: str) -> Response:
        with self.lock:
            payment = _live(self.payments, pid, "Cobrança não encontrada")
            if payment["status"] not in ("PENDING", "OVERDUE"):
                raise _Invalid("invalid_action", "Só é possível remover cobranças aguardando pagamento")
            payment["deleted"] = True
        return asaas_json({"deleted": True, "id": pid})

    def identification_field(self, request: Request, pid: str) -> Response:
        with self.lock:
            payment = self.payments.get(pid)
        if payment is None:
            return self.asaas_error(404, "not_found", "Cobrança não encontrada")
        if payment["billingType"] not in ("BOLETO", "UNDEFINED"):
            raise _Invalid("invalid_action", "Linha digitável disponível apenas para cobranças por boleto")
        bank, cents = "461", int(payment["value"] * 100)
        field = f"{bank}9{_digits(5)} {_digits(10)} {_digits(10)} {_digits(1)} {_digits(4)}{cents:010d}"
        bar_code = f"{bank}9{_digits(5)}{cents:010d}{_digits(25)}"
        return asaas_json({"identificationField": field, "nossoNumero": payment["nossoNumero"], "barCode": bar_code})

    def pix_qr_code(self, request: Request, pid: str) -> Response:
        with self.lock:
            payment = self.payments.get(pid)
        if payment is None:
            return self.asaas_error(404, "not_found", "Cobrança não encontrada")
        if payment["billingType"] == "CREDIT_CARD":
            raise _Invalid("invalid_action", "QR Code Pix indisponível para cobranças por cartão")
        with self._control_lock:
            if self.pix_qr_unavailable > 0:
                self.pix_qr_unavailable -= 1
                return self.asaas_error(404, "not_found", "QR Code ainda não disponível")
        url = f"pix.asaas.com/qr/cobv/{pid[4:]}"
        due = date.fromisoformat(payment["dueDate"])
        expiration = due.replace(year=due.year + 1) if not (due.month == 2 and due.day == 29) else due + timedelta(366)
        return asaas_json(
            {
                "encodedImage": base64.b64encode(_PNG).decode("ascii"),
                "payload": br_code(url, payment["value"], pid[4:]),
                "expirationDate": f"{expiration.isoformat()} 23:59:59",
                "description": payment.get("description"),
            }
        )

    def refund_payment(self, request: Request, pid: str) -> Response:
        body = self._body(request)
        with self.lock:
            payment = _live(self.payments, pid, "Cobrança não encontrada")
            if payment["status"] not in ("RECEIVED", "CONFIRMED"):
                raise _Invalid("invalid_action", "Só é possível estornar cobranças recebidas ou confirmadas")
            refunds: list[dict[str, Any]] = payment["refunds"] or []
            already = sum((r["value"] for r in refunds), Decimal("0.00"))
            remaining = payment["value"] - already
            value = self._money(body.get("value"), "value", required=False) or remaining
            if value > remaining:
                raise _Invalid("invalid_value", "O valor do estorno excede o valor disponível da cobrança")
            if payment["status"] == "RECEIVED":
                if value > self.balance:
                    raise _Invalid("insufficient_balance", "Saldo insuficiente para realizar o estorno")
                self._add_transaction(-value, "PAYMENT_REFUND", f"Estorno da cobrança {pid}", pid)
            refunds.append(
                {
                    "dateCreated": datetime.now(BRASILIA).strftime("%Y-%m-%d %H:%M:%S"),
                    "status": "DONE",
                    "value": value,
                    "description": body.get("description"),
                    "transactionReceiptUrl": f"{PUBLIC_BASE}/comprovantes/{_digits(16)}",
                }
            )
            payment["refunds"] = refunds
            if already + value == payment["value"]:
                payment["status"] = "REFUNDED"
            snapshot = dict(payment)
        return asaas_json(snapshot)

    # -- links and subscriptions --------------------------------------------- #

    def create_payment_link(self, request: Request) -> Response:
        body = self._body(request)
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _Invalid("invalid_name", "O campo name deve ser informado")
        billing_type, charge_type = body.get("billingType"), body.get("chargeType")
        if billing_type not in BILLING_TYPES:
            raise _Invalid("invalid_billingType", "Informe a forma de pagamento (billingType)")
        if charge_type not in CHARGE_TYPES:
            raise _Invalid("invalid_chargeType", "Informe o tipo de cobrança (chargeType)")
        if billing_type in ("BOLETO", "UNDEFINED") and body.get("dueDateLimitDays") is None:
            raise _Invalid("invalid_dueDateLimitDays", "Informe a quantidade de dias úteis para pagamento do boleto")
        if charge_type == "RECURRENT" and body.get("subscriptionCycle") not in CYCLES:
            raise _Invalid("invalid_subscriptionCycle", "Informe a periodicidade da assinatura")
        if charge_type == "INSTALLMENT" and not body.get("maxInstallmentCount"):
            raise _Invalid("invalid_maxInstallmentCount", "Informe o número máximo de parcelas")
        value = self._money(body.get("value"), "value", required=False)
        link_id = _alnum(16)
        link = {
            "id": link_id,
            "name": name,
            "value": value,
            "active": True,
            "chargeType": charge_type,
            "url": f"{PUBLIC_BASE}/c/{link_id}",
            "billingType": billing_type,
            "subscriptionCycle": body.get("subscriptionCycle"),
            "description": body.get("description"),
            "endDate": body.get("endDate"),
            "deleted": False,
            "viewCount": 0,
            "maxInstallmentCount": body.get("maxInstallmentCount"),
            "dueDateLimitDays": body.get("dueDateLimitDays"),
            "notificationEnabled": body.get("notificationEnabled", True),
            "externalReference": body.get("externalReference"),
        }
        with self.lock:
            self.payment_links[link_id] = link
        return asaas_json(link)

    def create_subscription(self, request: Request) -> Response:
        body = self._body(request)
        if body.get("cycle") not in CYCLES:
            raise _Invalid("invalid_cycle", "Informe a periodicidade (cycle)")
        if body.get("nextDueDate") is None:
            raise _Invalid("invalid_nextDueDate", "Informe o vencimento da primeira cobrança")
        sid = "sub_" + _alnum(12)
        with self.lock:
            first = self._new_payment({**body, "dueDate": body["nextDueDate"]}, subscription=sid)
            subscription = {
                "object": "subscription",
                "id": sid,
                "dateCreated": self._today().isoformat(),
                "customer": body["customer"],
                "billingType": body["billingType"],
                "cycle": body["cycle"],
                "value": first["value"],
                "nextDueDate": first["dueDate"],
                "description": body.get("description"),
                "status": "ACTIVE",
                "deleted": False,
                "externalReference": body.get("externalReference"),
            }
            self.subscriptions[sid] = subscription
            self.payments[first["id"]] = first
            snapshot = dict(subscription)
        return asaas_json(snapshot)

    def delete_subscription(self, request: Request, sid: str) -> Response:
        with self.lock:
            subscription = _live(self.subscriptions, sid, "Assinatura não encontrada")
            subscription["deleted"] = True
            subscription["status"] = "INACTIVE"
        return asaas_json({"deleted": True, "id": sid})

    # -- webhooks ------------------------------------------------------------ #

    @staticmethod
    def _webhook_view(webhook: dict[str, Any]) -> dict[str, Any]:
        view = {k: v for k, v in webhook.items() if k not in ("authToken", "deleted")}
        view["hasAuthToken"] = bool(webhook.get("authToken"))
        return view

    def _webhook_fields(self, body: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
        """The configured webhook after ``body`` (all fields required on create, each optional
        on update), or _Invalid naming the first bad field."""
        merged = {**(current or {}), **{k: v for k, v in body.items() if k != "id"}}
        for field in ("name", "url", "email", "sendType", "events"):
            if merged.get(field) in (None, "", []):
                raise _Invalid(f"invalid_{field}", f"O campo {field} deve ser informado")
        if not isinstance(merged["name"], str) or len(merged["name"]) > 255:
            raise _Invalid("invalid_name", "O nome informado é inválido")
        if not isinstance(merged["url"], str) or not _HTTP_URL.match(merged["url"]):
            raise _Invalid("invalid_url", "A URL informada é inválida")
        if not isinstance(merged["email"], str) or not _EMAIL.match(merged["email"]):
            raise _Invalid("invalid_email", "O email informado é inválido")
        if merged["sendType"] not in SEND_TYPES:
            raise _Invalid("invalid_sendType", f"O sendType deve ser um de: {', '.join(SEND_TYPES)}")
        events = merged["events"]
        if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
            raise _Invalid("invalid_events", "O campo events deve ser uma lista")
        unknown = [e for e in events if e not in WEBHOOK_EVENTS]
        if unknown:
            raise _Invalid("invalid_events", f"Evento inválido: {unknown[0]}")
        for field in ("enabled", "interrupted"):
            if not isinstance(merged.get(field, False), bool):
                raise _Invalid(f"invalid_{field}", f"O campo {field} deve ser booleano")
        if merged.get("apiVersion", 3) != 3:
            raise _Invalid("invalid_apiVersion", "A versão da API deve ser 3")
        token = merged.get("authToken")
        if token is not None and (problem := auth_token_problem(token)) is not None:
            raise _Invalid("invalid_authToken", problem)
        if token is not None and token == self.api_key:
            raise _Invalid("invalid_authToken", "O authToken não pode ser uma chave de API")
        return {
            "name": merged["name"],
            "url": merged["url"],
            "email": merged["email"],
            "enabled": merged.get("enabled", True),
            "interrupted": merged.get("interrupted", False),
            "apiVersion": 3,
            "authToken": token,
            "sendType": merged["sendType"],
            "events": list(dict.fromkeys(events)),
        }

    def list_webhooks(self, request: Request) -> Response:
        with self.lock:
            items = [self._webhook_view(w) for w in self.webhooks.values()]
        return self._page(request, items)

    def create_webhook(self, request: Request) -> Response:
        fields = self._webhook_fields(self._body(request), None)
        generated = fields["authToken"] is None
        if generated:
            fields["authToken"] = "whk_" + secrets.token_hex(24)
        with self.lock:
            if len(self.webhooks) >= MAX_WEBHOOKS:
                raise _Invalid("invalid_action", f"É permitido no máximo {MAX_WEBHOOKS} webhooks por conta")
            webhook = {"id": "wh_" + _alnum(20), **fields}
            self.webhooks[webhook["id"]] = webhook
            view = self._webhook_view(webhook)
        if generated:  # "only returned once in the creation response"
            view["authToken"] = webhook["authToken"]
        return asaas_json(view)

    def get_webhook(self, request: Request, wid: str) -> Response:
        with self.lock:
            webhook = self.webhooks.get(wid)
            if webhook is None:
                raise _Invalid("not_found", "Webhook não encontrado", status=404)
            return asaas_json(self._webhook_view(webhook))

    def update_webhook(self, request: Request, wid: str) -> Response:
        body = self._body(request)
        with self.lock:
            webhook = self.webhooks.get(wid)
            if webhook is None:
                raise _Invalid("not_found", "Webhook não encontrado", status=404)
            fields = self._webhook_fields(body, webhook)
            webhook.update(fields)
            return asaas_json(self._webhook_view(webhook))

    def delete_webhook(self, request: Request, wid: str) -> Response:
        with self.lock:
            if self.webhooks.pop(wid, None) is None:
                raise _Invalid("not_found", "Webhook não encontrado", status=404)
        return asaas_json({"deleted": True, "id": wid})

    def webhook_delivery(self, event: dict[str, Any]) -> list[tuple[str, dict[str, str], bytes]]:
        """The POSTs Asaas sends for ``event`` (``{"id", "event", "dateCreated", "payment"|…}``):
        one ``(url, headers, body)`` per enabled, not interrupted webhook taking
        ``event["event"]``, with ``asaas-access-token`` when it has a token."""
        with self.lock:
            targets = [
                dict(w)
                for w in self.webhooks.values()
                if w["enabled"] and not w["interrupted"] and event.get("event") in w["events"]
            ]
        body = dumps(event).encode("utf-8")
        deliveries = []
        for webhook in targets:
            headers = {"Content-Type": "application/json", "User-Agent": "Asaas_Hmlg/3.0"}
            if webhook["authToken"]:
                headers["asaas-access-token"] = webhook["authToken"]
            deliveries.append((webhook["url"], headers, body))
        return deliveries

    # -- statement, transfers, balance --------------------------------------- #

    def _add_transaction(
        self, value: Decimal, kind: str, description: str, payment_id: str | None, when: date | None = None
    ) -> dict[str, Any]:
        """Caller holds self.lock."""
        self.balance += value
        item = {
            "object": "financialTransaction",
            "id": "ft_" + _alnum(14),
            "value": value,
            "balance": self.balance,
            "type": kind,
            "date": (when or self._today()).isoformat(),
            "description": description,
            "paymentId": payment_id,
        }
        self.transactions.append(item)
        return item

    def list_financial_transactions(self, request: Request) -> Response:
        start = self._date(request.args["startDate"], "startDate") if "startDate" in request.args else None
        finish = self._date(request.args["finishDate"], "finishDate") if "finishDate" in request.args else None
        with self.lock:
            items = [
                dict(t)
                for t in self.transactions
                if (start is None or date.fromisoformat(t["date"]) >= start)
                and (finish is None or date.fromisoformat(t["date"]) <= finish)
            ]
        return self._page(request, items)

    def create_transfer(self, request: Request) -> Response:
        body = self._body(request)
        value = self._money(body.get("value"), "value")
        assert value is not None
        pix_key, bank = body.get("pixAddressKey"), body.get("bankAccount")
        if (pix_key is None) == (bank is None):
            raise _Invalid("invalid_action", "Informe uma chave Pix ou uma conta bancária de destino")
        if pix_key is not None and body.get("pixAddressKeyType") not in PIX_KEY_TYPES:
            raise _Invalid("invalid_pixAddressKeyType", "Tipo de chave Pix inválido")
        if bank is not None and not (isinstance(bank, dict) and isinstance(bank.get("bank"), dict)):
            raise _Invalid("invalid_bankAccount", "Dados bancários incompletos")
        operation = body.get("operationType") or "PIX"
        with self.lock:
            if value > self.balance:
                raise _Invalid("insufficient_balance", "Saldo insuficiente para realizar a transferência")
            tid = f"{_alnum(8)}-{_alnum(4)}-{_alnum(4)}-{_alnum(4)}-{_alnum(12)}"
            self._add_transaction(-value, "TRANSFER", body.get("description") or "Transferência", None)
            transfer = {
                "object": "transfer",
                "id": tid,
                "type": "BANK_ACCOUNT",
                "dateCreated": self._today().isoformat(),
                "value": value,
                "netValue": value,
                "status": "PENDING",
                "transferFee": Decimal("0.00"),
                "effectiveDate": None,
                "scheduleDate": body.get("scheduleDate"),
                "operationType": operation,
                "description": body.get("description"),
                "bankAccount": bank,
                "pixAddressKey": pix_key,
                "pixAddressKeyType": body.get("pixAddressKeyType"),
            }
            self.transfers[tid] = transfer
        return asaas_json(transfer)

    def get_balance(self, request: Request) -> Response:
        with self.lock:
            return asaas_json({"balance": self.balance})

    # -- control ------------------------------------------------------------- #

    def _settle(self, pid: str, status: str) -> dict[str, Any]:
        payment = _live(self.payments, pid, "Cobrança não encontrada")
        if payment["status"] not in ("PENDING", "OVERDUE", "CONFIRMED") or payment["status"] == status:
            raise _Invalid("invalid_action", f"Cobrança em {payment['status']} não pode ir para {status}")
        today = self._today().isoformat()
        payment["status"] = status
        payment["confirmedDate"] = payment["confirmedDate"] or today
        payment["paymentDate"] = today
        payment["clientPaymentDate"] = today
        return payment

    def control_confirm(self, request: Request, pid: str) -> Response:
        with self.lock:
            settled = self._settle(pid, "CONFIRMED")
            return asaas_json(dict(settled))

    def control_receive(self, request: Request, pid: str) -> Response:
        body = self._body(request)
        fee = self._money(body.get("fee"), "fee", required=False)
        with self.lock:
            settled = self._settle(pid, "RECEIVED")
            self._add_transaction(settled["value"], "PAYMENT_RECEIVED", f"Cobrança recebida - fatura nr. {pid}", pid)
            if fee:
                settled["netValue"] = settled["value"] - fee
                self._add_transaction(-fee, "PAYMENT_FEE", f"Taxa do boleto - fatura nr. {pid}", pid)
            return asaas_json(dict(settled))

    def control_transaction(self, request: Request) -> Response:
        body = self._body(request)
        value = body.get("value")
        if isinstance(value, bool) or not isinstance(value, int | Decimal) or value == 0:
            raise _Invalid("invalid_value", "value deve ser um número diferente de zero")
        when = self._date(body["date"], "date") if body.get("date") else None
        with self.lock:
            item = self._add_transaction(
                Decimal(value).quantize(_CENT),
                str(body.get("type") or "PAYMENT_RECEIVED"),
                str(body.get("description") or "Lançamento"),
                body.get("paymentId"),
                when,
            )
            return asaas_json(dict(item))

    def control_slow_create(self, request: Request) -> Response:
        body = self._body(request)
        try:
            delay = float(body.get("delay_seconds", 2))
            times = int(body.get("times", 1))
        except (TypeError, ValueError, InvalidOperation):
            raise _Invalid("invalid_request", "delay_seconds e times devem ser números") from None
        with self._control_lock:
            self.slow_create = (delay, times) if times > 0 and delay > 0 else None
        return asaas_json({"delay_seconds": delay, "times": times})

    def control_pix_qr_unavailable(self, request: Request) -> Response:
        times = int(self._body(request).get("times", 1))
        with self._control_lock:
            self.pix_qr_unavailable = max(0, times)
        return asaas_json({"times": times})

    def control_rate_limit(self, request: Request) -> Response:
        body = self._body(request)
        settings = {
            "times": int(body.get("times", 1)),
            "reset_seconds": int(body.get("reset_seconds", 30)),
            "limit": int(body.get("limit", 100)),
        }
        with self._control_lock:
            self.rate_limit = settings
        return asaas_json(settings)


# Self-registration: the local cloud serves SANDBOX at /asaas and seeds DEMO_SECRETS.
SANDBOX = AsaasSandbox
DEMO_SECRETS = (
    DemoSecret(
        "asaas",
        lambda base_url: {
            "base_url": f"{base_url}/v3",
            "api_key": DEMO_API_KEY,
            "environment": "sandbox",
            "webhook_token": DEMO_WEBHOOK_TOKEN,
            # Where Asaas emails webhook failures: needed to register the webhook through the API.
            "webhook_email": DEMO_WEBHOOK_EMAIL,
        },
    ),
)
