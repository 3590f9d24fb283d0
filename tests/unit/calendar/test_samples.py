"""The documented samples in events/ are requests the functions accept (and the bus sample is
what the sync publishes), so the docs cannot drift from the models."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel

from hub.calendar.conference import ConferenceStepRequest
from hub.calendar.models import (
    CalendarEventCancelRequest,
    CalendarEventCreateRequest,
    CalendarEventUpdateRequest,
    CalendarFreeBusyRequest,
    CalendarSettingsSetRequest,
)
from hub.calendar.sync import DETAIL_TYPES, SyncMessage, _detail
from hub.invocation import parse_request
from tests.helpers import sample_event


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("calendar_event_create", CalendarEventCreateRequest),
        ("calendar_event_update", CalendarEventUpdateRequest),
        ("calendar_event_cancel", CalendarEventCancelRequest),
        ("calendar_free_busy", CalendarFreeBusyRequest),
        ("calendar_settings_set", CalendarSettingsSetRequest),
        ("calendar_conference_step", ConferenceStepRequest),
    ],
)
def test_request_samples_are_accepted(name: str, model: type[BaseModel]) -> None:
    parse_request(model, sample_event(name))


def test_the_sync_sample_carries_a_valid_message() -> None:
    [record] = sample_event("calendar_sync")["Records"]
    parse_request(SyncMessage, json.loads(record["body"]))
    assert record["attributes"]["MessageGroupId"].startswith("demo.")


def test_the_bus_sample_has_the_fields_the_sync_publishes() -> None:
    sample: dict[str, Any] = sample_event("calendar_event_created")
    assert sample["detail-type"] in DETAIL_TYPES.values()
    published = _detail("demo", "primary", {"id": "evt1", "etag": '"1"', "status": "confirmed"}, "created")
    assert set(sample["detail"]) == set(published)


def test_the_webhook_sample_is_a_push_notification() -> None:
    headers = {k.lower(): v for k, v in sample_event("webhook_google_calendar")["headers"].items()}
    assert {"x-goog-channel-id", "x-goog-channel-token", "x-goog-resource-id", "x-goog-resource-state"} <= set(headers)
    assert headers["x-goog-message-number"].isdigit()
