"""Pluggy sandbox (Open Finance aggregator), mounted at ``/pluggy``; the secret's base_url is
``<sandbox>/pluggy`` (paths as on https://api.pluggy.ai). In-memory state, reset by
``DELETE /__sandbox/requests``.

Auth (https://docs.pluggy.ai/reference/authentication): ``POST /auth`` with
``{"clientId", "clientSecret"}`` equal to :data:`DEMO_CLIENT_ID`/:data:`DEMO_CLIENT_SECRET` →
``{"apiKey"}`` (a new key per call; every issued key stays valid until revoked); anything else →
401 ``CLIENT_KEYS_UNAUTHORIZED``. Every other call needs a valid key in ``X-API-KEY`` → else 401.

Errors: ``{"message", "code": <status>, "codeDescription"?}``
(https://docs.pluggy.ai/docs/errors-codes); faults answer in the same shape.

Implemented:

* ``GET /items/{id}`` → the item (:data:`DEMO_ITEM_ID`) with ``status`` (``UPDATED`` unless
  changed), ``executionStatus``, ``error``; another id → 404.
* ``GET /accounts?itemId=`` → ``{"total", "totalPages", "page", "results"}`` with a BANK checking
  account (:data:`DEMO_ACCOUNT_ID`) and a CREDIT credit-card account; ``itemId`` is required.
* ``GET /transactions?accountId=&from=&to=&pageSize=&page=`` → the account's lines within
  ``from``..``to`` (inclusive dates), newest first, paginated as Pluggy documents
  (https://docs.pluggy.ai/docs/basic-concepts: ``total``, ``totalPages``, ``page`` from 1,
  ``pageSize`` 1-500, default 500). Amounts are JSON numbers written digit for digit: positive
  for CREDIT, negative for DEBIT.

Control endpoints (logged like other requests, and subject to ``/__sandbox/faults/pluggy``):

* ``POST /pluggy/__control/transactions`` ``{"date": "YYYY-MM-DD", "amount": 1234.56,
  "description", "type"?: "CREDIT"|"DEBIT", "accountId"?, "paymentData"?, "status"?}`` → 201
  with the stored transaction (``type`` defaults from the sign of ``amount``; at most two
  decimals, never a string).
* ``POST /pluggy/__control/item_status`` ``{"status": "LOGIN_ERROR", "error"?: {"code", "message"}}``.
* ``POST /pluggy/__control/revoke_keys`` → every issued API key stops working (what an expired
  key looks like to a client holding one).

Not emulated: connectors, Pluggy Connect, item creation/update, webhooks, investments,
identity, rate limits (use the server's ``rate_limited`` fault), credit-card bills.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from werkzeug.wrappers import Request, Response

from localcloud.sandboxes.asaas import dumps
from localcloud.sandboxes.base import DemoSecret, Sandbox, reason

DEMO_CLIENT_ID = "d3m0c1ie-0000-4000-8000-00000000c1d0"
DEMO_CLIENT_SECRET = "demo-pluggy-client-secret"
DEMO_ITEM_ID = "a1b2c3d4-0000-4000-8000-0000000011e0"
DEMO_ACCOUNT_ID = "a1b2c3d4-0000-4000-8000-00000000acc1"
DEMO_CREDIT_CARD_ACCOUNT_ID = "a1b2c3d4-0000-4000-8000-00000000acc2"

MAX_PAGE_SIZE = 500
ITEM_STATUSES = ("UPDATED", "UPDATING", "LOGIN_ERROR", "OUTDATED", "WAITING_USER_INPUT")
_CENT = Decimal("0.01")


def pluggy_json(body: Any, status: int = 200) -> Response:
    return Response(dumps(body), status=status, content_type="application/json; charset=utf-8")


class _Invalid(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _iso(day: date) -> str:
    return f"{day.isoformat()}T00:00:00.000Z"


class PluggySandbox(Sandbox):
    provider = "pluggy"

    def __init__(
        self,
        client_id: str = DEMO_CLIENT_ID,
        client_secret: str = DEMO_CLIENT_SECRET,
        item_id: str = DEMO_ITEM_ID,
        account_id: str = DEMO_ACCOUNT_ID,
    ) -> None:
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self.item_id = item_id
        self.account_id = account_id
        self._init_state()
        self.route("/auth", ["POST"], self.auth)
        self.route("/items/<item_id>", ["GET"], self.get_item)
        self.route("/accounts", ["GET"], self.list_accounts)
        self.route("/transactions", ["GET"], self.list_transactions)
        self.route("/__control/transactions", ["POST"], self.control_transaction)
        self.route("/__control/item_status", ["POST"], self.control_item_status)
        self.route("/__control/revoke_keys", ["POST"], self.control_revoke_keys)

    def _init_state(self) -> None:
        self.api_keys: set[str] = set()
        self.auth_calls = 0
        self.transactions: list[dict[str, Any]] = []
        self.item_status = "UPDATED"
        self.item_error: dict[str, Any] | None = None
        self.created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def reset(self) -> None:
        with self.lock:
            self._init_state()

    # -- errors ------------------------------------------------------------ #

    def pluggy_error(self, status: int, message: str, code_description: str | None = None) -> Response:
        body: dict[str, Any] = {"message": message, "code": status}
        if code_description:
            body["codeDescription"] = code_description
        return pluggy_json(body, status)

    def error_response(self, status: int, message: str | None = None) -> Response:
        if status == 429:
            # https://docs.pluggy.ai/docs/rate-limits (the server's fault adds Retry-After).
            return self.pluggy_error(
                429, "Too many requests. Please try again later (see Retry-After header in seconds)"
            )
        return self.pluggy_error(status, message or reason(status))

    def not_found(self, request: Request, subpath: str) -> Response:
        return self.pluggy_error(404, f"Cannot {request.method} {subpath}")

    def dispatch(self, request: Request, subpath: str) -> Response:
        if subpath.rstrip("/") != "/auth" and not subpath.startswith("/__control/"):
            key = request.headers.get("X-API-KEY", "")
            with self.lock:
                known = any(secrets.compare_digest(key, k) for k in self.api_keys) if key else False
            if not known:
                return self.pluggy_error(401, "Unauthorized")
        try:
            return super().dispatch(request, subpath)
        except _Invalid as exc:
            return self.pluggy_error(400, exc.message)

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        raw = request.get_data(cache=True)
        try:
            body = json.loads(raw, parse_float=Decimal) if raw.strip() else {}
        except ValueError:
            raise _Invalid("the body is not JSON") from None
        if not isinstance(body, dict):
            raise _Invalid("the body must be a JSON object")
        return body

    @staticmethod
    def _date(value: Any, field: str) -> date:
        try:
            return date.fromisoformat(str(value)[:10])
        except ValueError:
            raise _Invalid(f"{field} must be a date (YYYY-MM-DD)") from None

    @staticmethod
    def _int(value: str | None, field: str, default: int) -> int:
        if value is None or value == "":
            return default
        try:
            return int(value)
        except ValueError:
            raise _Invalid(f"{field} must be an integer") from None

    # -- endpoints --------------------------------------------------------- #

    def auth(self, request: Request) -> Response:
        body = self._body(request)
        client_id, client_secret = str(body.get("clientId") or ""), str(body.get("clientSecret") or "")
        if not (
            secrets.compare_digest(client_id, self.client_id)
            and secrets.compare_digest(client_secret, self.client_secret)
        ):
            return self.pluggy_error(401, "Invalid client keys", "CLIENT_KEYS_UNAUTHORIZED")
        key = "pluggy-sandbox-" + secrets.token_hex(24)
        with self.lock:
            self.api_keys.add(key)
            self.auth_calls += 1
        return pluggy_json({"apiKey": key})

    def _item(self) -> dict[str, Any]:
        execution = {
            "UPDATED": "SUCCESS",
            "UPDATING": "LOGIN_IN_PROGRESS",
            "LOGIN_ERROR": "INVALID_CREDENTIALS",
            "OUTDATED": "ERROR",
            "WAITING_USER_INPUT": "WAITING_USER_INPUT",
        }[self.item_status]
        return {
            "id": self.item_id,
            "connector": {"id": 201, "name": "Banco Demo (Open Finance)", "type": "PERSONAL_BANK"},
            "status": self.item_status,
            "executionStatus": execution,
            "error": self.item_error,
            "createdAt": self.created,
            "updatedAt": self.created,
            "lastUpdatedAt": self.created,
        }

    def get_item(self, request: Request, item_id: str) -> Response:
        if item_id != self.item_id:
            return self.pluggy_error(404, f"Item {item_id} not found")
        with self.lock:
            return pluggy_json(self._item())

    def _accounts(self) -> list[dict[str, Any]]:
        balance = sum((t["amount"] for t in self.transactions if t["accountId"] == self.account_id), Decimal("0.00"))
        return [
            {
                "id": self.account_id,
                "itemId": self.item_id,
                "type": "BANK",
                "subtype": "CHECKING_ACCOUNT",
                "number": "0001/12345-0",
                "name": "Conta Corrente",
                "marketingName": "Conta PJ",
                "balance": balance,
                "owner": "Somos Produtora Ltda",
                "taxNumber": "12.345.678/0001-95",
                "currencyCode": "BRL",
                "bankData": {"transferNumber": "0001/12345-0", "closingBalance": balance},
                "creditData": None,
            },
            {
                "id": DEMO_CREDIT_CARD_ACCOUNT_ID,
                "itemId": self.item_id,
                "type": "CREDIT",
                "subtype": "CREDIT_CARD",
                "number": "1234",
                "name": "Cartão Empresarial",
                "marketingName": None,
                "balance": Decimal("0.00"),
                "owner": "Somos Produtora Ltda",
                "taxNumber": "12.345.678/0001-95",
                "currencyCode": "BRL",
                "bankData": None,
                "creditData": {"level": "BUSINESS", "brand": "VISA", "creditLimit": Decimal("10000.00")},
            },
        ]

    def list_accounts(self, request: Request) -> Response:
        item_id = request.args.get("itemId")
        if not item_id:
            raise _Invalid("itemId is required")
        with self.lock:
            results = self._accounts() if item_id == self.item_id else []
        return pluggy_json({"total": len(results), "totalPages": 1, "page": 1, "results": results})

    def list_transactions(self, request: Request) -> Response:
        account_id = request.args.get("accountId")
        if not account_id:
            raise _Invalid("accountId is required")
        start = self._date(request.args["from"], "from") if request.args.get("from") else None
        end = self._date(request.args["to"], "to") if request.args.get("to") else None
        page_size = self._int(request.args.get("pageSize"), "pageSize", MAX_PAGE_SIZE)
        page = self._int(request.args.get("page"), "page", 1)
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise _Invalid(f"pageSize must be between 1 and {MAX_PAGE_SIZE}")
        if page < 1:
            raise _Invalid("page must be 1 or more")
        with self.lock:
            matching = [
                t
                for t in self.transactions
                if t["accountId"] == account_id
                and (start is None or t["_date"] >= start)
                and (end is None or t["_date"] <= end)
            ]
        matching.sort(key=lambda t: (t["_date"], t["_seq"]), reverse=True)
        total = len(matching)
        total_pages = -(-total // page_size)
        chunk = matching[(page - 1) * page_size : page * page_size]
        results = [{k: v for k, v in t.items() if not k.startswith("_")} for t in chunk]
        return pluggy_json({"total": total, "totalPages": total_pages, "page": page, "results": results})

    # -- control ----------------------------------------------------------- #

    def control_transaction(self, request: Request) -> Response:
        body = self._body(request)
        day = self._date(body.get("date") or date.today().isoformat(), "date")
        value = body.get("amount")
        if isinstance(value, bool) or not isinstance(value, int | Decimal) or value == 0:
            raise _Invalid("amount must be a non-zero JSON number")
        try:
            amount = Decimal(value)
            exact = amount == amount.quantize(_CENT)
        except InvalidOperation:
            exact = False
        if not exact:
            raise _Invalid("amount must have at most two decimal places")
        kind = str(body.get("type") or ("DEBIT" if amount < 0 else "CREDIT")).upper()
        if kind not in ("CREDIT", "DEBIT"):
            raise _Invalid("type must be CREDIT or DEBIT")
        magnitude = abs(amount).quantize(_CENT)
        payment_data = body.get("paymentData")
        if payment_data is not None and not isinstance(payment_data, dict):
            raise _Invalid("paymentData must be an object")
        with self.lock:
            seq = len(self.transactions)
            transaction = {
                "id": f"{secrets.token_hex(4)}-0000-4000-8000-{seq:012d}",
                "accountId": str(body.get("accountId") or self.account_id),
                "description": str(body.get("description") or ""),
                "descriptionRaw": str(body.get("description") or "") or None,
                "currencyCode": "BRL",
                "amount": magnitude if kind == "CREDIT" else -magnitude,
                "amountInAccountCurrency": None,
                "date": _iso(day),
                "category": None,
                "categoryId": None,
                "balance": None,
                "providerCode": None,
                "status": str(body.get("status") or "POSTED"),
                "type": kind,
                "paymentData": payment_data,
                "creditCardMetadata": None,
                "merchant": None,
                "_date": day,
                "_seq": seq,
            }
            self.transactions.append(transaction)
        return pluggy_json({k: v for k, v in transaction.items() if not k.startswith("_")}, 201)

    def control_item_status(self, request: Request) -> Response:
        body = self._body(request)
        status = str(body.get("status") or "")
        if status not in ITEM_STATUSES:
            raise _Invalid(f"status must be one of {', '.join(ITEM_STATUSES)}")
        error = body.get("error")
        with self.lock:
            self.item_status = status
            self.item_error = error if isinstance(error, dict) else None
            return pluggy_json(self._item())

    def control_revoke_keys(self, request: Request) -> Response:
        with self.lock:
            revoked = len(self.api_keys)
            self.api_keys.clear()
        return pluggy_json({"revoked": revoked})


# Self-registration: the local cloud serves SANDBOX at /pluggy and seeds DEMO_SECRETS.
SANDBOX = PluggySandbox
DEMO_SECRETS = (
    DemoSecret(
        "pluggy",
        lambda base_url: {
            "base_url": base_url,
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
            "item_id": DEMO_ITEM_ID,
            "account_id": DEMO_ACCOUNT_ID,
        },
    ),
)
