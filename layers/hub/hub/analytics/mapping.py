"""An org's analytics mapping: which hub bus events reach which of its sinks, under which name,
with which properties, and which personal data (if any) the org explicitly allows to leave.

Stored in ``AnalyticsTable`` (item ``mapping#{org_id}``), set and read with the
``AnalyticsMappingSet`` / ``AnalyticsMappingGet`` operations (docs/observability.md "Analytics
sinks"). Strict: unknown fields, names a vendor would refuse (GA4's are the strictest: a letter
first, letters, digits and ``_``, at most 40 characters, no reserved prefix) and PII allowances
that name no mapped property are refused before anything is stored.

A mapping forwards nothing it does not name: an event type without a rule is not sent, a
detail field without a property is not sent, and a mapped property holding personal data
(an email, a phone, a CPF/CNPJ, a person's name) is dropped unless ``allow_pii`` lists it
(hub.analytics.pii).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from hub import audit
from hub.aws import aws_client
from hub.config import get_settings
from hub.errors import ProviderUnavailableError
from hub.providers import ports
from hub.requests import OperationRequest, OrgId

# GA4 Measurement Protocol's limits are the strictest of the three sinks: event and parameter
# names of at most 40 alphanumeric characters or underscores starting with a letter, at most 25
# parameters per event, and names starting with google_, ga_ or firebase_ reserved
# (https://developers.google.com/analytics/devguides/collection/protocol/ga4/sending-events#limitations).
# One rule for every sink keeps a mapping valid whichever sinks the org adds later.
NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,39}$"
RESERVED_PREFIXES = ("google_", "ga_", "firebase_")
MAX_PROPERTIES_PER_EVENT = 25
MAX_RULES = 100
# A bus detail-type (payment.received, message.status, social.post.published, custom.lead.created).
EVENT_TYPE_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$"
# Where a value comes from in the bus event's detail: dotted member names (data.amount_cents).
SOURCE_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,5}$"
SINK_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"
DISTINCT_ID = "distinct_id"

Name = Annotated[str, StringConstraints(strict=True, pattern=NAME_PATTERN)]
Source = Annotated[str, StringConstraints(strict=True, pattern=SOURCE_PATTERN)]
SinkKey = Annotated[str, StringConstraints(strict=True, pattern=SINK_PATTERN)]
MatchValue = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=200)]


def _check_name(value: str, what: str) -> None:
    if value.lower().startswith(RESERVED_PREFIXES):
        raise ValueError(f"{what} {value!r} starts with a reserved prefix ({', '.join(RESERVED_PREFIXES)})")


class EventRule(BaseModel):
    """One hub event type (optionally only when detail fields hold given values) → one event.

    ``name`` is the event's name at every sink unless ``names`` gives a sink its own (GA4's
    recommended ``purchase``); ``sinks`` restricts the rule to some of the mapping's sinks
    (default: all). ``properties`` maps a property name to where its value is in the detail."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Annotated[str, StringConstraints(strict=True, pattern=EVENT_TYPE_PATTERN, max_length=120)]
    where: dict[Source, list[MatchValue]] = Field(default_factory=dict, max_length=5)
    name: Name
    names: dict[SinkKey, Name] = Field(default_factory=dict)
    sinks: list[SinkKey] | None = Field(None, min_length=1)
    properties: dict[Name, Source] = Field(default_factory=dict, max_length=MAX_PROPERTIES_PER_EVENT)

    @model_validator(mode="after")
    def _names(self) -> EventRule:
        _check_name(self.name, "name")
        for sink, name in self.names.items():
            _check_name(name, f"names.{sink}")
        for prop in self.properties:
            _check_name(prop, "property")
        for source, values in self.where.items():
            if not values:
                raise ValueError(f"where.{source}: list at least one value")
        return self

    def matches(self, event_type: str, detail: dict[str, Any]) -> bool:
        if event_type != self.type:
            return False
        for source, values in self.where.items():
            found = resolve(detail, source)
            # Compared as JSON writes them: true / 42 / "delivered" (a where value is text).
            text = found if isinstance(found, str) else json.dumps(found, default=str)
            if found is None or text not in values:
                return False
        return True

    def sinks_of(self, mapping_sinks: list[str]) -> list[str]:
        return [s for s in mapping_sinks if self.sinks is None or s in self.sinks]

    def name_for(self, sink: str) -> str:
        return self.names.get(sink, self.name)


class AnalyticsMapping(BaseModel):
    """What an org forwards. Empty ``events`` (the default for an org without a mapping)
    forwards nothing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sinks: list[SinkKey] = Field(default_factory=list, max_length=5)
    events: list[EventRule] = Field(default_factory=list, max_length=MAX_RULES)
    # The actor's id at the sinks: a detail field (e.g. data.customer_id); unset = the org.
    distinct_id: Source | None = None
    # Property names (or "distinct_id") whose personal data the org explicitly allows to leave.
    allow_pii: list[Name] = Field(default_factory=list, max_length=MAX_PROPERTIES_PER_EVENT)

    @model_validator(mode="after")
    def _consistent(self) -> AnalyticsMapping:
        if len(set(self.sinks)) != len(self.sinks):
            raise ValueError("sinks: listed twice")
        mapped = {DISTINCT_ID} if self.distinct_id else set()
        for i, rule in enumerate(self.events):
            for sink in [*(rule.sinks or []), *rule.names]:
                if sink not in self.sinks:
                    raise ValueError(f"events.{i}: sink {sink!r} is not one of the mapping's sinks")
            mapped |= set(rule.properties)
        unknown = sorted(set(self.allow_pii) - mapped)
        if unknown:
            raise ValueError(f"allow_pii: {', '.join(unknown)} is not a mapped property")
        return self

    def rule_for(self, event_type: str, detail: dict[str, Any]) -> EventRule | None:
        """The first rule matching the event (one bus event is one analytics event per sink)."""
        return next((r for r in self.events if r.matches(event_type, detail)), None)


def resolve(detail: dict[str, Any], source: str) -> Any:
    """The value at ``source`` (dotted) in ``detail``; None when any step is missing."""
    value: Any = detail
    for part in source.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


# ----- operations ------------------------------------------------------------------------------


class AnalyticsMappingSetRequest(OperationRequest):
    """AnalyticsMappingSet: ``{"org_id", "mapping": {...}, "updated_by"?}`` — replaces the org's mapping."""

    org_id: OrgId
    mapping: AnalyticsMapping
    updated_by: str | None = Field(None, min_length=1, max_length=200)


class AnalyticsMappingGetRequest(OperationRequest):
    """AnalyticsMappingGet: ``{"org_id"}``."""

    org_id: OrgId


class StoredMapping(BaseModel):
    org_id: str
    mapping: AnalyticsMapping
    updated_at: datetime | None = None
    updated_by: str | None = None


def _table() -> str:
    return get_settings().require("analytics_table")


def mapping_key(org_id: str) -> str:
    return f"mapping#{org_id}"


def _check_sinks(mapping: AnalyticsMapping) -> None:
    """Each sink must be a provider declaring the AnalyticsSink port (no credential read)."""
    for i, sink in enumerate(mapping.sinks):
        ports.adapter_class(ports.AnalyticsSink, sink, field=f"mapping.sinks.{i}")


def analytics_mapping_set(request: AnalyticsMappingSetRequest) -> StoredMapping:
    _check_sinks(request.mapping)
    now = datetime.now(UTC)
    item = {
        "pk": {"S": mapping_key(request.org_id)},
        "org_id": {"S": request.org_id},
        "mapping": {"S": request.mapping.model_dump_json()},
        "updated_at": {"S": now.isoformat()},
    }
    if request.updated_by:
        item["updated_by"] = {"S": request.updated_by}
    try:
        aws_client("dynamodb").put_item(TableName=_table(), Item=item)
    except (BotoCoreError, ClientError) as exc:
        raise ProviderUnavailableError("the analytics mapping could not be stored", provider="dynamodb") from exc
    # What leaves the hub for the org's vendors changed: on the audit trail (names, never values).
    audit.record(
        request.org_id,
        "analytics_mapping_set",
        actor=request.updated_by,
        details={
            "sinks": list(request.mapping.sinks),
            "event_types": sorted({rule.type for rule in request.mapping.events}),
            "allow_pii": list(request.mapping.allow_pii),
        },
    )
    return StoredMapping(org_id=request.org_id, mapping=request.mapping, updated_at=now, updated_by=request.updated_by)


def load_mapping(org_id: str) -> StoredMapping:
    """The org's mapping; an org without one forwards nothing (an empty mapping)."""
    try:
        item = (
            aws_client("dynamodb")
            .get_item(TableName=_table(), Key={"pk": {"S": mapping_key(org_id)}}, ConsistentRead=True)
            .get("Item")
        )
    except (BotoCoreError, ClientError) as exc:
        raise ProviderUnavailableError("the analytics mapping could not be read", provider="dynamodb") from exc
    if not item:
        return StoredMapping(org_id=org_id, mapping=AnalyticsMapping())
    return StoredMapping(
        org_id=org_id,
        mapping=AnalyticsMapping.model_validate_json(item["mapping"]["S"]),
        updated_at=datetime.fromisoformat(item["updated_at"]["S"]) if "updated_at" in item else None,
        updated_by=item.get("updated_by", {}).get("S"),
    )


def analytics_mapping_get(request: AnalyticsMappingGetRequest) -> StoredMapping:
    return load_mapping(request.org_id)
