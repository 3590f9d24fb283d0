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

Idempotency (https://resend.com/docs/dashboard/emails/idempotency-keys): per endpoint, the same
``Idempotency-Key`` with the same JSON body answers the original response and records nothing new;
with a different body -> 409 ``invalid_idempotent_request``; a key over 256 characters -> 400
``invalid_idempotency_key``. Keys do not expire in the sandbox.

Errors use Resend's body ``{"statusCode", "message", "name"}`` (https://resend.com/docs/api-reference/errors);
the ``rate_limited`` fault answers 429 ``rate_limit_exceeded`` with ``Retry-After``.

Not emulated: delivery. Test addresses such as ``bounced@resend.dev`` or ``complained@resend.dev``
are accepted like any other and no webhooks are sent; scheduling, templates, quotas and the
``concurrent_idempotent_requests`` race (requests are handled one at a time) are not emulated.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
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
        self.route("/emails", ["POST"], self.send_email)
        self.route("/emails/batch", ["POST"], self.send_batch)
        self.route("/emails/<email_id>", ["GET"], self.get_email)
        self.route("/domains", ["GET"], self.list_domains)

    # -- error shapes ------------------------------------------------------ #

    def error_response(self, status: int, message: str | None = None, name: str | None = None) -> Response:
        kind = name or ERROR_NAMES.get(status) or ("application_error" if status >= 500 else "validation_error")
        body = {"statusCode": status, "message": message or DEFAULT_MESSAGES.get(status, "Error"), "name": kind}
        return json_response(body, status)

    def reset(self) -> None:
        with self.lock:
            self.sent.clear()
            self._idempotency.clear()

    # -- guards ------------------------------------------------------------ #

    def _key(self, request: Request) -> str | None:
        scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None

    def _guard(self, request: Request, *, full_access: bool = False) -> Response | None:
        key = self._key(request)
        if key is None:
            return self.error_response(401, "Missing API key in the authorization header.", "missing_api_key")
        if key not in (self.api_key, self.sending_only_api_key):
            return self.error_response(403, "API key is invalid", "invalid_api_key")
        if full_access and key != self.api_key:
            return self.error_response(401, "This API key is restricted to only send emails.", "restricted_api_key")
        return None

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


# Self-registration: the local cloud serves SANDBOX at /resend and seeds DEMO_SECRETS.
SANDBOX = ResendSandbox
DEMO_SECRETS = (
    DemoSecret(
        "resend",
        lambda base_url: {"base_url": base_url, "api_key": DEMO_API_KEY, "webhook_secret": DEMO_WEBHOOK_SECRET},
    ),
)
