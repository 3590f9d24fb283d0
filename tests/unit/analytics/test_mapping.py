"""The per-org analytics mapping: strict, refused naming the field before anything is stored."""

from __future__ import annotations

from typing import Any

import pytest

from hub.analytics import mapping as analytics_mapping
from hub.analytics.mapping import AnalyticsMappingSetRequest, analytics_mapping_set
from hub.config import get_settings
from hub.errors import InvalidRequestError
from hub.invocation import parse_request


def payload(**mapping: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "sinks": ["posthog", "ga4"],
        "events": [
            {
                "type": "payment.received",
                "name": "payment_received",
                "names": {"ga4": "purchase"},
                "properties": {"value_cents": "data.amount_cents", "method": "data.method"},
            }
        ],
    }
    base.update(mapping)
    return {"org_id": "acme", "mapping": base}


def refused(body: dict[str, Any]) -> str:
    with pytest.raises(InvalidRequestError) as caught:
        parse_request(AnalyticsMappingSetRequest, body)
    return caught.value.message


def test_a_valid_mapping_names_each_sinks_event_and_its_properties() -> None:
    request = parse_request(AnalyticsMappingSetRequest, payload())

    rule = request.mapping.events[0]
    assert rule.name_for("ga4") == "purchase" and rule.name_for("posthog") == "payment_received"
    assert rule.sinks_of(request.mapping.sinks) == ["posthog", "ga4"]
    assert request.mapping.allow_pii == []  # default: no personal data leaves


def test_an_org_without_rules_forwards_nothing() -> None:
    request = parse_request(AnalyticsMappingSetRequest, {"org_id": "acme", "mapping": {}})

    assert request.mapping.rule_for("payment.received", {"org_id": "acme"}) is None


@pytest.mark.parametrize(
    ("events", "field"),
    [
        ([{"type": "payment.received", "name": "1st_payment"}], "mapping.events.0.name"),
        ([{"type": "payment.received", "name": "a" * 41}], "mapping.events.0.name"),
        ([{"type": "payment.received", "name": "pagamento-recebido"}], "mapping.events.0.name"),
        ([{"type": "payment.received", "name": "ga_payment"}], "reserved prefix"),
        ([{"type": "payment.received", "name": "ok", "properties": {"google_value": "data.x"}}], "reserved prefix"),
        ([{"type": "Payment Received", "name": "ok"}], "mapping.events.0.type"),
        ([{"type": "payment.received", "name": "ok", "properties": {"v": "data..x"}}], "mapping.events.0.properties"),
        ([{"type": "payment.received", "name": "ok", "colour": "red"}], "mapping.events.0.colour"),
        ([{"type": "payment.received", "name": "ok", "sinks": ["mixpanel"]}], "mixpanel"),
        ([{"type": "payment.received", "name": "ok", "where": {"data.status": []}}], "where.data.status"),
    ],
)
def test_names_a_sink_would_refuse_are_refused_naming_the_field(events: list[dict[str, Any]], field: str) -> None:
    assert field in refused(payload(events=events))


def test_more_properties_than_ga4_takes_are_refused() -> None:
    properties = {f"p{i}": f"data.f{i}" for i in range(26)}

    rule = {"type": "a.b", "name": "x", "properties": properties}

    assert "mapping.events.0.properties" in refused(payload(events=[rule]))


def test_pii_may_only_be_allowed_for_a_mapped_property() -> None:
    assert "allow_pii: email is not a mapped property" in refused(payload(allow_pii=["email"]))

    allowed = parse_request(
        AnalyticsMappingSetRequest,
        payload(
            events=[{"type": "message.status", "name": "message_read", "properties": {"to": "data.recipient"}}],
            allow_pii=["to"],
        ),
    )
    assert allowed.mapping.allow_pii == ["to"]


def test_a_sink_listed_twice_is_refused() -> None:
    assert "sinks: listed twice" in refused(payload(sinks=["posthog", "posthog"]))


def test_a_sink_that_is_not_an_analytics_provider_is_refused_before_anything_is_stored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a mapping whose sink is a search engine
    request = parse_request(AnalyticsMappingSetRequest, payload(sinks=["serper"], events=[]))
    writes: list[Any] = []
    monkeypatch.setattr(analytics_mapping, "aws_client", lambda service: writes.append(service))

    # When it is stored, Then it is refused naming the field, and nothing was written
    with pytest.raises(InvalidRequestError) as caught:
        analytics_mapping_set(request)
    assert "mapping.sinks.0" in caught.value.message and caught.value.code == "capability_unsupported"
    assert writes == []


def test_where_selects_the_rule_by_detail_values() -> None:
    request = parse_request(
        AnalyticsMappingSetRequest,
        payload(
            events=[
                {"type": "message.status", "where": {"data.status": ["delivered"]}, "name": "message_delivered"},
                {"type": "message.status", "where": {"data.status": ["read"]}, "name": "message_read"},
            ]
        ),
    )

    def rule(status: str) -> str | None:
        found = request.mapping.rule_for("message.status", {"data": {"status": status}})
        return found.name if found else None

    assert (rule("delivered"), rule("read"), rule("failed")) == ("message_delivered", "message_read", None)


def test_where_compares_booleans_and_numbers_as_json_writes_them() -> None:
    request = parse_request(
        AnalyticsMappingSetRequest,
        payload(events=[{"type": "custom.lead.created", "where": {"data.payload.vip": ["true"]}, "name": "vip_lead"}]),
    )

    def matches(vip: object) -> bool:
        return request.mapping.rule_for("custom.lead.created", {"data": {"payload": {"vip": vip}}}) is not None

    assert (matches(True), matches(False), matches("true"), matches(None)) == (True, False, True, False)


def test_the_registrys_analytics_providers_are_accepted_as_sinks_without_reading_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the three sink adapters of the registry and a table write that only records
    request = parse_request(AnalyticsMappingSetRequest, payload(sinks=["ga4", "posthog", "mixpanel"]))
    written: list[dict[str, Any]] = []

    class Table:
        def put_item(self, **kwargs: Any) -> None:
            written.append(kwargs)

    monkeypatch.setattr(analytics_mapping, "aws_client", lambda service: Table())
    monkeypatch.setenv("ANALYTICS_TABLE", "analytics")
    get_settings.cache_clear()

    # When the mapping is stored, Then it is, as sent
    stored = analytics_mapping_set(request)

    assert stored.mapping.sinks == ["ga4", "posthog", "mixpanel"]
    assert [(w["TableName"], w["Item"]["pk"]["S"]) for w in written] == [("analytics", "mapping#acme")]
