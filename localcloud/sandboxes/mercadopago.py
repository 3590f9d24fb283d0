"""Mercado Pago Payments API sandbox (PIX), mounted at ``/mercadopago``; the secret's base_url
is ``<sandbox>/mercadopago`` (paths as on https://api.mercadopago.com).

Auth: ``Authorization: Bearer <access token>``; anything but :data:`DEMO_ACCESS_TOKEN` → 401.

Implemented:

* ``POST /v1/payments`` (PIX only) → 201 with the payment: ``status: pending``,
  ``status_detail: pending_waiting_transfer``, ``point_of_interaction.transaction_data`` with
  ``qr_code``, ``qr_code_base64`` and ``ticket_url``
  (https://www.mercadopago.com.br/developers/pt/docs/checkout-api-v2/payment-integration/pix).
  ``transaction_amount`` must be a JSON number > 0 with at most two decimals (read as Decimal,
  answered as the same JSON number); ``payer.email`` required; ``identification`` CPF (11
  digits) or CNPJ (14 characters).
* ``X-Idempotency-Key`` is mandatory on ``POST /v1/payments`` and ``…/refunds``
  (https://www.mercadopago.com.br/developers/pt/news/2023/01/04/Idempotency-key-usage-will-be-mandatory):
  missing → 400 ``empty_required_header`` (the code of Mercado Pago's Orders API reference,
  https://www.mercadopago.com.br/developers/es/reference/order/online-payments/create/post);
  a key already used on that endpoint answers the stored response ("se o pagamento já foi
  criado, suas informações são retornadas sem a criação de um novo pagamento") and creates
  nothing.
* ``GET /v1/payments/{id}``; ``GET /v1/payments/search?external_reference=`` →
  ``{"paging", "results"}``, newest first.
* ``POST /v1/payments/{id}/refunds`` (``{"amount"}`` optional = full) → 201 refund; only an
  ``approved`` payment, never more than what is left (400 otherwise). A full refund moves the
  payment to ``refunded``.
* ``GET /v1/payment_methods`` → the methods (``pix``).
* Simulation (not a Mercado Pago endpoint): ``POST /sandbox/payments/{id}/approve`` marks a
  payment approved (as if the payer paid the PIX); also :meth:`MercadoPagoSandbox.approve`.

Errors: ``{"message", "error", "status", "cause": [{"code", "description"}]}``; faults answer in
the same shape.

Not emulated: other payment methods, cards, webhooks (post signed notifications yourself),
expiry of pending payments, cancellations (``PUT /v1/payments/{id}``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from werkzeug.wrappers import Request, Response

from localcloud.sandboxes import brcode
from localcloud.sandboxes.base import DemoSecret, Sandbox, reason

PROVIDER = "mercadopago"
DEMO_ACCESS_TOKEN = "APP_USR-demo-mercadopago-access-token"
FIRST_PAYMENT_ID = 1_325_000_001
_BRT = timezone(timedelta(hours=-3))
_CENT = Decimal("0.01")
_PIX_KEY = "somos@somosprodutora.com.br"


DEMO_WEBHOOK_SECRET = "demo-mercadopago-secret"


def _dumps(body: Any) -> str:
    """JSON with Decimals as JSON numbers (as Mercado Pago writes amounts)."""
    nonce = uuid.uuid4().hex

    def default(value: Any) -> Any:
        if isinstance(value, Decimal):
            return f"{nonce}{value:f}"
        raise TypeError(type(value).__name__)

    text = json.dumps(body, default=default, ensure_ascii=False)
    return re.sub(f'"{nonce}(-?[0-9]+(?:\\.[0-9]+)?)"', r"\1", text)


def mp_response(body: Any, status: int = 200) -> Response:
    return Response(_dumps(body), status=status, content_type="application/json; charset=utf-8")


def _now() -> str:
    return datetime.now(_BRT).isoformat(timespec="milliseconds")


def _br_code(amount: Decimal, txid: str) -> str:
    return brcode.br_code(account=brcode.emv("01", _PIX_KEY), amount=f"{amount:f}", txid=txid, dynamic=False)


class MercadoPagoSandbox(Sandbox):
    provider = PROVIDER

    def __init__(self, access_token: str = DEMO_ACCESS_TOKEN) -> None:
        super().__init__()
        self.access_token = access_token
        self.payments: dict[int, dict[str, Any]] = {}
        self.idempotent: dict[tuple[str, str], tuple[int, Any]] = {}
        self._next_id = FIRST_PAYMENT_ID
        self.route("/v1/payments", ["POST"], self.create_payment)
        self.route("/v1/payments/search", ["GET"], self.search)
        self.route("/v1/payments/<int:payment_id>", ["GET"], self.get_payment)
        self.route("/v1/payments/<int:payment_id>/refunds", ["POST"], self.create_refund)
        self.route("/v1/payment_methods", ["GET"], self.payment_methods)
        self.route("/sandbox/payments/<int:payment_id>/approve", ["POST"], self.approve_endpoint)

    # -- error shapes ------------------------------------------------------ #

    def mp_error(self, status: int, message: str, cause: list[dict[str, Any]] | None = None) -> Response:
        error = reason(status).lower().replace(" ", "_")
        return mp_response({"message": message, "error": error, "status": status, "cause": cause or []}, status)

    def error_response(self, status: int, message: str | None = None) -> Response:
        return self.mp_error(status, message or reason(status))

    def not_found(self, request: Request, subpath: str) -> Response:
        return self.mp_error(404, f"resource {subpath} not found")

    def reset(self) -> None:
        with self.lock:
            self.payments.clear()
            self.idempotent.clear()
            self._next_id = FIRST_PAYMENT_ID

    # -- helpers ----------------------------------------------------------- #

    def _denied(self, request: Request) -> Response | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or token != self.access_token:
            return self.mp_error(401, "invalid access token", [{"code": 401, "description": "invalid_token"}])
        return None

    def _key(self, request: Request) -> str | Response:
        key = request.headers.get("X-Idempotency-Key", "").strip()
        if not key:
            return self.mp_error(
                400,
                "Header 'X-Idempotency-Key' is required",
                [{"code": "empty_required_header", "description": "The header 'X-Idempotency-Key' is required."}],
            )
        return key

    def _body(self, request: Request) -> dict[str, Any] | Response:
        raw = request.get_data(as_text=True)
        try:
            body = json.loads(raw, parse_float=Decimal) if raw.strip() else {}
        except ValueError:
            return self.mp_error(400, "invalid JSON", [{"code": "json_syntax_error", "description": "invalid JSON"}])
        if not isinstance(body, dict):
            return self.mp_error(400, "expected a JSON object")
        return body

    def _write(self, request: Request, scope: str) -> tuple[str, dict[str, Any]] | Response:
        """A write's idempotency key and body, or the answer to give instead: a refusal, or the
        stored answer when ``X-Idempotency-Key`` repeats within ``scope``."""
        denied = self._denied(request)
        if denied is not None:
            return denied
        key = self._key(request)
        if isinstance(key, Response):
            return key
        with self.lock:
            stored = self.idempotent.get((scope, key))
        if stored is not None:
            return mp_response(stored[1], stored[0])
        body = self._body(request)
        if isinstance(body, Response):
            return body
        return key, body

    def _amount(self, value: Any) -> Decimal | None:
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            return None
        amount = Decimal(value)
        if amount <= 0 or amount != amount.quantize(_CENT):
            return None
        return amount.quantize(_CENT)

    def approve(self, payment_id: int) -> dict[str, Any]:
        """The payer paid the PIX: the payment becomes approved/accredited."""
        with self.lock:
            payment = self.payments[payment_id]
            payment.update(
                status="approved", status_detail="accredited", date_approved=_now(), date_last_updated=_now()
            )
            return dict(payment)

    # -- endpoints --------------------------------------------------------- #

    def payment_methods(self, request: Request) -> Response:
        denied = self._denied(request)
        if denied is not None:
            return denied
        return mp_response(
            [
                {
                    "id": "pix",
                    "name": "PIX",
                    "payment_type_id": "bank_transfer",
                    "status": "active",
                    "min_allowed_amount": Decimal("0.01"),
                    "max_allowed_amount": Decimal("10000000"),
                }
            ]
        )

    def create_payment(self, request: Request) -> Response:
        write = self._write(request, "payments")
        if isinstance(write, Response):
            return write
        key, body = write
        amount = self._amount(body.get("transaction_amount"))
        if amount is None:
            return self.mp_error(
                400, "Invalid transaction_amount", [{"code": 4037, "description": "Invalid transaction_amount"}]
            )
        if body.get("payment_method_id") != "pix":
            return self.mp_error(
                400,
                "payment_method_id not supported by the sandbox",
                [{"code": 4033, "description": "Invalid payment_method_id"}],
            )
        payer: dict[str, Any] = body["payer"] if isinstance(body.get("payer"), dict) else {}
        if not isinstance(payer.get("email"), str) or "@" not in payer["email"]:
            return self.mp_error(
                400,
                "payer.email must be a valid email",
                [{"code": 4050, "description": "payer.email must be a valid email"}],
            )
        ident = payer.get("identification") or {}
        number = str(ident.get("number") or "")
        valid = (ident.get("type") == "CPF" and re.fullmatch(r"[0-9]{11}", number)) or (
            ident.get("type") == "CNPJ" and re.fullmatch(r"[0-9A-Z]{12}[0-9]{2}", number)
        )
        if ident and not valid:
            return self.mp_error(
                400,
                "Invalid user identification number",
                [{"code": 2067, "description": "Invalid user identification number"}],
            )
        with self.lock:
            payment_id = self._next_id
            self._next_id += 1
        expiration = body.get("date_of_expiration") or (datetime.now(_BRT) + timedelta(hours=24)).isoformat(
            timespec="milliseconds"
        )
        qr = _br_code(amount, str(body.get("external_reference") or payment_id))
        digest = hashlib.sha256(f"{payment_id}".encode()).hexdigest()[:16]
        payment: dict[str, Any] = {
            "id": payment_id,
            "date_created": _now(),
            "date_approved": None,
            "date_last_updated": _now(),
            "date_of_expiration": expiration,
            "money_release_date": None,
            "operation_type": "regular_payment",
            "payment_method_id": "pix",
            "payment_type_id": "bank_transfer",
            "status": "pending",
            "status_detail": "pending_waiting_transfer",
            "currency_id": "BRL",
            "description": body.get("description"),
            "live_mode": False,
            "external_reference": body.get("external_reference"),
            "transaction_amount": amount,
            "transaction_amount_refunded": Decimal("0"),
            "notification_url": body.get("notification_url"),
            "payer": {"email": payer.get("email"), "identification": ident or None, "type": None},
            "refunds": [],
            "point_of_interaction": {
                "type": "OPENPLATFORM",
                "transaction_data": {
                    "qr_code": qr,
                    "qr_code_base64": base64.b64encode(f"PNG:{qr}".encode()).decode("ascii"),
                    "ticket_url": f"https://www.mercadopago.com.br/sandbox/payments/{payment_id}/ticket?hash={digest}",
                },
            },
        }
        with self.lock:
            self.payments[payment_id] = payment
            self.idempotent[("payments", key)] = (201, payment)
        return mp_response(payment, 201)

    def get_payment(self, request: Request, payment_id: int) -> Response:
        denied = self._denied(request)
        if denied is not None:
            return denied
        with self.lock:
            payment = self.payments.get(payment_id)
        if payment is None:
            return self.mp_error(404, "Payment not found", [{"code": 2000, "description": "Payment not found"}])
        return mp_response(payment)

    def search(self, request: Request) -> Response:
        denied = self._denied(request)
        if denied is not None:
            return denied
        reference = request.args.get("external_reference")
        with self.lock:
            found = [p for p in self.payments.values() if reference is None or p["external_reference"] == reference]
        found.sort(key=lambda p: p["id"], reverse=request.args.get("criteria", "desc") == "desc")
        limit = int(request.args.get("limit", 30))
        offset = int(request.args.get("offset", 0))
        page = found[offset : offset + limit]
        return mp_response({"paging": {"total": len(found), "limit": limit, "offset": offset}, "results": page})

    def approve_endpoint(self, request: Request, payment_id: int) -> Response:
        if payment_id not in self.payments:
            return self.mp_error(404, "Payment not found", [{"code": 2000, "description": "Payment not found"}])
        return mp_response(self.approve(payment_id))

    def create_refund(self, request: Request, payment_id: int) -> Response:
        write = self._write(request, f"refunds:{payment_id}")
        if isinstance(write, Response):
            return write
        key, body = write
        with self.lock:
            payment = self.payments.get(payment_id)
            if payment is None:
                return self.mp_error(404, "Payment not found", [{"code": 2000, "description": "Payment not found"}])
            if payment["status"] != "approved":
                return self.mp_error(
                    400,
                    f"Payment status {payment['status']} is not refundable",
                    [{"code": 2063, "description": "The action requested is not valid for the current payment state"}],
                )
            left = payment["transaction_amount"] - payment["transaction_amount_refunded"]
            amount = left if body.get("amount") is None else self._amount(body.get("amount"))
            if amount is None or amount > left:
                return self.mp_error(
                    400, "Invalid refund amount", [{"code": 2085, "description": "Invalid refund amount"}]
                )
            refund: dict[str, Any] = {
                "id": int(payment_id) * 10 + len(payment["refunds"]) + 1,
                "payment_id": payment_id,
                "amount": amount,
                "metadata": {},
                "source": {"id": "demo", "name": "Somos Produtora", "type": "collector"},
                "date_created": _now(),
                "unique_sequence_number": None,
                "refund_mode": "standard",
                "adjustment_amount": Decimal("0"),
                "status": "approved",
                "reason": None,
                "labels": [],
            }
            payment["refunds"].append(refund)
            payment["transaction_amount_refunded"] += amount
            if payment["transaction_amount_refunded"] == payment["transaction_amount"]:
                payment.update(status="refunded", status_detail="refunded")
            payment["date_last_updated"] = _now()
            self.idempotent[(f"refunds:{payment_id}", key)] = (201, refund)
        return mp_response(refund, 201)


# Self-registration: the local cloud serves SANDBOX at /mercadopago and seeds DEMO_SECRETS.
SANDBOX = MercadoPagoSandbox
DEMO_SECRETS = (
    DemoSecret(
        "mercadopago",
        lambda base_url: {
            "base_url": base_url,
            "access_token": DEMO_ACCESS_TOKEN,
            "webhook_secret": DEMO_WEBHOOK_SECRET,
        },
    ),
)
