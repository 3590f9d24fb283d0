"""Mixpanel's /import behind the hub's AnalyticsSink port.

The provider's API facts this module relies on, with their doc links: README.md. In short:

* ``POST /import?strict=1&project_id=N`` with HTTP Basic auth (service account username and
  secret), a JSON array of ``{event, properties: {time (ms), distinct_id, $insert_id, …}}``; at
  most 2000 events and 2 MB of uncompressed JSON a request.
* ``strict=1`` validates every event: a ``400`` with ``failed_records`` is a partial success
  (the other events were imported); each failed record becomes a ``rejected`` outcome.
* ``$insert_id`` is derived from the hub's ``event_id`` and ``time`` / ``distinct_id`` / ``event``
  from the same hub event: Mixpanel dedupes on those four, so a resend after a lost answer is the
  same event (``writes_have_effects = False``: retried, never an unknown outcome).
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Literal

import httpx
from pydantic import ConfigDict, Field, SecretStr

from hub.analytics.models import AnalyticsEvent, SinkOutcome
from hub.config import get_settings
from hub.errors import HubError, InvalidRequestError, ProviderUnavailableError
from hub.jsonmoney import dumps_json
from hub.providers.base.client import ProviderClient, ProviderCredentials

PROVIDER = "mixpanel"

# https://developer.mixpanel.com/reference/import-events ; data residency: EU
# (https://docs.mixpanel.com/docs/privacy/eu-residency) and India hosts.
INGESTION_HOSTS: dict[str, str] = {
    "us": "https://api.mixpanel.com",
    "eu": "https://api-eu.mixpanel.com",
    "in": "https://api-in.mixpanel.com",
}
# The application API (service accounts' ``/api/app/me``), per region
# (https://developer.mixpanel.com/reference/service-accounts; servers mixpanel / eu.mixpanel /
# in.mixpanel in docs.mixpanel.com/reference/list-project-service-accounts).
APP_HOSTS: dict[str, str] = {
    "us": "https://mixpanel.com",
    "eu": "https://eu.mixpanel.com",
    "in": "https://in.mixpanel.com",
}
IMPORT_PATH = "/import"
ME_PATH = "/api/app/me"

# https://developer.mixpanel.com/reference/import-events: "up to 2000 events and 2MB
# uncompressed per request" (newer pages say 10 MB: the hub keeps the stricter figure); each
# event smaller than 1 MB of uncompressed JSON.
MAX_EVENTS = 2000
MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_EVENT_BYTES = 1024 * 1024
# Same page: time may not be before 1971-01-01 nor more than an hour in the future.
EARLIEST = datetime(1971, 1, 1, tzinfo=UTC)
MAX_AHEAD = timedelta(hours=1)
# $insert_id: at most 36 characters of letters, digits and "-".
INSERT_ID = re.compile(r"^[A-Za-z0-9-]{1,36}$")
# https://docs.mixpanel.com/troubleshooting/errors/400-bad-request: placeholder distinct_ids
# Mixpanel refuses (compared case-insensitively).
INVALID_DISTINCT_IDS = frozenset(
    {"anon", "anonymous", "nil", "none", "null", "n/a", "undefined", "00000000-0000-0000-0000-000000000000"}
)
# Properties the adapter sets itself (an org property of the same name would be overwritten).
RESERVED_PROPERTIES = frozenset({"time", "distinct_id", "$insert_id", "token"})
# The namespace of the $insert_id UUIDv5s (fixed forever: changing it would defeat dedupe).
INSERT_ID_NAMESPACE = uuid.UUID("a3a1e0d6-2f3b-4c1e-8d0a-6c7b9e5f4d21")


class MixpanelCredentials(ProviderCredentials):
    """Secret ``hub/{org_id}/mixpanel``: a service account (Owner or Admin of the project, as
    /import requires) and the project it imports into."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    project_id: int = Field(ge=1)
    service_account_username: str = Field(min_length=1, max_length=255)
    service_account_secret: SecretStr = Field(min_length=6, max_length=255)
    # Data residency: ``eu`` (api-eu.mixpanel.com) or ``in`` (ignored when base_url is set).
    region: Literal["us", "eu", "in"] = "us"


def insert_id(event_id: str) -> str:
    """The ``$insert_id`` of a hub event: a UUIDv5 (36 characters of hex digits and "-"), the
    same for every send of it, so Mixpanel dedupes a resend."""
    return str(uuid.uuid5(INSERT_ID_NAMESPACE, event_id))


def epoch_millis(moment: datetime) -> int:
    """Milliseconds since the epoch, exactly (no float on the way)."""
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


class MixpanelClient(ProviderClient):
    provider: ClassVar[str] = PROVIDER
    credentials_model: ClassVar[type[ProviderCredentials]] = MixpanelCredentials
    # Deduped by $insert_id (with event, distinct_id and time): a resend is safe.
    writes_have_effects: ClassVar[bool] = False
    json_floats: ClassVar[bool] = False
    max_batch_events: ClassVar[int] = MAX_EVENTS
    max_batch_bytes: ClassVar[int] = MAX_BODY_BYTES

    credentials: MixpanelCredentials

    def __init__(
        self, credentials: ProviderCredentials, *, now: Callable[[], datetime] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(credentials, **kwargs)
        if credentials.base_url is None:
            self.base_url = INGESTION_HOSTS[self.credentials.region]
            self.app_url = APP_HOSTS[self.credentials.region]
        else:  # a sandbox or proxy serves both APIs
            self.app_url = self.base_url
        self._now = now or (lambda: datetime.now(UTC))

    def auth_headers(self) -> dict[str, str]:
        pair = (
            f"{self.credentials.service_account_username}:{self.credentials.service_account_secret.get_secret_value()}"
        )
        return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}

    def classify(self, response: httpx.Response) -> HubError | None:
        # strict=1's partial success: a 400 listing failed_records imported the other events.
        if response.status_code == 400 and _failed_records(response) is not None:
            return None
        return super().classify(response)

    # ----- the port -----------------------------------------------------------------------------

    def wire_event(self, event: AnalyticsEvent) -> dict[str, Any]:
        """One event of the /import array (properties as given: Decimal digit for digit)."""
        return {
            "event": event.name,
            "properties": {
                **event.properties,
                "time": epoch_millis(event.occurred_at),
                "distinct_id": event.distinct_id,
                "$insert_id": insert_id(event.event_id),
            },
        }

    def send_events(self, events: list[AnalyticsEvent]) -> list[SinkOutcome]:
        """Every event answered in order: ``rejected`` when Mixpanel refuses it (checked here
        first, or listed in strict mode's ``failed_records``), else ``sent`` (imported, or a
        duplicate Mixpanel dedupes). 401/403 a wrong account; 413/400 without records the
        caller's batch; 429/5xx raise to be retried later."""
        if len(events) > MAX_EVENTS:
            raise InvalidRequestError(
                f"events: mixpanel takes at most {MAX_EVENTS} events a request, got {len(events)}",
                provider=self.provider,
                code="batch_too_large",
            )
        if len({event.event_id for event in events}) != len(events):
            raise InvalidRequestError("events: an event_id appears twice", provider=self.provider, code="duplicate_id")
        now = self._now()
        reasons: dict[str, str] = {}
        sent: list[tuple[AnalyticsEvent, dict[str, Any]]] = []
        for event in events:
            item = self.wire_event(event)
            problem = mixpanel_problem(event, len(dumps_json(item)), now)
            if problem is not None:
                reasons[event.event_id] = problem
            else:
                sent.append((event, item))
        if sent:
            body = [item for _, item in sent]
            size = len(dumps_json(body))
            if size > MAX_BODY_BYTES:
                raise InvalidRequestError(
                    f"events: {size} bytes of JSON; mixpanel takes at most {MAX_BODY_BYTES} a request",
                    provider=self.provider,
                    code="batch_too_large",
                )
            response = self.request(
                "POST",
                IMPORT_PATH,
                params={"strict": "1", "project_id": str(self.credentials.project_id)},
                json=body,
                effect=False,  # a resend is the same event, deduped: retried like a read
                operation="send_events",
            )
            for index, message in self._failures(response, sent).items():
                reasons[sent[index][0].event_id] = message
        return [
            SinkOutcome(event_id=e.event_id, status="rejected", reason=reasons[e.event_id][:500])
            if e.event_id in reasons
            else SinkOutcome(event_id=e.event_id, status="sent")
            for e in events
        ]

    def _failures(self, response: httpx.Response, sent: list[tuple[AnalyticsEvent, dict[str, Any]]]) -> dict[int, str]:
        """Position in ``sent`` → Mixpanel's reason, from strict mode's ``failed_records``."""
        records = _failed_records(response)
        if not records:
            return {}
        by_insert_id = {item["properties"]["$insert_id"]: index for index, (_, item) in enumerate(sent)}
        failures: dict[int, str] = {}
        for record in records:
            index = by_insert_id.get(record.get("$insert_id") or record.get("insert_id"))
            if index is None and isinstance(record.get("index"), int) and 0 <= record["index"] < len(sent):
                index = record["index"]
            if index is None:
                raise ProviderUnavailableError(
                    "mixpanel listed a failed record that is not in the request",
                    provider=self.provider,
                    http_status=response.status_code,
                    request_id=self.request_id_of(response),
                )
            field, message = record.get("field"), record.get("message")
            failures[index] = f"mixpanel refused {field or 'the event'}: {message or 'invalid'}"
        return failures

    def health_check(self) -> None:
        """``GET /api/app/me`` with the service account: 401 when Mixpanel does not know it.
        Imports nothing."""
        self.request("GET", f"{self.app_url}{ME_PATH}", timeout=get_settings().health_check_timeout, operation="health")


def _failed_records(response: httpx.Response) -> list[dict[str, Any]] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    records = body.get("failed_records") if isinstance(body, dict) else None
    if not isinstance(records, list):
        return None
    return [record for record in records if isinstance(record, dict)]


def mixpanel_problem(event: AnalyticsEvent, size: int, now: datetime) -> str | None:
    """Why Mixpanel would refuse ``event`` (``size``: its JSON in bytes), or None."""
    reserved = RESERVED_PROPERTIES.intersection(event.properties)
    if reserved:
        return f"property {sorted(reserved)[0]!r} is set by the hub for mixpanel"
    if event.distinct_id.strip().lower() in INVALID_DISTINCT_IDS:
        return f"distinct_id {event.distinct_id!r} is a placeholder mixpanel refuses"
    if event.occurred_at < EARLIEST:
        return "occurred_at: mixpanel refuses events before 1971-01-01"
    if event.occurred_at > now + MAX_AHEAD:
        return "occurred_at: mixpanel refuses events more than an hour in the future"
    if size >= MAX_EVENT_BYTES:
        return f"{size} bytes: mixpanel takes events under 1 MB"
    return None
