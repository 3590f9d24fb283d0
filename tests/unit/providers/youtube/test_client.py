"""YouTubeClient against YouTube's documented HTTP API: the resumable upload protocol
(https://developers.google.com/youtube/v3/guides/using_resumable_upload_protocol), videos /
channels / search / playlistItems (https://developers.google.com/youtube/v3/docs), errors
(https://developers.google.com/youtube/v3/docs/errors), quota
(https://developers.google.com/youtube/v3/determine_quota_cost) and Analytics reports
(https://developers.google.com/youtube/analytics/reference/reports/query)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from hub.errors import AuthenticationError, InvalidRequestError, RateLimitedError
from hub.providers import descriptor, ports
from hub.providers.base.oauth import OAuthApp, OAuthCredentials
from hub.providers.youtube import client as youtube_client
from hub.providers.youtube.client import CHUNK_QUANTUM, YouTubeClient, seconds_until_quota_reset
from hub.retry import RetryPolicy
from hub.runtime import start_invocation
from hub.social import media as social_media
from hub.social.models import MediaItem, ResolvedMedia, SocialContent, SocialPost
from tests.helpers import recording

TOKEN = "ya29.unit-test-access-token"
API = "https://www.googleapis.com"
CREDS = OAuthCredentials(base_url=API, access_token=SecretStr(TOKEN))
SESSION = f"{API}/upload/youtube/v3/videos?uploadType=resumable&upload_id=xa298sd_sdlkj2"
CHANNEL = "UCsomosProdutora0000demo"
QUANTUM = CHUNK_QUANTUM


def video_bytes(size: int) -> bytes:
    return bytes(i % 251 for i in range(size))


def media(size: int, content_type: str = "video/mp4") -> ResolvedMedia:
    return ResolvedMedia(
        type="video",
        url="https://media-uploads.s3.amazonaws.com/acme/reel.mp4?X-Amz-Signature=x",
        bucket="media-uploads",
        key="acme/reel.mp4",
        size=size,
        content_type=content_type,
    )


def post(size: int = 3 * QUANTUM + 1000, **overrides: Any) -> SocialPost:
    fields: dict[str, Any] = {
        "org_id": "acme",
        "publication_id": "pub_" + "0" * 32,
        "account": CHANNEL,
        "text": "Bastidores da gravação",
        "media": (media(size),),
        "title": "Bastidores | Somos Produtora",
        "visibility": "public",
        **overrides,
    }
    return SocialPost(**fields)


@pytest.fixture
def object_bytes(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Our S3 object, read by byte range as hub.social.media.read_range does (ranges recorded)."""
    state: dict[str, Any] = {"data": video_bytes(3 * QUANTUM + 1000), "ranges": []}

    def read_range(item: ResolvedMedia, start: int, end: int) -> bytes:
        state["ranges"].append((start, end))
        return bytes(state["data"][start : end + 1])

    monkeypatch.setattr(social_media, "read_range", read_range)
    return state


class FakeSession:
    """YouTube's upload host for one session, as the protocol describes it: 308 + ``Range`` of
    the bytes held, 201 + the video when the last byte arrives, status queries answered the
    same way. ``keep`` caps what the next chunk stores; ``drop`` loses the next answer."""

    def __init__(self, total: int, privacy: str = "public") -> None:
        self.total = total
        self.received = bytearray()
        self.privacy = privacy
        self.requests: list[httpx.Request] = []
        self.keep: int | None = None
        self.drop = False
        self.fail_status: int | None = None

    def video(self) -> dict[str, Any]:
        return {
            "kind": "youtube#video",
            "id": "dQw4w9WgXcQ",
            "snippet": {"publishedAt": "2026-11-30T12:00:00Z", "channelId": CHANNEL, "title": "Bastidores"},
            "status": {"uploadStatus": "uploaded", "privacyStatus": self.privacy},
        }

    def state(self) -> httpx.Response:
        if len(self.received) == self.total:
            return httpx.Response(201, json=self.video())
        headers = {"Range": f"bytes=0-{len(self.received) - 1}"} if self.received else {}
        return httpx.Response(308, headers=headers)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.method == "POST":
            return httpx.Response(200, headers={"Location": SESSION})
        assert request.method == "PUT" and str(request.url) == SESSION
        content_range = request.headers["Content-Range"]
        if content_range == f"bytes */{self.total}":
            assert request.content == b"" and request.headers["Content-Length"] == "0"
            return self.state()
        span, _, total = content_range.removeprefix("bytes ").partition("/")
        first, _, last = span.partition("-")
        assert int(total) == self.total and int(first) == len(self.received)
        assert len(request.content) == int(last) - int(first) + 1
        assert int(last) == self.total - 1 or len(request.content) % QUANTUM == 0
        body = request.content if self.keep is None else request.content[: self.keep]
        self.keep = None
        self.received += body
        if self.fail_status is not None:
            status, self.fail_status = self.fail_status, None
            return httpx.Response(status, json={"error": {"code": status, "message": "Backend Error"}})
        if self.drop:
            self.drop = False
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
        return self.state()


def youtube(handler: Any, **kwargs: Any) -> YouTubeClient:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return YouTubeClient(CREDS, http=http, retry_policy=RetryPolicy(max_attempts=3, sleep=lambda _: None), **kwargs)


def google_error(status: int, reason: str, message: str = "x") -> httpx.Response:
    return httpx.Response(
        status,
        json={
            "error": {
                "code": status,
                "message": message,
                "errors": [{"message": message, "domain": "youtube", "reason": reason}],
            }
        },
    )


# ----- the provider and its OAuth ----------------------------------------------------------------


def test_youtube_is_its_own_oauth_provider_and_google_asks_for_calendar_only() -> None:
    # Given the registry / Then YouTube connects on its own (a brand account's channel is another
    # Google identity), with its scopes; Google's connection asks Calendar scopes only
    found = descriptor("youtube")
    assert found is not None and found.oauth is not None and found.auth == "oauth2"
    assert found.oauth.authorize_url == "https://accounts.google.com/o/oauth2/v2/auth"
    assert found.oauth.token_url == "https://oauth2.googleapis.com/token"
    assert set(found.oauth.scopes) == {
        "https://www.googleapis.com/auth/youtube.upload",
        "https://www.googleapis.com/auth/youtube.readonly",
        "https://www.googleapis.com/auth/yt-analytics.readonly",
    }
    assert ("access_type", "offline") in found.oauth.authorize_params
    google = descriptor("google")
    assert google is not None and google.oauth is not None
    assert not [s for s in google.oauth.scopes if "youtube" in s or "yt-analytics" in s]
    assert ports.supports("youtube", ports.SocialPublisher) and ports.supports("youtube", ports.SocialInsights)


def test_the_quota_rules_are_the_projects_buckets_and_reset_at_pacific_midnight() -> None:
    from hub.providers.base.auth import TOKEN_REFRESH_OPERATION

    rules = {r.name: r for r in descriptor("youtube").limits}  # type: ignore[union-attr]
    assert {n: (r.limit, r.scope, r.reset_timezone) for n, r in rules.items()} == {
        "units_per_day": (10_000, "provider", "America/Los_Angeles"),
        "videos_insert_per_day": (100, "provider", "America/Los_Angeles"),
        "search_list_per_day": (100, "provider", "America/Los_Angeles"),
    }
    units = rules["units_per_day"]
    assert units.applies("videos.list") and units.applies("channels.list") and units.applies("health")
    for own in ("videos.insert", "search.list", "videos.insert.chunk", "reports.query", TOKEN_REFRESH_OPERATION):
        assert not units.applies(own)
    assert rules["videos_insert_per_day"].applies("videos.insert")
    assert not rules["videos_insert_per_day"].applies("videos.insert.chunk")  # the bytes are the same call


# ----- check_post: refused before anything is stored or sent -------------------------------------


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ({"media": [{"url": "https://cdn.example.com/v.mp4", "type": "video"}], "title": "T"}, "content.media[0].url"),
        ({"media": [{"s3_key": "acme/v.mp4", "type": "video"}]}, "content.title"),
        ({"media": [{"s3_key": "acme/v.mp4", "type": "video"}], "title": "<b>T</b>"}, "content.title"),
        ({"media": [{"s3_key": "acme/i.jpg", "type": "image"}], "title": "T"}, "content.media"),
        ({"media": [], "title": "T"}, "content.media"),
        ({"media": [{"s3_key": "acme/v.mp4", "type": "video"}], "title": "T", "format": "story"}, "content.format"),
        ({"media": [{"s3_key": "acme/v.mp4", "type": "video"}], "title": "T", "text": "é" * 2600}, "content.text"),
    ],
)
def test_check_post_refuses_what_youtube_cannot_take_naming_the_field(content: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        YouTubeClient.check_post(SocialContent(**content))
    assert info.value.message.startswith(field)


def test_check_post_takes_one_video_of_ours_with_a_title() -> None:
    content = SocialContent(
        text="Bastidores",
        media=(MediaItem(s3_key="acme/v.mp4", type="video"),),
        title="Bastidores",
        link="https://somosprodutora.com.br/x",
    )
    YouTubeClient.check_post(content)
    assert YouTubeClient.description_of(content.text, content.link) == "Bastidores\n\nhttps://somosprodutora.com.br/x"


# ----- prepare → poll → publish --------------------------------------------------------------------


def test_prepare_opens_a_resumable_session_with_the_documented_request(object_bytes: dict[str, Any]) -> None:
    # Given YouTube's upload host
    fake = FakeSession(len(object_bytes["data"]))

    # When the publication is prepared
    step = youtube(fake).prepare_post(post(link="https://somosprodutora.com.br/bastidores"))

    # Then one POST opened the session (the video resource as JSON, the file's size and type in
    # X-Upload-* headers) and nothing was uploaded yet
    [request] = fake.requests
    assert request.method == "POST"
    assert str(request.url).split("?")[0] == f"{API}/upload/youtube/v3/videos"
    assert dict(request.url.params) == {"uploadType": "resumable", "part": "snippet,status"}
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"].startswith("application/json")
    assert request.headers["X-Upload-Content-Length"] == str(len(object_bytes["data"]))
    assert request.headers["X-Upload-Content-Type"] == "video/mp4"
    assert json.loads(request.content) == {
        "snippet": {
            "title": "Bastidores | Somos Produtora",
            "description": "Bastidores da gravação\n\nhttps://somosprodutora.com.br/bastidores",
            "categoryId": "22",
        },
        "status": {"privacyStatus": "public", "selfDeclaredMadeForKids": False},
    }
    assert step.status == "pending" and step.poll_after_seconds == 0
    assert step.job == {"session_uri": SESSION, "total": len(object_bytes["data"]), "offset": 0}
    assert object_bytes["ranges"] == []


def test_a_session_on_another_host_is_refused_so_no_byte_or_token_goes_there(object_bytes: dict[str, Any]) -> None:
    _, handler = recording(httpx.Response(200, headers={"Location": "https://evil.example.com/upload?id=1"}))
    with pytest.raises(Exception, match="no upload session"):
        youtube(handler).prepare_post(post())


def test_a_url_only_video_is_refused_at_prepare_too_naming_the_field() -> None:
    item = ResolvedMedia(type="video", url="https://cdn.example.com/v.mp4")
    with pytest.raises(InvalidRequestError) as info:
        youtube(lambda r: httpx.Response(500)).prepare_post(post(media=(item,)))
    assert info.value.message.startswith("content.media[0].url")


def test_poll_uploads_256_kib_multiples_then_the_rest_and_is_ready_with_the_video(object_bytes: dict[str, Any]) -> None:
    # Given an open session
    total = len(object_bytes["data"])
    fake = FakeSession(total)
    client = youtube(fake, chunk_bytes=2 * QUANTUM)
    job = client.prepare_post(post())

    # When it is polled
    step = client.poll_post(post(), job.job)

    # Then two chunks went out (512 KiB, then the last 262,144 + 1,000 bytes), each with its
    # Content-Range, and YouTube's video came back
    puts = [r for r in fake.requests if r.method == "PUT"]
    assert [r.headers["Content-Range"] for r in puts] == [
        f"bytes 0-{2 * QUANTUM - 1}/{total}",
        f"bytes {2 * QUANTUM}-{total - 1}/{total}",
    ]
    assert all(r.headers["Authorization"] == f"Bearer {TOKEN}" for r in puts)
    assert bytes(fake.received) == object_bytes["data"]
    assert step.status == "ready" and step.job["video_id"] == "dQw4w9WgXcQ"
    assert "session_uri" not in step.job  # done: the capability is not kept


def test_poll_resumes_from_the_byte_after_the_sessions_range(object_bytes: dict[str, Any]) -> None:
    # Given a session that stores only 100,000 bytes of the first chunk and answers 308 so
    fake = FakeSession(len(object_bytes["data"]))
    client = youtube(fake, chunk_bytes=QUANTUM, max_chunks_per_poll=1)
    job = client.prepare_post(post()).job
    fake.keep = 100_000

    # When it is polled once
    step = client.poll_post(post(), job)

    # Then the next chunk starts at byte 100,000 (Range: bytes=0-99999)
    assert step.status == "pending" and step.job["offset"] == 100_000
    step = youtube(fake, chunk_bytes=QUANTUM).poll_post(post(), step.job)
    assert step.status == "ready" and bytes(fake.received) == object_bytes["data"]
    assert object_bytes["ranges"][1][0] == 100_000


def test_a_dropped_chunk_is_followed_by_a_status_query_and_the_upload_resumes_there(
    object_bytes: dict[str, Any],
) -> None:
    # Given the connection drops while the second chunk is sent, after YouTube stored 70,000 of it
    total = len(object_bytes["data"])
    fake = FakeSession(total)
    client = youtube(fake, chunk_bytes=QUANTUM)
    job = client.prepare_post(post()).job
    sent = {"n": 0}
    original = fake.__call__

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT" and request.content:
            sent["n"] += 1
            if sent["n"] == 2:
                fake.keep, fake.drop = 70_000, True
        return original(request)

    # When it is polled
    step = youtube(handler, chunk_bytes=QUANTUM).poll_post(post(), job)

    # Then the chunk was not sent blindly again: the session was asked (bytes */total) and the
    # upload went on from byte 262,144 + 70,000, ending with every byte exactly once
    ranges = [r.headers["Content-Range"] for r in fake.requests if r.method == "PUT"]
    assert ranges[:4] == [
        f"bytes 0-{QUANTUM - 1}/{total}",
        f"bytes {QUANTUM}-{2 * QUANTUM - 1}/{total}",
        f"bytes */{total}",
        f"bytes {QUANTUM + 70_000}-{2 * QUANTUM + 70_000 - 1}/{total}",
    ]
    assert step.status == "ready" and bytes(fake.received) == object_bytes["data"]


def test_a_5xx_mid_upload_answers_pending_with_a_short_wait_and_the_next_poll_asks_the_session(
    object_bytes: dict[str, Any],
) -> None:
    total = len(object_bytes["data"])
    fake = FakeSession(total)
    client = youtube(fake, chunk_bytes=QUANTUM)
    job = client.prepare_post(post()).job
    fake.fail_status = 503
    fake.keep = 0
    original = fake.__call__

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT" and request.headers["Content-Range"].startswith("bytes */"):
            return httpx.Response(503, json={"error": {"code": 503, "message": "Backend Error"}})
        return original(request)

    # When a chunk and then the status query both fail with 503
    step = youtube(handler, chunk_bytes=QUANTUM).poll_post(post(), job)

    # Then the poll answers pending (no error: the workflow waits and polls again), asking the
    # session first next time
    assert step.status == "pending" and step.job["resume"] is True and step.poll_after_seconds
    before = len(fake.requests)
    step = youtube(fake, chunk_bytes=QUANTUM).poll_post(post(), step.job)
    assert fake.requests[before].headers["Content-Range"] == f"bytes */{total}"
    assert fake.requests[before + 1].headers["Content-Range"] == f"bytes 0-{QUANTUM - 1}/{total}"
    assert step.status == "ready" and bytes(fake.received) == object_bytes["data"]


class FakeContext:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_poll_sends_nothing_when_the_lambda_has_no_time_left_for_a_chunk(object_bytes: dict[str, Any]) -> None:
    # Given a session and a Lambda with 4 s left (the margin and a chunk's expected time do not fit)
    fake = FakeSession(len(object_bytes["data"]))
    client = youtube(fake, chunk_bytes=QUANTUM)
    job = client.prepare_post(post()).job
    start_invocation(FakeContext(4_000))
    try:
        step = client.poll_post(post(), job)
    finally:
        start_invocation(object())
    # Then nothing went out and the workflow polls again
    assert [r for r in fake.requests if r.method == "PUT"] == []
    assert step.status == "pending" and step.job["offset"] == 0


def test_publish_answers_the_video_and_warns_when_youtube_kept_it_private(object_bytes: dict[str, Any]) -> None:
    # Given an upload that finished (the project is not audited: the video came out private)
    fake = FakeSession(len(object_bytes["data"]), privacy="private")
    client = youtube(fake)
    step = client.poll_post(post(), client.prepare_post(post()).job)
    listed: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        listed.append(request)
        return httpx.Response(200, json={"items": [fake.video()]})

    # When it is published
    published = youtube(handler).publish_post(post(), step.job)

    # Then the video's status was read (videos.list, 1 unit) and the org is told it is private
    [request] = listed
    assert str(request.url).split("?")[0] == f"{API}/youtube/v3/videos"
    assert dict(request.url.params) == {"part": "snippet,status", "id": "dQw4w9WgXcQ", "maxResults": "50"}
    assert published.post_id == "dQw4w9WgXcQ"
    assert published.url == "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    assert published.visibility == "private"
    assert published.published_at == datetime(2026, 11, 30, 12, tzinfo=UTC)
    assert len(published.warnings) == 1 and "private" in published.warnings[0] and "audit" in published.warnings[0]


def test_publish_of_a_public_upload_has_no_warning_and_survives_an_unreadable_status() -> None:
    job = {"video_id": "dQw4w9WgXcQ", "privacy_status": "public", "total": 10, "offset": 10}
    published = youtube(lambda r: httpx.Response(503, json={"error": {"code": 503}})).publish_post(post(), job)
    assert (published.post_id, published.visibility, published.warnings) == ("dQw4w9WgXcQ", "public", [])


def test_a_rejected_video_is_content_rejected() -> None:
    video = {"id": "dQw4w9WgXcQ", "status": {"uploadStatus": "rejected", "rejectionReason": "duplicate"}}
    _, handler = recording(httpx.Response(200, json={"items": [video]}))
    with pytest.raises(InvalidRequestError) as info:
        youtube(handler).publish_post(post(), {"video_id": "dQw4w9WgXcQ"})
    assert info.value.code == "video_rejected" and "duplicate" in info.value.message


# ----- find_post after an unknown outcome ------------------------------------------------------------


def test_find_asks_the_session_first_a_completed_one_answers_the_video(object_bytes: dict[str, Any]) -> None:
    total = len(object_bytes["data"])
    fake = FakeSession(total)
    fake.received += object_bytes["data"]
    job = {"session_uri": SESSION, "total": total, "offset": total - 10}
    found = youtube(fake).find_post(post(), job, since=datetime(2026, 11, 30, tzinfo=UTC))
    assert found is not None and found.post_id == "dQw4w9WgXcQ"
    assert [r.headers["Content-Range"] for r in fake.requests] == [f"bytes */{total}"]


def test_find_answers_none_while_the_session_is_incomplete(object_bytes: dict[str, Any]) -> None:
    fake = FakeSession(len(object_bytes["data"]))
    job = {"session_uri": SESSION, "total": fake.total, "offset": 0}
    assert youtube(fake).find_post(post(), job, since=datetime(2026, 11, 30, tzinfo=UTC)) is None


def test_find_without_a_session_matches_the_uploads_playlist_on_title_and_time() -> None:
    # Given the channel's uploads playlist holding an older video of the same title and ours
    seen: list[httpx.Request] = []
    items = [
        {
            "snippet": {
                "title": "Bastidores | Somos Produtora",
                "publishedAt": "2026-11-30T12:05:00Z",
                "resourceId": {"videoId": "NEWvideo001"},
            }
        },
        {
            "snippet": {
                "title": "Bastidores | Somos Produtora",
                "publishedAt": "2026-10-01T12:00:00Z",
                "resourceId": {"videoId": "OLDvideo001"},
            }
        },
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        path = request.url.path
        if path.endswith("/channels"):
            return httpx.Response(
                200, json={"items": [{"id": CHANNEL, "contentDetails": {"relatedPlaylists": {"uploads": "UUx"}}}]}
            )
        if path.endswith("/playlistItems"):
            return httpx.Response(200, json={"items": items})
        return httpx.Response(200, json={"items": [{"id": "NEWvideo001", "status": {"privacyStatus": "public"}}]})

    # When the publication is looked up since 12:00
    found = youtube(handler).find_post(post(), {}, since=datetime(2026, 11, 30, 12, tzinfo=UTC))

    # Then channels.list (uploads playlist) and playlistItems.list were asked — 1 unit each, not
    # search.list's 100-a-day bucket — and ours was found
    assert found is not None and found.post_id == "NEWvideo001"
    assert [r.url.path for r in seen] == ["/youtube/v3/channels", "/youtube/v3/playlistItems", "/youtube/v3/videos"]
    assert dict(seen[0].url.params) == {"part": "contentDetails", "id": CHANNEL}
    assert dict(seen[1].url.params) == {"part": "snippet,status", "playlistId": "UUx", "maxResults": "50"}


# ----- errors ---------------------------------------------------------------------------------------


def test_seconds_until_the_quota_resets_count_to_pacific_midnight() -> None:
    # 2026-07-01 23:00 PDT = 2026-07-02 06:00 UTC: one hour left
    assert seconds_until_quota_reset(datetime(2026, 7, 2, 6, tzinfo=UTC).timestamp()) == 3600
    # 2026-01-15 00:30 PST = 08:30 UTC: 23.5 h left
    assert seconds_until_quota_reset(datetime(2026, 1, 15, 8, 30, tzinfo=UTC).timestamp()) == 23.5 * 3600


@pytest.mark.parametrize("reason", ["quotaExceeded", "uploadLimitExceeded"])
def test_a_spent_quota_is_rate_limited_until_pacific_midnight(reason: str, monkeypatch: pytest.MonkeyPatch) -> None:
    now = datetime(2026, 7, 2, 5, tzinfo=UTC).timestamp()  # 22:00 PDT: 2 h to go
    monkeypatch.setattr(youtube_client.time, "time", lambda: now)
    _, handler = recording(
        google_error(403, reason, "The request cannot be completed because you have exceeded your quota.")
    )
    with pytest.raises(RateLimitedError) as info:
        youtube(handler).list_channels()
    assert info.value.retry_after == 2 * 3600 and info.value.code == reason


@pytest.mark.parametrize(
    ("response", "error", "code"),
    [
        (google_error(403, "forbidden"), AuthenticationError, "forbidden"),
        (google_error(403, "insufficientPermissions"), AuthenticationError, "insufficientPermissions"),
        (google_error(401, "authError"), AuthenticationError, "authError"),
        (google_error(400, "invalidTitle"), InvalidRequestError, "invalidTitle"),
        (google_error(403, "rateLimitExceeded"), RateLimitedError, "rateLimitExceeded"),
    ],
)
def test_google_errors_map_onto_the_taxonomy(response: httpx.Response, error: type[Exception], code: str) -> None:
    _, handler = recording(response)
    with pytest.raises(error) as info:
        youtube(handler).list_channels()
    assert getattr(info.value, "code", None) == code


def test_the_session_uri_never_reaches_errors_or_logs(
    object_bytes: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    # Given an upload host whose error echoes the session URI
    total = len(object_bytes["data"])
    upload_id = "xa298sd_sdlkj2"

    def handler(request: httpx.Request) -> httpx.Response:
        return google_error(400, "badContent", f"bad chunk for {request.url}")

    caplog.set_level(logging.INFO)
    with pytest.raises(InvalidRequestError) as info:
        youtube(handler).poll_post(post(), {"session_uri": SESSION, "total": total, "offset": 0})
    assert upload_id not in info.value.message and "[redacted]" in info.value.message
    assert upload_id not in caplog.text


# ----- reads and insights ----------------------------------------------------------------------------


def test_search_is_a_search_list_call_of_videos() -> None:
    seen, handler = recording(httpx.Response(200, json={"items": [{"id": {"videoId": "a"}}]}))
    assert youtube(handler).search("bastidores", channel_id=CHANNEL, max_results=5) == [{"id": {"videoId": "a"}}]
    assert seen[0].url.path == "/youtube/v3/search"
    assert dict(seen[0].url.params) == {
        "part": "snippet",
        "q": "bastidores",
        "type": "video",
        "maxResults": "5",
        "order": "relevance",
        "channelId": CHANNEL,
    }


def test_list_accounts_is_the_tokens_channel() -> None:
    seen, handler = recording(httpx.Response(200, json={"items": [{"id": CHANNEL, "snippet": {"title": "Somos"}}]}))
    [account] = youtube(handler).list_accounts()
    assert (account.account, account.name, account.kind) == (CHANNEL, "Somos", "channel")
    assert dict(seen[0].url.params) == {"part": "snippet", "mine": "true"}


def test_account_metrics_read_the_daily_channel_report() -> None:
    body = {
        "kind": "youtubeAnalytics#resultTable",
        "columnHeaders": [
            {"name": "day", "columnType": "DIMENSION", "dataType": "STRING"},
            {"name": "views", "columnType": "METRIC", "dataType": "INTEGER"},
            {"name": "averageViewDuration", "columnType": "METRIC", "dataType": "INTEGER"},
        ],
        "rows": [["2026-11-01", 120, 45], ["2026-11-02", 98, 51.5]],
    }
    seen, handler = recording(httpx.Response(200, json=body))
    client = YouTubeClient(
        OAuthCredentials(access_token=SecretStr(TOKEN)),
        http=httpx.Client(transport=httpx.MockTransport(handler)),
        app=OAuthApp(client_id="c", client_secret=SecretStr("s")),
    )
    days = client.account_metrics(CHANNEL, date(2026, 11, 1), date(2026, 11, 2))
    assert str(seen[0].url).split("?")[0] == "https://youtubeanalytics.googleapis.com/v2/reports"
    params = dict(seen[0].url.params)
    assert params == {
        "ids": f"channel=={CHANNEL}",
        "startDate": "2026-11-01",
        "endDate": "2026-11-02",
        "metrics": "views,estimatedMinutesWatched,averageViewDuration,likes,comments,shares,"
        "subscribersGained,subscribersLost",
        "dimensions": "day",
        "sort": "day",
    }
    assert [(d.day, d.metrics) for d in days] == [
        (date(2026, 11, 1), {"views": 120, "averageViewDuration": 45}),
        (date(2026, 11, 2), {"views": 98, "averageViewDuration": 51.5}),
    ]


def test_post_metrics_filter_the_video_report_on_the_ids() -> None:
    body = {
        "columnHeaders": [{"name": "video"}, {"name": "views"}, {"name": "likes"}],
        "rows": [["vid1", 10, 2], ["vid2", 7, 0]],
    }
    seen, handler = recording(httpx.Response(200, json=body))
    metrics = youtube(handler).post_metrics(CHANNEL, ["vid1", "vid2"])
    params = dict(seen[0].url.params)
    assert params["dimensions"] == "video" and params["filters"] == "video==vid1,vid2"
    assert params["sort"] == "-views" and params["maxResults"] == "2" and params["startDate"] == "2005-04-23"
    assert [(m.post_id, m.metrics) for m in metrics] == [
        ("vid1", {"views": 10, "likes": 2}),
        ("vid2", {"views": 7, "likes": 0}),
    ]


def test_chunk_size_must_be_a_multiple_of_256_kib() -> None:
    with pytest.raises(ValueError, match="262144"):
        youtube(lambda r: httpx.Response(200), chunk_bytes=300_000)


def test_the_health_probe_spends_no_data_api_units() -> None:
    # The platform probes every 5 minutes: an Analytics read proves the token and the channel's
    # grant without drawing on the project's 10,000 Data API units.
    seen, handler = recording(httpx.Response(200, json={"columnHeaders": [{"name": "views"}], "rows": [[3]]}))
    client = YouTubeClient(
        OAuthCredentials(access_token=SecretStr(TOKEN)),
        http=httpx.Client(transport=httpx.MockTransport(handler)),
        app=OAuthApp(client_id="c", client_secret=SecretStr("s")),
    )
    client.health_check()
    [request] = seen
    assert str(request.url).split("?")[0] == "https://youtubeanalytics.googleapis.com/v2/reports"
    assert request.url.params["ids"] == "channel==MINE" and request.url.params["metrics"] == "views"
    units = next(r for r in descriptor("youtube").limits if r.name == "units_per_day")  # type: ignore[union-attr]
    assert not units.applies("reports.query")


def test_poll_stops_sending_chunks_before_the_lambdas_time_runs_out(
    object_bytes: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given chunks that take 4 s each and a Lambda with 20 s left (a frozen, stepped clock)
    import hub.runtime

    clock = {"now": 1_000.0}
    monkeypatch.setattr(hub.runtime.time, "monotonic", lambda: clock["now"])
    object_bytes["data"] = video_bytes(10 * QUANTUM)
    fake = FakeSession(10 * QUANTUM)
    started_with: list[float] = []

    def slow(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            started_with.append(20.0 - (clock["now"] - 1_000.0))
            clock["now"] += 4.0
        return fake(request)

    client = youtube(slow, chunk_bytes=QUANTUM)
    job = client.prepare_post(post(size=10 * QUANTUM)).job
    start_invocation(FakeContext(20_000))
    try:
        step = client.poll_post(post(size=10 * QUANTUM), job)
    finally:
        start_invocation(object())

    # Then it sent chunks while one more fitted (the time left minus the margin) and stopped:
    # 4 chunks, the last one starting with 8 s left, and the workflow polls again at once
    assert started_with == [20.0, 16.0, 12.0, 8.0]
    assert step.status == "pending" and step.job["offset"] == 4 * QUANTUM and step.poll_after_seconds == 0
