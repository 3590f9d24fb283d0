"""Google Calendar API v3 (https://developers.google.com/calendar/api/v3/reference) for an org
connected through OAuth. Every fact relied on here, with its doc link, is in README.md.

Writes and retries: an event is inserted under the caller's deterministic id (derived from its
idempotency key), so Google itself refuses a second copy (``409 duplicate``); a lost answer is an
unknown outcome resolved by reading that id back (:meth:`GoogleClient.insert_event`), never by a
blind resend.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hub.errors import (
    AuthenticationError,
    HubError,
    IdempotencyConflictError,
    InvalidRequestError,
    ProviderUnavailableError,
    RateLimitedError,
    SyncTokenExpiredError,
)
from hub.providers.base.client import parse_retry_after
from hub.providers.base.descriptor import OAuthSpec
from hub.providers.base.oauth import OAuthClient
from hub.providers.google import OAUTH

if TYPE_CHECKING:
    import httpx

CALENDAR = "/calendar/v3"
# Event ids we choose: base32hex (lowercase a-v and 0-9), 5 to 1024 characters
# (https://developers.google.com/calendar/api/v3/reference/events#id).
EVENT_ID = re.compile(r"^[a-v0-9]{5,1024}$")
# freeBusy.query answers for at most 50 calendars a request (calendarExpansionMax, maximum 50:
# https://developers.google.com/calendar/api/v3/reference/freebusy/query); long ranges are refused
# (400 timeRangeTooLong), so a range is asked in windows of at most 60 days.
FREEBUSY_MAX_CALENDARS = 50
FREEBUSY_MAX_WINDOW = timedelta(days=60)
# events.list page size: default 250, at most 2500
# (https://developers.google.com/calendar/api/v3/reference/events/list).
EVENTS_PAGE_SIZE = 250
CALENDAR_LIST_PAGE_SIZE = 250
# https://developers.google.com/calendar/api/guides/errors: the usage-limit answers (403 and 429,
# domain usageLimits) are rate limits, not refused credentials.
RATE_LIMIT_REASONS = frozenset(
    {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded", "dailyLimitExceeded", "RESOURCE_EXHAUSTED"}
)
# 403s that refuse this request, not the org's grant (a calendar the user may only read, an
# attendee change only the organizer may make): the integration must stay enabled.
REQUEST_FORBIDDEN_REASONS = frozenset(
    {"requiredAccessLevel", "forbiddenForNonOrganizer", "forbiddenForServiceAccounts", "forbidden"}
)
TRANSIENT_CALENDAR_ERRORS = frozenset({"backendError", "internalError"})
Interval = tuple[datetime, datetime]


def google_error(response: httpx.Response) -> tuple[str, str | None, str | None]:
    """(message, reason, domain) of Google's error body ``{"error": {"code", "message",
    "errors": [{"domain", "reason", "message"}], "status"}}``
    (https://developers.google.com/calendar/api/guides/errors)."""
    try:
        body = response.json()
    except ValueError:
        return (response.text[:300] or response.reason_phrase, None, None)
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return (str(body)[:300], None, None)
    message = str(error.get("message") or response.reason_phrase)[:300]
    reason = domain = None
    errors = error.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        reason = errors[0].get("reason") if isinstance(errors[0].get("reason"), str) else None
        domain = errors[0].get("domain") if isinstance(errors[0].get("domain"), str) else None
    if reason is None and isinstance(error.get("status"), str):
        reason = error["status"]
    return message, reason, domain


def rfc3339(value: datetime, field: str) -> str:
    """An aware datetime as RFC 3339; a naive one is refused (time zones are always explicit)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidRequestError(f"{field} needs a time zone (an aware datetime)", code="validation_error")
    return value.isoformat()


def parse_rfc3339(value: Any, field: str) -> datetime:
    if not isinstance(value, str):
        raise ProviderUnavailableError(f"google answered {field} that is not a time", provider="google")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ProviderUnavailableError(f"google answered {field} that is not RFC 3339", provider="google") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def merge_intervals(intervals: list[Interval]) -> list[Interval]:
    """Sorted, overlapping or touching intervals joined (a busy block split across two windows
    comes back whole)."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def same_start(a: Any, b: Any) -> bool:
    """Two event ``start`` values name the same moment: all-day ``date`` equal, or ``dateTime``
    the same instant (Google may answer another offset than the one sent)."""
    if not isinstance(a, Mapping) or not isinstance(b, Mapping):
        return False
    if a.get("date") or b.get("date"):
        return bool(a.get("date") == b.get("date"))
    try:
        first, second = datetime.fromisoformat(str(a.get("dateTime"))), datetime.fromisoformat(str(b.get("dateTime")))
    except ValueError:
        return False
    if first.tzinfo is None or second.tzinfo is None:
        return first == second and a.get("timeZone") == b.get("timeZone")
    return first == second


def _required(value: str, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequestError(
            f"{field} is required", provider="google", code="validation_error", details={"field": field}
        )
    return value


def _not_found(exc: InvalidRequestError, event_id: str) -> InvalidRequestError:
    return exc.recast(InvalidRequestError, f"google has no event {event_id}", code="event_not_found")


class GoogleClient(OAuthClient):
    provider: ClassVar[str] = "google"
    oauth_spec: ClassVar[OAuthSpec] = OAUTH

    # ----- errors -----------------------------------------------------------------------------
    def error_details(self, response: httpx.Response) -> tuple[str, str | None]:
        message, reason, _ = google_error(response)
        return message, reason

    def classify(self, response: httpx.Response) -> HubError | None:
        status = response.status_code
        if status < 400:
            return None
        message, reason, domain = google_error(response)
        common: dict[str, Any] = {
            "provider": self.provider,
            "http_status": status,
            "code": reason,
            "request_id": self.request_id_of(response),
        }
        if status == 429 or (status == 403 and (reason in RATE_LIMIT_REASONS or domain == "usageLimits")):
            return RateLimitedError(
                f"google asked to slow down ({reason}): {message}",
                retry_after=parse_retry_after(response.headers.get("retry-after")),
                **common,
            )
        if status == 403 and reason in REQUEST_FORBIDDEN_REASONS:
            return InvalidRequestError(f"google refused this request ({reason}): {message}", **common)
        if status == 403:
            # insufficientPermissions (a scope the org did not grant) and the like: the grant.
            return AuthenticationError(f"google answered 403 ({reason}): {message}", **common)
        return super().classify(response)

    # ----- paths ------------------------------------------------------------------------------
    def _calendar(self, calendar_id: str) -> str:
        # Calendar ids hold '@' and sometimes '#' (holiday calendars): path-encoded.
        return self.api_url(f"{CALENDAR}/calendars/{quote(_required(calendar_id, 'calendar_id'), safe='@')}")

    def _event(self, calendar_id: str, event_id: str) -> str:
        return f"{self._calendar(calendar_id)}/events/{quote(_required(event_id, 'event_id'), safe='')}"

    # ----- calendars --------------------------------------------------------------------------
    def list_calendars(self) -> list[dict[str, Any]]:
        """calendarList.list, every page (https://developers.google.com/calendar/api/v3/reference/calendarList/list)."""
        items: list[dict[str, Any]] = []
        for page in self._pages(
            self.api_url(f"{CALENDAR}/users/me/calendarList"),
            {"maxResults": CALENDAR_LIST_PAGE_SIZE},
            "calendarList.list",
        ):
            items.extend(item for item in page.get("items") or [] if isinstance(item, dict))
        return items

    def _pages(self, url: str, params: dict[str, Any], operation: str) -> Iterator[dict[str, Any]]:
        token: str | None = None
        while True:
            query = {**params, **({"pageToken": token} if token else {})}
            page = self.json_object(self.request("GET", url, params=query, operation=operation))
            yield page
            token = page.get("nextPageToken") if isinstance(page.get("nextPageToken"), str) else None
            if not token:
                return

    # ----- events -----------------------------------------------------------------------------
    def insert_event(
        self, calendar_id: str, event: dict[str, Any], *, event_id: str, request_id: str
    ) -> dict[str, Any]:
        """events.insert with a Google Meet conference requested
        (https://developers.google.com/calendar/api/v3/reference/events/insert,
        https://developers.google.com/calendar/api/guides/create-events#conferencing).

        ``event_id`` is the caller's deterministic id: a retry whose first attempt was applied
        gets ``409 duplicate``, and the event already there is answered when it is this request
        (same summary and start), else IdempotencyConflictError ``event_id_taken``. A timeout
        after sending is an OutcomeUnknownError; the same key again reads the id back first."""
        if not isinstance(event_id, str) or not EVENT_ID.fullmatch(event_id):
            raise InvalidRequestError(
                "event_id must be 5-1024 characters of base32hex (a-v, 0-9)",
                code="validation_error",
                details={"field": "event_id"},
            )
        _required(request_id, "request_id")
        if (
            not isinstance(event, dict)
            or not isinstance(event.get("start"), dict)
            or not isinstance(event.get("end"), dict)
        ):
            raise InvalidRequestError(
                "event needs start and end objects", code="validation_error", details={"field": "event"}
            )
        url = f"{self._calendar(calendar_id)}/events"
        body = {
            **event,
            "id": event_id,
            "conferenceData": {
                "createRequest": {"requestId": request_id, "conferenceSolutionKey": {"type": "hangoutsMeet"}}
            },
        }

        def send() -> dict[str, Any]:
            try:
                response = self.request(
                    "POST",
                    url,
                    json=body,
                    params={"conferenceDataVersion": 1, "sendUpdates": "all"},
                    operation="events.insert",
                    effect=True,
                )
            except InvalidRequestError as exc:
                if exc.http_status == 409:
                    # Already there: the first attempt's answer was lost (or the id is taken).
                    found = self._existing(calendar_id, event_id, event)
                    if found is not None:
                        return found
                raise
            return self.json_object(response)

        return self.effect(send, find=lambda _since: self._existing(calendar_id, event_id, event))

    def _existing(self, calendar_id: str, event_id: str, event: Mapping[str, Any]) -> dict[str, Any] | None:
        """The event under ``event_id`` if it is this request's; None when there is none;
        IdempotencyConflictError when another event holds the id."""
        try:
            found = self.get_event(calendar_id, event_id)
        except InvalidRequestError as exc:
            if exc.code == "event_not_found":
                return None
            raise
        if found.get("summary") == event.get("summary") and same_start(found.get("start"), event.get("start")):
            return found
        raise IdempotencyConflictError(
            "another event already holds this event id (the idempotency key was used for another event)",
            provider=self.provider,
            http_status=409,
            code="event_id_taken",
            details={"event_id": event_id},
        )

    def get_event(self, calendar_id: str, event_id: str) -> dict[str, Any]:
        """events.get (https://developers.google.com/calendar/api/v3/reference/events/get); an
        unknown or deleted-for-good event (404/410) is InvalidRequestError ``event_not_found``."""
        url = self._event(calendar_id, event_id)
        try:
            response = self.request("GET", url, operation="events.get")
        except InvalidRequestError as exc:
            if exc.http_status in (404, 410):
                raise exc.recast(
                    InvalidRequestError, f"google has no event {event_id}", code="event_not_found"
                ) from exc
            raise
        return self.json_object(response)

    def patch_event(self, calendar_id: str, event_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """events.patch: only the fields in ``changes``
        (https://developers.google.com/calendar/api/v3/reference/events/patch). The same changes
        applied twice leave the same event, so a retry is safe."""
        if not isinstance(changes, dict) or not changes:
            raise InvalidRequestError("changes must name at least one field", code="validation_error")
        url = self._event(calendar_id, event_id)
        try:
            response = self.request(
                "PATCH",
                url,
                json=changes,
                params={"conferenceDataVersion": 1, "sendUpdates": "all"},
                operation="events.patch",
            )
        except InvalidRequestError as exc:
            if exc.http_status in (404, 410):
                raise exc.recast(
                    InvalidRequestError, f"google has no event {event_id}", code="event_not_found"
                ) from exc
            raise
        return self.json_object(response)

    def cancel_event(self, calendar_id: str, event_id: str) -> None:
        """events.delete with the attendees told
        (https://developers.google.com/calendar/api/v3/reference/events/delete); an event already
        deleted (410 ``deleted``) is the same outcome: success."""
        url = self._event(calendar_id, event_id)
        try:
            self.request("DELETE", url, params={"sendUpdates": "all"}, operation="events.delete")
        except InvalidRequestError as exc:
            if exc.http_status == 410:
                return
            if exc.http_status == 404:
                raise exc.recast(
                    InvalidRequestError, f"google has no event {event_id}", code="event_not_found"
                ) from exc
            raise

    def list_events(
        self, calendar_id: str, *, sync_token: str | None = None, page_token: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None, str | None]:
        """One page of events.list (https://developers.google.com/calendar/api/v3/reference/events/list,
        https://developers.google.com/calendar/api/guides/sync): ``(items, next_page_token,
        next_sync_token)``; the sync token comes on the last page only. With ``sync_token`` only
        what changed since (cancelled events included); ``410 Gone`` → SyncTokenExpiredError."""
        params: dict[str, Any] = {"singleEvents": "true", "showDeleted": "true", "maxResults": EVENTS_PAGE_SIZE}
        if sync_token:
            params["syncToken"] = sync_token
        if page_token:
            params["pageToken"] = page_token
        url = f"{self._calendar(calendar_id)}/events"
        try:
            response = self.request("GET", url, params=params, operation="events.list")
        except InvalidRequestError as exc:
            if exc.http_status == 410:
                raise exc.recast(
                    SyncTokenExpiredError,
                    "google no longer accepts this sync token: run a full sync",
                    code="sync_token_expired",
                ) from exc
            raise
        page = self.json_object(response)
        items = [item for item in page.get("items") or [] if isinstance(item, dict)]
        next_page = page.get("nextPageToken") if isinstance(page.get("nextPageToken"), str) else None
        next_sync = page.get("nextSyncToken") if isinstance(page.get("nextSyncToken"), str) else None
        return items, next_page, next_sync

    # ----- free/busy --------------------------------------------------------------------------
    def free_busy(
        self, calendar_ids: list[str], time_min: datetime, time_max: datetime, time_zone: str
    ) -> dict[str, list[Interval]]:
        """freeBusy.query (https://developers.google.com/calendar/api/v3/reference/freebusy/query):
        the busy intervals of every calendar in ``[time_min, time_max)``, asked in requests of at
        most 50 calendars and 60 days, joined back. A calendar Google reports an error for (not
        found, no access) raises: an unknown calendar is not a free one."""
        ids = list(dict.fromkeys(calendar_ids or []))
        if not ids or not all(isinstance(i, str) and i for i in ids):
            raise InvalidRequestError("calendar_ids must name at least one calendar", code="validation_error")
        rfc3339(time_min, "time_min")
        rfc3339(time_max, "time_max")
        if time_max <= time_min:
            raise InvalidRequestError("time_max must be after time_min", code="validation_error")
        try:
            ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise InvalidRequestError(
                "time_zone must be an IANA zone (e.g. America/Sao_Paulo)", code="validation_error"
            ) from None
        busy: dict[str, list[Interval]] = {i: [] for i in ids}
        url = self.api_url(f"{CALENDAR}/freeBusy")
        window_start = time_min
        while window_start < time_max:
            window_end = min(window_start + FREEBUSY_MAX_WINDOW, time_max)
            for first in range(0, len(ids), FREEBUSY_MAX_CALENDARS):
                chunk = ids[first : first + FREEBUSY_MAX_CALENDARS]
                body = {
                    "timeMin": rfc3339(window_start, "time_min"),
                    "timeMax": rfc3339(window_end, "time_max"),
                    "timeZone": time_zone,
                    "items": [{"id": i} for i in chunk],
                }
                answer = self.json_object(
                    self.request("POST", url, json=body, operation="freeBusy.query", effect=False)
                )
                self._collect_busy(answer, chunk, busy)
            window_start = window_end
        return {i: merge_intervals(intervals) for i, intervals in busy.items()}

    def _collect_busy(self, answer: dict[str, Any], chunk: list[str], busy: dict[str, list[Interval]]) -> None:
        calendars = answer.get("calendars")
        if not isinstance(calendars, dict):
            raise ProviderUnavailableError("google answered freeBusy without calendars", provider=self.provider)
        for calendar_id in chunk:
            entry = calendars.get(calendar_id)
            if not isinstance(entry, dict):
                raise ProviderUnavailableError(
                    "google answered freeBusy without one of the calendars asked", provider=self.provider
                )
            errors = [e for e in entry.get("errors") or [] if isinstance(e, dict)]
            if errors:
                reason = str(errors[0].get("reason") or "unknown")
                error_class: Callable[..., HubError] = (
                    ProviderUnavailableError if reason in TRANSIENT_CALENDAR_ERRORS else InvalidRequestError
                )
                raise error_class(
                    f"google could not report free/busy for a calendar ({reason})",
                    provider=self.provider,
                    code=f"freebusy_{reason}",
                    details={"calendar_id": calendar_id, "reasons": [str(e.get("reason")) for e in errors]},
                )
            for block in entry.get("busy") or []:
                if isinstance(block, dict):
                    busy[calendar_id].append(
                        (parse_rfc3339(block.get("start"), "busy.start"), parse_rfc3339(block.get("end"), "busy.end"))
                    )

    # ----- push channels ----------------------------------------------------------------------
    def watch_events(
        self, calendar_id: str, *, channel_id: str, token: str, address: str, ttl_seconds: int
    ) -> dict[str, Any]:
        """events.watch: a web_hook channel on the calendar's events
        (https://developers.google.com/calendar/api/v3/reference/events/watch,
        https://developers.google.com/calendar/api/guides/push). Answers the channel: ``id``,
        ``resourceId`` (needed to stop it), ``resourceUri``, ``expiration`` (ms since the epoch)."""
        _required(channel_id, "channel_id")
        _required(token, "token")
        if not isinstance(address, str) or not address.startswith(("https://", "http://")):
            # Google delivers to HTTPS addresses only (its sandbox also takes the local cloud's
            # loopback http route): the scheme is checked there, the URL's presence here.
            raise InvalidRequestError("address must be the URL notifications are posted to", code="validation_error")
        if isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, int) or ttl_seconds <= 0:
            raise InvalidRequestError("ttl_seconds must be a positive number of seconds", code="validation_error")
        body = {
            "id": channel_id,
            "type": "web_hook",
            "address": address,
            "token": token,
            "params": {"ttl": str(ttl_seconds)},
        }
        response = self.request(
            "POST", f"{self._calendar(calendar_id)}/events/watch", json=body, operation="events.watch"
        )
        channel = self.json_object(response)
        if not isinstance(channel.get("resourceId"), str):
            raise ProviderUnavailableError("google answered a channel without resourceId", provider=self.provider)
        return channel

    def stop_channel(self, channel_id: str, resource_id: str) -> None:
        """channels.stop (https://developers.google.com/calendar/api/v3/reference/channels/stop);
        a channel Google no longer knows (404: expired or stopped before) is stopped."""
        body = {"id": _required(channel_id, "channel_id"), "resourceId": _required(resource_id, "resource_id")}
        try:
            self.request("POST", self.api_url(f"{CALENDAR}/channels/stop"), json=body, operation="channels.stop")
        except InvalidRequestError as exc:
            if exc.http_status != 404:
                raise

    # ----- health -----------------------------------------------------------------------------
    def health_check(self) -> None:
        # The cheapest call the granted scopes allow: one calendar of the user's list.
        # https://developers.google.com/calendar/api/v3/reference/calendarList/list
        self.request(
            "GET", self.api_url(f"{CALENDAR}/users/me/calendarList"), params={"maxResults": 1}, operation="health"
        )


def expiration_of(channel: Mapping[str, Any]) -> datetime | None:
    """A channel's ``expiration`` (milliseconds since the epoch, a string in Google's JSON) as a
    datetime; None when absent."""
    value = channel.get("expiration")
    try:
        millis = int(str(value))
    except (TypeError, ValueError):
        return None
    return datetime.fromtimestamp(millis / 1000, UTC)
