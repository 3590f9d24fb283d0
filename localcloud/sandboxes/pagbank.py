"""PagBank (PagSeguro) Orders and Checkout API sandbox, mounted at ``/pagbank`` (the provider
name of the secret and of the rate limits); the secret's base_url is ``<sandbox>/pagbank``
(paths as on https://sandbox.api.pagseguro.com).

Auth: ``Authorization: Bearer <token>``; anything but :data:`DEMO_TOKEN` → 401
``UNAUTHORIZED``.

Implemented (https://developer.pagbank.com.br/reference/introducao-api-pedidos):

* ``POST /orders`` → 201 with the Order object. ``qr_codes`` (PIX) answer ``qr_codes[0]``
  with ``text`` (an EMV BR Code with a valid CRC16), ``expiration_date`` and ``QRCODE.PNG`` /
  ``QRCODE.BASE64`` links; a BOLETO charge answers ``status: WAITING`` with ``barcode``,
  ``formatted_barcode`` and PDF/PNG links
  (https://developer.pagbank.com.br/reference/criar-pagar-pedido-com-boleto). Validation:
  ``reference_id``, ``customer.name``/``tax_id`` (11 or 14 characters), ``items`` with integer
  ``unit_amount``, ``qr_codes`` or ``charges``; a boleto needs ``due_date`` and a holder with
  ``name``, ``tax_id``, ``email`` and a complete ``address`` — ``region`` included, as PagBank's
plugin sends it and its notification example shows it — and at least 20 centavos; card
  charges are refused (the sandbox has no card encryption). A boleto of
  :data:`DECLINED_BOLETO_CENTS` answers ``DECLINED`` (risk analysis).
* ``POST /checkouts`` → 201 with a Checkout (``CHEC_…``, ``status: ACTIVE``, ``links`` with
  ``PAY``) — https://developer.pagbank.com.br/reference/objeto-checkout
* ``GET /orders/{id}``, ``GET /checkouts/{id}``; unknown → 404.
* ``GET /public-keys/card`` → ``{"public_key", "created_at"}``.

Idempotency (https://developer.pagbank.com.br/docs/chaves-publicas-e-de-idempotencia: the same
key always answers the same response): a POST with an ``x-idempotency-key`` already seen answers
the stored response and creates nothing.

Errors: ``{"error_messages": [{"code", "description", "parameter_name"}]}`` (``40001``
required_parameter, ``40002`` invalid_parameter); faults answer in the same shape.

Payment and notifications (https://developer.pagbank.com.br/reference/webhooks): PagBank has no
payment simulator we could mirror, so a control endpoint pays an order:

* ``POST /pagbank/__control/orders/{id}/pay`` ``{"amount"?: centavos, "notify"?: true}`` → the
  order gets a ``PAID`` charge (a PIX order: a new ``CHAR_…`` with ``payment_method.type: PIX``;
  a boleto: its charge becomes ``PAID``) with ``paid_at`` and ``amount.summary.paid``, and — unless
  ``notify`` is false (a lost notification) — the whole order is POSTed to each of its
  ``notification_urls`` with ``x-authenticity-token: sha256("{token}-{body}")``
  (https://developer.pagbank.com.br/reference/confirmar-autenticidade-da-notificacao). The
  answer lists each delivery's status in ``notifications``.

Not emulated: ``GET /orders?charge_id=``, cancellations/refunds, split, 3DS.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Any

import httpx
from werkzeug.wrappers import Request, Response

from localcloud.sandboxes import brcode
from localcloud.sandboxes.base import DemoSecret, Sandbox, json_response, reason
from localcloud.sandboxes.brcode import crc16_ccitt  # noqa: F401 - tests check payloads with it

PROVIDER = "pagbank"
DEMO_TOKEN = "demo-pagbank-token"
DECLINED_BOLETO_CENTS = 6666
BOLETO_MIN_CENTS = 20
PUBLIC_KEY = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAr+demo+pagbank+sandbox+public+key+IDAQAB"
_BRT = timezone(timedelta(hours=-3))
_ADDRESS_FIELDS = ("street", "number", "locality", "city", "region", "region_code", "postal_code")


def br_code(qr_id: str, amount_cents: int) -> str:
    """A dynamic PIX BR Code pointing at a PagBank-like location (as in the docs' examples)."""
    location = f"sandbox.api.pagseguro.com/pix/v2/{qr_id.removeprefix('QRCO_')}"
    amount = f"{amount_cents // 100}.{amount_cents % 100:02d}"
    return brcode.br_code(account=brcode.emv("25", location), amount=amount, txid="***", dynamic=True)


def _now() -> str:
    return datetime.now(_BRT).isoformat(timespec="milliseconds")


def _link(rel: str, href: str, media: str, method: str = "GET") -> dict[str, str]:
    return {"rel": rel, "href": href, "media": media, "type": method}


def _digits(n: int) -> str:
    return "".join(str(secrets.randbelow(10)) for _ in range(n))


class PagBankSandbox(Sandbox):
    provider = PROVIDER

    def __init__(self, token: str = DEMO_TOKEN, public_url: str = "https://sandbox.api.pagseguro.com") -> None:
        super().__init__()
        self.token = token
        self.public_url = public_url.rstrip("/")
        self.orders: dict[str, dict[str, Any]] = {}
        self.checkouts: dict[str, dict[str, Any]] = {}
        self.idempotent: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
        self.route("/orders", ["POST"], self.create_order)
        self.route("/orders/<order_id>", ["GET"], self.get_order)
        self.route("/checkouts", ["POST"], self.create_checkout)
        self.route("/checkouts/<checkout_id>", ["GET"], self.get_checkout)
        self.route("/public-keys/card", ["GET"], self.public_key)
        self.route("/__control/orders/<order_id>/pay", ["POST"], self.control_pay)

    # -- error shapes ------------------------------------------------------ #

    def pagbank_error(self, status: int, code: str, description: str, parameter: str | None = None) -> Response:
        item: dict[str, Any] = {"code": code, "description": description}
        if parameter:
            item["parameter_name"] = parameter
        return json_response({"error_messages": [item]}, status)

    def error_response(self, status: int, message: str | None = None) -> Response:
        return self.pagbank_error(status, str(status), message or reason(status).lower().replace(" ", "_"))

    def not_found(self, request: Request, subpath: str) -> Response:
        return self.pagbank_error(404, "40004", f"resource not found: {subpath}")

    def reset(self) -> None:
        with self.lock:
            self.orders.clear()
            self.checkouts.clear()
            self.idempotent.clear()

    # -- helpers ----------------------------------------------------------- #

    def _denied(self, request: Request) -> Response | None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(token.encode(), self.token.encode()):
            return self.pagbank_error(401, "UNAUTHORIZED", "Invalid credential. Review AUTHORIZATION header")
        return None

    def _body(self, request: Request) -> dict[str, Any] | Response:
        try:
            body = json.loads(request.get_data(as_text=True) or "null")
        except ValueError:
            return self.pagbank_error(400, "40002", "invalid_parameter: malformed JSON")
        if not isinstance(body, dict):
            return self.pagbank_error(400, "40002", "invalid_parameter: expected a JSON object")
        return body

    def _write(self, request: Request, endpoint: str) -> dict[str, Any] | Response:
        """A POST's body, or the answer to give instead: a refusal, or the stored answer when its
        ``x-idempotency-key`` was seen before."""
        denied = self._denied(request)
        if denied is not None:
            return denied
        replay = self._replayed(request, endpoint)
        if replay is not None:
            return replay
        return self._body(request)

    def _replayed(self, request: Request, endpoint: str) -> Response | None:
        key = request.headers.get("x-idempotency-key")
        if not key:
            return None
        with self.lock:
            stored = self.idempotent.get((endpoint, key))
        return json_response(stored[1], stored[0]) if stored else None

    def _store(self, request: Request, endpoint: str, status: int, body: dict[str, Any]) -> Response:
        key = request.headers.get("x-idempotency-key")
        if key:
            with self.lock:
                self.idempotent[(endpoint, key)] = (status, body)
        return json_response(body, status)

    def _validate_customer(self, customer: Any, field: str = "customer") -> Response | None:
        if not isinstance(customer, dict):
            return self.pagbank_error(400, "40001", "required_parameter", field)
        if not customer.get("name"):
            return self.pagbank_error(400, "40001", "required_parameter", f"{field}.name")
        tax_id = customer.get("tax_id")
        if not isinstance(tax_id, str) or len(tax_id) not in (11, 14) or not tax_id.isalnum():
            return self.pagbank_error(400, "40002", "invalid_parameter", f"{field}.tax_id")
        return None

    def _validate_items(self, items: Any) -> Response | None:
        if not isinstance(items, list) or not items:
            return self.pagbank_error(400, "40001", "required_parameter", "items")
        for i, item in enumerate(items):
            amount = item.get("unit_amount") if isinstance(item, dict) else None
            if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
                return self.pagbank_error(400, "40002", "invalid_parameter", f"items[{i}].unit_amount")
            if not item.get("name"):
                return self.pagbank_error(400, "40001", "required_parameter", f"items[{i}].name")
        return None

    # -- endpoints --------------------------------------------------------- #

    def public_key(self, request: Request) -> Response:
        denied = self._denied(request)
        if denied is not None:
            return denied
        return json_response({"public_key": PUBLIC_KEY, "created_at": 1_700_000_000_000})

    def _stored(self, request: Request, records: dict[str, dict[str, Any]], key: str, kind: str) -> Response:
        """GET of one ``kind`` (order, checkout): the stored object, or PagBank's 404."""
        denied = self._denied(request)
        if denied is not None:
            return denied
        with self.lock:
            found = records.get(key)
        if found is None:
            return self.pagbank_error(404, "40004", f"{kind} not found", f"{kind}_id")
        return json_response(found)

    def get_order(self, request: Request, order_id: str) -> Response:
        return self._stored(request, self.orders, order_id, "order")

    def get_checkout(self, request: Request, checkout_id: str) -> Response:
        return self._stored(request, self.checkouts, checkout_id, "checkout")

    def create_order(self, request: Request) -> Response:
        body = self._write(request, "orders")
        if isinstance(body, Response):
            return body
        reference = body.get("reference_id")
        if not isinstance(reference, str) or not 1 <= len(reference) <= 64:
            return self.pagbank_error(400, "40002", "invalid_parameter", "reference_id")
        error = self._validate_customer(body.get("customer")) or self._validate_items(body.get("items"))
        if error is not None:
            return error
        order_id = f"ORDE_{str(uuid.uuid4()).upper()}"
        base = f"{self.public_url}/orders/{order_id}"
        order: dict[str, Any] = {
            "id": order_id,
            "reference_id": reference,
            "created_at": _now(),
            "customer": body["customer"],
            "items": body["items"],
        }
        if body.get("qr_codes"):
            qr = self._qr_code(body["qr_codes"])
            if isinstance(qr, Response):
                return qr
            order["qr_codes"] = [qr]
        elif body.get("charges"):
            charge = self._charge(body["charges"])
            if isinstance(charge, Response):
                return charge
            order["charges"] = [charge]
        else:
            return self.pagbank_error(400, "40001", "required_parameter", "charges")
        order["notification_urls"] = body.get("notification_urls") or []
        order["links"] = [
            _link("SELF", base, "application/json"),
            _link("PAY", f"{base}/pay", "application/json", "POST"),
        ]
        with self.lock:
            self.orders[order_id] = order
        return self._store(request, "orders", 201, order)

    def _qr_code(self, qr_codes: Any) -> dict[str, Any] | Response:
        if not isinstance(qr_codes, list) or len(qr_codes) != 1 or not isinstance(qr_codes[0], dict):
            # "o sistema PagBank suporta a criação de apenas um QR Code por pedido"
            return self.pagbank_error(400, "40002", "invalid_parameter", "qr_codes")
        amount = (qr_codes[0].get("amount") or {}).get("value")
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            return self.pagbank_error(400, "40002", "invalid_parameter", "qr_codes[0].amount.value")
        expiration = qr_codes[0].get("expiration_date")
        if expiration is None:  # 24 h by default
            expiration = (datetime.now(_BRT) + timedelta(hours=24)).isoformat(timespec="milliseconds")
        else:
            try:
                datetime.fromisoformat(str(expiration))
            except ValueError:
                return self.pagbank_error(400, "40002", "invalid_parameter", "qr_codes[0].expiration_date")
        qr_id = f"QRCO_{str(uuid.uuid4()).upper()}"
        return {
            "id": qr_id,
            "expiration_date": expiration,
            "amount": {"value": amount},
            "text": br_code(qr_id, amount),
            "arrangements": ["PIX"],
            "links": [
                _link("QRCODE.PNG", f"{self.public_url}/qrcode/{qr_id}/png", "image/png"),
                _link("QRCODE.BASE64", f"{self.public_url}/qrcode/{qr_id}/base64", "text/plain"),
            ],
        }

    def _charge(self, charges: Any) -> dict[str, Any] | Response:
        if not isinstance(charges, list) or len(charges) != 1 or not isinstance(charges[0], dict):
            return self.pagbank_error(400, "40002", "invalid_parameter", "charges")
        charge = charges[0]
        amount = (charge.get("amount") or {}).get("value")
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            return self.pagbank_error(400, "40002", "invalid_parameter", "charges[0].amount.value")
        method = charge.get("payment_method") or {}
        if method.get("type") != "BOLETO":
            return self.pagbank_error(
                400, "40002", "invalid_parameter: only BOLETO in the sandbox", "charges[0].payment_method.type"
            )
        boleto = method.get("boleto") or {}
        prefix = "charges[0].payment_method.boleto"
        try:
            date.fromisoformat(str(boleto.get("due_date")))
        except ValueError:
            return self.pagbank_error(400, "40002", "invalid_parameter", f"{prefix}.due_date")
        holder = boleto.get("holder")
        error = self._validate_customer(holder, f"{prefix}.holder")
        if error is not None:
            return error
        assert isinstance(holder, dict)  # _validate_customer checked it
        if not holder.get("email"):
            return self.pagbank_error(400, "40001", "required_parameter", f"{prefix}.holder.email")
        address = holder.get("address") or {}
        for field in _ADDRESS_FIELDS:
            if not address.get(field):
                return self.pagbank_error(400, "40001", "required_parameter", f"{prefix}.holder.address.{field}")
        if amount < BOLETO_MIN_CENTS:
            return self.pagbank_error(400, "40002", "invalid_parameter", "charges[0].amount.value")
        charge_id = f"CHAR_{str(uuid.uuid4()).upper()}"
        boleto_id = str(uuid.uuid4()).upper()
        declined = amount == DECLINED_BOLETO_CENTS
        barcode = _digits(33) + f"{amount:014d}"
        formatted = (
            f"{barcode[:5]}.{barcode[5:10]} {barcode[10:15]}.{barcode[15:21]} "
            f"{barcode[21:26]}.{barcode[26:32]} {barcode[32]} {barcode[33:]}"
        )
        out: dict[str, Any] = {
            "id": charge_id,
            "reference_id": charge.get("reference_id"),
            "status": "DECLINED" if declined else "WAITING",
            "created_at": _now(),
            "description": charge.get("description"),
            "amount": {
                "value": amount,
                "currency": (charge.get("amount") or {}).get("currency", "BRL"),
                "summary": {"total": amount, "paid": 0, "refunded": 0},
            },
            "payment_response": (
                {"code": "10000", "message": "NAO AUTORIZADO PELO PAGSEGURO"}
                if declined
                else {"code": "20000", "message": "SUCESSO"}
            ),
            "payment_method": {
                "type": "BOLETO",
                "boleto": {
                    "id": boleto_id,
                    "barcode": barcode,
                    "formatted_barcode": formatted,
                    "due_date": boleto["due_date"],
                    "instruction_lines": boleto.get("instruction_lines") or {},
                    "holder": holder,
                },
            },
        }
        charge_link = _link("SELF", f"{self.public_url}/charges/{charge_id}", "application/json")
        if declined:
            out["links"] = [charge_link]
        else:
            out["links"] = [
                _link("SELF", f"https://boleto.sandbox.pagseguro.com.br/{boleto_id.lower()}.pdf", "application/pdf"),
                _link("SELF", f"https://boleto.sandbox.pagseguro.com.br/{boleto_id.lower()}.png", "image/png"),
                charge_link,
            ]
        return out

    def create_checkout(self, request: Request) -> Response:
        body = self._write(request, "checkouts")
        if isinstance(body, Response):
            return body
        error = self._validate_items(body.get("items"))
        if error is None and body.get("customer") is not None:
            error = self._validate_customer(body["customer"])
        if error is not None:
            return error
        methods = body.get("payment_methods") or []
        allowed = {"CREDIT_CARD", "DEBIT_CARD", "PIX", "BOLETO"}
        if not isinstance(methods, list) or any(
            not isinstance(m, dict) or m.get("type") not in allowed for m in methods
        ):
            return json_response(
                {
                    "error_messages": [
                        {
                            "error": "invalid_value",
                            "description": "Field has an invalid value. Please check the documentation.",
                            "parameter_name": "payment_methods",
                        }
                    ]
                },
                400,
            )
        checkout_id = f"CHEC_{str(uuid.uuid4()).upper()}"
        code = str(uuid.uuid4())
        checkout = {
            "id": checkout_id,
            "reference_id": body.get("reference_id"),
            "expiration_date": body.get("expiration_date"),
            "created_at": _now(),
            "status": "ACTIVE",
            "customer": body.get("customer"),
            "customer_modifiable": bool(body.get("customer_modifiable", True)),
            "items": body["items"],
            "payment_methods": methods,
            "links": [
                _link("SELF", f"{self.public_url}/checkouts/{checkout_id}", "application/json"),
                _link("PAY", f"https://pagamento.sandbox.pagbank.com.br/pagamento?code={code}", "text/html"),
                _link(
                    "INACTIVATE", f"{self.public_url}/checkouts/{checkout_id}/inactivate", "application/json", "POST"
                ),
            ],
        }
        with self.lock:
            self.checkouts[checkout_id] = checkout
        return self._store(request, "checkouts", 201, checkout)

    # -- control: payment and notification ---------------------------------- #

    def control_pay(self, request: Request, order_id: str) -> Response:
        body = self._body(request) if request.get_data() else {}
        if isinstance(body, Response):
            return body
        with self.lock:
            order = self.orders.get(order_id)
            if order is None:
                return self.pagbank_error(404, "40004", "order not found", "order_id")
            charges = order.setdefault("charges", [])
            if any(c.get("status") == "PAID" for c in charges):
                return self.pagbank_error(400, "40002", "order already paid", "order_id")
            if charges:  # a boleto
                charge = charges[0]
                if charge.get("status") != "WAITING":
                    return self.pagbank_error(400, "40002", f"charge is {charge.get('status')}", "order_id")
                due = charge["amount"]["value"]
            else:  # a PIX order: the charge appears once the QR code is paid
                due = order["qr_codes"][0]["amount"]["value"]
                charge = {
                    "id": f"CHAR_{str(uuid.uuid4()).upper()}",
                    "reference_id": order["reference_id"],
                    "created_at": _now(),
                    "amount": {"value": due, "currency": "BRL", "summary": {"total": due, "paid": 0, "refunded": 0}},
                    "payment_response": {"code": "20000", "message": "SUCESSO"},
                    "payment_method": {"type": "PIX"},
                }
                charges.append(charge)
            paid = body.get("amount", due)
            if isinstance(paid, bool) or not isinstance(paid, int) or paid <= 0:
                return self.pagbank_error(400, "40002", "invalid_parameter", "amount")
            charge["status"] = "PAID"
            charge["paid_at"] = _now()
            charge["amount"]["summary"] = {"total": due, "paid": paid, "refunded": 0}
            snapshot = json.loads(json.dumps(order))
        delivered = self._notify(snapshot) if body.get("notify", True) else []
        return json_response({**snapshot, "notifications": delivered})

    def signature(self, raw: bytes) -> str:
        return hashlib.sha256(self.token.encode() + b"-" + raw).hexdigest()

    def _notify(self, order: dict[str, Any]) -> list[dict[str, Any]]:
        """POST the order to each notification URL, signed as PagBank signs (compact JSON, the
        exact bytes hashed are the bytes sent)."""
        raw = json.dumps(order, separators=(",", ":"), ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "x-authenticity-token": self.signature(raw)}
        delivered: list[dict[str, Any]] = []
        for url in order.get("notification_urls") or []:
            try:
                status = httpx.post(url, content=raw, headers=headers, timeout=30).status_code
            except httpx.HTTPError as exc:
                delivered.append({"url": url, "error": type(exc).__name__})
                continue
            delivered.append({"url": url, "status": status})
        return delivered


# Self-registration: the local cloud serves SANDBOX at /pagbank and seeds DEMO_SECRETS.
SANDBOX = PagBankSandbox
DEMO_SECRETS = (
    DemoSecret("pagbank", lambda base_url: {"base_url": base_url, "token": DEMO_TOKEN, "environment": "sandbox"}),
)
