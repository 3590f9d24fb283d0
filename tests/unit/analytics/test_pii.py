"""No personal data reaches a sink unless the org's mapping allows that property."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from hub.analytics import pii
from hub.analytics.forward import BusEvent, map_event
from hub.analytics.mapping import AnalyticsMapping

OCCURRED = datetime(2026, 11, 20, 14, 3, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        "maria.silva@example.com.br",
        "contato: maria%40example.com",
        "+55 11 98765-4321",
        "(11) 98765-4321",
        "5511987654321",
        "529.982.247-25",
        "52998224725",
        "11.222.333/0001-81",
        "o CPF dela é 529.982.247-25, ok?",
    ],
)
def test_emails_phones_and_tax_ids_are_recognised_anywhere_in_a_value(value: str) -> None:
    assert pii.holds_pii(value)


@pytest.mark.parametrize(
    "value", ["pix", "pay_080225913252", "chg-2026-11-0042", 129900, "2026-11-20T14:03:10+00:00", "12345678901", True]
)
def test_ordinary_values_are_not_personal_data(value: Any) -> None:
    # 12345678901 has the shape of a CPF but not its check digits
    assert not pii.holds_pii(value)


def event(data: dict[str, Any], event_type: str = "message.status") -> BusEvent:
    return BusEvent(
        event_id="c0a8012e-7f3b-5d21-9e4c-2b1a0f9e8d7c",
        type=event_type,
        org_id="acme",
        occurred_at=OCCURRED,
        detail={"org_id": "acme", "data": data},
    )


def mapping(**extra: Any) -> AnalyticsMapping:
    return AnalyticsMapping.model_validate(
        {
            "sinks": ["posthog", "mixpanel"],
            "events": [
                {
                    "type": "message.status",
                    "name": "message_delivered",
                    "properties": {
                        "channel": "data.channel",
                        "to": "data.recipient",
                        "error": "data.error_message",
                        "customer": "data.customer_id",
                        "price_cents": "data.price_cents",
                        "ratio": "data.ratio",
                        "nested": "data.nested",
                    },
                }
            ],
            **extra,
        }
    )


DATA = {
    "channel": "whatsapp",
    "recipient": "+5511987654321",
    "error_message": "sent to maria@example.com",
    "customer_id": "cus_000005219613",
    "price_cents": 129900,
    "ratio": Decimal("0.25"),
    "nested": {"a": 1},
    "not_mapped": "secret-ish",
}


def test_pii_fields_and_values_are_stripped_by_default() -> None:
    mapped = map_event(mapping(), event(DATA))

    assert set(mapped) == {"posthog", "mixpanel"}
    props = mapped["posthog"].properties
    # The phone (a PII field) and the text holding an email are dropped; objects are not values;
    # unmapped fields never leave; money stays an integer and decimals stay exact
    assert props == {
        "channel": "whatsapp",
        "customer": "cus_000005219613",
        "price_cents": 129900,
        "ratio": Decimal("0.25"),
    }
    assert mapped["posthog"].distinct_id == "acme"  # no actor mapped: the org
    assert mapped["posthog"].event_id == "c0a8012e-7f3b-5d21-9e4c-2b1a0f9e8d7c"


def test_a_field_the_org_explicitly_allows_is_forwarded() -> None:
    mapped = map_event(mapping(allow_pii=["to"]), event(DATA))

    assert mapped["mixpanel"].properties["to"] == "+5511987654321"
    assert "error" not in mapped["mixpanel"].properties  # allowing one field allows no other


def test_a_personal_actor_id_becomes_a_stable_org_scoped_pseudonym() -> None:
    by_phone = mapping(distinct_id="data.recipient")

    first = map_event(by_phone, event(DATA))["posthog"].distinct_id
    again = map_event(by_phone, event({**DATA, "channel": "sms"}))["posthog"].distinct_id

    assert first == again and first.startswith("anon_") and "98765" not in first
    assert first != pii.pseudonym("beta", "+5511987654321")  # another org cannot correlate
    allowed = map_event(mapping(distinct_id="data.recipient", allow_pii=["distinct_id"]), event(DATA))
    assert allowed["posthog"].distinct_id == "+5511987654321"


def test_an_event_without_a_rule_is_not_forwarded() -> None:
    assert map_event(mapping(), event(DATA, event_type="payment.received")) == {}
