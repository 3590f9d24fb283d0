"""YouTube: an org's channel — resumable video uploads from our S3 objects, the channel's videos
and its Analytics (README.md has every doc link).

How a publication maps onto ``ports.SocialPublisher`` (docs/social.md, "YouTube"):

* ``prepare_post`` opens a resumable upload session (``videos.insert`` with
  ``uploadType=resumable``): nothing exists at YouTube yet. ``job`` = ``{session_uri, total,
  offset}``; the answer is ``pending`` with ``poll_after_seconds=0``.
* ``poll_post`` sends as many chunks as fit in the Lambda's remaining time (minus a margin; never
  past it), reading our object by byte range, then answers ``pending`` (the offset in ``job``) or,
  when YouTube answered the last chunk with the video, ``ready`` with ``video_id``. A dropped
  connection or a 5xx mid-chunk is not a failure: the next chunk starts by asking the session
  where it stands (``Content-Range: bytes */total``), as the protocol says.
* ``publish_post`` sends nothing irreversible: the video was created with the privacy asked for
  when its last byte arrived (a session is idempotent: a lost answer to the last chunk is
  recovered by asking the session, never by a second upload). It reads the video's status
  (``videos.list``, 1 unit) and answers the PublishedPost, warning when YouTube kept the video
  private (projects not audited by YouTube).
* ``find_post`` asks the session (a completed one answers the video), else the channel's uploads
  playlist (``playlistItems.list``, 1 unit) matched on the title.

Uploading as private and flipping to public with ``videos.update`` in ``publish_post`` would make
"publish" the visible step, but costs 50 units a video (100 uploads a day = half the 10,000-unit
pool), cannot lift the lock on unaudited projects, and would leave a private video behind for
every cancelled publication: not worth it here.

The session URI is a capability (whoever holds it can write the upload): it is never logged (the
base client logs paths without queries; the URI is scrubbed from errors) and travels only in
``job``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar
from zoneinfo import ZoneInfo

from aws_lambda_powertools.shared.lazy_import import LazyLoader

from hub.config import get_settings
from hub.errors import (
    HubError,
    InvalidRequestError,
    OutcomeUnknownError,
    ProviderUnavailableError,
    RateLimitedError,
)
from hub.observability import logger
from hub.providers.base.client import parse_retry_after
from hub.providers.base.descriptor import OAuthSpec
from hub.providers.base.oauth import OAuthClient
from hub.providers.youtube import (
    ANALYTICS_QUERY,
    OAUTH,
    QUOTA_TIMEZONE,
    SEARCH_LIST,
    UPLOAD_CHUNK,
    UPLOAD_STATUS,
    VIDEOS_INSERT,
)
from hub.resilience.ratelimit import DAY, LimitRule
from hub.runtime import remaining_seconds
from hub.social import media as social_media
from hub.social.models import (
    DayMetrics,
    PostMetrics,
    PublishedPost,
    PublishStep,
    ResolvedMedia,
    SocialAccount,
    SocialContent,
    SocialPost,
)

if TYPE_CHECKING:
    import httpx
else:  # imported on first use, as the base client does
    httpx = LazyLoader("httpx", globals(), "httpx")

# Chunks "must be a multiple of 256 KB" except the last one
# (https://developers.google.com/youtube/v3/guides/using_resumable_upload_protocol#Uploading_in_chunks).
CHUNK_QUANTUM = 256 * 1024
# videos.insert: "Maximum file size: 256GB"; "Accepted Media MIME types: video/*,
# application/octet-stream" (https://developers.google.com/youtube/v3/docs/videos/insert).
MAX_VIDEO_BYTES = 256 * 1024**3
# snippet.title: at most 100 characters; snippet.description: at most 5000 bytes; neither may
# contain < or > (https://developers.google.com/youtube/v3/docs/videos#properties).
MAX_DESCRIPTION_BYTES = 5000
# "22" People & Blogs, the category of the resumable-upload guide's own example
# (https://developers.google.com/youtube/v3/guides/using_resumable_upload_protocol#Start_Resumable_Session).
DEFAULT_CATEGORY = "22"
# Google's API error reasons (https://developers.google.com/youtube/v3/docs/errors): the
# project's daily quota is spent; the channel uploaded as much as YouTube allows for now.
QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
UPLOAD_LIMIT_REASONS = frozenset({"uploadLimitExceeded"})
THROTTLE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
# Analytics metrics read per day and per video (https://developers.google.com/youtube/analytics/metrics).
DAY_METRICS = (
    "views",
    "estimatedMinutesWatched",
    "averageViewDuration",
    "likes",
    "comments",
    "shares",
    "subscribersGained",
    "subscribersLost",
)
VIDEO_METRICS = ("views", "estimatedMinutesWatched", "averageViewDuration", "likes", "comments", "shares")
# The earliest startDate worth asking for a video's lifetime figures (YouTube's launch).
LIFETIME_START = date(2005, 4, 23)
_QUOTA_DAY = LimitRule("quota_day", 1, DAY, reset_timezone=QUOTA_TIMEZONE)
# Consecutive polls without a byte of progress before the upload is reported unavailable.
MAX_STALLED_POLLS = 5


def seconds_until_quota_reset(now: float | None = None) -> float:
    """Seconds until the next midnight Pacific time, when YouTube's daily quotas reset (the same
    day as the descriptor's rules: hub.resilience.ratelimit, ``reset_timezone``)."""
    now = time.time() if now is None else now
    return max(1.0, _QUOTA_DAY.window(now)[1] - now)


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0
    return int(number) if number.is_integer() else number


class YouTubeClient(OAuthClient):
    provider: ClassVar[str] = "youtube"
    oauth_spec: ClassVar[OAuthSpec] = OAUTH
    # Bytes per chunk: a multiple of CHUNK_QUANTUM. 8 MiB: few requests, little memory.
    default_chunk_bytes: ClassVar[int] = 32 * CHUNK_QUANTUM
    # The first chunk's expected duration before any was measured (seconds).
    chunk_seconds_guess: ClassVar[float] = 5.0
    # The slowest throughput the publication's polling window is sized for (bytes/second).
    min_throughput: ClassVar[int] = 1024 * 1024

    def __init__(
        self, *args: Any, chunk_bytes: int | None = None, max_chunks_per_poll: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.chunk_bytes = self.default_chunk_bytes if chunk_bytes is None else chunk_bytes
        if self.chunk_bytes <= 0 or self.chunk_bytes % CHUNK_QUANTUM:
            raise ValueError(f"chunk_bytes must be a positive multiple of {CHUNK_QUANTUM}")
        # At most this many chunks per poll (None: as many as the Lambda's time allows).
        self.max_chunks_per_poll = max_chunks_per_poll
        self._session: str | None = None

    # ----- URLs ------------------------------------------------------------------------------
    def data_url(self, path: str) -> str:
        """``https://www.googleapis.com/youtube/v3{path}`` (or the sandbox's)."""
        return self.api_url(f"/youtube/v3{path}")

    def upload_url(self) -> str:
        return self.api_url("/upload/youtube/v3/videos")

    def analytics_url(self) -> str:
        """https://youtubeanalytics.googleapis.com/v2/reports, on its own host; a deployment
        that points the API elsewhere (a sandbox) serves it there under ``/v2/reports``."""
        data = self.api_url("")
        if data.rstrip("/") == self.default_base_url.rstrip("/"):
            return "https://youtubeanalytics.googleapis.com/v2/reports"
        return f"{data.rstrip('/')}/v2/reports"

    # ----- errors ----------------------------------------------------------------------------
    @staticmethod
    def _google_error(response: httpx.Response) -> tuple[str, str | None]:
        """(message, reason) of Google's error body ``{"error": {"code", "message", "errors":
        [{"domain", "reason", "message"}], "status"}}`` (https://developers.google.com/youtube/v3/docs/errors)."""
        try:
            body = response.json()
        except ValueError:
            return (response.text[:300] or response.reason_phrase, None)
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            return (str(body)[:300], None)
        message = str(error.get("message") or response.reason_phrase)[:300]
        errors = error.get("errors")
        reason = None
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            reason = errors[0].get("reason")
        if not isinstance(reason, str):
            status = error.get("status")
            reason = status if isinstance(status, str) else None
        return message, reason

    def error_details(self, response: httpx.Response) -> tuple[str, str | None]:
        return self._google_error(response)

    def classify(self, response: httpx.Response) -> HubError | None:
        status = response.status_code
        if status < 400:
            return None
        message, reason = self._google_error(response)
        common: dict[str, Any] = {
            "provider": self.provider,
            "http_status": status,
            "code": reason,
            "request_id": self.request_id_of(response),
        }
        if reason in QUOTA_REASONS:
            # The project's quota is spent until midnight Pacific.
            return RateLimitedError(
                f"youtube quota exhausted ({reason}): {message}", retry_after=seconds_until_quota_reset(), **common
            )
        if reason in UPLOAD_LIMIT_REASONS:
            return RateLimitedError(
                f"youtube refused more uploads for this channel for now ({reason}): {message}",
                retry_after=seconds_until_quota_reset(),
                **common,
            )
        if reason in THROTTLE_REASONS or status == 429:
            return RateLimitedError(
                f"youtube asked to slow down ({reason}): {message}",
                retry_after=parse_retry_after(response.headers.get("retry-after")),
                **common,
            )
        # 401, and 403 forbidden / insufficientPermissions / ...: AuthenticationError (base).
        return super().classify(response)

    def secret_values(self, request: httpx.Request | None = None) -> list[str]:
        values = super().secret_values(request)
        if self._session:
            values = sorted({*values, self._session}, key=len, reverse=True)
        return values

    # ----- health ----------------------------------------------------------------------------
    def health_check(self) -> None:
        """Yesterday's views of the token's channel (Analytics reports.query): proves the token
        and the channel's grant without spending Data API units — the platform probes every 5
        minutes, and channels.list there would take 288 units a day per org from the project's
        shared 10,000. https://developers.google.com/youtube/analytics/reference/reports/query"""
        yesterday = (datetime.now(ZoneInfo(QUOTA_TIMEZONE)).date() - timedelta(days=1)).isoformat()
        params = {"ids": "channel==MINE", "startDate": yesterday, "endDate": yesterday, "metrics": "views"}
        self.request("GET", self.analytics_url(), params=params, operation=ANALYTICS_QUERY)

    # ----- Data API reads --------------------------------------------------------------------
    def list_channels(
        self, *, part: str = "snippet,contentDetails", ids: Iterable[str] | None = None
    ) -> list[dict[str, Any]]:
        """channels.list (1 unit): the token's own channel (``mine=true``), or ``ids``.
        https://developers.google.com/youtube/v3/docs/channels/list"""
        params: dict[str, Any] = {"part": part}
        if ids is None:
            params["mine"] = "true"
        else:
            params["id"] = ",".join(ids)
        body = self.json_object(
            self.request("GET", self.data_url("/channels"), params=params, operation="channels.list")
        )
        return [item for item in body.get("items") or [] if isinstance(item, dict)]

    def list_videos(self, ids: Iterable[str], *, part: str = "snippet,status,statistics") -> list[dict[str, Any]]:
        """videos.list (1 unit per call, up to 50 ids).
        https://developers.google.com/youtube/v3/docs/videos/list"""
        wanted = list(ids)
        out: list[dict[str, Any]] = []
        for start in range(0, len(wanted), 50):
            params = {"part": part, "id": ",".join(wanted[start : start + 50]), "maxResults": 50}
            body = self.json_object(
                self.request("GET", self.data_url("/videos"), params=params, operation="videos.list")
            )
            out += [item for item in body.get("items") or [] if isinstance(item, dict)]
        return out

    def search(
        self, q: str, *, channel_id: str | None = None, max_results: int = 25, order: str = "relevance"
    ) -> list[dict[str, Any]]:
        """search.list of videos (its own bucket: 100 calls a day per project).
        https://developers.google.com/youtube/v3/docs/search/list"""
        if not 1 <= max_results <= 50:
            raise InvalidRequestError("max_results must be between 1 and 50", code="invalid_max_results")
        params: dict[str, Any] = {"part": "snippet", "q": q, "type": "video", "maxResults": max_results, "order": order}
        if channel_id:
            params["channelId"] = channel_id
        body = self.json_object(self.request("GET", self.data_url("/search"), params=params, operation=SEARCH_LIST))
        return [item for item in body.get("items") or [] if isinstance(item, dict)]

    def recent_uploads(self, channel_id: str | None = None, *, max_results: int = 50) -> list[dict[str, Any]]:
        """The channel's latest uploads, newest first: channels.list for the uploads playlist then
        playlistItems.list (1 unit each, against search.list's 100-a-day bucket).
        https://developers.google.com/youtube/v3/docs/playlistItems/list"""
        channels = self.list_channels(part="contentDetails", ids=[channel_id] if channel_id else None)
        playlist = None
        for channel in channels:
            playlist = ((channel.get("contentDetails") or {}).get("relatedPlaylists") or {}).get("uploads")
            if playlist:
                break
        if not playlist:
            return []
        params = {"part": "snippet,status", "playlistId": playlist, "maxResults": max_results}
        body = self.json_object(
            self.request("GET", self.data_url("/playlistItems"), params=params, operation="playlistItems.list")
        )
        return [item for item in body.get("items") or [] if isinstance(item, dict)]

    # ----- SocialPublisher -------------------------------------------------------------------
    @classmethod
    def check_post(cls, content: SocialContent) -> None:
        """One video of ours with a title; refused before anything is stored or sent."""
        if content.format != "feed":
            raise InvalidRequestError(
                f"content.format: YouTube takes uploads only ('feed'); a Short is a vertical video of up to 3 minutes "
                f"uploaded the same way, not {content.format!r}",
                code="format_unsupported",
            )
        if len(content.media) != 1 or content.media[0].type != "video":
            raise InvalidRequestError("content.media: YouTube publishes exactly one video", code="media_unsupported")
        if content.media[0].url is not None:
            raise InvalidRequestError(
                "content.media[0].url: YouTube takes the video's bytes; upload it to the media-uploads bucket and "
                "give its s3_key",
                code="media_needs_upload",
            )
        if not content.title or not content.title.strip():
            raise InvalidRequestError("content.title: a YouTube video needs a title", code="title_required")
        if "<" in content.title or ">" in content.title:
            raise InvalidRequestError("content.title: YouTube refuses < and > in titles", code="invalid_title")
        description = cls.description_of(content.text, content.link)
        if "<" in description or ">" in description:
            raise InvalidRequestError(
                "content.text: YouTube refuses < and > in descriptions", code="invalid_description"
            )
        if len(description.encode("utf-8")) > MAX_DESCRIPTION_BYTES:
            raise InvalidRequestError(
                f"content.text: a YouTube description holds at most {MAX_DESCRIPTION_BYTES} bytes (with the link)",
                code="description_too_long",
            )

    @staticmethod
    def description_of(text: str, link: str | None) -> str:
        """The video's description: the text, and the link on its own line unless already in it."""
        if link and link not in text:
            return f"{text}\n\n{link}" if text else link
        return text

    def prepare_post(self, post: SocialPost) -> PublishStep:
        """Opens the resumable session; nothing exists at YouTube until its last byte arrives."""
        if len(post.media) != 1:
            raise InvalidRequestError("content.media: YouTube publishes exactly one video", code="media_unsupported")
        media = post.media[0]
        _, _, size = social_media.require_object(media, 0, "youtube")
        if size <= 0 or size > MAX_VIDEO_BYTES:
            raise InvalidRequestError(
                f"content.media[0].s3_key: YouTube takes videos of 1 byte to 256 GB, this one has {size}",
                code="media_size",
            )
        job = {"session_uri": self._open_session(post, media, size), "total": size, "offset": 0}
        return PublishStep(status="pending", job=job, poll_after_seconds=0, max_poll_seconds=self._poll_budget(size))

    def poll_post(self, post: SocialPost, job: dict[str, Any]) -> PublishStep:
        """Sends chunks while the Lambda has time; ``ready`` once YouTube answered the video."""
        job = dict(job)
        if job.get("video_id"):
            return PublishStep(status="ready", job=job)
        media = post.media[0]
        total = int(job["total"])
        start_offset = int(job.get("offset", 0))
        chunks = 0
        slowest = 0.0  # the longest request of this poll so far (seconds)
        failures = 0
        restarted = False
        while True:
            if self.max_chunks_per_poll is not None and chunks >= self.max_chunks_per_poll:
                break
            if not self._time_for(slowest or self.chunk_seconds_guess):
                break
            started = time.monotonic()
            try:
                if job.get("resume"):
                    video = self._query_session(job)
                else:
                    video = self._send_chunk(job, media)
                    chunks += 1
            except (ProviderUnavailableError, OutcomeUnknownError) as exc:
                # A 5xx or a connection lost mid-chunk: the session knows how far it got.
                job["resume"] = True
                failures += 1
                logger.warning(
                    "youtube_upload_interrupted",
                    extra={"offset": job.get("offset"), "total": total, "error": type(exc).__name__, "code": exc.code},
                )
                if failures >= 2:
                    break  # back off outside the function (the workflow's wait)
                continue
            except InvalidRequestError as exc:
                if exc.http_status in (404, 410) and not restarted:
                    # The session expired or is unknown: a new one, from the first byte.
                    logger.warning("youtube_upload_session_expired", extra={"total": total})
                    restarted = True
                    job.update(session_uri=self._open_session(post, media, total), offset=0, resume=False)
                    continue
                raise
            finally:
                self._session = None
            slowest = max(slowest, time.monotonic() - started)
            if video is not None:
                return self._uploaded(job, video)
        progressed = int(job.get("offset", 0)) > start_offset
        job["stalls"] = 0 if progressed else int(job.get("stalls", 0)) + 1
        if job["stalls"] >= MAX_STALLED_POLLS:
            raise ProviderUnavailableError(
                f"youtube accepted no bytes of the upload in {MAX_STALLED_POLLS} attempts",
                provider=self.provider,
                code="upload_stalled",
            )
        # At once while bytes move; after failures, a short backoff (doubling, at most a minute).
        wait = 0 if progressed and not failures else min(60, 2 ** job["stalls"])
        return PublishStep(
            status="pending", job=job, poll_after_seconds=wait, max_poll_seconds=self._poll_budget(total)
        )

    def publish_post(self, post: SocialPost, job: dict[str, Any]) -> PublishedPost:
        """The upload created the video with the privacy asked for: read its status and answer it."""
        video_id = job.get("video_id")
        if not isinstance(video_id, str) or not video_id:
            raise InvalidRequestError("the upload has not finished: no video to publish", code="upload_unfinished")
        video: dict[str, Any] = {"id": video_id, "status": {"privacyStatus": job.get("privacy_status")}}
        try:
            found = self.list_videos([video_id], part="snippet,status")
        except HubError as exc:
            # The video exists (its last byte was answered): the upload's answer stands.
            logger.warning("youtube_status_unread", extra={"error": type(exc).__name__, "code": exc.code})
        else:
            if found:
                video = found[0]
        return self._published(post, video)

    def find_post(self, post: SocialPost, job: dict[str, Any], *, since: datetime) -> PublishedPost | None:
        """The video this publication uploaded, if YouTube has it."""
        if job.get("video_id"):
            found = self.list_videos([str(job["video_id"])], part="snippet,status")
            return self._published(post, found[0]) if found else None
        if job.get("session_uri") and job.get("total"):
            try:
                video = self._query_session(dict(job))
            except InvalidRequestError as exc:
                if exc.http_status not in (404, 410):
                    raise
            else:
                # A completed session answers the video; an incomplete one: nothing published.
                return self._published(post, video) if video is not None else None
            finally:
                self._session = None
        for item in self.recent_uploads(post.account):
            snippet = item.get("snippet") or {}
            published = snippet.get("publishedAt")
            when = _parse_time(published) if isinstance(published, str) else None
            video_id = (snippet.get("resourceId") or {}).get("videoId")
            if snippet.get("title") == post.title and video_id and (when is None or when >= since):
                found = self.list_videos([video_id], part="snippet,status")
                return self._published(post, found[0] if found else {"id": video_id, "snippet": snippet})
        return None

    # ----- the resumable session -------------------------------------------------------------
    def _open_session(self, post: SocialPost, media: ResolvedMedia, size: int) -> str:
        """Step 1: POST the video resource; the session URI comes back in ``Location``.
        https://developers.google.com/youtube/v3/guides/using_resumable_upload_protocol#Start_Resumable_Session"""
        body = {
            "snippet": {
                "title": post.title,
                "description": self.description_of(post.text, post.link),
                "categoryId": DEFAULT_CATEGORY,
            },
            # selfDeclaredMadeForKids: required by COPPA rules; the agency's content is not
            # directed at children (https://developers.google.com/youtube/v3/docs/videos#status.selfDeclaredMadeForKids).
            "status": {"privacyStatus": post.visibility, "selfDeclaredMadeForKids": False},
        }
        content_type = media.content_type or ""
        if not (content_type.startswith("video/") or content_type == "application/octet-stream"):
            content_type = "application/octet-stream"
        response = self.request(
            "POST",
            self.upload_url(),
            params={"uploadType": "resumable", "part": "snippet,status"},
            json=body,
            headers={"X-Upload-Content-Length": str(size), "X-Upload-Content-Type": content_type},
            operation=VIDEOS_INSERT,
        )
        location = response.headers.get("location", "")
        if not location or httpx.URL(location).host != httpx.URL(self.upload_url()).host:
            # Bytes and the token go only where we opened the session.
            raise ProviderUnavailableError(
                "youtube opened no upload session on its upload host", provider=self.provider, code="no_session"
            )
        return location

    def _send_chunk(self, job: dict[str, Any], media: ResolvedMedia) -> dict[str, Any] | None:
        """Step 3, one chunk: ``Content-Range: bytes a-b/total``; 308 + ``Range`` (the bytes it
        holds) or 200/201 with the video."""
        total = int(job["total"])
        offset = int(job.get("offset", 0))
        end = min(offset + self.chunk_bytes, total) - 1
        data = social_media.read_range(media, offset, end)
        if len(data) != end - offset + 1:
            raise ProviderUnavailableError(
                f"our object answered {len(data)} bytes for {offset}-{end}", provider=self.provider, code="short_read"
            )
        response = self._put(job, data, f"bytes {offset}-{end}/{total}", UPLOAD_CHUNK)
        return self._session_answer(job, response)

    def _query_session(self, job: dict[str, Any]) -> dict[str, Any] | None:
        """Step 4.1: an empty PUT with ``Content-Range: bytes */total``: 308 + ``Range`` (resume
        from its end + 1; no ``Range``: from 0), or 200/201 with the video (it is done)."""
        response = self._put(job, b"", f"bytes */{int(job['total'])}", UPLOAD_STATUS)
        job["resume"] = False
        return self._session_answer(job, response)

    def _put(self, job: dict[str, Any], data: bytes, content_range: str, operation: str) -> httpx.Response:
        uri = str(job["session_uri"])
        self._session = uri
        headers = {
            "Accept": "application/json",
            **self.auth_headers(),
            "Content-Length": str(len(data)),
            "Content-Range": content_range,
        }
        if data:
            headers["Content-Type"] = "application/octet-stream"

        def attempt() -> httpx.Response:
            return self._send_bytes(uri, data, headers)

        # Sent once: after a failure the session is asked where it stands, never sent blindly again.
        return self.guarded(attempt, operation=operation, attempts=1)

    def _send_bytes(self, uri: str, data: bytes, headers: dict[str, str]) -> httpx.Response:
        started = time.perf_counter()
        path = httpx.URL(uri).path  # never the query: it holds the session id
        kwargs: dict[str, Any] = {"headers": headers, "content": data}
        timeout = self._effective_timeout(None)
        if timeout is not None:
            kwargs["timeout"] = timeout
        try:
            response = self.http.request("PUT", uri, **kwargs)
        except httpx.TransportError as exc:
            self._log("PUT", path, None, started, None, error=type(exc).__name__)
            raise self._transport_error(exc, effect=False) from exc
        self._log("PUT", path, response.status_code, started, self.request_id_of(response))
        error = self.classify(response)
        if error is not None:
            raise self.scrub(error, response.request)
        return response

    def _session_answer(self, job: dict[str, Any], response: httpx.Response) -> dict[str, Any] | None:
        if response.status_code == 308:
            # "Range: bytes=0-999999" = the first million bytes are stored; none: no byte yet.
            held = response.headers.get("range", "")
            _, _, last = held.partition("-")
            job["offset"] = int(last) + 1 if last.strip().isdigit() else 0
            return None
        video = self.json_object(response)
        if not isinstance(video.get("id"), str):
            raise ProviderUnavailableError(
                "youtube completed the upload without a video id", provider=self.provider, code="no_video_id"
            )
        return video

    def _uploaded(self, job: dict[str, Any], video: dict[str, Any]) -> PublishStep:
        status = video.get("status") or {}
        job.update(offset=int(job["total"]), video_id=video["id"], privacy_status=status.get("privacyStatus"))
        job.pop("resume", None)
        job.pop("stalls", None)
        job.pop("session_uri", None)  # done: the capability is not kept
        return PublishStep(status="ready", job=job)

    def _published(self, post: SocialPost, video: dict[str, Any]) -> PublishedPost:
        video_id = str(video["id"])
        status = video.get("status") or {}
        snippet = video.get("snippet") or {}
        upload_status = status.get("uploadStatus")
        if upload_status in ("rejected", "failed"):
            reason = status.get("rejectionReason") or status.get("failureReason") or "unknown"
            raise InvalidRequestError(
                f"youtube {upload_status} the video {video_id} ({reason})",
                provider=self.provider,
                code=f"video_{upload_status}",
            )
        privacy = status.get("privacyStatus") if isinstance(status.get("privacyStatus"), str) else None
        warnings: list[str] = []
        if privacy is not None and privacy != post.visibility:
            # "All videos uploaded via the videos.insert endpoint from unverified API projects
            # created after 28 July 2020 will be restricted to private viewing mode."
            # https://developers.google.com/youtube/v3/docs/videos/insert
            warnings.append(
                f"YouTube made the video {privacy}, not {post.visibility} as asked: uploads from API projects "
                "YouTube has not audited stay private. Make it public in YouTube Studio, and have the hub's API "
                "project audited (https://support.google.com/youtube/contact/yt_api_form)."
            )
        published = snippet.get("publishedAt")
        return PublishedPost(
            post_id=video_id,
            url=f"https://www.youtube.com/watch?v={video_id}",
            published_at=_parse_time(published) if isinstance(published, str) else None,
            visibility=privacy or post.visibility,
            warnings=warnings,
        )

    def _time_for(self, seconds: float) -> bool:
        """Whether a request expected to take ``seconds`` still fits before the Lambda's end."""
        remaining = remaining_seconds()
        if remaining is None:
            return True
        return remaining - get_settings().retry_safety_margin - 1.0 >= seconds

    def _poll_budget(self, size: int) -> int:
        """How long the workflow may keep polling: the configured window, or more for a video
        that takes longer to send at ``min_throughput``."""
        return max(get_settings().social_poll_max_seconds, size // self.min_throughput + 600)

    # ----- SocialInsights --------------------------------------------------------------------
    def list_accounts(self) -> list[SocialAccount]:
        """The channel the org's token belongs to (a brand account's channel if chosen at consent)."""
        return [
            SocialAccount(account=str(c["id"]), name=(c.get("snippet") or {}).get("title"), kind="channel")
            for c in self.list_channels(part="snippet")
            if c.get("id")
        ]

    def account_metrics(self, account: str, start: date, end: date) -> list[DayMetrics]:
        """Analytics ``reports.query`` with ``dimensions=day`` for the channel.
        https://developers.google.com/youtube/analytics/reference/reports/query ,
        https://developers.google.com/youtube/analytics/channel_reports"""
        if end < start:
            raise InvalidRequestError("to must not be before from", code="invalid_range")
        table = self._report(
            {
                "ids": f"channel=={account}",
                "startDate": start.isoformat(),
                "endDate": end.isoformat(),
                "metrics": ",".join(DAY_METRICS),
                "dimensions": "day",
                "sort": "day",
            }
        )
        out: list[DayMetrics] = []
        for row in table:
            day = row.pop("day", None)
            if isinstance(day, str):
                out.append(DayMetrics(day=date.fromisoformat(day), metrics={k: _number(v) for k, v in row.items()}))
        return out

    def post_metrics(self, account: str, post_ids: list[str]) -> list[PostMetrics]:
        """Lifetime Analytics figures of these videos (``dimensions=video``, ``filters=video==a,b``)."""
        out: list[PostMetrics] = []
        for start in range(0, len(post_ids), 50):
            batch = post_ids[start : start + 50]
            table = self._report(
                {
                    "ids": f"channel=={account}",
                    "startDate": LIFETIME_START.isoformat(),
                    "endDate": datetime.now(ZoneInfo(QUOTA_TIMEZONE)).date().isoformat(),
                    "metrics": ",".join(VIDEO_METRICS),
                    "dimensions": "video",
                    "filters": "video==" + ",".join(batch),
                    "sort": "-views",
                    "maxResults": len(batch),
                }
            )
            for row in table:
                video = row.pop("video", None)
                if isinstance(video, str):
                    out.append(PostMetrics(post_id=video, metrics={k: _number(v) for k, v in row.items()}))
        return out

    def _report(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """One Analytics result table as rows keyed by column name."""
        body = self.json_object(self.request("GET", self.analytics_url(), params=params, operation=ANALYTICS_QUERY))
        names = [str(h.get("name")) for h in body.get("columnHeaders") or [] if isinstance(h, dict)]
        return [dict(zip(names, row, strict=False)) for row in body.get("rows") or [] if isinstance(row, list)]


def _parse_time(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
