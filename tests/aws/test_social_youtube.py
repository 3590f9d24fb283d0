"""The YouTube adapter against its sandbox (localcloud/sandboxes/youtube.py) with our media in
S3 (moto): prepare → poll (chunks, an interrupted upload resumed from the right byte) → publish
→ find, the unaudited-project lock, the project's quota (YouTube's and the hub's own, both until
midnight Pacific) and the Analytics reads."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from hub.config import get_settings
from hub.errors import RateLimitedError
from hub.providers.youtube.client import CHUNK_QUANTUM, YouTubeClient, seconds_until_quota_reset
from hub.social import media as social_media
from hub.social.models import MediaItem, PublishStep, SocialPost
from localcloud.sandboxes import youtube as youtube_sandbox
from tests.aws.conftest import HubAws
from tests.aws.test_oauth_flow import PUBLIC_API, Flow, header
from tests.conftest import ServedSandboxes, reset_hub_caches

ORG = "demo"
KEY = f"{ORG}/videos/bastidores.mp4"
SIZE = 3 * CHUNK_QUANTUM + 12_345
VIDEO = bytes((i * 7) % 256 for i in range(SIZE))


@pytest.fixture
def video_post(hub_aws: HubAws, sandboxed: ServedSandboxes) -> SocialPost:
    """The org's video in the media-uploads bucket, resolved as the publish workflow does."""
    hub_aws.client("s3").put_object(
        Bucket=hub_aws.env["MEDIA_UPLOADS_BUCKET"], Key=KEY, Body=VIDEO, ContentType="video/mp4"
    )
    resolved = social_media.resolve(ORG, (MediaItem(s3_key=KEY, type="video"),))
    return SocialPost(
        org_id=ORG,
        publication_id="pub_" + "1" * 32,
        account=youtube_sandbox.CHANNEL_ID,
        text="Os bastidores da nossa última gravação.",
        media=resolved,
        title="Bastidores | Somos Produtora",
        visibility="public",
    )


def control(sandboxes: ServedSandboxes, **switches: Any) -> dict[str, Any]:
    url = f"{sandboxes.url}/youtube/_sandbox/youtube"
    answer = httpx.post(url, json=switches, timeout=5) if switches else httpx.get(url, timeout=5)
    body: dict[str, Any] = answer.json()
    return body


def upload(client: YouTubeClient, post: SocialPost, *, polls: int = 20) -> PublishStep:
    """prepare, then poll as the workflow does until ready (bounded: never loops forever)."""
    step = client.prepare_post(post)
    for _ in range(polls):
        if step.status == "ready":
            return step
        step = client.poll_post(post, step.job)
    raise AssertionError(f"not uploaded after {polls} polls: {step}")


def test_a_video_is_uploaded_in_chunks_published_and_found_again(
    video_post: SocialPost, sandboxed: ServedSandboxes
) -> None:
    # Given the demo org's YouTube integration, sending 256 KiB chunks, one chunk per poll
    client = YouTubeClient.for_org(ORG, chunk_bytes=CHUNK_QUANTUM, max_chunks_per_poll=1)

    # When the workflow prepares, polls and publishes
    step = upload(client, video_post)
    published = client.publish_post(video_post, step.job)

    # Then YouTube holds exactly our bytes, in 4 chunks, and the video is public
    state = control(sandboxed)
    [session] = state["sessions"]
    assert session["sha256"] == hashlib.sha256(VIDEO).hexdigest() and session["chunks"] == 4
    assert published.post_id == session["video_id"] and published.visibility == "public"
    assert published.url == f"https://www.youtube.com/watch?v={published.post_id}"
    assert published.warnings == []
    # and the session was opened with the documented request
    [opened] = [r for r in sandboxed.app.requests_for("youtube") if r["method"] == "POST" and "upload" in r["path"]]
    assert opened["query"]["uploadType"] == "resumable" and opened["headers"]["X-Upload-Content-Length"] == str(SIZE)

    # When the publication is looked up after an unknown outcome (no session left in the job)
    found = client.find_post(video_post, {}, since=datetime.now(UTC) - timedelta(minutes=5))

    # Then the uploads playlist answers it, never a second upload
    assert found is not None and found.post_id == published.post_id
    assert len(control(sandboxed)["sessions"]) == 1


@pytest.mark.parametrize("mode", ["drop", "error"])
def test_an_interrupted_upload_resumes_from_the_byte_the_session_holds(
    video_post: SocialPost, sandboxed: ServedSandboxes, mode: str
) -> None:
    # Given YouTube breaks the transfer (connection reset / 503) 1,000 bytes into the second chunk
    control(sandboxed, interrupt={"after_bytes": CHUNK_QUANTUM + 1_000, "mode": mode})
    client = YouTubeClient.for_org(ORG, chunk_bytes=CHUNK_QUANTUM)

    # When the upload runs through the workflow's polls
    step = upload(client, video_post)

    # Then the session was asked where it stood and the upload went on from byte 263,144: YouTube
    # holds every byte once, in order (the digest of what it stored is the object's)
    state = control(sandboxed)
    [session] = state["sessions"]
    assert state["interruptions"] == 1 and session["status_queries"] >= 1
    assert session["received"] == SIZE and session["sha256"] == hashlib.sha256(VIDEO).hexdigest()
    ranges = [
        r["headers"]["Content-Range"]
        for r in sandboxed.app.requests_for("youtube")
        if r["method"] == "PUT" and r["status"] in (308, 201)
    ]
    assert f"bytes */{SIZE}" in ranges
    resumed = ranges[ranges.index(f"bytes */{SIZE}") + 1]
    assert resumed.startswith(f"bytes {CHUNK_QUANTUM + 1_000}-")
    assert step.status == "ready" and step.job["video_id"] == session["video_id"]


def test_an_unaudited_project_gets_a_private_video_and_the_org_is_told(
    video_post: SocialPost, sandboxed: ServedSandboxes
) -> None:
    control(sandboxed, unaudited=True)
    client = YouTubeClient.for_org(ORG)
    published = client.publish_post(video_post, upload(client, video_post).job)
    assert published.visibility == "private"
    assert published.warnings and "audited" in published.warnings[0]


def test_youtubes_quota_exceeded_delays_until_midnight_pacific(
    video_post: SocialPost, sandboxed: ServedSandboxes
) -> None:
    # Given the project's videos.insert bucket is spent at YouTube
    control(sandboxed, quota={"videos.insert": 0})
    # When an upload is prepared / Then it is rate limited until the quota day ends (Pacific)
    with pytest.raises(RateLimitedError) as info:
        YouTubeClient.for_org(ORG).prepare_post(video_post)
    assert info.value.code == "quotaExceeded"
    assert info.value.retry_after == pytest.approx(seconds_until_quota_reset(), abs=5)


def test_the_hubs_own_count_of_the_projects_uploads_stops_before_youtube_refuses(
    video_post: SocialPost, sandboxed: ServedSandboxes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a project allowed one videos.insert a day (the hub counts across all orgs)
    rule = {
        "name": "videos_insert_per_day",
        "limit": 1,
        "window_seconds": 86400,
        "scope": "provider",
        "applies_to": "videos.insert",
        "reset_timezone": "America/Los_Angeles",
    }
    monkeypatch.setenv("RATE_LIMIT_OVERRIDES", json.dumps({"youtube": [rule]}))
    get_settings.cache_clear()
    client = YouTubeClient.for_org(ORG)
    client.prepare_post(video_post)

    # When a second upload is prepared the same Pacific day
    with pytest.raises(RateLimitedError) as info:
        client.prepare_post(video_post)

    # Then it waits for midnight Pacific and YouTube never saw the second request
    assert info.value.retry_after == pytest.approx(seconds_until_quota_reset(), abs=5)
    assert len(control(sandboxed)["sessions"]) == 1


def test_insights_read_the_channel_and_its_analytics(video_post: SocialPost, sandboxed: ServedSandboxes) -> None:
    client = YouTubeClient.for_org(ORG)
    client.health_check()  # an Analytics read: no Data API unit spent
    assert control(sandboxed)["quota"]["used"]["units"] == 0
    [account] = client.list_accounts()
    assert (account.account, account.kind) == (youtube_sandbox.CHANNEL_ID, "channel")

    # Days: the report answers one row per day the network has (up to yesterday)
    end = datetime.now(UTC).date() - timedelta(days=1)
    start = end - timedelta(days=6)
    days = client.account_metrics(account.account, start, end)
    assert [d.day for d in days] == [start + timedelta(days=i) for i in range(7)]
    assert all(isinstance(d.metrics["views"], int) and "subscribersGained" in d.metrics for d in days)
    assert client.account_metrics(account.account, start, end) == days  # stable: a resync duplicates nothing

    # Videos: the hub's own publication, by id
    video_id = client.publish_post(video_post, upload(client, video_post).job).post_id
    [metrics] = client.post_metrics(account.account, [video_id])
    assert metrics.post_id == video_id and {"views", "likes"} <= set(metrics.metrics)
    [report] = [
        r for r in sandboxed.app.requests_for("youtube") if r["path"] == "/v2/reports" and "filters" in r["query"]
    ]
    assert report["query"]["filters"] == f"video=={video_id}" and report["query"]["dimensions"] == "video"
    assert isinstance(date.fromisoformat(report["query"]["endDate"]), date)


def test_the_sandbox_refuses_chunks_that_break_the_protocol(sandboxed: ServedSandboxes) -> None:
    # Given a session opened as YouTube documents it
    auth = {"Authorization": f"Bearer {youtube_sandbox.DEMO_ACCESS_TOKEN}"}
    opened = httpx.post(
        f"{sandboxed.url}/youtube/upload/youtube/v3/videos",
        params={"uploadType": "resumable", "part": "snippet,status"},
        json={"snippet": {"title": "T"}, "status": {"privacyStatus": "public"}},
        headers={**auth, "X-Upload-Content-Length": str(SIZE), "X-Upload-Content-Type": "video/mp4"},
        timeout=5,
    )
    assert opened.status_code == 200
    session = opened.headers["Location"]

    def put(content: bytes, content_range: str) -> httpx.Response:
        return httpx.put(session, content=content, headers={**auth, "Content-Range": content_range}, timeout=5)

    # Then a chunk that is not a multiple of 256 KiB, one that skips bytes, and a wrong total are 400
    assert put(VIDEO[:1000], f"bytes 0-999/{SIZE}").status_code == 400
    assert put(VIDEO[:CHUNK_QUANTUM], f"bytes 10-{CHUNK_QUANTUM + 9}/{SIZE}").status_code == 400
    assert put(VIDEO[:CHUNK_QUANTUM], f"bytes 0-{CHUNK_QUANTUM - 1}/{SIZE + 1}").status_code == 400
    # a status query before any byte: 308 without Range; after one chunk: Range bytes=0-262143
    first = put(b"", f"bytes */{SIZE}")
    assert first.status_code == 308 and "Range" not in first.headers
    assert put(VIDEO[:CHUNK_QUANTUM], f"bytes 0-{CHUNK_QUANTUM - 1}/{SIZE}").headers["Range"] == "bytes=0-262143"
    # an unknown session is 404 in Google's error format
    gone = httpx.put(session.replace("upload_id=", "upload_id=x"), headers={**auth, "Content-Range": f"bytes */{SIZE}"})
    assert gone.status_code == 404 and gone.json()["error"]["errors"][0]["reason"] == "notFound"
    # and a session without a title is refused like videos.insert does
    untitled = httpx.post(
        f"{sandboxed.url}/youtube/upload/youtube/v3/videos",
        params={"uploadType": "resumable", "part": "snippet,status"},
        json={"snippet": {"title": ""}},
        headers={**auth, "X-Upload-Content-Length": "10", "X-Upload-Content-Type": "video/mp4"},
        timeout=5,
    )
    assert untitled.status_code == 400 and untitled.json()["error"]["errors"][0]["reason"] == "invalidTitle"


@pytest.fixture
def flow(sandboxed: ServedSandboxes, hub_aws: HubAws, monkeypatch: pytest.MonkeyPatch) -> Flow:
    """OAuthStart and OAuthCallback's handlers (tests/aws/test_oauth_flow.py) on moto."""
    monkeypatch.setenv("PUBLIC_API_URL", PUBLIC_API)
    monkeypatch.setenv("SECRETS_CACHE_SECONDS", "0")
    reset_hub_caches()
    return Flow(hub_aws, sandboxed)


def test_an_org_connects_its_channel_through_oauth_apart_from_google(flow: Flow) -> None:
    # Given the OAuth flow (OAuthStart / OAuthCallback) with the YouTube sandbox as Google
    started = flow.start("youtube")
    assert started["statusCode"] == 302
    location = header(started, "Location")
    params = parse_qs(urlsplit(location).query)
    # Then the consent page is Google's, for YouTube's scopes only, offline
    assert location.startswith(f"{flow.sandboxes.url}/youtube/o/oauth2/v2/auth?")
    assert set(params["scope"][0].split()) == {
        "https://www.googleapis.com/auth/youtube.upload",
        "https://www.googleapis.com/auth/youtube.readonly",
        "https://www.googleapis.com/auth/yt-analytics.readonly",
    }
    assert params["access_type"] == ["offline"] and params["code_challenge_method"] == ["S256"]

    # When the org's user consents / Then the channel's tokens are stored as the youtube secret
    # (not google's) and the adapter reaches the channel with them
    page = flow.callback("youtube", flow.authorize(location))
    assert page["statusCode"] == 200
    stored = flow.secret("youtube")
    assert stored is not None and stored["refresh_token"].startswith("youtube-rt-")
    assert flow.secret("google") is None
    [account] = YouTubeClient.for_org("acme").list_accounts()
    assert account.account == youtube_sandbox.CHANNEL_ID


def test_the_sandbox_charges_the_projects_unit_pool_and_the_search_bucket_apart(sandboxed: ServedSandboxes) -> None:
    # Given a project with 1 unit and 1 search.list call left today
    control(sandboxed, quota={"units": 1, "search.list": 1})
    client = YouTubeClient.for_org(ORG)
    # When the channel is read twice and search asked twice
    assert client.list_accounts()
    with pytest.raises(RateLimitedError) as units:
        client.list_accounts()
    assert client.search("bastidores") == []
    with pytest.raises(RateLimitedError) as searches:
        client.search("bastidores")
    # Then each bucket ran out on its own, both until midnight Pacific
    assert units.value.code == searches.value.code == "quotaExceeded"
    assert control(sandboxed)["quota"]["used"] == {"units": 1, "videos.insert": 0, "search.list": 1}
