"""GoogleClient (Calendar API v3) against the Google sandbox, served in-process through httpx's
WSGI transport as the local cloud serves it at /google: the documented requests
(https://developers.google.com/calendar/api/v3/reference), Google's errors
(https://developers.google.com/calendar/api/guides/errors), incremental sync
(https://developers.google.com/calendar/api/guides/sync) and push channels
(https://developers.google.com/calendar/api/guides/push). Dates are fixed, never today's."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from pydantic import SecretStr

from hub import outcomes
from hub.errors import (
    AuthenticationError,
    IdempotencyConflictError,
    InvalidRequestError,
    OutcomeUnknownError,
    ProviderUnavailableError,
    RateLimitedError,
    SyncTokenExpiredError,
)
from hub.providers import descriptor
from hub.providers.base.oauth import OAuthApp, OAuthCredentials
from hub.providers.google import OAUTH
from hub.providers.google.client import GoogleClient, expiration_of
from hub.retry import RetryPolicy
from localcloud.sandboxes import SandboxServer
from localcloud.sandboxes.base import Fault
from localcloud.sandboxes.google import DEMO_ACCESS_TOKEN, PRIMARY, TEAM, GoogleSandbox

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
BASE = "http://sandbox/google"
EVENT_ID = "0123456789abcdefghijklmnopqrstuv"
START = datetime(2027, 3, 15, 10, 0, tzinfo=SAO_PAULO)


class Cloud:
    """The sandbox server, the sandbox and an httpx client pointed at it."""

    def __init__(self, transport: httpx.BaseTransport | None = None) -> None:
        self.sandbox = GoogleSandbox()
        self.server = SandboxServer([self.sandbox])
        self.http = httpx.Client(transport=transport or httpx.WSGITransport(app=self.server))

    def client(self, http: httpx.Client | None = None, attempts: int = 1) -> GoogleClient:
        return GoogleClient(
            OAuthCredentials(base_url=BASE, access_token=SecretStr(DEMO_ACCESS_TOKEN)),
            app=OAuthApp(client_id="c", client_secret=SecretStr("s")),
            http=http or self.http,
            retry_policy=RetryPolicy(max_attempts=attempts, sleep=lambda _: None),
        )

    def requests(self, method: str | None = None) -> list[dict[str, Any]]:
        """The Calendar API requests the sandbox received (its control calls left out)."""
        return [
            r
            for r in self.server.requests_for("google")
            if not r["path"].startswith("/_sandbox/") and (method is None or r["method"] == method)
        ]

    def control(self, **body: Any) -> dict[str, Any]:
        response = self.http.post(f"{BASE}/_sandbox/calendar", json=body)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer


@pytest.fixture
def cloud() -> Cloud:
    return Cloud()


def meeting(summary: str = "Reunião de pauta", start: datetime = START, hours: int = 1) -> dict[str, Any]:
    return {
        "summary": summary,
        "start": {"dateTime": start.isoformat(), "timeZone": "America/Sao_Paulo"},
        "end": {"dateTime": (start + timedelta(hours=hours)).isoformat(), "timeZone": "America/Sao_Paulo"},
        "attendees": [{"email": "cliente@example.com"}],
    }


# ----- descriptor ------------------------------------------------------------------------------
def test_the_descriptor_declares_calendar_quotas_and_the_freebusy_scope() -> None:
    google = descriptor("google")
    assert google is not None
    limits = {(rule.limit, rule.window_seconds, rule.scope) for rule in google.limits}
    assert limits == {(600, 60, "org"), (10_000, 60, "provider")}
    assert "https://www.googleapis.com/auth/calendar.events.freebusy" in OAUTH.scopes
    assert "https://www.googleapis.com/auth/calendar.events" in OAUTH.scopes


# ----- calendars -------------------------------------------------------------------------------
def test_list_calendars_follows_every_page(cloud: Cloud) -> None:
    cloud.control(add_calendars=[{"id": f"sala{i:03d}@resource.calendar.google.com"} for i in range(300)])
    calendars = cloud.client().list_calendars()
    assert len(calendars) == 302
    assert calendars[0]["id"] == PRIMARY and calendars[0]["primary"] is True
    assert {c["accessRole"] for c in calendars} == {"owner", "writer", "reader"}
    gets = cloud.requests("GET")
    assert [g["path"] for g in gets] == ["/calendar/v3/users/me/calendarList"] * 2
    assert gets[0]["query"] == {"maxResults": "250"}
    assert gets[1]["query"] == {"maxResults": "250", "pageToken": "250"}
    assert gets[0]["headers"]["Authorization"] == f"Bearer {DEMO_ACCESS_TOKEN}"


# ----- insert and the Meet conference -----------------------------------------------------------
def test_insert_event_sends_the_documented_request_and_the_conference_settles(cloud: Cloud) -> None:
    client = cloud.client()
    created = client.insert_event("primary", meeting(), event_id=EVENT_ID, request_id="req-key-1")
    assert created["id"] == EVENT_ID and created["status"] == "confirmed"
    assert created["conferenceData"]["createRequest"]["status"] == {"statusCode": "pending"}
    assert "hangoutLink" not in created

    (post,) = cloud.requests("POST")
    assert post["path"] == "/calendar/v3/calendars/primary/events"
    assert post["query"] == {"conferenceDataVersion": "1", "sendUpdates": "all"}
    assert post["headers"]["Content-Type"] == "application/json"
    assert post["headers"]["Authorization"] == f"Bearer {DEMO_ACCESS_TOKEN}"
    assert post["json"]["id"] == EVENT_ID
    assert post["json"]["conferenceData"] == {
        "createRequest": {"requestId": "req-key-1", "conferenceSolutionKey": {"type": "hangoutsMeet"}}
    }
    assert post["json"]["attendees"] == [{"email": "cliente@example.com"}]

    # Pending for the next two reads (the sandbox's default N), then a Meet link.
    polls = [client.get_event("primary", EVENT_ID) for _ in range(3)]
    statuses = [p["conferenceData"]["createRequest"]["status"]["statusCode"] for p in polls]
    assert statuses == ["pending", "pending", "success"]
    assert polls[2]["hangoutLink"].startswith("https://meet.google.com/")
    video = [e for e in polls[2]["conferenceData"]["entryPoints"] if e["entryPointType"] == "video"]
    assert video[0]["uri"] == polls[2]["hangoutLink"]
    assert cloud.requests("GET")[0]["path"] == f"/calendar/v3/calendars/primary/events/{EVENT_ID}"


def test_the_pending_polls_are_a_control(cloud: Cloud) -> None:
    cloud.control(conference_pending_polls=4)
    client = cloud.client()
    client.insert_event(PRIMARY, meeting(), event_id=EVENT_ID, request_id="k")
    statuses = [
        client.get_event(PRIMARY, EVENT_ID)["conferenceData"]["createRequest"]["status"]["statusCode"] for _ in range(5)
    ]
    assert statuses == ["pending"] * 4 + ["success"]


def test_a_retried_insert_answers_the_first_event_and_creates_no_second(cloud: Cloud) -> None:
    client = cloud.client()
    first = client.insert_event("primary", meeting(), event_id=EVENT_ID, request_id="k")
    again = client.insert_event("primary", meeting(), event_id=EVENT_ID, request_id="k")
    assert again["id"] == first["id"] and again["created"] == first["created"]
    assert len(cloud.control()["events"]) == 1
    # The second POST met Google's 409 duplicate, then the event was read back.
    assert [r["status"] for r in cloud.requests("POST")] == [200, 409]
    assert cloud.requests("GET")[-1]["path"] == f"/calendar/v3/calendars/primary/events/{EVENT_ID}"


def test_an_instant_given_in_another_offset_is_the_same_start(cloud: Cloud) -> None:
    client = cloud.client()
    client.insert_event("primary", meeting(), event_id=EVENT_ID, request_id="k")
    same = meeting()
    same["start"] = {"dateTime": START.astimezone(UTC).isoformat(), "timeZone": "America/Sao_Paulo"}
    assert client.insert_event("primary", same, event_id=EVENT_ID, request_id="k")["id"] == EVENT_ID


@pytest.mark.parametrize(
    "other",
    [meeting(summary="Outra reunião"), meeting(start=START + timedelta(hours=2))],
    ids=["summary", "start"],
)
def test_an_event_id_held_by_another_event_is_a_conflict(cloud: Cloud, other: dict[str, Any]) -> None:
    client = cloud.client()
    client.insert_event("primary", meeting(), event_id=EVENT_ID, request_id="k")
    with pytest.raises(IdempotencyConflictError) as caught:
        client.insert_event("primary", other, event_id=EVENT_ID, request_id="k2")
    assert caught.value.code == "event_id_taken"
    assert len(cloud.control()["events"]) == 1


@pytest.mark.parametrize("bad", ["abc", "0123456789wxyz", "ABCDEF12345", "a" * 1025, ""])
def test_a_malformed_event_id_is_refused_before_any_request(cloud: Cloud, bad: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        cloud.client().insert_event("primary", meeting(), event_id=bad, request_id="k")
    assert caught.value.details == {"field": "event_id"}
    assert cloud.requests() == []


class LoseFirstPostAnswer(httpx.BaseTransport):
    """Sends every request; the first POST's answer is then lost (a read timeout after sending)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.lost = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == "POST" and not self.lost:
            self.lost = True
            raise httpx.ReadTimeout("the answer never came", request=request)
        return response


def pending_outcome(started_at: datetime) -> outcomes.PendingOutcome:
    return outcomes.PendingOutcome(
        operation="CalendarEventCreate",
        org_id="acme",
        idempotency_key="key-1",
        payload_hash="h",
        started_at=started_at,
        provider="google",
        provider_request_id=None,
        message="google did not answer in time after the request was sent: it may have been applied",
        code="read_timeout",
    )


def test_a_lost_insert_answer_is_resolved_by_reading_the_id_not_by_sending_again() -> None:
    sandbox_cloud = Cloud()
    lossy = LoseFirstPostAnswer(httpx.WSGITransport(app=sandbox_cloud.server))
    client = sandbox_cloud.client(http=httpx.Client(transport=lossy), attempts=3)
    with pytest.raises(OutcomeUnknownError):
        client.insert_event("primary", meeting(), event_id=EVENT_ID, request_id="k")
    assert len(sandbox_cloud.requests("POST")) == 1  # never retried blindly
    # The same key again (the hub recorded the unknown outcome): read back, not re-sent.
    with outcomes.resolving(pending_outcome(datetime.now(UTC) - timedelta(hours=1))):
        found = client.insert_event("primary", meeting(), event_id=EVENT_ID, request_id="k")
    assert found["id"] == EVENT_ID
    assert len(sandbox_cloud.requests("POST")) == 1
    assert len(sandbox_cloud.control()["events"]) == 1


def test_an_unknown_insert_that_never_landed_is_sent_once_it_settled(cloud: Cloud) -> None:
    client = cloud.client()
    with outcomes.resolving(pending_outcome(datetime.now(UTC) - timedelta(hours=1))):
        created = client.insert_event("primary", meeting(), event_id=EVENT_ID, request_id="k")
    assert created["id"] == EVENT_ID
    assert [r["method"] for r in cloud.requests()[:2]] == ["GET", "POST"]
    assert cloud.requests()[0]["status"] == 404


def test_an_unknown_insert_not_found_yet_stays_unknown_until_it_settles(cloud: Cloud) -> None:
    just_now = datetime.now(UTC)  # started moments ago: the provider may still be applying it
    with outcomes.resolving(pending_outcome(just_now)), pytest.raises(OutcomeUnknownError):
        cloud.client().insert_event("primary", meeting(), event_id=EVENT_ID, request_id="k")
    assert cloud.requests("POST") == []


# ----- get, patch, cancel ------------------------------------------------------------------------
def test_an_unknown_event_is_event_not_found(cloud: Cloud) -> None:
    client = cloud.client()
    with pytest.raises(InvalidRequestError) as caught:
        client.get_event("primary", "nothinghere0")
    assert caught.value.code == "event_not_found" and caught.value.http_status == 404
    with pytest.raises(InvalidRequestError) as patched:
        client.patch_event("primary", "nothinghere0", {"summary": "x"})
    assert patched.value.code == "event_not_found"
    with pytest.raises(InvalidRequestError) as cancelled:
        client.cancel_event("primary", "nothinghere0")
    assert cancelled.value.code == "event_not_found"


def test_patch_event_sends_only_the_changes(cloud: Cloud) -> None:
    client = cloud.client()
    client.insert_event("primary", meeting(), event_id=EVENT_ID, request_id="k")
    later = START + timedelta(days=1)
    changes = {
        "start": {"dateTime": later.isoformat(), "timeZone": "America/Sao_Paulo"},
        "end": {"dateTime": (later + timedelta(hours=1)).isoformat(), "timeZone": "America/Sao_Paulo"},
    }
    updated = client.patch_event("primary", EVENT_ID, changes)
    assert updated["start"]["dateTime"] == later.isoformat()
    assert updated["summary"] == "Reunião de pauta" and updated["sequence"] == 1
    (patch,) = cloud.requests("PATCH")
    assert patch["path"] == f"/calendar/v3/calendars/primary/events/{EVENT_ID}"
    assert patch["query"] == {"conferenceDataVersion": "1", "sendUpdates": "all"}
    assert patch["json"] == changes


def test_patch_event_refuses_empty_changes_before_any_request(cloud: Cloud) -> None:
    with pytest.raises(InvalidRequestError):
        cloud.client().patch_event("primary", EVENT_ID, {})
    assert cloud.requests() == []


def test_cancel_event_deletes_with_updates_and_a_second_cancel_succeeds(cloud: Cloud) -> None:
    client = cloud.client()
    client.insert_event("primary", meeting(), event_id=EVENT_ID, request_id="k")
    client.cancel_event("primary", EVENT_ID)
    client.cancel_event("primary", EVENT_ID)  # 410 deleted: already done
    deletes = cloud.requests("DELETE")
    assert [d["status"] for d in deletes] == [204, 410]
    assert deletes[0]["query"] == {"sendUpdates": "all"}
    assert client.get_event("primary", EVENT_ID)["status"] == "cancelled"


def test_a_calendar_the_user_may_only_read_is_refused_without_disabling_the_integration(cloud: Cloud) -> None:
    cloud.control(add_calendars=[{"id": "feriados@group.v.calendar.google.com", "accessRole": "reader"}])
    with pytest.raises(InvalidRequestError) as caught:
        cloud.client().insert_event(
            "feriados@group.v.calendar.google.com", meeting(), event_id=EVENT_ID, request_id="k"
        )
    assert caught.value.http_status == 403 and caught.value.code == "requiredAccessLevel"
    assert cloud.requests("POST")[0]["path"] == "/calendar/v3/calendars/feriados@group.v.calendar.google.com/events"


# ----- listing and incremental sync -----------------------------------------------------------
def test_list_events_pages_then_syncs_incrementally_with_cancellations(cloud: Cloud) -> None:
    client = cloud.client()
    for i in range(251):
        cloud.control(external_change={"calendar_id": PRIMARY, "action": "create", "event_id": f"evt{i:05d}"})
    items, next_page, next_sync = client.list_events("primary")
    assert len(items) == 250 and next_page and next_sync is None
    rest, last_page, sync_token = client.list_events("primary", page_token=next_page)
    assert len(rest) == 1 and last_page is None and sync_token
    first = cloud.requests("GET")[0]
    assert first["path"] == "/calendar/v3/calendars/primary/events"
    assert first["query"] == {"singleEvents": "true", "showDeleted": "true", "maxResults": "250"}
    assert cloud.requests("GET")[1]["query"]["pageToken"] == next_page

    client.patch_event("primary", "evt00007", {"summary": "Mudou"})
    client.cancel_event("primary", "evt00009")
    changed, page, newer = client.list_events("primary", sync_token=sync_token)
    assert {(e["id"], e["status"]) for e in changed} == {("evt00007", "confirmed"), ("evt00009", "cancelled")}
    assert page is None and newer and newer != sync_token
    assert cloud.requests("GET")[-1]["query"]["syncToken"] == sync_token
    assert client.list_events("primary", sync_token=newer)[0] == []


def test_an_expired_sync_token_is_sync_token_expired(cloud: Cloud) -> None:
    client = cloud.client()
    _, _, token = client.list_events("primary")
    assert token
    cloud.control(expire_sync_tokens=True)
    with pytest.raises(SyncTokenExpiredError) as caught:
        client.list_events("primary", sync_token=token)
    assert isinstance(caught.value, InvalidRequestError)
    assert caught.value.code == "sync_token_expired" and caught.value.http_status == 410
    # A full sync (no token) works and hands a fresh token.
    assert client.list_events("primary")[2]


# ----- free/busy -------------------------------------------------------------------------------
def test_free_busy_splits_by_50_calendars_and_60_days_and_joins_the_answers(cloud: Cloud) -> None:
    rooms = [f"sala{i:03d}@resource.calendar.google.com" for i in range(118)]
    cloud.control(add_calendars=[{"id": r} for r in rooms])
    client = cloud.client()
    time_min = datetime(2027, 1, 4, 0, 0, tzinfo=SAO_PAULO)
    time_max = time_min + timedelta(days=130)
    boundary = time_min + timedelta(days=60)
    # One meeting across the first window's end, one in the third window.
    client.insert_event(
        PRIMARY, meeting(start=boundary - timedelta(hours=1), hours=2), event_id="across0", request_id="a"
    )
    client.insert_event(TEAM, meeting(start=time_min + timedelta(days=125)), event_id="late00", request_id="b")
    ids = [PRIMARY, TEAM, *rooms]

    busy = client.free_busy(ids, time_min, time_max, "America/Sao_Paulo")

    assert list(busy) == ids
    assert busy[PRIMARY] == [(boundary - timedelta(hours=1), boundary + timedelta(hours=1))]
    assert busy[TEAM] == [(time_min + timedelta(days=125), time_min + timedelta(days=125, hours=1))]
    assert all(busy[r] == [] for r in rooms)
    posts = [r for r in cloud.requests("POST") if r["path"] == "/calendar/v3/freeBusy"]
    assert len(posts) == 9  # 3 windows x 3 groups of calendars
    for post in posts:
        body = post["json"]
        assert len(body["items"]) <= 50 and body["timeZone"] == "America/Sao_Paulo"
        span = datetime.fromisoformat(body["timeMax"]) - datetime.fromisoformat(body["timeMin"])
        assert timedelta(0) < span <= timedelta(days=60)
        assert post["status"] == 200
    asked = {item["id"] for post in posts for item in post["json"]["items"]}
    assert asked == set(ids)


def test_free_busy_raises_for_a_calendar_google_cannot_report(cloud: Cloud) -> None:
    start = datetime(2027, 1, 4, 9, 0, tzinfo=SAO_PAULO)
    with pytest.raises(InvalidRequestError) as caught:
        cloud.client().free_busy([PRIMARY, "ninguem@example.com"], start, start + timedelta(hours=8), "UTC")
    assert caught.value.code == "freebusy_notFound"
    assert caught.value.details["calendar_id"] == "ninguem@example.com"


@pytest.mark.parametrize(
    ("time_min", "time_max", "zone"),
    [
        (datetime(2027, 1, 4, 9, 0), datetime(2027, 1, 4, 18, 0, tzinfo=UTC), "UTC"),
        (datetime(2027, 1, 4, 18, 0, tzinfo=UTC), datetime(2027, 1, 4, 9, 0, tzinfo=UTC), "UTC"),
        (datetime(2027, 1, 4, 9, 0, tzinfo=UTC), datetime(2027, 1, 4, 18, 0, tzinfo=UTC), "Mars/Olympus"),
    ],
    ids=["naive", "reversed", "zone"],
)
def test_free_busy_refuses_bad_ranges_before_any_request(
    cloud: Cloud, time_min: datetime, time_max: datetime, zone: str
) -> None:
    with pytest.raises(InvalidRequestError):
        cloud.client().free_busy([PRIMARY], time_min, time_max, zone)
    assert cloud.requests() == []


# ----- Google's errors -------------------------------------------------------------------------
def test_a_usage_limits_403_is_rate_limited(cloud: Cloud) -> None:
    cloud.control(rate_limit=1)
    with pytest.raises(RateLimitedError) as caught:
        cloud.client().list_calendars()
    assert caught.value.http_status == 403 and caught.value.code == "rateLimitExceeded"


def test_a_429_is_rate_limited_with_its_retry_after(cloud: Cloud) -> None:
    cloud.server.set_fault("google", Fault(mode="rate_limited", retry_after=7, times=1))
    with pytest.raises(RateLimitedError) as caught:
        cloud.client().get_event("primary", EVENT_ID)
    assert caught.value.retry_after == 7


def test_a_refused_token_is_an_authentication_error() -> None:
    cloud = Cloud()
    client = GoogleClient(
        OAuthCredentials(base_url=BASE, access_token=SecretStr("ya29.revoked")),
        app=OAuthApp(client_id="c", client_secret=SecretStr("s")),
        http=cloud.http,
        retry_policy=RetryPolicy(max_attempts=1, sleep=lambda _: None),
    )
    with pytest.raises(AuthenticationError) as caught:
        client.list_events("primary")
    assert caught.value.http_status == 401 and "ya29.revoked" not in str(caught.value)


def test_a_5xx_is_provider_unavailable(cloud: Cloud) -> None:
    cloud.server.set_fault("google", Fault(mode="error", status=503, times=1))
    with pytest.raises(ProviderUnavailableError):
        cloud.client().list_calendars()


# ----- push channels ---------------------------------------------------------------------------
class Listener:
    """A local HTTP endpoint that records what is POSTed to it (the hub's webhook route)."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.arrived = threading.Condition()
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with listener.arrived:
                    listener.received.append({"path": self.path, "headers": dict(self.headers.items()), "body": body})
                    listener.arrived.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/google_calendar/acme"

    def wait_for(self, count: int) -> list[dict[str, Any]]:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.received) >= count, timeout=10), self.received
            return list(self.received)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    endpoint = Listener()
    yield endpoint
    endpoint.close()


def test_watch_then_changes_post_notifications_to_the_address(cloud: Cloud, listener: Listener) -> None:
    client = cloud.client()
    channel = client.watch_events(
        "primary", channel_id="chan-0001", token="s3cr3t-channel-token", address=listener.url, ttl_seconds=3600
    )
    (watch,) = cloud.requests("POST")
    assert watch["path"] == "/calendar/v3/calendars/primary/events/watch"
    assert watch["json"] == {
        "id": "chan-0001",
        "type": "web_hook",
        "address": listener.url,
        "token": "s3cr3t-channel-token",
        "params": {"ttl": "3600"},
    }
    assert channel["id"] == "chan-0001" and channel["resourceId"]
    expires = expiration_of(channel)
    assert expires is not None and isinstance(channel["expiration"], str)

    (sync,) = listener.wait_for(1)
    assert sync["headers"]["X-Goog-Resource-State"] == "sync"
    assert sync["headers"]["X-Goog-Message-Number"] == "1"

    client.insert_event("primary", meeting(), event_id=EVENT_ID, request_id="k")
    cloud.control(external_change={"calendar_id": "primary", "action": "update", "event_id": EVENT_ID})
    received = listener.wait_for(3)
    changed = received[1]
    assert changed["path"] == "/webhooks/google_calendar/acme"
    assert changed["body"] == b""
    headers = changed["headers"]
    assert headers["X-Goog-Channel-ID"] == "chan-0001"
    assert headers["X-Goog-Channel-Token"] == "s3cr3t-channel-token"
    assert headers["X-Goog-Resource-ID"] == channel["resourceId"]
    assert headers["X-Goog-Resource-URI"] == channel["resourceUri"]
    assert headers["X-Goog-Resource-State"] == "exists"
    assert parsedate_to_datetime(headers["X-Goog-Channel-Expiration"]) == expires.replace(microsecond=0)
    assert [r["headers"]["X-Goog-Message-Number"] for r in received] == ["1", "2", "3"]


def test_a_stopped_channel_is_told_nothing_more(cloud: Cloud, listener: Listener) -> None:
    client = cloud.client()
    channel = client.watch_events("primary", channel_id="chan-0002", token="t", address=listener.url, ttl_seconds=60)
    listener.wait_for(1)
    client.stop_channel("chan-0002", channel["resourceId"])
    stop = cloud.requests("POST")[-1]
    assert stop["path"] == "/calendar/v3/channels/stop"
    assert stop["json"] == {"id": "chan-0002", "resourceId": channel["resourceId"]}
    assert stop["status"] == 204
    client.stop_channel("chan-0002", channel["resourceId"])  # 404 now: already stopped
    assert cloud.requests("POST")[-1]["status"] == 404
    # A change after the stop: the sandbox queues nothing for the channel (deliveries are
    # recorded once made; the only one is the sync).
    client.insert_event("primary", meeting(), event_id=EVENT_ID, request_id="k")
    assert cloud.sandbox.cal.channels["chan-0002"].messages == 1
    assert cloud.sandbox.wait_for_deliveries(1)[0]["state"] == "sync"


def test_watch_refuses_missing_fields_before_any_request(cloud: Cloud) -> None:
    with pytest.raises(InvalidRequestError):
        cloud.client().watch_events("primary", channel_id="c1", token="", address="https://h/x", ttl_seconds=60)
    with pytest.raises(InvalidRequestError):
        cloud.client().watch_events("primary", channel_id="c1", token="t", address="https://h/x", ttl_seconds=0)
    assert cloud.requests() == []


# ----- answers the sandbox has no switch for (Google's documented bodies, MockTransport) ------
def google_answer(status: int, reason: str, domain: str = "global", message: str = "x") -> httpx.Response:
    error = {"code": status, "message": message, "errors": [{"domain": domain, "reason": reason, "message": message}]}
    return httpx.Response(status, json={"error": error})


def mocked(handler: Any) -> GoogleClient:
    return Cloud().client(http=httpx.Client(transport=httpx.MockTransport(handler)))


def test_a_missing_scope_is_an_authentication_error() -> None:
    client = mocked(lambda _: google_answer(403, "insufficientPermissions", message="Insufficient Permission"))
    with pytest.raises(AuthenticationError) as caught:
        client.free_busy([PRIMARY], START, START + timedelta(hours=1), "America/Sao_Paulo")
    assert caught.value.code == "insufficientPermissions"


@pytest.mark.parametrize("reason", ["userRateLimitExceeded", "quotaExceeded"])
def test_every_usage_limit_reason_is_rate_limited(reason: str) -> None:
    client = mocked(lambda _: google_answer(403, reason, "usageLimits"))
    with pytest.raises(RateLimitedError) as caught:
        client.get_event("primary", EVENT_ID)
    assert caught.value.code == reason


def test_an_event_gone_for_good_is_event_not_found() -> None:
    client = mocked(lambda _: google_answer(410, "deleted", message="Resource has been deleted"))
    with pytest.raises(InvalidRequestError) as caught:
        client.get_event("primary", EVENT_ID)
    assert caught.value.code == "event_not_found" and caught.value.http_status == 410


def test_a_calendar_google_failed_to_compute_is_provider_unavailable() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "kind": "calendar#freeBusy",
                "calendars": {PRIMARY: {"errors": [{"domain": "global", "reason": "backendError"}], "busy": []}},
            },
        )

    with pytest.raises(ProviderUnavailableError) as caught:
        mocked(answer).free_busy([PRIMARY], START, START + timedelta(hours=1), "UTC")
    assert caught.value.code == "freebusy_backendError"


def test_calendar_ids_are_path_encoded() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path.decode())
        return httpx.Response(200, json={"items": [], "nextSyncToken": "s"})

    mocked(answer).list_events("pt-br.brazilian#holiday@group.v.calendar.google.com")
    assert seen[0].startswith(
        "/google/calendar/v3/calendars/pt-br.brazilian%23holiday@group.v.calendar.google.com/events?"
    )
