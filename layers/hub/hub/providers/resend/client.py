"""Resend: inbound email-tracking webhooks.

The provider's API facts this module relies on, with their doc links: README.md.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from aws_lambda_powertools.shared.lazy_import import LazyLoader
from pydantic import Field, SecretStr

from hub.config import get_settings
from hub.errors import (
    AuthenticationError,
    HubError,
    InvalidRequestError,
    ProviderUnavailableError,
    RateLimitedError,
)
from hub.observability import logger
from hub.providers.base.client import ProviderClient, ProviderCredentials, parse_retry_after
from hub.providers.base.webhook import WebhookRegistration, webhook_target
from hub.providers.outbound import OutboundEmail, SentEmail
from hub.usage.meter import Billing

if TYPE_CHECKING:
    import httpx
else:  # imported on first use, not at init (cold start): a webhook receiver never calls out
    httpx = LazyLoader("httpx", globals(), "httpx")


class ResendCredentials(ProviderCredentials):
    # Sending (https://resend.com/docs/api-reference/introduction#authentication). Optional so a
    # webhook-only secret stays valid; ResendClient refuses to send without it.
    api_key: SecretStr | None = None
    # The key's id at Resend when the hub issued it (CredentialRotator): what a later rotation
    # deletes. A key pasted by hand has none.
    api_key_id: str | None = Field(None, min_length=1, max_length=100)
    webhook_secret: SecretStr | None = None
    # Accepted too while a secret rotation is in progress.
    previous_webhook_secret: SecretStr | None = None


# ----- sending ---------------------------------------------------------------------------

# https://resend.com/docs/dashboard/emails/idempotency-keys: 1-256 characters, kept 24 h.
MAX_IDEMPOTENCY_KEY_LENGTH = 256
# https://resend.com/docs/api-reference/emails/send-batch-emails: up to 100 emails per call.
MAX_BATCH_EMAILS = 100
# Tag names and values (send-email and send-batch-emails, ``tags``): ASCII letters, digits, _ and -,
# at most 256 characters each.
TAG_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
# https://resend.com/docs/api-reference/rate-limit: a 429 carries ``retry-after`` (seconds); used
# when a per-second rate limit answer lacks it.
DEFAULT_RATE_LIMIT_RETRY_AFTER = 1.0
# The events the hub's receiver turns into hub events (webhook.py EMAIL_EVENT_TYPES), names from
# https://resend.com/docs/webhooks/event-types (resend-python resend/webhooks/_webhook.py WebhookEvent).
WEBHOOK_EVENTS = (
    "email.sent",
    "email.delivered",
    "email.delivery_delayed",
    "email.bounced",
    "email.complained",
    "email.opened",
    "email.clicked",
    "email.failed",
    "email.suppressed",
)
# https://resend.com/docs/api-reference/api-keys/create-api-key: ``name`` at most 50 characters.
API_KEY_NAME_MAX = 50
# The monthly quota resets on the account's billing date, which the API does not expose: check
# back once a day (the fallback provider sends meanwhile).
MONTHLY_QUOTA_RETRY_AFTER = 86_400.0


def seconds_until_next_utc_midnight(now: datetime | None = None) -> float:
    """The Free plan's daily quota is a UTC calendar day and resets at midnight UTC
    (https://resend.com/docs/api-reference/rate-limit#email-quotas)."""
    now = now or datetime.now(UTC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1.0, (midnight - now).total_seconds())


def _check_tags(tags: dict[str, str], provider: str) -> None:
    for name, value in tags.items():
        if not TAG_PATTERN.match(name) or not TAG_PATTERN.match(value):
            # Tag values are caller metadata, not secrets or message content: naming the tag is safe.
            raise InvalidRequestError(
                f"email tag {name[:40]!r}: names and values may only contain ASCII letters, digits, "
                "_ and - (1-256 characters)",
                provider=provider,
                code="invalid_tag",
            )


def _check_body(email: OutboundEmail, provider: str) -> None:
    if email.html is None and email.text is None:
        raise InvalidRequestError("an email needs html or text", provider=provider, code="missing_body")


class ResendClient(ProviderClient):
    """Resend email API. Errors are ``{"statusCode", "message", "name"}``
    (https://resend.com/docs/api-reference/errors)."""

    provider: ClassVar[str] = "resend"
    # https://resend.com/docs/api-reference/introduction#base-url
    credentials_model: ClassVar[type[ProviderCredentials]] = ResendCredentials
    # https://resend.com/docs/dashboard/emails/idempotency-keys: honoured by POST /emails and
    # POST /emails/batch; the same key with the same body answers the original response.
    idempotency_header: ClassVar[str | None] = "Idempotency-Key"
    writes_have_effects: ClassVar[bool] = True

    credentials: ResendCredentials

    # https://resend.com/docs/api-reference/introduction#authentication. (Resend also rejects
    # requests without a User-Agent with 403/1010; httpx always sends one.)
    def auth_headers(self) -> dict[str, str]:
        if self.credentials.api_key is None:
            raise AuthenticationError(
                "the resend secret has no api_key: it can verify webhooks but not send email",
                provider=self.provider,
                code="missing_api_key",
            )
        return {"Authorization": f"Bearer {self.credentials.api_key.get_secret_value()}"}

    # https://resend.com/docs/api-reference/errors
    def error_details(self, response: httpx.Response) -> tuple[str, str | None]:
        try:
            body = response.json()
        except ValueError:
            return super().error_details(response)
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            name = body.get("name")
            return (body["message"][:300], str(name) if name else None)
        return super().error_details(response)

    def classify(self, response: httpx.Response) -> HubError | None:
        error = super().classify(response)
        if error is None:
            return None
        status, code = response.status_code, error.code
        if status == 401 and code == "restricted_api_key":
            # A sending-only key answers 401 restricted_api_key to everything but sending
            # (https://resend.com/docs/api-reference/errors): it authenticated, so it is healthy,
            # and a management call it may not make (a webhook, a new key) is refused without
            # disabling the integration that sends fine with it.
            if _is_health_probe(response):
                return None
            if _is_management_call(response):
                return error.recast(
                    InvalidRequestError,
                    f"{error.message} (the hub needs a full-access key to manage webhooks and API keys)",
                )
        if status == 403 and code == "validation_error":
            # "The `x.com` domain is not verified" / "You can only send testing emails to your own
            # address": the key is fine, the request's `from`/`to` are not. Not an auth failure (that
            # would disable the integration).
            return error.recast(InvalidRequestError)
        if status == 429:
            header = parse_retry_after(response.headers.get("retry-after"), default=0.0)
            if code == "daily_quota_exceeded":
                retry_after = max(header, seconds_until_next_utc_midnight())
            elif code == "monthly_quota_exceeded":
                retry_after = max(header, MONTHLY_QUOTA_RETRY_AFTER)
            else:  # rate_limit_exceeded: retry-after, else ratelimit-reset, else a second
                reset = parse_retry_after(response.headers.get("ratelimit-reset"), default=0.0)
                retry_after = header or reset or DEFAULT_RATE_LIMIT_RETRY_AFTER
            return error.recast(RateLimitedError, retry_after=retry_after)
        # 409 invalid_idempotent_request (same key, different body: the caller's bug) and
        # concurrent_idempotent_requests (the same send is in flight and will deliver the email;
        # retrying or falling back could only duplicate it) stay InvalidRequestError, as do
        # 400/422 validation errors; 401/403 keys -> AuthenticationError; 5xx -> unavailable.
        return error

    def _idempotency_key(self, key: str) -> str:
        if not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY_LENGTH:
            raise InvalidRequestError(
                f"resend idempotency keys have 1-{MAX_IDEMPOTENCY_KEY_LENGTH} characters",
                provider=self.provider,
                code="invalid_idempotency_key",
            )
        return key

    def email_body(self, email: OutboundEmail, *, batch: bool = False) -> dict[str, Any]:
        """The JSON of one email (https://resend.com/docs/api-reference/emails/send-email)."""
        _check_body(email, self.provider)
        _check_tags(email.tags, self.provider)
        body: dict[str, Any] = {"from": email.from_address, "to": list(email.to), "subject": email.subject}
        for field in ("cc", "bcc", "reply_to"):
            values = getattr(email, field)
            if values:
                body[field] = list(values)
        if email.html is not None:
            body["html"] = email.html
        if email.text is not None:
            body["text"] = email.text
        if email.headers:
            body["headers"] = dict(email.headers)
        if email.tags:
            body["tags"] = [{"name": name, "value": value} for name, value in email.tags.items()]
        if email.attachments:
            if batch:
                # https://resend.com/docs/api-reference/emails/send-batch-emails#limitations
                raise InvalidRequestError(
                    "resend batch sending does not support attachments; send those emails one by one",
                    provider=self.provider,
                    code="attachments_not_supported",
                )
            body["attachments"] = [
                {
                    "filename": a.filename,
                    "content": base64.b64encode(a.content).decode("ascii"),
                    **({"content_type": a.content_type} if a.content_type else {}),
                }
                for a in email.attachments
            ]
        return body

    # https://resend.com/docs/api-reference/emails/send-email
    def send_email(self, email: OutboundEmail, *, idempotency_key: str) -> SentEmail:
        """POST /emails -> ``{"id"}``. A retry with the same key and body answers the same id
        without sending again (for 24 h)."""
        body = self.email_body(email)
        key = self._idempotency_key(idempotency_key)
        # After an unknown outcome the same key again is safe: Resend answers the first send.
        response = self.effect(
            lambda: self.request(
                "POST", "/emails", json=body, idempotency_key=key, operation="send", billing=_billing([email])
            ),
            keyed=True,
        )
        payload = response.json()
        email_id = payload.get("id") if isinstance(payload, dict) else None
        if not isinstance(email_id, str) or not email_id:
            raise ProviderUnavailableError(
                "resend accepted the email but returned no id",
                provider=self.provider,
                request_id=self.request_id_of(response),
            )
        return SentEmail(provider=self.provider, email_id=email_id, to=list(email.to))

    # https://resend.com/docs/api-reference/emails/send-batch-emails
    # https://resend.com/docs/dashboard/emails/batch-validation-modes
    def send_batch(self, emails: list[OutboundEmail], *, idempotency_key: str) -> list[SentEmail]:
        """POST /emails/batch: 1-100 emails without attachments (tags are supported), in strict
        validation mode (one invalid email rejects the whole batch, nothing is sent). Answers
        ``{"data": [{"id"}, ...]}`` in the order of the request."""
        if not 1 <= len(emails) <= MAX_BATCH_EMAILS:
            raise InvalidRequestError(
                f"a resend batch holds 1-{MAX_BATCH_EMAILS} emails, not {len(emails)}",
                provider=self.provider,
                code="invalid_batch_size",
            )
        body = [self.email_body(email, batch=True) for email in emails]
        key = self._idempotency_key(idempotency_key)
        response = self.effect(
            lambda: self.request(
                "POST",
                "/emails/batch",
                json=body,
                idempotency_key=key,
                headers={"x-batch-validation": "strict"},
                operation="send",
                billing=_billing(emails),
            ),
            keyed=True,
        )
        payload = response.json()
        data = payload.get("data") if isinstance(payload, dict) else None
        ids = [item.get("id") for item in data if isinstance(item, dict)] if isinstance(data, list) else []
        if (
            len(ids) != len(emails)
            or not all(isinstance(i, str) and i for i in ids)
            or (isinstance(payload, dict) and payload.get("errors"))
        ):
            # Strict mode answers all ids or an error; anything else means we cannot tell
            # which emails were queued.
            raise ProviderUnavailableError(
                f"resend answered a batch of {len(emails)} with {len(ids)} ids",
                provider=self.provider,
                request_id=self.request_id_of(response),
            )
        return [
            SentEmail(provider=self.provider, email_id=str(email_id), to=list(email.to))
            for email_id, email in zip(ids, emails, strict=True)
        ]

    # ----- webhook (WebhookRegistrar) -----------------------------------------------------------
    # https://resend.com/docs/api-reference/webhooks/create-webhook (POST /webhooks {endpoint,
    # events} -> {object, id, signing_secret}); update-webhook (PATCH /webhooks/{id} {endpoint?,
    # events?, status?} -> {object, id}); get-webhook (GET /webhooks/{id}, with signing_secret).
    # Shapes also in resend-python resend/webhooks/_webhooks.py and resend-go webhooks.go.
    def register_webhook(self, url: str, secret: str, *, existing_id: str | None = None) -> WebhookRegistration:
        """Resend issues the signing secret (Svix ``whsec_…``): ``secret`` is not sent, and the
        answer's ``signing_secret`` is stored as ``webhook_secret``, what
        :func:`verify_resend_webhook` checks. With ``existing_id`` the webhook is updated (URL,
        events, enabled) and its current secret read back; gone at Resend (404) → created anew.
        A create is sent once (a retry could leave two webhooks)."""
        webhook_target(url, provider=self.provider)
        events = list(WEBHOOK_EVENTS)
        if existing_id:
            try:
                self.request(
                    "PATCH",
                    f"/webhooks/{existing_id}",
                    json={"endpoint": url, "events": events, "status": "enabled"},
                    operation="register_webhook",
                    effect=False,
                )
            except InvalidRequestError as exc:
                if exc.http_status != 404:
                    raise
            else:
                found = self.json_object(self.request("GET", f"/webhooks/{existing_id}", operation="register_webhook"))
                return self._registration(found, fallback_id=existing_id)
        created = self.json_object(
            self.request(
                "POST",
                "/webhooks",
                json={"endpoint": url, "events": events},
                operation="register_webhook",
                effect=False,
                attempts=1,
            )
        )
        return self._registration(created)

    def _registration(self, webhook: dict[str, Any], fallback_id: str | None = None) -> WebhookRegistration:
        webhook_id = webhook.get("id") or fallback_id
        signing_secret = webhook.get("signing_secret")
        if not isinstance(webhook_id, str) or not isinstance(signing_secret, str) or not signing_secret:
            raise ProviderUnavailableError(
                "resend answered the webhook without its id or signing secret", provider=self.provider
            )
        return WebhookRegistration(
            provider_webhook_id=webhook_id,
            secret_fields={"webhook_secret": signing_secret},
            events=WEBHOOK_EVENTS,
        )

    # ----- API keys (CredentialRotator) ---------------------------------------------------------
    # https://resend.com/docs/api-reference/api-keys/create-api-key (POST /api-keys {name,
    # permission: full_access|sending_access, domain_id?} -> {id, token}, the token shown only
    # here); https://resend.com/docs/api-reference/api-keys/delete-api-key (DELETE /api-keys/{id}).
    def issue_credentials(self) -> dict[str, str]:
        """A new full-access key (the hub also manages webhooks and rotates keys with it, which a
        sending-only key cannot): ``{"api_key", "api_key_id"}`` to store. Sent once: a retry
        could issue two keys."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        name = f"hub {self.org_id or 'default'} {stamp}"[:API_KEY_NAME_MAX]
        created = self.json_object(
            self.request(
                "POST",
                "/api-keys",
                json={"name": name, "permission": "full_access"},
                operation="issue_credentials",
                effect=False,
                attempts=1,
            )
        )
        key_id, token = created.get("id"), created.get("token")
        if not isinstance(key_id, str) or not key_id or not isinstance(token, str) or not token:
            raise ProviderUnavailableError(
                "resend created the API key but returned no id/token", provider=self.provider
            )
        return {"api_key": token, "api_key_id": key_id}

    def revoke_credentials(self, previous: Mapping[str, Any]) -> None:
        """``DELETE /api-keys/{previous api_key_id}``; already gone (404) counts as done. A key
        pasted by hand has no ``api_key_id``: InvalidRequestError ``previous_key_not_revocable``
        (delete it in Resend's dashboard, API Keys)."""
        key_id = previous.get("api_key_id")
        if not isinstance(key_id, str) or not key_id:
            raise InvalidRequestError(
                "previous.api_key_id: the previous Resend key was not issued by the hub, so its id is "
                "unknown; delete it in the Resend dashboard (API Keys)",
                provider=self.provider,
                code="previous_key_not_revocable",
            )
        if key_id == self.credentials.api_key_id:
            raise InvalidRequestError(
                "previous.api_key_id: that is the key in use", provider=self.provider, code="revoke_current_key"
            )
        try:
            self.request("DELETE", f"/api-keys/{key_id}", operation="revoke_credentials", effect=False)
        except InvalidRequestError as exc:
            if exc.http_status != 404:
                raise
            logger.info("resend_api_key_already_deleted", extra={"provider": self.provider})

    # https://resend.com/docs/api-reference/domains/list-domains
    def health_check(self) -> None:
        """GET /domains?limit=1: authenticated and cheap. A full-access key answers 200; a
        sending-only key answers 401 ``restricted_api_key``, which :meth:`classify` treats as
        healthy (the key is valid; it may only send). Invalid or suspended keys -> 403."""
        self.request("GET", "/domains", params={"limit": 1}, timeout=get_settings().health_check_timeout)


def _billing(emails: list[OutboundEmail]) -> Billing:
    """Every To/Cc/Bcc recipient is one email against the plan
    (https://resend.com/docs/knowledge-base/account-quotas-and-limits)."""
    return Billing(sum(len(e.to) + len(e.cc) + len(e.bcc) for e in emails), "email")


def _is_management_call(response: httpx.Response) -> bool:
    """A webhook or API-key call (what a sending-only key may not make), not a send."""
    try:
        path = response.request.url.path
    except RuntimeError:  # a Response built without a request
        return False
    return "/webhooks" in path or "/api-keys" in path


def _is_health_probe(response: httpx.Response) -> bool:
    try:
        request = response.request
    except RuntimeError:  # a Response built without a request
        return False
    return request.method == "GET" and request.url.path.rstrip("/").endswith("/domains")
