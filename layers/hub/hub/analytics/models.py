"""What an analytics sink is given and answers, whatever the vendor (the AnalyticsSink port).

The forwarder (AnalyticsForward) maps a hub bus event to one :class:`AnalyticsEvent` per sink
the org configured, with only the properties the org's mapping allows; each adapter turns it
into its vendor's wire format (GA4 Measurement Protocol, PostHog capture, Mixpanel import) and
answers one :class:`SinkOutcome` per event. A whole request that failed for a reason worth
retrying (the vendor down, 429) raises the hub's error instead: the forwarder retries that
sink's events later, outside the function, and the other sinks are not held up.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

# Property values a sink is given: text, integers, booleans and Decimal (money and other exact
# numbers: never a float). Adapters convert to what their vendor's JSON takes.
PropertyValue = StrictStr | StrictBool | StrictInt | Decimal

MAX_PROPERTIES = 100
MAX_PROPERTY_NAME = 120
MAX_TEXT_VALUE = 1_000


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("occurred_at must carry a time zone")
    return value


class AnalyticsEvent(BaseModel):
    """One hub event as one sink sees it.

    ``event_id`` is the hub event's id (the bus event id): stable across redeliveries, so each
    adapter derives its vendor's dedupe key from it (PostHog ``uuid``, Mixpanel ``$insert_id``);
    GA4 has none, so the forwarder records what each sink accepted. ``distinct_id`` names the
    actor without PII (an org-scoped pseudonymous id, never a phone or email unless the org's
    mapping allows it)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: str = Field(min_length=1, max_length=128)
    name: str = Field(min_length=1, max_length=120)
    distinct_id: str = Field(min_length=1, max_length=200)
    occurred_at: Annotated[datetime, AfterValidator(_aware)]
    properties: dict[Annotated[str, Field(min_length=1, max_length=MAX_PROPERTY_NAME)], PropertyValue] = Field(
        default_factory=dict, max_length=MAX_PROPERTIES
    )


SinkStatus = Literal["sent", "rejected"]


class SinkOutcome(BaseModel):
    """What became of one event at one sink: ``sent`` (accepted, or already accepted before: a
    duplicate the vendor deduped) or ``rejected`` (the vendor or the adapter's own validation
    refused it for good, ``reason`` says why; never retried)."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    status: SinkStatus
    reason: str | None = Field(None, max_length=500)
