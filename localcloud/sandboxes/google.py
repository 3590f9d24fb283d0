"""Google sandbox (OAuth2 + Calendar API v3), mounted at ``/google``. Calendar scopes only:
YouTube is its own sandbox (``localcloud/sandboxes/youtube.py``). Paths as on Google's hosts:
``/o/oauth2/v2/auth`` (accounts.google.com), ``/token`` (oauth2.googleapis.com),
``/calendar/v3/...`` (www.googleapis.com); the app secret ``_apps/google`` points the hub at them.
OAuth behaviour, switches and counters: :mod:`localcloud.sandboxes.oauth_server` (PKCE S256
optional as at Google, HTTP Basic or body client auth, refresh tokens that do not rotate, 1-hour
access tokens).

Calendar, as Google documents it (links in layers/hub/hub/providers/google/README.md); every
route takes only a live ``Authorization: Bearer`` token:

* ``GET /calendar/v3/users/me/calendarList`` (``maxResults`` ≤ 250, ``pageToken``);
* events: ``POST /calendar/v3/calendars/{id}/events`` (``start``/``end`` with ``date`` or
  ``dateTime``, a ``dateTime`` without offset needs ``timeZone``, ``end`` after ``start``; a
  client-chosen ``id`` must be base32hex ``[a-v0-9]{5,1024}``, and an id used before — even by a
  deleted event — is ``409 duplicate``; ``sendUpdates`` all|externalOnly|none;
  ``conferenceData`` is read only with ``conferenceDataVersion=1``, silently dropped with 0 or
  none, as Google does). ``GET``/``PATCH``/``DELETE .../events/{eventId}``: an unknown id is 404,
  a deleted event reads back ``status: cancelled`` and deleting it again is ``410 deleted``.
  The primary calendar answers to ``primary`` and to its own id;
* Meet conferences: ``conferenceData.createRequest`` comes back ``pending`` for the next N reads
  of the event (N = ``conference_pending_polls``, default 2), then ``success`` with a
  ``meet.google.com`` ``hangoutLink`` and entry points (or ``failure`` when switched so);
* ``GET .../events`` (``singleEvents``, ``showDeleted``, ``maxResults`` ≤ 2500, ``pageToken``,
  ``syncToken``): pages, ``nextSyncToken`` on the last page only; a sync token answers what
  changed since it was issued, cancelled events included; it refuses ``showDeleted=false`` and the
  filters Google refuses with it (``timeMin``, ``timeMax``, ``q``, ``orderBy``, ``updatedMin``,
  ``iCalUID``); an expired token (control) is ``410 fullSyncRequired``;
* ``POST /calendar/v3/freeBusy``: ``timeMin``/``timeMax`` RFC 3339, ``timeMax`` after ``timeMin``
  (else ``timeRangeEmpty``), a range over 62 days is ``timeRangeTooLong`` (Google's limit is not
  published; the hub asks ≤ 60 days), more than 50 items ``tooManyCalendarsRequested``; an
  unknown calendar reports ``errors: [{"domain": "global", "reason": "notFound"}]``; busy blocks
  of confirmed, opaque events, merged, in ``timeZone``;
* push: ``POST .../events/watch`` (``id`` ≤ 64 characters of ``[A-Za-z0-9_=+/-]`` and unique,
  ``type`` web_hook, an ``https`` ``address`` — or the local cloud's loopback ``http`` —,
  ``token`` ≤ 256 characters, ``params.ttl`` seconds, default 604800) answers the channel; a
  ``sync`` notification follows at once, then ``exists`` whenever an event of the calendar
  changes (through the API or the control below). Notifications are POSTed with an empty body and
  ``X-Goog-Channel-ID``, ``X-Goog-Channel-Token``, ``X-Goog-Channel-Expiration`` (RFC 1123),
  ``X-Goog-Resource-ID``, ``X-Goog-Resource-URI``, ``X-Goog-Resource-State``,
  ``X-Goog-Message-Number``, from a background thread (never on the request's). ``POST
  /calendar/v3/channels/stop`` (``id`` + ``resourceId``) ends one; an unknown one is 404.

Control: ``POST /google/_sandbox/calendar`` with any of ``{"conference_pending_polls": N,
"conference_outcome": "success" | "failure", "expire_sync_tokens": true, "rate_limit": N,
"add_calendars": [{"id", "summary"?, "timeZone"?, "accessRole"?}]}``
(``rate_limit``: the next N Calendar requests answer ``403 rateLimitExceeded``, domain
``usageLimits``) or ``{"external_change": {"calendar_id", "action": "create" | "update" |
"cancel", "event_id"?, "event"?}}`` (an edit made in Google's UI: watchers are told); ``GET``
answers the state: events, channels, deliveries. API errors in Google's format ``{"error":
{"code", "message", "errors": [{"domain", "reason", "message"}], "status"}}``
(https://developers.google.com/calendar/api/guides/errors).
"""

from __future__ import annotations

import json
import queue
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from werkzeug.wrappers import Request, Response

from localcloud.sandboxes.base import DemoSecret, json_response, reason
from localcloud.sandboxes.oauth_server import OAuthProfile, OAuthSandbox

DEMO_CLIENT_ID = "123456789012-demo.apps.googleusercontent.com"
DEMO_CLIENT_SECRET = "GOCSPX-demo-google-client-secret"
DEMO_ACCESS_TOKEN = "ya29.demo-google-access-token"
DEMO_REFRESH_TOKEN = "1//demo-google-refresh-token"
SCOPES = frozenset(
    {
        "https://www.googleapis.com/auth/calendar.events",
        "https://www.googleapis.com/auth/calendar.calendarlist.readonly",
        "https://www.googleapis.com/auth/calendar.events.freebusy",
        "https://www.googleapis.com/auth/calendar.readonly",
        "openid",
        "email",
        "profile",
    }
)
_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    410: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
}
PRIMARY = "agenda@somosprodutora.com.br"
TEAM = "c_equipe0demo@group.calendar.google.com"
EVENT_ID = re.compile(r"^[a-v0-9]{5,1024}$")
CHANNEL_ID = re.compile(r"^[A-Za-z0-9_=+/-]{1,64}$")
DEFAULT_TTL = 604800
MAX_FREEBUSY_ITEMS = 50
MAX_FREEBUSY_RANGE = timedelta(days=62)
SYNC_FORBIDDEN = ("timeMin", "timeMax", "q", "orderBy", "updatedMin", "iCalUID")


def google_oauth_profile(
    client_id: str, client_secret: str, scopes: frozenset[str], access_token: str, refresh_token: str
) -> OAuthProfile:
    """Google's authorization server (accounts.google.com / oauth2.googleapis.com): the same for
    every Google API an org connects (Calendar here, YouTube in its own sandbox)."""
    return OAuthProfile(
        client_id=client_id,
        client_secret=client_secret,
        authorize_path="/o/oauth2/v2/auth",
        exchange_path="/token",
        scopes=scopes,
        demo_access_token=access_token,
        demo_refresh_token=refresh_token,
        pkce="optional",
        access_token_lifetime=3599,
    )


def _now() -> datetime:
    return datetime.now(UTC)


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _base32hex(size: int) -> str:
    alphabet = "0123456789abcdefghijklmnopqrstuv"
    return "".join(secrets.choice(alphabet) for _ in range(size))


@dataclass
class _Channel:
    id: str
    calendar_id: str
    resource_id: str
    resource_uri: str
    address: str
    token: str | None
    expiration_ms: int
    messages: int = 0
    stopped: bool = False


@dataclass
class _Calendar:
    id: str
    summary: str
    time_zone: str
    access_role: str
    primary: bool = False


@dataclass
class _CalendarState:
    calendars: dict[str, _Calendar] = field(default_factory=dict)
    # (calendar id, event id) -> the event as Google would answer it.
    events: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    # Event ids ever used per calendar (a deleted event's id stays taken).
    changed_at: dict[tuple[str, str], int] = field(default_factory=dict)
    # Conferences still pending: (calendar, event) -> reads left before the outcome.
    pending_reads: dict[tuple[str, str], int] = field(default_factory=dict)
    sequence: int = 0
    # sync token -> (calendar id, the change sequence it was issued at)
    sync_tokens: dict[str, tuple[str, int]] = field(default_factory=dict)
    expired_tokens: set[str] = field(default_factory=set)
    # page token -> the remaining items of a listing and what ends it
    pages: dict[str, tuple[list[dict[str, Any]], str | None]] = field(default_factory=dict)
    channels: dict[str, _Channel] = field(default_factory=dict)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    conference_pending_polls: int = 2
    conference_outcome: str = "success"
    rate_limit: int = 0


class GoogleSandbox(OAuthSandbox):
    provider = "google"
    profile = google_oauth_profile(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, SCOPES, DEMO_ACCESS_TOKEN, DEMO_REFRESH_TOKEN)

    def __init__(self) -> None:
        super().__init__()
        self.cal = self._fresh_state()
        self._outbox: queue.Queue[tuple[_Channel, str, int] | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self.delivered = threading.Condition()
        base = "/calendar/v3"
        calendar = f"{base}/calendars/<calendar_id>"
        self.route(f"{base}/users/me/calendarList", ["GET"], self.api(self.calendar_list))
        self.route(f"{calendar}/events", ["GET"], self.api(self.list_events))
        self.route(f"{calendar}/events", ["POST"], self.api(self.insert_event))
        self.route(f"{calendar}/events/watch", ["POST"], self.api(self.watch))
        self.route(f"{calendar}/events/<event_id>", ["GET"], self.api(self.get_event))
        self.route(f"{calendar}/events/<event_id>", ["PATCH"], self.api(self.patch_event))
        self.route(f"{calendar}/events/<event_id>", ["DELETE"], self.api(self.delete_event))
        self.route(f"{base}/freeBusy", ["POST"], self.api(self.free_busy))
        self.route(f"{base}/channels/stop", ["POST"], self.api(self.stop_channel))
        self.route("/_sandbox/calendar", ["GET", "POST"], self.calendar_control)

    @staticmethod
    def _fresh_state() -> _CalendarState:
        state = _CalendarState()
        state.calendars[PRIMARY] = _Calendar(PRIMARY, "Somos Produtora", "America/Sao_Paulo", "owner", primary=True)
        state.calendars[TEAM] = _Calendar(TEAM, "Equipe", "America/Sao_Paulo", "writer")
        return state

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self.cal = self._fresh_state()

    # ----- errors in Google's format ------------------------------------------------------------
    def google_error(self, status: int, error_reason: str, message: str, domain: str = "global") -> Response:
        status_name = _STATUS.get(status, "UNAVAILABLE" if status >= 500 else "FAILED_PRECONDITION")
        body = {
            "error": {
                "code": status,
                "message": message,
                "errors": [{"message": message, "domain": domain, "reason": error_reason}],
                "status": status_name,
            }
        }
        return json_response(body, status)

    def error_response(self, status: int, message: str | None = None) -> Response:
        reasons = {401: "authError", 403: "forbidden", 404: "notFound", 429: "rateLimitExceeded"}
        domain = "usageLimits" if status == 429 else "global"
        error_reason = reasons.get(status, "backendError" if status >= 500 else "badRequest")
        return self.google_error(status, error_reason, message or reason(status), domain)

    def unauthorized(self) -> Response:
        return self.google_error(401, "authError", "Invalid Credentials")

    def _invalid(self, message: str, error_reason: str = "invalid") -> Response:
        return self.google_error(400, error_reason, message)

    def api(self, handler: Any) -> Any:
        """An API route: bearer token checked, then the rate-limit switch, then the handler."""

        def limited(request: Request, **kwargs: Any) -> Response:
            with self.lock:
                if self.cal.rate_limit > 0:
                    self.cal.rate_limit -= 1
                    return self.google_error(403, "rateLimitExceeded", "Rate Limit Exceeded", "usageLimits")
            return handler(request, **kwargs)

        return self.authorized(limited)

    def _calendar_id(self, raw: str) -> str | None:
        calendar_id = PRIMARY if raw == "primary" else raw
        return calendar_id if calendar_id in self.cal.calendars else None

    # ----- calendarList -------------------------------------------------------------------------
    def calendar_list(self, request: Request, **_: Any) -> Response:
        try:
            limit = int(request.args.get("maxResults", "100"))
        except ValueError:
            return self._invalid("Invalid value for maxResults")
        if not 1 <= limit <= 250:
            return self._invalid("Invalid value for maxResults")
        with self.lock:
            items = [
                {
                    "kind": "calendar#calendarListEntry",
                    "etag": f'"{index}"',
                    "id": c.id,
                    "summary": c.summary,
                    "timeZone": c.time_zone,
                    "accessRole": c.access_role,
                    **({"primary": True} if c.primary else {}),
                }
                for index, c in enumerate(self.cal.calendars.values(), start=1)
            ]
        page_token = request.args.get("pageToken", "0")
        if not page_token.isdigit():
            return self._invalid("Invalid page token value.")
        offset = int(page_token)
        page = items[offset : offset + limit]
        body: dict[str, Any] = {"kind": "calendar#calendarList", "etag": '"p33c"', "items": page}
        if offset + limit < len(items):
            body["nextPageToken"] = str(offset + limit)
        else:
            body["nextSyncToken"] = f"cl-{secrets.token_urlsafe(12)}"
        return json_response(body)

    # ----- events -------------------------------------------------------------------------------
    def _check_times(self, event: dict[str, Any]) -> Response | None:
        moments: list[datetime | str] = []
        for which in ("start", "end"):
            value = event.get(which)
            if not isinstance(value, dict) or not (value.get("date") or value.get("dateTime")):
                return self._invalid(f"Missing {which} time.", "required")
            if value.get("dateTime"):
                moment = _parse_time(value["dateTime"])
                if moment is None:
                    return self._invalid(f"Invalid {which} time.")
                if moment.tzinfo is None:
                    zone = value.get("timeZone")
                    try:
                        moment = moment.replace(tzinfo=ZoneInfo(str(zone)))
                    except (ZoneInfoNotFoundError, ValueError):
                        return self._invalid(f"Missing time zone definition for {which} time.")
                moments.append(moment)
            else:
                moments.append(str(value["date"]))
        start, end = moments
        if isinstance(start, datetime) and isinstance(end, datetime):
            empty = end <= start
        elif isinstance(start, str) and isinstance(end, str):
            empty = end <= start
        else:
            empty = True
        if empty:
            return self._invalid("The specified time range is empty.", "timeRangeEmpty")
        return None

    def insert_event(self, request: Request, calendar_id: str, **_: Any) -> Response:
        body = request.get_json(force=True, silent=True)
        if not isinstance(body, dict):
            return self._invalid("Parse Error", "parseError")
        send_updates = request.args.get("sendUpdates", "false")
        if send_updates not in ("all", "externalOnly", "none", "false"):
            return self._invalid("Invalid value for sendUpdates")
        version = request.args.get("conferenceDataVersion", "0")
        if version not in ("0", "1"):
            return self._invalid("Invalid conference data version.")
        if (error := self._check_times(body)) is not None:
            return error
        event_id = body.get("id")
        if event_id is not None and (not isinstance(event_id, str) or not EVENT_ID.fullmatch(event_id)):
            return self._invalid("Invalid resource id value.")
        with self.lock:
            cid = self._calendar_id(calendar_id)
            if cid is None:
                return self.google_error(404, "notFound", "Not Found")
            if self.cal.calendars[cid].access_role not in ("owner", "writer"):
                return self.google_error(
                    403, "requiredAccessLevel", "You need to have writer access to this calendar.", "calendar"
                )
            event_id = event_id or _base32hex(26)
            if (cid, event_id) in self.cal.events:
                return self.google_error(409, "duplicate", "The requested identifier already exists.")
            event = self._new_event(cid, event_id, body, conference=version == "1")
            self._changed(cid, event_id)
        return json_response(event)

    def _new_event(self, cid: str, event_id: str, body: dict[str, Any], *, conference: bool) -> dict[str, Any]:
        """The event as Google stores it (caller holds the lock)."""
        now = _stamp(_now())
        event: dict[str, Any] = {
            k: v for k, v in body.items() if k not in ("id", "conferenceData", "kind", "etag", "htmlLink")
        }
        event.update(
            {
                "kind": "calendar#event",
                "etag": f'"{time.time_ns()}"',
                "id": event_id,
                "status": body.get("status") or "confirmed",
                "htmlLink": f"https://www.google.com/calendar/event?eid={event_id}",
                "created": now,
                "updated": now,
                "creator": {"email": cid, "self": True},
                "organizer": {"email": cid, "self": True},
                "iCalUID": f"{event_id}@google.com",
                "sequence": 0,
                "reminders": body.get("reminders") or {"useDefault": True},
                "eventType": "default",
            }
        )
        if isinstance(body.get("attendees"), list):
            event["attendees"] = [
                {**a, "responseStatus": a.get("responseStatus", "needsAction")}
                for a in body["attendees"]
                if isinstance(a, dict) and a.get("email")
            ]
        create = (body.get("conferenceData") or {}).get("createRequest") if conference else None
        if isinstance(create, dict) and create.get("requestId"):
            key = create.get("conferenceSolutionKey") or {"type": "hangoutsMeet"}
            event["conferenceData"] = {
                "createRequest": {
                    "requestId": create["requestId"],
                    "conferenceSolutionKey": key,
                    "status": {"statusCode": "pending"},
                }
            }
            self.cal.pending_reads[(cid, event_id)] = self.cal.conference_pending_polls
        self.cal.events[(cid, event_id)] = event
        return event

    def _read(self, cid: str, event_id: str) -> dict[str, Any]:
        """A read of the event: a pending conference comes one read closer to its outcome
        (caller holds the lock)."""
        key = (cid, event_id)
        event = self.cal.events[key]
        if key in self.cal.pending_reads:
            left = self.cal.pending_reads[key]
            if left <= 0:
                del self.cal.pending_reads[key]
                self._settle_conference(event)
            else:
                self.cal.pending_reads[key] = left - 1
        return event

    def _settle_conference(self, event: dict[str, Any]) -> None:
        conference = event["conferenceData"]
        if self.cal.conference_outcome == "failure":
            conference["createRequest"]["status"] = {"statusCode": "failure"}
            return
        code = "-".join(_letters(n) for n in (3, 4, 3))
        conference["createRequest"]["status"] = {"statusCode": "success"}
        conference.update(
            {
                "entryPoints": [
                    {
                        "entryPointType": "video",
                        "uri": f"https://meet.google.com/{code}",
                        "label": f"meet.google.com/{code}",
                    },
                    {"entryPointType": "more", "uri": f"https://tel.meet/{code}?pin=1234567890"},
                ],
                "conferenceSolution": {"key": {"type": "hangoutsMeet"}, "name": "Google Meet"},
                "conferenceId": code,
            }
        )
        event["hangoutLink"] = f"https://meet.google.com/{code}"

    def get_event(self, request: Request, calendar_id: str, event_id: str, **_: Any) -> Response:
        with self.lock:
            cid = self._calendar_id(calendar_id)
            if cid is None or (cid, event_id) not in self.cal.events:
                return self.google_error(404, "notFound", "Not Found")
            return json_response(self._read(cid, event_id))

    def patch_event(self, request: Request, calendar_id: str, event_id: str, **_: Any) -> Response:
        changes = request.get_json(force=True, silent=True)
        if not isinstance(changes, dict):
            return self._invalid("Parse Error", "parseError")
        if request.args.get("sendUpdates", "false") not in ("all", "externalOnly", "none", "false"):
            return self._invalid("Invalid value for sendUpdates")
        with self.lock:
            cid = self._calendar_id(calendar_id)
            if cid is None or (cid, event_id) not in self.cal.events:
                return self.google_error(404, "notFound", "Not Found")
            event = self.cal.events[(cid, event_id)]
            merged = {**event, **{k: v for k, v in changes.items() if k not in ("id", "conferenceData")}}
            if (error := self._check_times(merged)) is not None:
                return error
            self._apply(cid, event_id, changes)
            return json_response(self.cal.events[(cid, event_id)])

    def _apply(self, cid: str, event_id: str, changes: dict[str, Any]) -> None:
        event = self.cal.events[(cid, event_id)]
        for k, v in changes.items():
            if k not in ("id", "conferenceData", "kind", "etag", "created", "iCalUID"):
                event[k] = v
        event["sequence"] = int(event.get("sequence", 0)) + 1
        event["updated"] = _stamp(_now())
        event["etag"] = f'"{time.time_ns()}"'
        self._changed(cid, event_id)

    def delete_event(self, request: Request, calendar_id: str, event_id: str, **_: Any) -> Response:
        if request.args.get("sendUpdates", "false") not in ("all", "externalOnly", "none", "false"):
            return self._invalid("Invalid value for sendUpdates")
        with self.lock:
            cid = self._calendar_id(calendar_id)
            if cid is None or (cid, event_id) not in self.cal.events:
                return self.google_error(404, "notFound", "Not Found")
            if self.cal.events[(cid, event_id)].get("status") == "cancelled":
                return self.google_error(410, "deleted", "Resource has been deleted")
            self._apply(cid, event_id, {"status": "cancelled"})
        return Response(status=204)

    def _changed(self, cid: str, event_id: str) -> None:
        """Record a change and tell the calendar's watchers (caller holds the lock)."""
        self.cal.sequence += 1
        self.cal.changed_at[(cid, event_id)] = self.cal.sequence
        now_ms = int(time.time() * 1000)
        for channel in self.cal.channels.values():
            if channel.calendar_id == cid and not channel.stopped and channel.expiration_ms > now_ms:
                self._notify(channel, "exists")

    # ----- listing and sync ---------------------------------------------------------------------
    def list_events(self, request: Request, calendar_id: str, **_: Any) -> Response:
        args = request.args
        try:
            limit = int(args.get("maxResults", "250"))
        except ValueError:
            return self._invalid("Invalid value for maxResults")
        if not 1 <= limit <= 2500:
            return self._invalid("Invalid value for maxResults")
        sync_token, page_token = args.get("syncToken"), args.get("pageToken")
        if sync_token:
            if args.get("showDeleted") == "false":
                return self._invalid("showDeleted can not be false with syncToken")
            if forbidden := [p for p in SYNC_FORBIDDEN if p in args]:
                return self._invalid(f"{forbidden[0]} is not supported together with syncToken")
        with self.lock:
            cid = self._calendar_id(calendar_id)
            if cid is None:
                return self.google_error(404, "notFound", "Not Found")
            if page_token:
                if page_token not in self.cal.pages:
                    return self._invalid("Invalid page token value.")
                # Page tokens stay valid: a client may ask the same page again after a lost answer.
                remaining, end_sync = self.cal.pages[page_token]
            else:
                since = 0
                if sync_token:
                    if sync_token in self.cal.expired_tokens:
                        return self.google_error(
                            410, "fullSyncRequired", "Sync token is no longer valid, a full sync is required."
                        )
                    issued = self.cal.sync_tokens.get(sync_token)
                    if issued is None or issued[0] != cid:
                        return self._invalid("Invalid sync token value.")
                    since = issued[1]
                show_deleted = bool(sync_token) or args.get("showDeleted") == "true"
                remaining = [
                    self.cal.events[(c, e)]
                    for (c, e), at in sorted(self.cal.changed_at.items(), key=lambda kv: kv[1])
                    if c == cid
                    and at > since
                    and (show_deleted or self.cal.events[(c, e)].get("status") != "cancelled")
                ]
                remaining = [json.loads(json.dumps(item)) for item in remaining]
                end_sync = f"CPD{secrets.token_urlsafe(18)}"
                self.cal.sync_tokens[end_sync] = (cid, self.cal.sequence)
            page, rest = remaining[:limit], remaining[limit:]
            body: dict[str, Any] = {
                "kind": "calendar#events",
                "etag": f'"{self.cal.sequence}"',
                "summary": self.cal.calendars[cid].summary,
                "timeZone": self.cal.calendars[cid].time_zone,
                "updated": _stamp(_now()),
                "items": page,
            }
            if rest:
                next_page = f"EkP{secrets.token_urlsafe(18)}"
                self.cal.pages[next_page] = (rest, end_sync)
                body["nextPageToken"] = next_page
            else:
                body["nextSyncToken"] = end_sync
        return json_response(body)

    # ----- free/busy ----------------------------------------------------------------------------
    def free_busy(self, request: Request, **_: Any) -> Response:
        body = request.get_json(force=True, silent=True)
        if not isinstance(body, dict):
            return self._invalid("Parse Error", "parseError")
        time_min, time_max = _parse_time(body.get("timeMin")), _parse_time(body.get("timeMax"))
        if time_min is None or time_min.tzinfo is None:
            return self._invalid("Missing timeMin." if "timeMin" not in body else "Bad Request", "required")
        if time_max is None or time_max.tzinfo is None:
            return self._invalid("Missing timeMax." if "timeMax" not in body else "Bad Request", "required")
        if time_max <= time_min:
            return self._invalid("The specified time range is empty.", "timeRangeEmpty")
        if time_max - time_min > MAX_FREEBUSY_RANGE:
            return self._invalid("The requested time range is too long.", "timeRangeTooLong")
        try:
            zone = ZoneInfo(str(body.get("timeZone") or "UTC"))
        except (ZoneInfoNotFoundError, ValueError):
            return self._invalid("Invalid time zone definition.", "invalid")
        items = body.get("items")
        if not isinstance(items, list) or not all(isinstance(i, dict) and isinstance(i.get("id"), str) for i in items):
            return self._invalid("Missing items.", "required")
        if len(items) > MAX_FREEBUSY_ITEMS:
            return self._invalid("Too many calendars requested.", "tooManyCalendarsRequested")
        calendars: dict[str, Any] = {}
        with self.lock:
            for item in items:
                raw = item["id"]
                cid = self._calendar_id(raw)
                if cid is None:
                    calendars[raw] = {"errors": [{"domain": "global", "reason": "notFound"}], "busy": []}
                    continue
                calendars[raw] = {"busy": self._busy(cid, time_min, time_max, zone)}
        return json_response(
            {
                "kind": "calendar#freeBusy",
                "timeMin": _stamp(time_min),
                "timeMax": _stamp(time_max),
                "calendars": calendars,
            }
        )

    def _busy(self, cid: str, time_min: datetime, time_max: datetime, zone: ZoneInfo) -> list[dict[str, str]]:
        blocks: list[tuple[datetime, datetime]] = []
        for (c, _), event in self.cal.events.items():
            if c != cid or event.get("status") == "cancelled" or event.get("transparency") == "transparent":
                continue
            start, end = _moment(event.get("start")), _moment(event.get("end"))
            if start is None or end is None or end <= time_min or start >= time_max:
                continue
            blocks.append((max(start, time_min), min(end, time_max)))
        merged: list[tuple[datetime, datetime]] = []
        for start, end in sorted(blocks):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        return [{"start": s.astimezone(zone).isoformat(), "end": e.astimezone(zone).isoformat()} for s, e in merged]

    # ----- push channels ------------------------------------------------------------------------
    def watch(self, request: Request, calendar_id: str, **_: Any) -> Response:
        body = request.get_json(force=True, silent=True)
        if not isinstance(body, dict):
            return self._invalid("Parse Error", "parseError")
        channel_id, address, token = body.get("id"), body.get("address"), body.get("token")
        if not isinstance(channel_id, str) or not CHANNEL_ID.fullmatch(channel_id):
            return self._invalid("Invalid channel id.", "invalid")
        if body.get("type") not in ("web_hook", "webhook"):
            return self._invalid("Invalid channel type.", "invalid")
        if not isinstance(address, str) or not _deliverable(address):
            return self._invalid("WebHook callback must be HTTPS: " + str(address)[:100], "push.webhookUrlNotHttps")
        if token is not None and (not isinstance(token, str) or len(token) > 256):
            return self._invalid("Invalid channel token.", "invalid")
        params = body.get("params") or {}
        ttl_raw = params.get("ttl", str(DEFAULT_TTL)) if isinstance(params, dict) else None
        if not isinstance(ttl_raw, str) or not ttl_raw.isdigit() or int(ttl_raw) <= 0:
            return self._invalid("Invalid ttl value.", "invalid")
        with self.lock:
            cid = self._calendar_id(calendar_id)
            if cid is None:
                return self.google_error(404, "notFound", "Not Found")
            if channel_id in self.cal.channels:
                return self._invalid(f"Channel id {channel_id} not unique", "channelIdNotUnique")
            channel = _Channel(
                id=channel_id,
                calendar_id=cid,
                resource_id=secrets.token_urlsafe(20),
                resource_uri=f"https://www.googleapis.com/calendar/v3/calendars/{quote(cid, safe='@')}/events?alt=json",
                address=address,
                token=token,
                expiration_ms=int(time.time() * 1000) + int(ttl_raw) * 1000,
            )
            self.cal.channels[channel_id] = channel
            self._notify(channel, "sync")
        answer: dict[str, Any] = {
            "kind": "api#channel",
            "id": channel.id,
            "resourceId": channel.resource_id,
            "resourceUri": channel.resource_uri,
            "expiration": str(channel.expiration_ms),
        }
        if token is not None:
            answer["token"] = token
        return json_response(answer)

    def stop_channel(self, request: Request, **_: Any) -> Response:
        body = request.get_json(force=True, silent=True)
        if not isinstance(body, dict) or not body.get("id") or not body.get("resourceId"):
            return self._invalid("Missing channel id or resourceId.", "required")
        with self.lock:
            channel = self.cal.channels.get(str(body["id"]))
            if channel is None or channel.stopped or channel.resource_id != body["resourceId"]:
                return self.google_error(
                    404, "notFound", f"Channel '{body['id']}' not found for project '123456789012'"
                )
            channel.stopped = True
        return Response(status=204)

    def _notify(self, channel: _Channel, state: str) -> None:
        """Queue one notification for the delivery thread (caller holds the lock)."""
        channel.messages += 1
        self._outbox.put((channel, state, channel.messages))
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._deliver_forever, name="google-push", daemon=True)
            self._worker.start()

    def _deliver_forever(self) -> None:
        while True:
            item = self._outbox.get()
            if item is None:
                return
            channel, state, number = item
            expiration = datetime.fromtimestamp(channel.expiration_ms / 1000, UTC)
            headers = {
                "X-Goog-Channel-ID": channel.id,
                "X-Goog-Channel-Expiration": format_datetime(expiration, usegmt=True),
                "X-Goog-Resource-ID": channel.resource_id,
                "X-Goog-Resource-URI": channel.resource_uri,
                "X-Goog-Resource-State": state,
                "X-Goog-Message-Number": str(number),
            }
            if channel.token is not None:
                headers["X-Goog-Channel-Token"] = channel.token
            record: dict[str, Any] = {"channel_id": channel.id, "state": state, "message_number": number}
            try:
                record["status"] = httpx.post(channel.address, content=b"", headers=headers, timeout=10).status_code
            except httpx.HTTPError as exc:
                record["error"] = type(exc).__name__
            with self.delivered:
                self.cal.deliveries.append(record)
                self.delivered.notify_all()

    def wait_for_deliveries(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """The deliveries made so far once there are at least ``count`` (or the timeout passed)."""
        with self.delivered:
            self.delivered.wait_for(lambda: len(self.cal.deliveries) >= count, timeout=timeout)
            return list(self.cal.deliveries)

    # ----- control ------------------------------------------------------------------------------
    def calendar_control(self, request: Request, **_: Any) -> Response:
        if request.method == "POST":
            data = request.get_json(force=True, silent=True) or {}
            with self.lock:
                if "conference_pending_polls" in data:
                    self.cal.conference_pending_polls = max(0, int(data["conference_pending_polls"]))
                if data.get("conference_outcome") in ("success", "failure"):
                    self.cal.conference_outcome = data["conference_outcome"]
                if data.get("expire_sync_tokens"):
                    self.cal.expired_tokens.update(self.cal.sync_tokens)
                if "rate_limit" in data:
                    self.cal.rate_limit = max(0, int(data["rate_limit"]))
                for entry in data.get("add_calendars") or []:
                    if isinstance(entry, dict) and isinstance(entry.get("id"), str) and entry["id"]:
                        self.cal.calendars[entry["id"]] = _Calendar(
                            entry["id"],
                            str(entry.get("summary") or entry["id"]),
                            str(entry.get("timeZone") or "America/Sao_Paulo"),
                            str(entry.get("accessRole") or "reader"),
                        )
                change = data.get("external_change")
                if isinstance(change, dict):
                    made = self._external_change(change)
                    if isinstance(made, Response):
                        return made
        with self.lock:
            return json_response(
                {
                    "events": [dict(e, calendar_id=c) for (c, _), e in self.cal.events.items()],
                    "channels": [
                        {
                            "id": ch.id,
                            "calendar_id": ch.calendar_id,
                            "resource_id": ch.resource_id,
                            "stopped": ch.stopped,
                        }
                        for ch in self.cal.channels.values()
                    ],
                    "deliveries": list(self.cal.deliveries),
                    "conference_pending_polls": self.cal.conference_pending_polls,
                    "conference_outcome": self.cal.conference_outcome,
                }
            )

    def _external_change(self, change: dict[str, Any]) -> dict[str, Any] | Response:
        """An edit made in Google's UI (caller holds the lock)."""
        cid = self._calendar_id(str(change.get("calendar_id") or "primary"))
        if cid is None:
            return self.google_error(404, "notFound", "Not Found")
        action, event_id = change.get("action"), change.get("event_id")
        given = change.get("event")
        fields: dict[str, Any] = given if isinstance(given, dict) else {}
        if action == "create":
            event_id = event_id or _base32hex(26)
            if (cid, event_id) in self.cal.events:
                return self.google_error(409, "duplicate", "The requested identifier already exists.")
            body = {"summary": "Reunião marcada no Google Agenda", **fields}
            if "start" not in body:
                start = (_now() + timedelta(days=1)).replace(microsecond=0)
                body["start"] = {"dateTime": start.isoformat(), "timeZone": "America/Sao_Paulo"}
                body["end"] = {"dateTime": (start + timedelta(hours=1)).isoformat(), "timeZone": "America/Sao_Paulo"}
            if (error := self._check_times(body)) is not None:
                return error
            event = self._new_event(cid, str(event_id), body, conference=False)
            self._changed(cid, str(event_id))
            return event
        if not isinstance(event_id, str) or (cid, event_id) not in self.cal.events:
            return self.google_error(404, "notFound", "Not Found")
        if action == "update":
            self._apply(cid, event_id, fields or {"summary": "Reunião (alterada no Google Agenda)"})
        elif action == "cancel":
            self._apply(cid, event_id, {"status": "cancelled"})
        else:
            return self._invalid("action must be create, update or cancel")
        return self.cal.events[(cid, event_id)]


def _letters(size: int) -> str:
    return "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(size))


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, dict):
        return None
    if value.get("dateTime"):
        moment = _parse_time(value["dateTime"])
        if moment is not None and moment.tzinfo is None:
            try:
                moment = moment.replace(tzinfo=ZoneInfo(str(value.get("timeZone"))))
            except (ZoneInfoNotFoundError, ValueError):
                return None
        return moment
    if value.get("date"):
        try:
            return datetime.fromisoformat(str(value["date"])).replace(tzinfo=UTC)
        except ValueError:
            return None
    return None


def _deliverable(address: str) -> bool:
    """Google posts to HTTPS only; the local cloud's hub listens on loopback http."""
    url = httpx.URL(address)
    return url.scheme == "https" or (url.scheme == "http" and url.host in ("127.0.0.1", "localhost", "::1"))


SANDBOX = GoogleSandbox
DEMO_SECRETS = (
    # The demo org, as if it had connected: a token the sandbox always accepts.
    DemoSecret(
        "google",
        lambda base_url: {
            "base_url": base_url,
            "access_token": DEMO_ACCESS_TOKEN,
            "refresh_token": DEMO_REFRESH_TOKEN,
            "scopes": sorted(SCOPES - {"openid", "email", "profile"}),
            "token_type": "Bearer",
        },
    ),
    # The hub's Google app (not per org), with the sandbox's URLs.
    DemoSecret(
        "google",
        lambda base_url: {
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
            "authorize_url": f"{base_url}/o/oauth2/v2/auth",
            "token_url": f"{base_url}/token",
            "api_base_url": base_url,
        },
        org_id="_apps",
    ),
)
