"""GA4 Measurement Protocol behind the hub's AnalyticsSink port.

The provider's API facts this module relies on, with their doc links: README.md. In short:

* ``POST /mp/collect?measurement_id=G-…&api_secret=…`` with ``{client_id, user_id?, events:
  [{name, params, timestamp_micros}]}``; at most 25 events a request, a body under 130 kB.
* The production endpoint answers 2xx to anything it received, valid or not, and silently drops
  what breaks its rules: the adapter checks every rule it can before sending and answers such an
  event ``rejected`` with the reason, never sent. ``validate_events`` asks Google's validation
  server (``/debug/mp/collect``) instead, for tests and diagnostics.
* ``api_secret`` travels in the query string: the base logs paths only, and every error is
  scrubbed of the credentials' secret values (``ProviderClient.scrub``).
* GA4 keeps no dedupe key: a send whose answer was lost is an unknown outcome, never resent
  (``writes_have_effects``, ``attempts=1``). The forwarder records what each send accepted, so
  the adapter delivers each event id at most once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar, Literal

from pydantic import ConfigDict, Field, SecretStr

from hub.analytics.models import AnalyticsEvent, PropertyValue, SinkOutcome
from hub.config import get_settings
from hub.errors import HubError, InvalidRequestError
from hub.jsonmoney import dumps_json
from hub.providers.base.client import ProviderClient, ProviderCredentials

PROVIDER = "ga4"

# https://developers.google.com/analytics/devguides/collection/protocol/ga4/reference (the
# regional EU collection endpoint: data collected in the EU, https://region1.google-analytics.com).
HOSTS: dict[str, str] = {"global": "https://www.google-analytics.com", "eu": "https://region1.google-analytics.com"}
COLLECT_PATH = "/mp/collect"
DEBUG_PATH = "/debug/mp/collect"

# https://developers.google.com/analytics/devguides/collection/protocol/ga4/sending-events#limitations
MAX_EVENTS = 25  # "Requests can have a maximum of 25 events."
MAX_PARAMS = 25  # "Events can have a maximum of 25 parameters."
MAX_NAME = 40  # event and parameter names: 40 characters, alphanumerics and _, a letter first
MAX_VALUE = 100  # "Parameter values … must be 100 characters or fewer" (standard properties)
MAX_BODY_BYTES = 130_000  # "The post body must be smaller than 130kB."
# Same page, "Timestamps": events can be backdated up to 72 hours; older ones are not reported.
MAX_AGE = timedelta(hours=72)
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
# https://support.google.com/analytics/answer/13316687 (Event naming rules, web streams): names
# GA4 reserves for its own events, and prefixes reserved for event and parameter names.
RESERVED_EVENT_NAMES = frozenset(
    {
        "ad_activeview",
        "ad_click",
        "ad_exposure",
        "ad_impression",
        "ad_query",
        "ad_reward",
        "adunit_exposure",
        "app_clear_data",
        "app_exception",
        "app_install",
        "app_remove",
        "app_store_refund",
        "app_store_subscription_cancel",
        "app_store_subscription_convert",
        "app_store_subscription_renew",
        "app_update",
        "app_upgrade",
        "click",
        "dynamic_link_app_open",
        "dynamic_link_app_update",
        "dynamic_link_first_open",
        "error",
        "file_download",
        "firebase_campaign",
        "firebase_in_app_message_action",
        "firebase_in_app_message_dismiss",
        "firebase_in_app_message_impression",
        "first_open",
        "first_visit",
        "form_start",
        "form_submit",
        "in_app_purchase",
        "notification_dismiss",
        "notification_foreground",
        "notification_open",
        "notification_receive",
        "os_update",
        "page_view",
        "screen_view",
        "scroll",
        "session_start",
        "user_engagement",
        "video_complete",
        "video_progress",
        "video_start",
        "view_search_results",
    }
)
RESERVED_PREFIXES = ("_", "firebase_", "ga_", "google_", "gtag.")
# A JSON number GA4 stores as a double keeps at most 15 significant decimal digits exactly; a
# longer Decimal (or an integer beyond 2**53) would be rounded by Google, so it is refused.
MAX_SIGNIFICANT_DIGITS = 15
MAX_EXACT_INT = 2**53


class Ga4Credentials(ProviderCredentials):
    """Secret ``hub/{org_id}/ga4``: the web data stream's measurement id and a Measurement
    Protocol API secret (Admin > Data streams > the stream > Measurement Protocol API secrets)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    measurement_id: str = Field(pattern=r"^G-[A-Z0-9]{4,20}$")
    api_secret: SecretStr = Field(min_length=6, max_length=200)
    # ``eu``: collect through region1.google-analytics.com (ignored when base_url is set).
    region: Literal["global", "eu"] = "global"
    # The org's distinct ids are its own user ids (cross-device reporting): also sent as user_id.
    distinct_id_is_user_id: bool = False


@dataclass(frozen=True)
class ValidationMessage:
    """One answer of GA4's validation server (``validationMessages[]``)."""

    field_path: str
    description: str
    validation_code: str


class Ga4Client(ProviderClient):
    provider: ClassVar[str] = PROVIDER
    credentials_model: ClassVar[type[ProviderCredentials]] = Ga4Credentials
    # GA4 cannot dedupe: a send whose answer was lost may have been recorded (never resent).
    writes_have_effects: ClassVar[bool] = True
    # Numbers in GA4 bodies are Decimal or int (money included), never float.
    json_floats: ClassVar[bool] = False
    max_batch_events: ClassVar[int] = MAX_EVENTS
    max_batch_bytes: ClassVar[int] = MAX_BODY_BYTES

    credentials: Ga4Credentials

    def __init__(
        self, credentials: ProviderCredentials, *, now: Callable[[], datetime] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(credentials, **kwargs)
        if credentials.base_url is None:
            self.base_url = HOSTS[self.credentials.region]
        self._now = now or (lambda: datetime.now(UTC))

    def auth_headers(self) -> dict[str, str]:
        return {}  # the api_secret is a query parameter (see _params)

    def _params(self) -> dict[str, str]:
        return {
            "measurement_id": self.credentials.measurement_id,
            "api_secret": self.credentials.api_secret.get_secret_value(),
        }

    # ----- the port -----------------------------------------------------------------------------

    def send_events(self, events: list[AnalyticsEvent]) -> list[SinkOutcome]:
        """Every event answered in order: ``rejected`` (with the GA4 rule it breaks: never sent)
        or ``sent``. Valid events go one request per ``distinct_id`` (GA4's ``client_id`` is per
        request). A request that fails raises; events of requests answered before it are listed
        in the error's ``details["sent_event_ids"]`` (sent, and GA4 cannot dedupe a resend)."""
        self._check_batch(events)
        now = self._now()
        outcomes: dict[str, SinkOutcome] = {}
        groups: dict[str, list[AnalyticsEvent]] = {}
        for event in events:
            problem = ga4_problem(event, now)
            if problem is not None:
                outcomes[event.event_id] = SinkOutcome(event_id=event.event_id, status="rejected", reason=problem)
            else:
                groups.setdefault(event.distinct_id, []).append(event)
        bodies = [(group, self.payload(distinct_id, group)) for distinct_id, group in groups.items()]
        for _, body in bodies:  # all checked before the first is sent
            self._check_size(body)
        sent: list[str] = []
        for group, body in bodies:
            try:
                self.request(
                    "POST",
                    COLLECT_PATH,
                    params=self._params(),
                    json=body,
                    effect=True,  # recorded or not, GA4 will not say: a lost answer is unknown
                    attempts=1,  # and never sent twice
                    operation="send_events",
                )
            except HubError as exc:
                if sent:
                    exc.details["sent_event_ids"] = list(sent)
                raise
            for event in group:
                sent.append(event.event_id)
                outcomes[event.event_id] = SinkOutcome(event_id=event.event_id, status="sent")
        return [outcomes[event.event_id] for event in events]

    def validate_events(self, events: list[AnalyticsEvent]) -> list[ValidationMessage]:
        """What GA4's validation server says of these events as :meth:`send_events` would send
        them, without the local checks (``/debug/mp/collect``: nothing is recorded). Empty: valid."""
        self._check_batch(events)
        groups: dict[str, list[AnalyticsEvent]] = {}
        for event in events:
            groups.setdefault(event.distinct_id, []).append(event)
        bodies = [self.payload(distinct_id, group) for distinct_id, group in groups.items()]
        for body in bodies:
            self._check_size(body)
        messages: list[ValidationMessage] = []
        for body in bodies:
            messages.extend(self._validate(body))
        return messages

    def health_check(self) -> None:
        """A one-event body at the validation server: GA4 is reachable and takes the stream's
        payloads. Google's validation server does not check ``api_secret``, and /mp/collect
        answers 2xx to any secret: a wrong secret cannot be detected by any call (README.md)."""
        body = {"client_id": "hub.health", "events": [{"name": "hub_health_check", "params": {}}]}
        messages = self._validate(body, timeout=get_settings().health_check_timeout)
        if messages:  # GA4 answered (200) and refused what these credentials sent: refused, not down
            raise InvalidRequestError(
                f"ga4 refused the health check payload: {messages[0].description[:200]}",
                provider=self.provider,
                http_status=200,
                code=messages[0].validation_code,
            )

    # ----- the wire format ----------------------------------------------------------------------

    def payload(self, distinct_id: str, events: list[AnalyticsEvent]) -> dict[str, Any]:
        """The Measurement Protocol body of ``events`` (all of ``distinct_id``)."""
        body: dict[str, Any] = {"client_id": distinct_id}
        if self.credentials.distinct_id_is_user_id:
            body["user_id"] = distinct_id
        body["events"] = [
            {
                "name": event.name,
                "params": {name: ga4_value(value) for name, value in event.properties.items()},
                "timestamp_micros": timestamp_micros(event.occurred_at),
            }
            for event in events
        ]
        return body

    def _validate(self, body: dict[str, Any], *, timeout: float | None = None) -> list[ValidationMessage]:
        response = self.request(
            "POST",
            DEBUG_PATH,
            params=self._params(),
            json=body,
            effect=False,  # the validation server records nothing
            timeout=timeout,
            operation="validate_events",
        )
        answer = self.json_object(response)
        found = answer.get("validationMessages")
        if not isinstance(found, list):
            return []
        return [
            ValidationMessage(
                field_path=str(item.get("fieldPath", "")),
                description=str(item.get("description", "")),
                validation_code=str(item.get("validationCode", "")),
            )
            for item in found
            if isinstance(item, dict)
        ]

    def _check_batch(self, events: list[AnalyticsEvent]) -> None:
        if len(events) > MAX_EVENTS:
            raise InvalidRequestError(
                f"events: ga4 takes at most {MAX_EVENTS} events a request, got {len(events)}",
                provider=self.provider,
                code="batch_too_large",
            )
        ids = [event.event_id for event in events]
        if len(set(ids)) != len(ids):
            raise InvalidRequestError("events: an event_id appears twice", provider=self.provider, code="duplicate_id")

    def _check_size(self, payload: dict[str, Any]) -> None:
        body = dumps_json(payload)
        if len(body) >= MAX_BODY_BYTES:
            raise InvalidRequestError(
                f"events: the body would be {len(body)} bytes; ga4 takes under {MAX_BODY_BYTES}",
                provider=self.provider,
                code="batch_too_large",
            )


# ----- GA4's rules, checked before anything is sent ----------------------------------------------


def timestamp_micros(moment: datetime) -> int:
    """Microseconds since the epoch, exactly (no float on the way)."""
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def ga4_value(value: PropertyValue) -> str | int | Decimal:
    """A property as GA4 takes a parameter: text, or a number (Decimal written digit for digit);
    a boolean as the text ``true`` / ``false`` (parameters are strings or numbers)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _name_problem(kind: str, name: str) -> str | None:
    if len(name) > MAX_NAME:
        return f"{kind} {name[:MAX_NAME]}…: longer than {MAX_NAME} characters"
    if not NAME.match(name):
        return f"{kind} {name!r}: only letters, digits and _, starting with a letter"
    if name.startswith(RESERVED_PREFIXES):
        return f"{kind} {name!r}: the prefixes {', '.join(RESERVED_PREFIXES)} are reserved by Google"
    return None


def _value_problem(name: str, value: PropertyValue) -> str | None:
    if isinstance(value, str):
        if len(value) > MAX_VALUE:
            return f"parameter {name!r}: its value is longer than {MAX_VALUE} characters"
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        if abs(value) > MAX_EXACT_INT:
            return f"parameter {name!r}: integers beyond 2**53 would be rounded by GA4"
        return None
    if not value.is_finite():
        return f"parameter {name!r}: not a finite number"
    if len(value.as_tuple().digits) > MAX_SIGNIFICANT_DIGITS:
        return f"parameter {name!r}: more than {MAX_SIGNIFICANT_DIGITS} significant digits would be rounded by GA4"
    return None


def ga4_problem(event: AnalyticsEvent, now: datetime) -> str | None:
    """Why GA4 would drop ``event`` (the first rule it breaks), or None when it is valid."""
    problem = _name_problem("event name", event.name)
    if problem is not None:
        return problem
    if event.name in RESERVED_EVENT_NAMES:
        return f"event name {event.name!r} is reserved by Google"
    if len(event.properties) > MAX_PARAMS:
        return f"{len(event.properties)} parameters: ga4 takes at most {MAX_PARAMS} an event"
    for name, value in event.properties.items():
        problem = _name_problem("parameter", name) or _value_problem(name, value)
        if problem is not None:
            return problem
    if now - event.occurred_at > MAX_AGE:
        return "occurred_at: more than 72 hours ago (GA4 does not report events backdated further)"
    return None
