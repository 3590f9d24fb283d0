"""PostHog's public capture API behind the hub's AnalyticsSink port (synchronous httpx, no SDK:
the SDK batches in a background thread a Lambda would freeze).

The provider's API facts this module relies on, with their doc links: README.md. In short:

* ``POST {host}/batch/`` with ``{"api_key", "batch": [{event, distinct_id, properties, timestamp,
  uuid}]}``; the project API key travels in the body (never logged, scrubbed from errors).
* Each event's ``uuid`` is derived from the hub's ``event_id`` (UUIDv5), and its ``timestamp``,
  ``event`` and ``distinct_id`` come from the same hub event: a resend is the very same event,
  which PostHog dedupes. So a send whose answer was lost is safely sent again: not an effect
  worth an unknown-outcome lock (``writes_have_effects = False``).
"""

from __future__ import annotations

import uuid
from datetime import UTC
from typing import Any, ClassVar, Literal

import httpx
from pydantic import ConfigDict, Field, SecretStr

from hub.analytics.models import AnalyticsEvent, SinkOutcome
from hub.config import get_settings
from hub.errors import InvalidRequestError
from hub.jsonmoney import dumps_json
from hub.providers.base.client import ProviderClient, ProviderCredentials

PROVIDER = "posthog"

# https://posthog.com/docs/api/capture: "https://us.i.posthog.com for US Cloud,
# https://eu.i.posthog.com for EU Cloud, and your self-hosted domain for self-hosted instances".
HOSTS: dict[str, str] = {"us": "https://us.i.posthog.com", "eu": "https://eu.i.posthog.com"}
BATCH_PATH = "/batch/"
FLAGS_PATH = "/flags/"
# The /batch/ endpoint accepts requests up to 20 MB (PostHog's maintainers in
# https://github.com/PostHog/posthog-php/pull/110; the Python SDK stays at 5 MB a batch).
MAX_BATCH_BYTES = 20 * 1024 * 1024
# https://posthog.com/docs/data/ingestion-warnings: "Discarded event exceeding 1MB limit".
MAX_EVENT_BYTES = 1024 * 1024
# PostHog documents no count limit; a thousand events keeps one request well inside the
# function's time and far under the byte limit for the hub's small events.
MAX_BATCH_EVENTS = 1000
# The namespace of the events' UUIDv5s (fixed forever: changing it would defeat dedupe).
UUID_NAMESPACE = uuid.UUID("5d0c3e0e-6f55-4c44-9a52-3f1f6a1b7e21")


class PostHogCredentials(ProviderCredentials):
    """Secret ``hub/{org_id}/posthog``: the project API key (``phc_…``, write-only: it can
    capture events and evaluate flags, never read data)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    api_key: SecretStr = Field(min_length=8, max_length=200)
    # ``eu``: EU Cloud (ignored when base_url is set: a self-hosted instance).
    region: Literal["us", "eu"] = "us"


def event_uuid(event_id: str) -> str:
    """The PostHog ``uuid`` of a hub event: the same for every send of it (PostHog dedupes)."""
    return str(uuid.uuid5(UUID_NAMESPACE, event_id))


class PostHogClient(ProviderClient):
    provider: ClassVar[str] = PROVIDER
    credentials_model: ClassVar[type[ProviderCredentials]] = PostHogCredentials
    # A resend is deduped by PostHog (same uuid, event, distinct_id and timestamp): a lost answer
    # is retried like a read, never an unknown outcome.
    writes_have_effects: ClassVar[bool] = False
    json_floats: ClassVar[bool] = False
    max_batch_events: ClassVar[int] = MAX_BATCH_EVENTS
    max_batch_bytes: ClassVar[int] = MAX_BATCH_BYTES

    credentials: PostHogCredentials

    def __init__(self, credentials: ProviderCredentials, **kwargs: Any) -> None:
        super().__init__(credentials, **kwargs)
        if credentials.base_url is None:
            self.base_url = HOSTS[self.credentials.region]

    def auth_headers(self) -> dict[str, str]:
        return {}  # the project API key is a body field (``api_key``)

    # https://posthog.com/docs/api/capture: errors are {"type", "code", "detail", "attr"}.
    def error_details(self, response: httpx.Response) -> tuple[str, str | None]:
        try:
            body = response.json()
        except ValueError:
            return super().error_details(response)
        if isinstance(body, dict) and isinstance(body.get("detail"), str):
            code = body.get("code")
            return (body["detail"][:300], str(code) if code else None)
        return super().error_details(response)

    def wire_event(self, event: AnalyticsEvent) -> dict[str, Any]:
        """One ``batch[]`` item (properties as given: Decimal written digit for digit)."""
        return {
            "event": event.name,
            "distinct_id": event.distinct_id,
            "properties": dict(event.properties),
            "timestamp": event.occurred_at.astimezone(UTC).isoformat(),
            "uuid": event_uuid(event.event_id),
        }

    def send_events(self, events: list[AnalyticsEvent]) -> list[SinkOutcome]:
        """Every event answered in order: ``rejected`` when PostHog would discard it (over 1 MB),
        else ``sent`` in one ``/batch/`` request. A 4xx of the whole request is the caller's or the
        hub's bug (InvalidRequestError); 401 a wrong key; 429/5xx raise to be retried later."""
        if len(events) > MAX_BATCH_EVENTS:
            raise InvalidRequestError(
                f"events: posthog takes at most {MAX_BATCH_EVENTS} events a request here, got {len(events)}",
                provider=self.provider,
                code="batch_too_large",
            )
        if len({event.event_id for event in events}) != len(events):
            raise InvalidRequestError("events: an event_id appears twice", provider=self.provider, code="duplicate_id")
        outcomes: list[SinkOutcome] = []
        batch: list[dict[str, Any]] = []
        for event in events:
            item = self.wire_event(event)
            size = len(dumps_json(item))
            if size > MAX_EVENT_BYTES:
                reason = f"{size} bytes: PostHog discards events over 1 MB"
                outcomes.append(SinkOutcome(event_id=event.event_id, status="rejected", reason=reason))
            else:
                batch.append(item)
                outcomes.append(SinkOutcome(event_id=event.event_id, status="sent"))
        if not batch:
            return outcomes
        body = {"api_key": self.credentials.api_key.get_secret_value(), "batch": batch}
        if len(dumps_json(body)) > MAX_BATCH_BYTES:
            raise InvalidRequestError(
                f"events: the request would exceed PostHog's {MAX_BATCH_BYTES} bytes",
                provider=self.provider,
                code="batch_too_large",
            )
        self.request("POST", BATCH_PATH, json=body, effect=False, operation="send_events")
        return outcomes

    def health_check(self) -> None:
        """``POST /flags/?v=2`` with the project key: 401 when PostHog does not know the key.
        Captures nothing (capture itself cannot be probed without recording an event)."""
        self.request(
            "POST",
            FLAGS_PATH,
            params={"v": "2"},
            json={"api_key": self.credentials.api_key.get_secret_value(), "distinct_id": "hub-health-check"},
            effect=False,
            timeout=get_settings().health_check_timeout,
            operation="health",
        )
