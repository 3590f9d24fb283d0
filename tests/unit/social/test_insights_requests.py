"""SocialInsightsSync and SocialInsightsGet refuse bad input naming the field, before anything is
read or written (docs/social.md, "Insights"). No AWS: the store and the integrations listing are
replaced by traps that fail the test if reached. The clock is frozen."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from hub.errors import InvalidRequestError
from hub.social import insights
from hub.social.insights import InsightsSyncRequest, sync_insights
from hub.social.insights_store import Cursor
from tests.helpers import FakeLambdaContext, load_function, sample_event

# 09:00 in Brasília on 2027-03-06.
NOW = datetime(2027, 3, 6, 12, 0, tzinfo=UTC)
TODAY = date(2027, 3, 6)
GET = {"org_id": "acme", "network": "instagram", "account": "17841400000000001"}


def trap(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("read or written before the request was validated")


@pytest.fixture
def untouched(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(insights, "utcnow", lambda: NOW)
    for name in ("days", "posts", "get_cursor", "put_day", "put_post", "advance_cursor", "record_run"):
        monkeypatch.setattr(insights.store, name, trap)
    monkeypatch.setattr(insights, "_connected", trap)


def get(**fields: Any) -> dict[str, Any]:
    handler = load_function("social_insights_get").handler
    result: dict[str, Any] = handler({**GET, **fields}, FakeLambdaContext())
    return result


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"from": "2027-03-02", "to": "2027-03-01"}, "from: must be on or before to"),
        ({"from": "2026-03-05", "to": "2027-03-06"}, "from: the range covers at most 366 days"),
        ({"from": "2027-03-01", "to": "2027-03-07"}, "to: must not be in the future"),
        ({"from": "2027-03-07", "to": "2027-03-07"}, "to: must not be in the future"),
        ({"from": 1772323200, "to": "2027-03-01"}, "from: "),
        ({"from": "2027-3-1", "to": "2027-03-01"}, "from: "),
        ({"from": "2027-03-01"}, "to: "),
        ({"from": "2027-03-01", "to": "2027-03-01", "network": "tiktok"}, "network: "),
        ({"from": "2027-03-01", "to": "2027-03-01", "account": "../other"}, "account: "),
        ({"from": "2027-03-01", "to": "2027-03-01", "extra": 1}, "extra: "),
    ],
)
def test_get_refuses_a_bad_range_naming_the_field(untouched: None, fields: dict[str, Any], named: str) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        get(**fields)
    assert named in refused.value.message


def test_get_takes_366_days_up_to_today(untouched: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(insights.store, "days", lambda *args: [])
    monkeypatch.setattr(insights.store, "posts", lambda *args: [])
    monkeypatch.setattr(insights.store, "get_cursor", lambda *args: Cursor(through=TODAY - timedelta(days=1)))

    answer = get(**{"from": (TODAY - timedelta(days=365)).isoformat(), "to": TODAY.isoformat()})

    assert (answer["from"], answer["to"]) == ("2026-03-06", "2027-03-06")
    assert len(answer["missing"]) == 366
    assert answer["through"] == "2027-03-05"


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"network": "instagram"}, "network needs org_id"),
        ({"org_id": "acme", "account": "17841400000000001"}, "account needs network"),
        ({"org_id": "acme", "network": "tiktok"}, "network: "),
        ({"until": 20270305}, "until: "),
        ({"now": "2027-03-06T12:00:00"}, "now must carry its time zone"),
        ({"org_id": "Acme "}, "org_id: "),
    ],
)
def test_sync_refuses_a_bad_request_naming_the_field(untouched: None, fields: dict[str, Any], named: str) -> None:
    handler = load_function("social_insights_sync").handler
    with pytest.raises(InvalidRequestError) as refused:
        handler(fields, FakeLambdaContext())
    assert named in refused.value.message


@pytest.mark.parametrize(
    ("now", "latest"),
    [
        (NOW, date(2027, 3, 5)),
        # 23:30 in Brasília on 2027-03-05 (02:30 UTC on the 6th): the 5th is not over yet.
        (datetime(2027, 3, 6, 2, 30, tzinfo=UTC), date(2027, 3, 4)),
    ],
)
def test_sync_until_is_at_most_yesterday_in_brasilia(untouched: None, now: datetime, latest: date) -> None:
    too_late = latest + timedelta(days=1)
    with pytest.raises(InvalidRequestError) as refused:
        sync_insights(InsightsSyncRequest.model_validate({"now": now, "until": too_late.isoformat()}), resolve=trap)
    assert f"until: must be yesterday ({latest.isoformat()}, Brasília) or earlier" in refused.value.message


def test_sync_refuses_an_unregistered_org_before_reading(untouched: None) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        sync_insights(InsightsSyncRequest.model_validate({"org_id": "nobody", "now": NOW}), resolve=trap)
    assert refused.value.code == "unknown_org"


@pytest.mark.parametrize(
    ("sample", "model"),
    [
        ("social_insights_sync_account", InsightsSyncRequest),
        ("social_insights_get", insights.InsightsGetRequest),
    ],
)
def test_the_documented_samples_are_valid_requests(sample: str, model: Any) -> None:
    assert model.model_validate(sample_event(sample))
