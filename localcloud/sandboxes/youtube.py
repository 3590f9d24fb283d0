"""YouTube sandbox (Google's OAuth2, Data API v3, the resumable upload host and Analytics v2),
mounted at ``/youtube``. Paths as on Google's hosts: ``/o/oauth2/v2/auth`` (accounts.google.com),
``/token`` (oauth2.googleapis.com), ``/youtube/v3/...`` and ``/upload/youtube/v3/videos``
(www.googleapis.com), ``/v2/reports`` (youtubeanalytics.googleapis.com). OAuth behaves as the
google sandbox's (:mod:`localcloud.sandboxes.oauth_server`): PKCE S256 optional, refresh tokens
that do not rotate, 1-hour access tokens.

What it enforces, as YouTube documents it (links in layers/hub/hub/providers/youtube/README.md):

* resumable sessions: ``POST /upload/youtube/v3/videos?uploadType=resumable&part=…`` with a JSON
  video resource (title ≤ 100 characters, description ≤ 5000 bytes, neither with < or >, a
  known privacyStatus), ``X-Upload-Content-Length`` and a ``video/*`` or
  ``application/octet-stream`` ``X-Upload-Content-Type`` → 200 + ``Location`` (the session URI).
  ``PUT`` chunks with ``Content-Range: bytes a-b/total`` starting at the first byte the session
  lacks, each a multiple of 256 KiB except the last → ``308`` with ``Range: bytes=0-n`` (no
  ``Range`` while it holds nothing), then ``201`` with the video. ``Content-Range: bytes */total``
  with an empty body asks where it stands. An unknown session is 404;
* quota per project (all orgs together): ``search.list`` and ``videos.insert`` 100 calls a day
  each, 10,000 units for the rest (``channels/videos/playlistItems.list`` 1 unit; every request,
  even an invalid one, costs its unit) → ``403 quotaExceeded`` once spent;
* the "unaudited project" switch: uploads come out ``private`` whatever was asked;
* channels (``mine=true`` or ``id``), videos, search and the uploads playlist; Analytics reports
  per day (``dimensions=day``) and per video (``dimensions=video`` with ``filters=video==…``).

Control: ``POST /youtube/_sandbox/youtube`` with any of ``{"unaudited": bool, "quota": {"units":
N, "videos.insert": N, "search.list": N}, "reset_quota": true, "interrupt": {"after_bytes": N,
"mode": "drop" | "error", "status": 503}}`` (an interruption fires once: the chunk that crosses
``after_bytes`` is stored up to it, then the connection drops or the error answers); ``GET``
answers the counters: quota used, sessions (bytes received, sha256 of what was stored, status
queries, chunks) and videos. The shared faults (``PUT /__sandbox/faults/youtube``) work as for
every sandbox. API errors in Google's format ``{"error": {"code", "message", "errors": [{"message",
"domain", "reason"}], "status"}}`` (https://developers.google.com/youtube/v3/docs/errors).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from werkzeug.wrappers import Request, Response

from localcloud.sandboxes.base import DemoSecret, _drop_connection, json_response, reason
from localcloud.sandboxes.google import google_oauth_profile
from localcloud.sandboxes.oauth_server import OAuthSandbox

DEMO_CLIENT_ID = "123456789012-demo.apps.googleusercontent.com"
DEMO_CLIENT_SECRET = "GOCSPX-demo-youtube-client-secret"
DEMO_ACCESS_TOKEN = "ya29.demo-youtube-access-token"
DEMO_REFRESH_TOKEN = "1//demo-youtube-refresh-token"
SCOPES = frozenset(
    {
        "https://www.googleapis.com/auth/youtube.upload",
        "https://www.googleapis.com/auth/youtube.readonly",
        "https://www.googleapis.com/auth/yt-analytics.readonly",
        "https://www.googleapis.com/auth/youtube",
    }
)
CHANNEL_ID = "UCsomosProdutora0000demo"
CHANNEL_TITLE = "Somos Produtora"
UPLOADS_PLAYLIST = "UU" + CHANNEL_ID[2:]
QUANTUM = 256 * 1024
PRIVACY = ("public", "unlisted", "private")
VIDEO_PARTS = frozenset(
    {"snippet", "status", "contentDetails", "fileDetails", "liveStreamingDetails", "localizations", "player"}
    | {"processingDetails", "recordingDetails", "statistics", "suggestions", "topicDetails", "id"}
)
DEFAULT_QUOTA = {"units": 10_000, "videos.insert": 100, "search.list": 100}
_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND"}
_RANGE = re.compile(r"^bytes (?:(\d+)-(\d+)|\*)/(\d+)$")


@dataclass
class _Session:
    total: int
    resource: dict[str, Any]
    content_type: str
    received: int = 0
    digest: Any = field(default_factory=hashlib.sha256)
    chunks: int = 0
    status_queries: int = 0
    video_id: str | None = None


@dataclass
class _Interrupt:
    after_bytes: int
    mode: str = "drop"
    status: int = 503


@dataclass
class _YouTube:
    quota_limits: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_QUOTA))
    used: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DEFAULT_QUOTA, 0))
    unaudited: bool = False
    interrupt: _Interrupt | None = None
    sessions: dict[str, _Session] = field(default_factory=dict)
    videos: dict[str, dict[str, Any]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)  # video ids, oldest first
    interruptions: int = 0


class YouTubeSandbox(OAuthSandbox):
    provider = "youtube"
    profile = google_oauth_profile(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, SCOPES, DEMO_ACCESS_TOKEN, DEMO_REFRESH_TOKEN)

    def __init__(self) -> None:
        super().__init__()
        self.yt = _YouTube()
        self.route("/upload/youtube/v3/videos", ["POST"], self.authorized(self.open_session))
        self.route("/upload/youtube/v3/videos", ["PUT"], self.authorized(self.upload))
        self.route("/youtube/v3/channels", ["GET"], self.authorized(self.channels))
        self.route("/youtube/v3/videos", ["GET"], self.authorized(self.videos))
        self.route("/youtube/v3/search", ["GET"], self.authorized(self.search))
        self.route("/youtube/v3/playlistItems", ["GET"], self.authorized(self.playlist_items))
        self.route("/v2/reports", ["GET"], self.authorized(self.reports))
        self.route("/_sandbox/youtube", ["GET", "POST"], self.youtube_control)

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self.yt = _YouTube()

    # ----- errors ------------------------------------------------------------------------------
    def google_error(self, status: int, error_reason: str, message: str, domain: str = "youtube") -> Response:
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
        return self.google_error(
            status, reasons.get(status, "backendError" if status >= 500 else "badRequest"), message or reason(status)
        )

    def unauthorized(self) -> Response:
        return self.google_error(401, "authError", "Request had invalid authentication credentials.", "global")

    # ----- quota -------------------------------------------------------------------------------
    def _charge(self, bucket: str, cost: int = 1) -> Response | None:
        """Take ``cost`` from ``bucket`` (``units``, ``videos.insert``, ``search.list``); 403
        quotaExceeded once it is spent (caller holds the lock)."""
        limit = self.yt.quota_limits.get(bucket, 0)
        if self.yt.used.get(bucket, 0) + cost > limit:
            return self.google_error(
                403,
                "quotaExceeded",
                "The request cannot be completed because you have exceeded your "
                '<a href="/youtube/v3/getting-started#quota">quota</a>.',
                "youtube.quota",
            )
        self.yt.used[bucket] = self.yt.used.get(bucket, 0) + cost
        return None

    # ----- uploads -----------------------------------------------------------------------------
    def open_session(self, request: Request, **_: Any) -> Response:
        with self.lock:
            if (spent := self._charge("videos.insert")) is not None:
                return spent
        if request.args.get("uploadType") != "resumable":
            return self.google_error(400, "invalidParameter", "uploadType must be resumable here", "global")
        parts = {p for p in request.args.get("part", "").split(",") if p}
        if not parts or not parts <= VIDEO_PARTS:
            return self.google_error(400, "unexpectedPart", f"Unexpected part: {request.args.get('part', '')!r}")
        if not (request.headers.get("Content-Type") or "").startswith("application/json"):
            return self.google_error(400, "badContent", "The video resource must be application/json", "global")
        length = request.headers.get("X-Upload-Content-Length", "")
        if not length.isdigit() or int(length) <= 0:
            return self.google_error(400, "badContent", "X-Upload-Content-Length must be the file's size", "global")
        content_type = request.headers.get("X-Upload-Content-Type", "")
        if not (content_type.startswith("video/") or content_type == "application/octet-stream"):
            return self.google_error(400, "invalidContentType", "Media type not supported: " + content_type, "global")
        try:
            resource = json.loads(request.get_data(as_text=True) or "{}")
        except ValueError:
            return self.google_error(400, "parseError", "Parse Error", "global")
        if (problem := _check_video(resource)) is not None:
            return self.google_error(400, *problem)
        upload_id = secrets.token_urlsafe(24)
        with self.lock:
            self.yt.sessions[upload_id] = _Session(int(length), resource, content_type)
        location = f"{request.base_url}?uploadType=resumable&upload_id={upload_id}&part={request.args.get('part')}"
        return Response(status=200, headers={"Location": location, "Content-Length": "0"})

    def upload(self, request: Request, **_: Any) -> Response:
        upload_id = request.args.get("upload_id", "")
        data = request.get_data(cache=True)
        with self.lock:
            session = self.yt.sessions.get(upload_id)
            if session is None:
                return self.google_error(404, "notFound", "The upload session was not found or has expired", "global")
            match = _RANGE.match(request.headers.get("Content-Range", ""))
            if match is None:
                return self.google_error(400, "badContent", "Content-Range must be bytes a-b/total or bytes */total")
            first, last, total = match.group(1), match.group(2), int(match.group(3))
            if total != session.total:
                return self.google_error(400, "badContent", f"The total size must stay {session.total}")
            if first is None:  # a status query
                if data:
                    return self.google_error(400, "badContent", "A status query has an empty body")
                session.status_queries += 1
                return self._session_state(session)
            if session.video_id is not None:
                return self._session_state(session)
            start, end = int(first), int(last)
            if start != session.received:
                return self.google_error(
                    400, "badContent", f"The chunk must start at byte {session.received}, not {start}"
                )
            if end < start or end >= total or len(data) != end - start + 1:
                return self.google_error(400, "badContent", "Content-Range does not match the body's length")
            if end != total - 1 and len(data) % QUANTUM:
                return self.google_error(
                    400, "badContent", "Chunks must be a multiple of 256 KiB (262144 bytes), except the last"
                )
            interrupt = self.yt.interrupt
            if interrupt is not None and session.received + len(data) > interrupt.after_bytes:
                # The chunk that crosses the switch: stored up to it, then the transfer breaks.
                keep = max(0, interrupt.after_bytes - session.received)
                session.digest.update(data[:keep])
                session.received += keep
                self.yt.interrupt = None
                self.yt.interruptions += 1
                mode, status = interrupt.mode, interrupt.status
            else:
                session.digest.update(data)
                session.received += len(data)
                session.chunks += 1
                mode, status = "", 0
                if session.received == total:
                    self._finish(session)
            if not mode:
                return self._session_state(session)
        if mode == "drop":
            _drop_connection(request.environ)
            return Response(status=503)  # never delivered: the socket is reset
        return self.error_response(status, "Backend Error")

    def _session_state(self, session: _Session) -> Response:
        if session.video_id is not None:
            return json_response(self.yt.videos[session.video_id], 201)
        headers = {"Content-Length": "0"}
        if session.received:
            headers["Range"] = f"bytes=0-{session.received - 1}"
        return Response(status=308, headers=headers)

    def _finish(self, session: _Session) -> None:
        video_id = secrets.token_urlsafe(8)[:11]
        snippet = session.resource.get("snippet") or {}
        status = session.resource.get("status") or {}
        privacy = "private" if self.yt.unaudited else status.get("privacyStatus", "public")
        self.yt.videos[video_id] = {
            "kind": "youtube#video",
            "etag": secrets.token_urlsafe(12),
            "id": video_id,
            "snippet": {
                "publishedAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "channelId": CHANNEL_ID,
                "title": snippet.get("title"),
                "description": snippet.get("description", ""),
                "categoryId": snippet.get("categoryId", "22"),
                "channelTitle": CHANNEL_TITLE,
            },
            "status": {
                "uploadStatus": "uploaded",
                "privacyStatus": privacy,
                "license": "youtube",
                "embeddable": True,
                "publicStatsViewable": True,
                "madeForKids": bool(status.get("selfDeclaredMadeForKids", False)),
                "selfDeclaredMadeForKids": bool(status.get("selfDeclaredMadeForKids", False)),
            },
            "statistics": {"viewCount": "0", "likeCount": "0", "favoriteCount": "0", "commentCount": "0"},
        }
        self.yt.order.append(video_id)
        session.video_id = video_id

    # ----- Data API reads ----------------------------------------------------------------------
    def channels(self, request: Request, **_: Any) -> Response:
        with self.lock:
            if (spent := self._charge("units")) is not None:
                return spent
        ids = [i for i in request.args.get("id", "").split(",") if i]
        if request.args.get("mine") != "true" and not ids:
            return self.google_error(400, "missingRequiredParameter", "No filter selected: give mine or id")
        if not request.args.get("part"):
            return self.google_error(400, "missingRequiredParameter", "No part given", "global")
        items = []
        if request.args.get("mine") == "true" or CHANNEL_ID in ids:
            items.append(
                {
                    "kind": "youtube#channel",
                    "id": CHANNEL_ID,
                    "snippet": {"title": CHANNEL_TITLE, "customUrl": "@somosprodutora"},
                    "contentDetails": {"relatedPlaylists": {"likes": "", "uploads": UPLOADS_PLAYLIST}},
                }
            )
        return json_response(
            {"kind": "youtube#channelListResponse", "pageInfo": {"totalResults": len(items)}, "items": items}
        )

    def videos(self, request: Request, **_: Any) -> Response:
        with self.lock:
            if (spent := self._charge("units")) is not None:
                return spent
            ids = [i for i in request.args.get("id", "").split(",") if i]
            if not ids:
                return self.google_error(400, "missingRequiredParameter", "No filter selected: give id")
            parts = {p for p in request.args.get("part", "").split(",") if p}
            if not parts or not parts <= VIDEO_PARTS:
                return self.google_error(400, "unexpectedPart", f"Unexpected part: {request.args.get('part', '')!r}")
            items = [_only(self.yt.videos[i], parts) for i in ids if i in self.yt.videos]
        return json_response(
            {"kind": "youtube#videoListResponse", "pageInfo": {"totalResults": len(items)}, "items": items}
        )

    def search(self, request: Request, **_: Any) -> Response:
        with self.lock:
            if (spent := self._charge("search.list")) is not None:
                return spent
            q = request.args.get("q", "").lower()
            found = [
                self.yt.videos[i]
                for i in reversed(self.yt.order)
                if q in str(self.yt.videos[i]["snippet"]["title"]).lower()
            ]
            found = [v for v in found if v["status"]["privacyStatus"] == "public"]
        items = [
            {
                "kind": "youtube#searchResult",
                "id": {"kind": "youtube#video", "videoId": v["id"]},
                "snippet": v["snippet"],
            }
            for v in found[: int(request.args.get("maxResults", "5"))]
        ]
        return json_response(
            {"kind": "youtube#searchListResponse", "pageInfo": {"totalResults": len(found)}, "items": items}
        )

    def playlist_items(self, request: Request, **_: Any) -> Response:
        with self.lock:
            if (spent := self._charge("units")) is not None:
                return spent
            if request.args.get("playlistId") != UPLOADS_PLAYLIST:
                return self.google_error(
                    404,
                    "playlistNotFound",
                    "The playlist identified with the request's playlistId parameter cannot be found.",
                )
            newest = list(reversed(self.yt.order))[: int(request.args.get("maxResults", "5"))]
            items = [
                {
                    "kind": "youtube#playlistItem",
                    "id": f"pli-{vid}",
                    "snippet": {
                        **{
                            k: self.yt.videos[vid]["snippet"][k]
                            for k in ("publishedAt", "channelId", "title", "description")
                        },
                        "playlistId": UPLOADS_PLAYLIST,
                        "position": position,
                        "resourceId": {"kind": "youtube#video", "videoId": vid},
                    },
                    "status": {"privacyStatus": self.yt.videos[vid]["status"]["privacyStatus"]},
                }
                for position, vid in enumerate(newest)
            ]
        return json_response(
            {"kind": "youtube#playlistItemListResponse", "pageInfo": {"totalResults": len(items)}, "items": items}
        )

    # ----- Analytics ---------------------------------------------------------------------------
    def reports(self, request: Request, **_: Any) -> Response:
        args = request.args
        if args.get("ids") not in ("channel==MINE", f"channel=={CHANNEL_ID}"):
            return self.google_error(403, "forbidden", "Forbidden", "global")
        try:
            start = date.fromisoformat(args.get("startDate", ""))
            end = date.fromisoformat(args.get("endDate", ""))
        except ValueError:
            return self.google_error(400, "invalid", "startDate and endDate must be YYYY-MM-DD", "global")
        metrics = [m for m in args.get("metrics", "").split(",") if m]
        if not metrics:
            return self.google_error(400, "required", "Required metrics", "global")
        if end < start:
            return self.google_error(400, "invalid", "The start date must be before the end date", "global")
        dimensions = args.get("dimensions", "")
        headers = [{"name": dimensions, "columnType": "DIMENSION", "dataType": "STRING"}] if dimensions else []
        headers += [{"name": m, "columnType": "METRIC", "dataType": _data_type(m)} for m in metrics]
        rows: list[list[Any]] = []
        if dimensions == "day":
            # Data until yesterday (Pacific), as YouTube's reports lag a day or more.
            last = min(end, datetime.now(UTC).date() - timedelta(days=1))
            day = start
            while day <= last:
                rows.append([day.isoformat(), *(_figure(m, day.toordinal()) for m in metrics)])
                day += timedelta(days=1)
        elif dimensions == "video":
            filters = args.get("filters", "")
            if not filters.startswith("video=="):
                return self.google_error(400, "invalid", "The video dimension needs filters=video==…", "global")
            if not args.get("sort") or not args.get("maxResults"):
                return self.google_error(400, "required", "Top-video reports need sort and maxResults", "global")
            with self.lock:
                wanted = [v for v in filters[len("video==") :].split(",") if v in self.yt.videos]
            for vid in wanted:
                seed = int(hashlib.sha256(vid.encode()).hexdigest()[:6], 16)
                rows.append([vid, *(_figure(m, seed) for m in metrics)])
        elif dimensions:
            return self.google_error(400, "invalid", f"Unknown dimension {dimensions!r}", "global")
        return json_response({"kind": "youtubeAnalytics#resultTable", "columnHeaders": headers, "rows": rows})

    # ----- control -----------------------------------------------------------------------------
    def youtube_control(self, request: Request, **_: Any) -> Response:
        with self.lock:
            if request.method == "POST":
                data = request.get_json(force=True, silent=True) or {}
                if "unaudited" in data:
                    self.yt.unaudited = bool(data["unaudited"])
                if isinstance(data.get("quota"), dict):
                    self.yt.quota_limits.update({k: int(v) for k, v in data["quota"].items() if k in DEFAULT_QUOTA})
                if data.get("reset_quota"):
                    self.yt.used = dict.fromkeys(DEFAULT_QUOTA, 0)
                if "interrupt" in data:
                    spec = data["interrupt"]
                    self.yt.interrupt = (
                        _Interrupt(
                            int(spec["after_bytes"]), str(spec.get("mode", "drop")), int(spec.get("status", 503))
                        )
                        if spec
                        else None
                    )
            return json_response(
                {
                    "quota": {"limits": self.yt.quota_limits, "used": self.yt.used},
                    "unaudited": self.yt.unaudited,
                    "interruptions": self.yt.interruptions,
                    "sessions": [
                        {
                            "total": s.total,
                            "received": s.received,
                            "sha256": s.digest.hexdigest(),
                            "chunks": s.chunks,
                            "status_queries": s.status_queries,
                            "video_id": s.video_id,
                            "title": (s.resource.get("snippet") or {}).get("title"),
                        }
                        for s in self.yt.sessions.values()
                    ],
                    "videos": [self.yt.videos[i] for i in self.yt.order],
                    "time": time.time(),
                }
            )


def _check_video(resource: Any) -> tuple[str, str] | None:
    """(reason, message) of what videos.insert refuses in the resource, or None."""
    if not isinstance(resource, dict):
        return ("invalidVideoMetadata", "The request metadata is invalid.")
    snippet = resource.get("snippet")
    status = resource.get("status") or {}
    if not isinstance(snippet, dict) or not isinstance(snippet.get("title"), str) or not snippet["title"].strip():
        return ("invalidTitle", "The request metadata specifies an invalid or empty video title.")
    title = snippet["title"]
    if len(title) > 100 or "<" in title or ">" in title:
        return ("invalidTitle", "The request metadata specifies an invalid video title.")
    description = snippet.get("description", "")
    if not isinstance(description, str) or len(description.encode()) > 5000 or "<" in description or ">" in description:
        return ("invalidDescription", "The request metadata specifies an invalid video description.")
    if not isinstance(status, dict) or status.get("privacyStatus", "public") not in PRIVACY:
        return ("invalidVideoMetadata", "The request metadata specifies an invalid privacy status.")
    return None


def _only(video: dict[str, Any], parts: set[str]) -> dict[str, Any]:
    return {k: v for k, v in video.items() if k in ("kind", "etag", "id") or k in parts}


def _data_type(metric: str) -> str:
    return "FLOAT" if metric in ("averageViewPercentage",) else "INTEGER"


def _figure(metric: str, seed: int) -> int | float:
    """A stable made-up figure for ``metric`` (the same day or video always answers the same)."""
    base = (seed * 2654435761) % 997
    if metric == "averageViewPercentage":
        return round(20 + (base % 600) / 10, 1)
    return {"views": base + 10, "estimatedMinutesWatched": base * 3 + 5, "averageViewDuration": 40 + base % 200}.get(
        metric, base % 37
    )


SANDBOX = YouTubeSandbox
DEMO_SECRETS = (
    # The demo org, as if it had connected its channel: a token the sandbox always accepts.
    DemoSecret(
        "youtube",
        lambda base_url: {
            "base_url": base_url,
            "access_token": DEMO_ACCESS_TOKEN,
            "refresh_token": DEMO_REFRESH_TOKEN,
            "scopes": sorted(SCOPES - {"https://www.googleapis.com/auth/youtube"}),
            "token_type": "Bearer",
        },
    ),
    # The hub's YouTube app (not per org), with the sandbox's URLs.
    DemoSecret(
        "youtube",
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
