"""The Google sandbox refuses what Google's Calendar API refuses (raw HTTP, no adapter): the
sandbox is a contract the adapter must meet, not a mirror of it. Rules and links: the module
docstring of localcloud/sandboxes/google.py and layers/hub/hub/providers/google/README.md."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from localcloud import demo
from localcloud.sandboxes import SandboxServer, all_sandboxes
from localcloud.sandboxes.google import DEMO_ACCESS_TOKEN, PRIMARY, GoogleSandbox

BASE = "http://sandbox/google/calendar/v3"
AUTH = {"Authorization": f"Bearer {DEMO_ACCESS_TOKEN}"}
EVENTS = f"{BASE}/calendars/primary/events"


@pytest.fixture
def http() -> httpx.Client:
    return httpx.Client(transport=httpx.WSGITransport(app=SandboxServer([GoogleSandbox()])), headers=AUTH)


def event(**overrides: Any) -> dict[str, Any]:
    return {
        "summary": "Reunião",
        "start": {"dateTime": "2027-03-15T10:00:00-03:00"},
        "end": {"dateTime": "2027-03-15T11:00:00-03:00"},
        **overrides,
    }


def reason_of(response: httpx.Response) -> str:
    error = response.json()["error"]
    assert error["code"] == response.status_code and error["message"]
    return str(error["errors"][0]["reason"])


def test_the_sandbox_registers_itself_and_the_demo_org_holds_the_calendar_scopes() -> None:
    assert any(isinstance(s, GoogleSandbox) for s in all_sandboxes())
    secret = demo.demo_secret_values("http://127.0.0.1:4010")["google"]
    assert "https://www.googleapis.com/auth/calendar.events.freebusy" in secret["scopes"]


def test_calendar_routes_need_a_live_bearer_token() -> None:
    bare = httpx.Client(transport=httpx.WSGITransport(app=SandboxServer([GoogleSandbox()])))
    for method, url in [("GET", EVENTS), ("POST", f"{BASE}/freeBusy"), ("POST", f"{BASE}/channels/stop")]:
        response = bare.request(method, url, json={})
        assert response.status_code == 401 and reason_of(response) == "authError"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (event(id="UPPERCASE1"), "invalid"),
        (event(id="wxyz0"), "invalid"),
        (event(id="abc"), "invalid"),
        (event(end={"dateTime": "2027-03-15T09:00:00-03:00"}), "timeRangeEmpty"),
        (event(start={"dateTime": "2027-03-15T10:00:00"}), "invalid"),
        ({"summary": "no times"}, "required"),
    ],
    ids=["uppercase-id", "beyond-v", "short-id", "end-before-start", "no-zone", "no-times"],
)
def test_insert_refuses_what_google_refuses(http: httpx.Client, body: dict[str, Any], expected: str) -> None:
    response = http.post(EVENTS, json=body)
    assert response.status_code == 400 and reason_of(response) == expected


def test_a_local_time_with_its_zone_is_accepted(http: httpx.Client) -> None:
    body = event(
        start={"dateTime": "2027-03-15T10:00:00", "timeZone": "America/Sao_Paulo"},
        end={"dateTime": "2027-03-15T11:00:00", "timeZone": "America/Sao_Paulo"},
    )
    assert http.post(EVENTS, json=body).status_code == 200


def test_conference_data_needs_conference_data_version_1(http: httpx.Client) -> None:
    create = {"createRequest": {"requestId": "r1", "conferenceSolutionKey": {"type": "hangoutsMeet"}}}
    ignored = http.post(EVENTS, json=event(id="noconf0", conferenceData=create))
    assert ignored.status_code == 200 and "conferenceData" not in ignored.json()
    kept = http.post(EVENTS, params={"conferenceDataVersion": 1}, json=event(id="conf00", conferenceData=create))
    assert kept.json()["conferenceData"]["createRequest"]["status"]["statusCode"] == "pending"
    assert http.post(EVENTS, params={"conferenceDataVersion": 2}, json=event()).status_code == 400


def test_a_deleted_events_id_stays_taken(http: httpx.Client) -> None:
    assert http.post(EVENTS, json=event(id="taken0")).status_code == 200
    assert http.delete(f"{EVENTS}/taken0").status_code == 204
    again = http.post(EVENTS, json=event(id="taken0"))
    assert again.status_code == 409 and reason_of(again) == "duplicate"
    gone = http.delete(f"{EVENTS}/taken0")
    assert gone.status_code == 410 and reason_of(gone) == "deleted"
    assert http.get(f"{EVENTS}/taken0").json()["status"] == "cancelled"


def test_a_failed_conference_is_reported_as_failure(http: httpx.Client) -> None:
    switches = {"conference_pending_polls": 0, "conference_outcome": "failure"}
    http.post("http://sandbox/google/_sandbox/calendar", json=switches)
    create = {"createRequest": {"requestId": "r1", "conferenceSolutionKey": {"type": "hangoutsMeet"}}}
    http.post(EVENTS, params={"conferenceDataVersion": 1}, json=event(id="fail00", conferenceData=create))
    read = http.get(f"{EVENTS}/fail00").json()
    assert read["conferenceData"]["createRequest"]["status"] == {"statusCode": "failure"}
    assert "hangoutLink" not in read


@pytest.mark.parametrize(
    "params",
    [{"timeMin": "2027-01-01T00:00:00Z"}, {"q": "x"}, {"orderBy": "updated"}, {"showDeleted": "false"}],
)
def test_a_sync_token_refuses_the_filters_google_refuses_with_it(http: httpx.Client, params: dict[str, str]) -> None:
    token = http.get(EVENTS).json()["nextSyncToken"]
    assert http.get(EVENTS, params={"syncToken": token, **params}).status_code == 400


def test_an_unknown_sync_token_is_400_and_an_expired_one_410(http: httpx.Client) -> None:
    assert http.get(EVENTS, params={"syncToken": "made-up"}).status_code == 400
    token = http.get(EVENTS).json()["nextSyncToken"]
    http.post("http://sandbox/google/_sandbox/calendar", json={"expire_sync_tokens": True})
    expired = http.get(EVENTS, params={"syncToken": token})
    assert expired.status_code == 410 and reason_of(expired) == "fullSyncRequired"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"timeMin": "2027-01-01T00:00:00Z", "timeMax": "2027-01-01T00:00:00Z", "items": []}, "timeRangeEmpty"),
        ({"timeMin": "2027-01-01T00:00:00Z", "timeMax": "2027-03-15T00:00:00Z", "items": []}, "timeRangeTooLong"),
        (
            {
                "timeMin": "2027-01-01T00:00:00Z",
                "timeMax": "2027-01-02T00:00:00Z",
                "items": [{"id": f"c{i}@example.com"} for i in range(51)],
            },
            "tooManyCalendarsRequested",
        ),
        ({"timeMax": "2027-01-02T00:00:00Z", "items": []}, "required"),
    ],
    ids=["empty", "too-long", "too-many", "no-min"],
)
def test_free_busy_refuses_what_google_refuses(http: httpx.Client, body: dict[str, Any], expected: str) -> None:
    response = http.post(f"{BASE}/freeBusy", json=body)
    assert response.status_code == 400 and reason_of(response) == expected


def test_free_busy_answers_in_the_asked_zone_and_skips_transparent_events(http: httpx.Client) -> None:
    assert http.post(EVENTS, json=event(id="busa00")).status_code == 200
    afternoon = {
        "start": {"dateTime": "2027-03-15T14:00:00-03:00"},
        "end": {"dateTime": "2027-03-15T15:00:00-03:00"},
    }
    assert http.post(EVENTS, json=event(id="free00", transparency="transparent", **afternoon)).status_code == 200
    body = {
        "timeMin": "2027-03-15T00:00:00Z",
        "timeMax": "2027-03-16T00:00:00Z",
        "timeZone": "America/Sao_Paulo",
        "items": [{"id": PRIMARY}],
    }
    answer = http.post(f"{BASE}/freeBusy", json=body).json()
    assert answer["calendars"][PRIMARY]["busy"] == [
        {"start": "2027-03-15T10:00:00-03:00", "end": "2027-03-15T11:00:00-03:00"}
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"id": "c1", "type": "web_hook", "address": "http://hub.example.com/hook"}, "push.webhookUrlNotHttps"),
        ({"id": "c1", "type": "email", "address": "https://hub.example.com/hook"}, "invalid"),
        ({"id": "c" * 65, "type": "web_hook", "address": "https://hub.example.com/hook"}, "invalid"),
        ({"id": "c1", "type": "web_hook", "address": "https://h/x", "params": {"ttl": "soon"}}, "invalid"),
    ],
    ids=["http", "type", "long-id", "ttl"],
)
def test_watch_refuses_what_google_refuses(http: httpx.Client, body: dict[str, Any], expected: str) -> None:
    response = http.post(f"{EVENTS}/watch", json=body)
    assert response.status_code == 400 and reason_of(response) == expected


def test_a_channel_id_is_unique(http: httpx.Client) -> None:
    # A loopback port nothing listens on: the sync notification fails fast, never leaves the host.
    body = {"id": "dup-1", "type": "web_hook", "address": "https://127.0.0.1:9/hook"}
    first = http.post(f"{EVENTS}/watch", json=body)
    assert first.status_code == 200 and first.json()["expiration"].isdigit()
    again = http.post(f"{EVENTS}/watch", json=body)
    assert again.status_code == 400 and reason_of(again) == "channelIdNotUnique"


def test_a_page_token_can_be_asked_again(http: httpx.Client) -> None:
    for i in range(3):
        assert http.post(EVENTS, json=event(id=f"page{i:02d}")).status_code == 200
    first = http.get(EVENTS, params={"maxResults": 2}).json()
    again = [http.get(EVENTS, params={"maxResults": 2, "pageToken": first["nextPageToken"]}).json() for _ in range(2)]
    assert again[0]["items"] == again[1]["items"] and len(again[0]["items"]) == 1
    assert again[0]["nextSyncToken"] == again[1]["nextSyncToken"]
