"""What a webhook receiver works on: the request exactly as it arrived."""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from hub.errors import WebhookAuthenticationError
from hub.events import HubEvent

__all__ = ["SECRET_HEADERS", "RawWebhook", "WebhookAuthenticationError", "WebhookSpec"]

# Headers that carry credentials; never archived, logged or forwarded.
SECRET_HEADERS = frozenset(
    {"authorization", "apikey", "x-api-key", "cookie", "asaas-access-token", "proxy-authorization"}
    # Google Calendar push: the channel's token (hub.calendar.webhook).
    | {"x-goog-channel-token"}
)


@dataclass(frozen=True)
class RawWebhook:
    provider: str
    org_id: str
    method: str
    path: str
    headers: Mapping[str, str]  # lower-cased names
    query: Mapping[str, str]  # one value per name (the last, as API Gateway's queryStringParameters)
    body: bytes  # exactly as received: signatures are computed over these bytes
    received_at: datetime
    source_ip: str | None = None
    # Path parameters other than org_id (e.g. ``source`` of /webhooks/custom/{source}/{org_id}).
    route_params: Mapping[str, str] = field(default_factory=dict)
    # The URL the provider called, as well as it can be rebuilt behind API Gateway (scheme
    # from X-Forwarded-Proto, Host, the stage-prefixed path, the query). Providers that sign
    # the URL (Twilio) prefer a configured public base URL: see hub.providers.twilio.client.
    url: str = ""
    # Every (name, value) of the query string in the order received: API Gateway's REST
    # events give the decoded values (multiValueQueryStringParameters), not the raw string.
    query_pairs: tuple[tuple[str, str], ...] = ()
    # The query string byte for byte, when the event carries it (payload 2.0's
    # ``rawQueryString``); None when only decoded parameters are known.
    raw_query: str | None = None

    @classmethod
    def from_api_gateway(
        cls,
        event: Mapping[str, Any],
        *,
        provider: str,
        org_id: str,
        received_at: datetime,
        route_params: Mapping[str, str] | None = None,
    ) -> RawWebhook:
        raw_body = event.get("body") or ""
        if event.get("isBase64Encoded"):
            body = base64.b64decode(raw_body)
        else:
            body = raw_body.encode("utf-8")
        headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
        query = {str(k): str(v) for k, v in (event.get("queryStringParameters") or {}).items()}
        multi = event.get("multiValueQueryStringParameters") or {}
        if multi:
            pairs = tuple((str(k), str(v)) for k, values in multi.items() for v in (values or []))
        else:
            pairs = tuple(query.items())
        raw_query = event.get("rawQueryString")
        raw_query = str(raw_query) if raw_query is not None else None
        context = event.get("requestContext") or {}
        identity = context.get("identity") or {}
        scheme = headers.get("x-forwarded-proto", "https").split(",")[0].strip() or "https"
        host = headers.get("host", "")
        full_path = str(context.get("path") or event.get("path", ""))
        url = f"{scheme}://{host}{full_path}" if host else full_path
        query_string = raw_query if raw_query is not None else urlencode(pairs)
        if query_string:
            url += "?" + query_string
        return cls(
            provider=provider,
            org_id=org_id,
            method=str(event.get("httpMethod", "POST")),
            path=str(event.get("path", "")),
            headers=headers,
            query=query,
            body=body,
            received_at=received_at,
            source_ip=identity.get("sourceIp"),
            route_params=dict(route_params or {}),
            url=url,
            query_pairs=pairs,
            raw_query=raw_query,
        )

    def all_query_pairs(self) -> list[tuple[str, str]]:
        """Every query parameter as received (falls back to ``query`` for requests built
        without the multi-value view)."""
        return list(self.query_pairs) if self.query_pairs else list(self.query.items())

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def archivable_headers(self) -> dict[str, str]:
        return {k: v for k, v in self.headers.items() if k not in SECRET_HEADERS}


Verifier = Callable[[RawWebhook, dict[str, Any]], None]
"""verify(request, org_secret) -> None; raises WebhookAuthenticationError."""

Normaliser = Callable[..., list[HubEvent]]
"""normalise(payload, *, org_id, received_at, raw_ref, request) -> events (may be empty).
Raises pydantic.ValidationError or InvalidRequestError for a malformed payload."""


@dataclass(frozen=True)
class WebhookSpec:
    """How one provider's webhooks are authenticated and normalised."""

    provider: str
    verify: Verifier
    normalise: Normaliser
    # How long a delivery id is remembered: at least the provider's retry window.
    dedupe_ttl_seconds: int = 7 * 24 * 3600
    # The secret's provider name when it differs from the route's (custom senders share one).
    secret_provider: str | None = None
    # GET subscription check (Meta): challenge(query, secret) -> text to echo.
    challenge: Callable[[Mapping[str, str], dict[str, Any]], str] | None = None
    # API route under /webhooks/: "{provider}/{org_id}" unless the provider needs more.
    route: str = ""
    # How the body is parsed once authenticated (default JSON with Decimal numbers); Twilio
    # posts form-encoded bodies.
    parse_body: Callable[[bytes], Any] | None = None
    # The answer's content type and body on success when the provider expects something
    # other than our JSON (Twilio expects TwiML).
    success_content_type: str | None = None
    success_body: str | None = None
    # Members of the JSON body that carry credentials (at any depth): their values are
    # replaced by "[redacted]" in the raw archive (hub.webhooks.archive).
    archive_redact: tuple[str, ...] = ()

    @property
    def api_path(self) -> str:
        """The API Gateway path (Powertools style, ``<param>``) of this provider's receiver."""
        return "/webhooks/" + (self.route or f"{self.provider}/<org_id>")
