"""Resend email API sandbox, mounted at ``/resend`` (the secret's base_url).

Implemented (``Authorization: Bearer <key>``; :data:`DEMO_API_KEY` has full access,
:data:`DEMO_SENDING_ONLY_API_KEY` may only send, as a Resend "sending access" key):

* ``POST /emails`` -> ``{"id"}``. Validated like https://resend.com/docs/api-reference/emails/send-email:
  ``from`` a valid address (``a@b.c`` or ``Name <a@b.c>``) at a verified demo domain
  (:data:`VERIFIED_DOMAINS`, else 403 ``validation_error``), ``to`` 1-50 addresses, ``subject``
  required, ``html`` or ``text`` required, tags ``[{"name", "value"}]`` of ASCII letters, digits,
  ``_``/``-``, attachments ``[{"filename", "content": base64 | "path"}]``.
* ``POST /emails/batch`` -> ``{"data": [{"id"}...]}``: 1-100 emails, no attachments. Header
  ``x-batch-validation``: ``strict`` (default; one invalid email rejects the batch) or
  ``permissive`` (valid emails are sent, the rest listed in ``errors: [{"index", "message"}]``)
  (https://resend.com/docs/dashboard/emails/batch-validation-modes).
* ``GET /emails/{id}`` -> the email object (``last_event: "sent"``); unknown -> 404 ``not_found``.
* ``GET /domains`` -> the demo domains, all ``verified``; a sending-only key -> 401
  ``restricted_api_key``.
* Webhooks (https://resend.com/docs/api-reference/webhooks/create-webhook and siblings; full
  access only): ``POST /webhooks`` ``{"endpoint": http(s) URL, "events": [known event names,
  at least one]}`` -> ``{"object": "webhook", "id", "signing_secret": "whsec_…"}`` (Resend
  issues the secret); ``GET /webhooks/{id}`` (with ``signing_secret``), ``GET /webhooks``,
  ``PATCH /webhooks/{id}`` ``{"endpoint"?, "events"?, "status"?: enabled|disabled}`` ->
  ``{"object", "id"}``, ``DELETE /webhooks/{id}``; errors 422 ``validation_error`` naming the
  field, 404 ``not_found``. :meth:`ResendSandbox.webhook_delivery` builds the Svix-signed POST
  (``svix-id``, ``svix-timestamp``, ``svix-signature: v1,<base64 HMAC-SHA256>``) Resend would
  send for an event to every enabled webhook taking it: tests post it to the hub.
* API keys (https://resend.com/docs/api-reference/api-keys/create-api-key; full access only):
  ``POST /api-keys`` ``{"name" ≤ 50, "permission"?: full_access|sending_access}`` -> ``{"id",
  "token"}``; the token then authenticates like the demo keys; ``GET /api-keys``;
  ``DELETE /api-keys/{id}`` -> the key stops working (403 ``invalid_api_key``). The demo keys
  are listed too (:data:`DEMO_API_KEY_ID`, :data:`DEMO_SENDING_ONLY_API_KEY_ID`).

Idempotency (https://resend.com/docs/dashboard/emails/idempotency-keys): per endpoint, the same
``Idempotency-Key`` with the same JSON body answers the original response and records nothing new;
with a different body -> 409 ``invalid_idempotent_request``; a key over 256 characters -> 400
``invalid_idempotency_key``. Keys do not expire in the sandbox.

Errors use Resend's body ``{"statusCode", "message", "name"}`` (https://resend.com/docs/api-reference/errors);
the ``rate_limited`` fault answers 429 ``rate_limit_exceeded`` with ``Retry-After``.

Not emulated: delivery. Test addresses such as ``bounced@resend.dev`` or ``complained@resend.dev``
are accepted like any other and the sandbox never sends webhooks itself (``webhook_delivery``
builds them); signing-secret rotation; scheduling, templates, quotas and the
``concurrent_idempotent_requests`` race (requests are handled one at a time) are not emulated.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import secrets
import time
import uuid
from datetime import UTC, datetime
from email.utils import parseaddr
from typing import Any

from werkzeug.wrappers import Request, Response

from localcloud.sandboxes.base import DemoSecret, Sandbox, json_response

DEMO_API_KEY = "re_demo_SomosFullAccessKey123"
DEMO_SENDING_ONLY_API_KEY = "re_demo_SomosSendingOnlyKey456"
VERIFIED_DOMAINS: tuple[str, ...] = ("somosprodutora.com.br", "resend.dev")

MAX_RECIPIENTS = 50
MAX_BATCH = 100
MAX_IDEMPOTENCY_KEY = 256
TAG = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
TAG_RULE = "can only contain ASCII letters (a-z, A-Z), numbers (0-9), underscores (_), or dashes (-)."
# A pragmatic address check: local@domain.tld, no spaces.
ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[A-Za-z]{2,}$")
ADDRESS_FORMAT = "The email address needs to follow the `email@example.com` or `Name <email@example.com>` format."

ERROR_NAMES = {
    400: "validation_error",
    401: "missing_api_key",
    403: "invalid_api_key",
    404: "not_found",
    405: "method_not_allowed",
    409: "invalid_idempotent_request",
    422: "validation_error",
    429: "rate_limit_exceeded",
    500: "application_error",
    503: "service_unavailable",
}
DEFAULT_MESSAGES = {
    401: "Missing API key in the authorization header.",
    403: "API key is invalid",
    404: "The requested endpoint does not exist.",
    429: "Too many requests. Please limit the number of requests per second.",
    500: "An unexpected error occurred.",
    503: "API is temporarily unavailable",
}


DEMO_WEBHOOK_SECRET = "whsec_ZGVtby1yZXNlbmQtc2VjcmV0LWtleS0xMjM0NTY="
DEMO_API_KEY_ID = "b6d24b8e-af0b-4c3c-be0c-359bbd97381e"
DEMO_SENDING_ONLY_API_KEY_ID = "9c1f2e4a-7d3b-4e8f-a1c6-2b5d8e0f3a7c"
API_KEY_PERMISSIONS = ("full_access", "sending_access")
MAX_API_KEY_NAME = 50
# resend-python resend/webhooks/_webhook.py WebhookEvent (https://resend.com/docs/webhooks/event-types).
WEBHOOK_EVENTS = frozenset(
    {
        "email.sent",
        "email.scheduled",
        "email.delivered",
        "email.delivery_delayed",
        "email.complained",
        "email.bounced",
        "email.opened",
        "email.clicked",
        "email.received",
        "email.failed",
        "email.suppressed",
        "contact.created",
        "contact.updated",
        "contact.deleted",
        "domain.created",
        "domain.updated",
        "domain.deleted",
    }
)
HTTP_URL = re.compile(r"^https?://[^\s/]+")


class EmailInvalid(Exception):
    """One email failed validation: status, Resend error name, message."""

    def __init__(self, status: int, name: str, message: str) -> None:
        super().__init__(message)
        self.status, self.name, self.message = status, name, message


def _now() -> str:
    # Resend's timestamp format, e.g. "2026-04-03 22:13:42.674981+00".
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00")


def _addresses(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def _valid_address(value: str) -> bool:
    address = parseaddr(value)[1]
    return bool(address) and ADDRESS.match(address) is not None


def validate_email(body: Any, *, domains: tuple[str, ...] = VERIFIED_DOMAINS, batch: bool = False) -> None:
    """Raise :class:`EmailInvalid` like Resend's validation would."""
    if not isinstance(body, dict):
        raise EmailInvalid(422, "validation_error", "The email must be a JSON object.")
    missing = [field for field in ("from", "to", "subject") if not body.get(field)]
    if missing:
        raise EmailInvalid(422, "missing_required_field", f"Missing `{missing[0]}` field.")
    sender = body["from"]
    if not isinstance(sender, str) or not _valid_address(sender):
        raise EmailInvalid(422, "validation_error", f"Invalid `from` field. {ADDRESS_FORMAT}")
    for field in ("to", "cc", "bcc", "reply_to"):
        if field not in body:
            continue
        values = _addresses(body[field])
        if values is None or not all(_valid_address(v) for v in values):
            raise EmailInvalid(422, "validation_error", f"Invalid `{field}` field. {ADDRESS_FORMAT}")
        if field == "to" and len(values) > MAX_RECIPIENTS:
            raise EmailInvalid(422, "validation_error", f"Too many `to` recipients: at most {MAX_RECIPIENTS}.")
    if not isinstance(body["subject"], str):
        raise EmailInvalid(422, "validation_error", "Invalid `subject` field.")
    if not any(isinstance(body.get(k), str) and body.get(k) for k in ("html", "text")):
        raise EmailInvalid(422, "missing_required_field", "Missing `html` or `text` field.")
    headers = body.get("headers")
    if headers is not None and (not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values())):
        raise EmailInvalid(422, "validation_error", "Invalid `headers` field: an object of strings.")
    tags = body.get("tags")
    if tags is not None:
        if not isinstance(tags, list):
            raise EmailInvalid(422, "validation_error", "Invalid `tags` field.")
        for tag in tags:
            if not isinstance(tag, dict) or not TAG.match(str(tag.get("name", ""))):
                raise EmailInvalid(422, "validation_error", f"Tag name {TAG_RULE}")
            if not TAG.match(str(tag.get("value", ""))):
                raise EmailInvalid(422, "validation_error", f"Tag value {TAG_RULE}")
    attachments = body.get("attachments")
    if attachments is not None:
        if batch:
            raise EmailInvalid(422, "validation_error", "The `attachments` field is not supported in batch emails.")
        if not isinstance(attachments, list):
            raise EmailInvalid(422, "validation_error", "Invalid `attachments` field.")
        for attachment in attachments:
            if not isinstance(attachment, dict) or not (attachment.get("content") or attachment.get("path")):
                raise EmailInvalid(422, "invalid_attachment", "Attachment must have either a `content` or `path`.")
            content = attachment.get("content")
            if content is not None:
                try:
                    base64.b64decode(str(content), validate=True)
                except (binascii.Error, ValueError):
                    raise EmailInvalid(
                        422, "invalid_attachment", "Attachment `content` must be a Base64 string."
                    ) from None
    domain = parseaddr(sender)[1].rpartition("@")[2].lower()
    if domain not in domains:
        raise EmailInvalid(
            403, "validation_error", f"The {domain} domain is not verified. Please, add and verify your domain."
        )


class ResendSandbox(Sandbox):
    provider = "resend"

    def __init__(
        self,
        api_key: str = DEMO_API_KEY,
        sending_only_api_key: str = DEMO_SENDING_ONLY_API_KEY,
        domains: tuple[str, ...] = VERIFIED_DOMAINS,
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.sending_only_api_key = sending_only_api_key
        self.domains = domains
        self.sent: list[dict[str, Any]] = []
        # (path, idempotency key) -> (body fingerprint, status, response body)
        self._idempotency: dict[tuple[str, str], tuple[str, int, Any]] = {}
        # token -> {"id", "name", "permission", "created_at"}; id -> webhook (with its secret).
        self.keys: dict[str, dict[str, Any]] = {}
        self.webhooks: dict[str, dict[str, Any]] = {}
        self._init_keys()
        self.route("/emails", ["POST"], self.send_email)
        self.route("/emails/batch", ["POST"], self.send_batch)
        self.route("/emails/<email_id>", ["GET"], self.get_email)
        self.route("/domains", ["GET"], self.list_domains)
        self.route("/webhooks", ["POST"], self.create_webhook)
        self.route("/webhooks", ["GET"], self.list_webhooks)
        self.route("/webhooks/<webhook_id>", ["GET"], self.get_webhook)
        self.route("/webhooks/<webhook_id>", ["PATCH"], self.update_webhook)
        self.route("/webhooks/<webhook_id>", ["DELETE"], self.delete_webhook)
        self.route("/api-keys", ["POST"], self.create_api_key)
        self.route("/api-keys", ["GET"], self.list_api_keys)
        self.route("/api-keys/<key_id>", ["DELETE"], self.delete_api_key)

    def _init_keys(self) -> None:
        self.keys = {
            self.api_key: {"id": DEMO_API_KEY_ID, "name": "demo", "permission": "full_access", "created_at": _now()},
            self.sending_only_api_key: {
                "id": DEMO_SENDING_ONLY_API_KEY_ID,
                "name": "demo sending",
                "permission": "sending_access",
                "created_at": _now(),
            },
        }
        self.webhooks = {}

    # -- error shapes ------------------------------------------------------ #

    def error_response(self, status: int, message: str | None = None, name: str | None = None) -> Response:
        kind = name or ERROR_NAMES.get(status) or ("application_error" if status >= 500 else "validation_error")
        body = {"statusCode": status, "message": message or DEFAULT_MESSAGES.get(status, "Error"), "name": kind}
        return json_response(body, status)

    def reset(self) -> None:
        with self.lock:
            self.sent.clear()
            self._idempotency.clear()
            self._init_keys()

    # -- guards ------------------------------------------------------------ #

    def _key(self, request: Request) -> str | None:
        scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None

    def _guard(self, request: Request, *, full_access: bool = False) -> Response | None:
        key = self._key(request)
        if key is None:
            return self.error_response(401, "Missing API key in the authorization header.", "missing_api_key")
        with self.lock:
            known = self.keys.get(key)
        if known is None:
            return self.error_response(403, "API key is invalid", "invalid_api_key")
        if full_access and known["permission"] != "full_access":
            return self.error_response(401, "This API key is restricted to only send emails.", "restricted_api_key")
        return None

    def _management_body(self, request: Request) -> dict[str, Any] | Response:
        """The JSON object of a webhook or API-key write (a full-access key only), or the error
        Resend answers."""
        denied = self._guard(request, full_access=True)
        if denied is not None:
            return denied
        return self._json_object(request)

    # -- endpoints --------------------------------------------------------- #

    def send_email(self, request: Request) -> Response:
        return self._idempotent(request, "/emails", self._create_one)

    def send_batch(self, request: Request) -> Response:
        return self._idempotent(request, "/emails/batch", self._create_batch)

    def _idempotent(self, request: Request, path: str, create: Any) -> Response:
        denied = self._guard(request)
        if denied is not None:
            return denied
        body = request.get_json(silent=True)
        key = request.headers.get("Idempotency-Key")
        if key is not None and not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY:
            return self.error_response(
                400, "Idempotency keys, if present, must have between 1 and 256 characters.", "invalid_idempotency_key"
            )
        fingerprint = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        with self.lock:  # check-and-record in one step: requests are handled one at a time
            if key is not None and (path, key) in self._idempotency:
                seen_fingerprint, status, payload = self._idempotency[(path, key)]
                if seen_fingerprint != fingerprint:
                    return self.error_response(
                        409,
                        "This idempotency key has been used with this HTTP method and endpoint within the last "
                        "24 hours, but the request body was modified and doesn't match the original request.",
                        "invalid_idempotent_request",
                    )
                return json_response(payload, status)
            response_status, payload = create(request, body)
            if key is not None and response_status < 300:
                self._idempotency[(path, key)] = (fingerprint, response_status, payload)
        if response_status >= 400:
            return self.error_response(response_status, payload["message"], payload["name"])
        return json_response(payload, response_status)

    def _record(self, body: dict[str, Any]) -> str:
        email_id = str(uuid.uuid4())
        self.sent.append({"id": email_id, "request": body, "created_at": _now()})
        return email_id

    def _create_one(self, request: Request, body: Any) -> tuple[int, Any]:
        try:
            validate_email(body, domains=self.domains)
        except EmailInvalid as exc:
            return exc.status, {"message": exc.message, "name": exc.name}
        return 200, {"id": self._record(body)}

    def _create_batch(self, request: Request, body: Any) -> tuple[int, Any]:
        if not isinstance(body, list) or not body:
            return 422, {"message": "The batch must be a non-empty array of emails.", "name": "validation_error"}
        if len(body) > MAX_BATCH:
            return 422, {"message": f"A batch can hold at most {MAX_BATCH} emails.", "name": "validation_error"}
        permissive = (request.headers.get("x-batch-validation") or "strict").lower() == "permissive"
        errors: list[dict[str, Any]] = []
        for index, email in enumerate(body):
            try:
                validate_email(email, domains=self.domains, batch=True)
            except EmailInvalid as exc:
                if not permissive:
                    return exc.status, {"message": f"emails[{index}]: {exc.message}", "name": exc.name}
                errors.append({"index": index, "message": exc.message})
        failed = {e["index"] for e in errors}
        data = [{"id": self._record(email)} for i, email in enumerate(body) if i not in failed]
        return 200, ({"data": data, "errors": errors} if permissive else {"data": data})

    def get_email(self, request: Request, email_id: str) -> Response:
        denied = self._guard(request, full_access=True)
        if denied is not None:
            return denied
        with self.lock:
            record = next((e for e in self.sent if e["id"] == email_id), None)
        if record is None:
            return self.error_response(404, "Email not found", "not_found")
        sent = record["request"]
        return json_response(
            {
                "object": "email",
                "id": record["id"],
                "to": _addresses(sent.get("to")) or [],
                "from": sent.get("from"),
                "created_at": record["created_at"],
                "subject": sent.get("subject"),
                "html": sent.get("html"),
                "text": sent.get("text"),
                "bcc": _addresses(sent.get("bcc")) or [],
                "cc": _addresses(sent.get("cc")) or [],
                "reply_to": _addresses(sent.get("reply_to")) or [],
                "last_event": "sent",
                "scheduled_at": None,
                "tags": sent.get("tags") or [],
            }
        )

    def list_domains(self, request: Request) -> Response:
        denied = self._guard(request, full_access=True)
        if denied is not None:
            return denied
        data = [
            {
                "id": str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{name}.resend.local")),
                "name": name,
                "status": "verified",
                "created_at": "2026-01-05 12:00:00.000000+00",
                "region": "us-east-1",
                "capabilities": {"sending": "enabled", "receiving": "disabled"},
            }
            for name in self.domains
        ]
        try:
            limit = int(request.args.get("limit", len(data) or 1))
        except ValueError:
            return self.error_response(422, "The `limit` parameter must be a number.", "validation_error")
        if not 1 <= limit <= 100:
            return self.error_response(422, "The `limit` parameter must be between 1 and 100.", "validation_error")
        return json_response({"object": "list", "has_more": limit < len(data), "data": data[:limit]})

    # -- webhooks ---------------------------------------------------------- #

    def _json_object(self, request: Request) -> dict[str, Any] | Response:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return self.error_response(422, "The body must be a JSON object.", "validation_error")
        return body

    def _webhook_problem(self, body: dict[str, Any], *, partial: bool) -> str | None:
        if not partial or "endpoint" in body:
            endpoint = body.get("endpoint")
            if not isinstance(endpoint, str) or not endpoint:
                return "Missing `endpoint` field."
            if not HTTP_URL.match(endpoint):
                return "Invalid `endpoint` field: it must be an http(s) URL."
        if not partial or "events" in body:
            events = body.get("events")
            if not isinstance(events, list) or not events:
                return "Missing `events` field: at least one event."
            unknown = [e for e in events if e not in WEBHOOK_EVENTS]
            if unknown:
                return f"Invalid `events` field: unknown event `{str(unknown[0])[:60]}`."
        if "status" in body and body["status"] not in ("enabled", "disabled"):
            return "Invalid `status` field: `enabled` or `disabled`."
        return None

    def create_webhook(self, request: Request) -> Response:
        body = self._management_body(request)
        if isinstance(body, Response):
            return body
        problem = self._webhook_problem(body, partial=False)
        if problem:
            return self.error_response(422, problem, "validation_error")
        webhook = {
            "object": "webhook",
            "id": str(uuid.uuid4()),
            "created_at": _now(),
            "status": "enabled",
            "endpoint": body["endpoint"],
            "events": list(dict.fromkeys(body["events"])),
            "signing_secret": "whsec_" + base64.b64encode(os.urandom(24)).decode("ascii"),
        }
        with self.lock:
            self.webhooks[webhook["id"]] = webhook
        return json_response({"object": "webhook", "id": webhook["id"], "signing_secret": webhook["signing_secret"]})

    def _webhook(self, webhook_id: str) -> dict[str, Any] | None:
        with self.lock:
            found = self.webhooks.get(webhook_id)
            return dict(found) if found else None

    def get_webhook(self, request: Request, webhook_id: str) -> Response:
        denied = self._guard(request, full_access=True)
        if denied is not None:
            return denied
        webhook = self._webhook(webhook_id)
        if webhook is None:
            return self.error_response(404, "Webhook not found", "not_found")
        return json_response(webhook)

    def list_webhooks(self, request: Request) -> Response:
        denied = self._guard(request, full_access=True)
        if denied is not None:
            return denied
        with self.lock:
            data = [
                {k: v for k, v in w.items() if k not in ("signing_secret", "object")} for w in self.webhooks.values()
            ]
        return json_response({"object": "list", "has_more": False, "data": data})

    def update_webhook(self, request: Request, webhook_id: str) -> Response:
        body = self._management_body(request)
        if isinstance(body, Response):
            return body
        problem = self._webhook_problem(body, partial=True)
        if problem:
            return self.error_response(422, problem, "validation_error")
        with self.lock:
            webhook = self.webhooks.get(webhook_id)
            if webhook is None:
                return self.error_response(404, "Webhook not found", "not_found")
            for field in ("endpoint", "status"):
                if field in body:
                    webhook[field] = body[field]
            if "events" in body:
                webhook["events"] = list(dict.fromkeys(body["events"]))
        return json_response({"object": "webhook", "id": webhook_id})

    def delete_webhook(self, request: Request, webhook_id: str) -> Response:
        denied = self._guard(request, full_access=True)
        if denied is not None:
            return denied
        with self.lock:
            if self.webhooks.pop(webhook_id, None) is None:
                return self.error_response(404, "Webhook not found", "not_found")
        return json_response({"object": "webhook", "id": webhook_id, "deleted": True})

    def webhook_delivery(self, event: dict[str, Any]) -> list[tuple[str, dict[str, str], bytes]]:
        """The Svix-signed POSTs Resend sends for ``event`` (``{"type", "created_at", "data"}``):
        one ``(url, headers, body)`` per enabled webhook taking ``event["type"]``
        (https://resend.com/docs/webhooks/verify-webhooks-requests)."""
        with self.lock:
            targets = [
                dict(w) for w in self.webhooks.values() if w["status"] == "enabled" and event.get("type") in w["events"]
            ]
        body = json.dumps(event).encode("utf-8")
        deliveries = []
        for webhook in targets:
            message_id = f"msg_{uuid.uuid4().hex}"
            timestamp = str(int(time.time()))
            key = base64.b64decode(webhook["signing_secret"].removeprefix("whsec_"))
            signed = f"{message_id}.{timestamp}.".encode() + body
            signature = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode("ascii")
            headers = {
                "Content-Type": "application/json",
                "svix-id": message_id,
                "svix-timestamp": timestamp,
                "svix-signature": f"v1,{signature}",
            }
            deliveries.append((webhook["endpoint"], headers, body))
        return deliveries

    # -- API keys ---------------------------------------------------------- #

    def create_api_key(self, request: Request) -> Response:
        body = self._management_body(request)
        if isinstance(body, Response):
            return body
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            return self.error_response(422, "Missing `name` field.", "missing_required_field")
        if len(name) > MAX_API_KEY_NAME:
            return self.error_response(
                422, f"Invalid `name` field: at most {MAX_API_KEY_NAME} characters.", "validation_error"
            )
        permission = body.get("permission", "full_access")
        if permission not in API_KEY_PERMISSIONS:
            return self.error_response(
                422, "Invalid `permission` field: `full_access` or `sending_access`.", "validation_error"
            )
        key_id, token = str(uuid.uuid4()), "re_" + secrets.token_urlsafe(24)
        with self.lock:
            self.keys[token] = {"id": key_id, "name": name, "permission": permission, "created_at": _now()}
        return json_response({"id": key_id, "token": token})

    def list_api_keys(self, request: Request) -> Response:
        denied = self._guard(request, full_access=True)
        if denied is not None:
            return denied
        with self.lock:
            data = [{"id": k["id"], "name": k["name"], "created_at": k["created_at"]} for k in self.keys.values()]
        return json_response({"object": "list", "has_more": False, "data": data})

    def delete_api_key(self, request: Request, key_id: str) -> Response:
        denied = self._guard(request, full_access=True)
        if denied is not None:
            return denied
        with self.lock:
            token = next((t for t, k in self.keys.items() if k["id"] == key_id), None)
            if token is None:
                return self.error_response(404, "API key not found", "not_found")
            del self.keys[token]
        return json_response({"object": "api_key", "id": key_id, "deleted": True})


# Self-registration: the local cloud serves SANDBOX at /resend and seeds DEMO_SECRETS.
SANDBOX = ResendSandbox
DEMO_SECRETS = (
    DemoSecret(
        "resend",
        lambda base_url: {"base_url": base_url, "api_key": DEMO_API_KEY, "webhook_secret": DEMO_WEBHOOK_SECRET},
    ),
)
