"""InstagramClient against the Instagram sandbox (localcloud/sandboxes/instagram.py) and moto:
prepare → poll → publish → find, the live publishing cap, processing failures and expiry, the
unknown outcome of a slow publish looked up (never posted twice), insights, Meta's usage
throttling, and hashtag search on the Facebook Login path with the hub's 30-per-7-days count."""

from __future__ import annotations

import json
import struct
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from hub.errors import (
    AuthenticationError,
    InvalidRequestError,
    OutcomeUnknownError,
    ProviderUnavailableError,
    RateLimitedError,
)
from hub.integrations import records
from hub.integrations.records import get_record
from hub.providers.instagram.client import InstagramClient
from hub.providers.instagram.hashtags import HashtagWindow
from hub.retry import RetryPolicy
from hub.social.media import resolve
from hub.social.models import MediaItem, ResolvedMedia, SocialPost
from localcloud.sandboxes.facebook import DEMO_ACCESS_TOKEN as FACEBOOK_TOKEN
from localcloud.sandboxes.instagram import DEMO_IG_USER_ID as IG
from tests.aws.conftest import HubAws
from tests.conftest import ServedSandboxes, reset_hub_caches

pytestmark = pytest.mark.usefixtures("sandboxed")

VIDEO = ResolvedMedia(type="video", url="https://cdn.example.com/reels/lancamento.mp4")
IMAGE = ResolvedMedia(type="image", url="https://cdn.example.com/fotos/cafe.jpg")


def graph_control(sandboxes: ServedSandboxes, **settings: Any) -> dict[str, Any]:
    answer = httpx.post(f"{sandboxes.url}/instagram/_sandbox/graph", json=settings, timeout=5)
    answer.raise_for_status()
    body: dict[str, Any] = answer.json()
    return body


def sent(sandboxes: ServedSandboxes, method: str, suffix: str) -> list[dict[str, Any]]:
    log = httpx.get(f"{sandboxes.url}/__sandbox/requests", params={"provider": "instagram"}, timeout=5).json()
    return [r for r in log if r["method"] == method and r["path"].endswith(suffix)]


def post(*media: ResolvedMedia, text: str = "Lançamento #somos", fmt: str = "feed") -> SocialPost:
    return SocialPost(org_id="demo", publication_id="pub_" + "1" * 32, account=IG, text=text, media=media, format=fmt)


def jpeg(width: int, height: int) -> bytes:
    """The first bytes of a JPEG of ``width`` x ``height`` (SOI, APP0, SOF0)."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return b"\xff\xd8" + app0 + sof0 + b"\x00" * 64


# ----- the publishing steps ----------------------------------------------------------------------


def test_a_reel_is_polled_until_finished_then_published_once_and_found(sandboxes: ServedSandboxes) -> None:
    # Given a sandbox whose containers stay IN_PROGRESS for two status reads
    graph_control(sandboxes, polls_in_progress=2)
    ig = InstagramClient.for_org("demo")
    reel = post(VIDEO, text="Bastidores #somos @parceiro")

    # When the workflow's steps run (its Wait states are outside: nothing here sleeps)
    step = ig.prepare_post(reel)
    polls = 0
    while step.status == "pending":
        polls += 1
        step = ig.poll_post(reel, step.job)
    published = ig.publish_post(reel, step.job)

    # Then the container was read until FINISHED, published once, with its permalink
    assert polls == 2
    assert step.max_poll_seconds == 300
    [created] = sent(sandboxes, "POST", f"/{IG}/media")
    assert created["path"] == f"/v26.0/{IG}/media"
    assert created["headers"]["Authorization"].startswith("Bearer IGAA")
    [publish] = sent(sandboxes, "POST", "/media_publish")
    assert "creation_id=" in publish["body"]
    assert published.url is not None and published.url.startswith("https://www.instagram.com/p/")
    state = graph_control(sandboxes)
    assert state["publishes"] == 1
    assert state["containers"][step.job["container"]] == "PUBLISHED"
    assert state["settings"]["quota_usage"] == 1

    # And find_post (after an unknown outcome) finds that very media
    found = ig.find_post(reel, step.job, since=datetime.now(UTC) - timedelta(minutes=1))
    assert found is not None and found.post_id == published.post_id


def test_a_carousel_of_our_jpegs_is_published(hub_aws: HubAws, sandboxes: ServedSandboxes) -> None:
    # Given two portrait JPEGs in the org's media bucket
    s3 = hub_aws.client("s3")
    bucket = hub_aws.env["MEDIA_UPLOADS_BUCKET"]
    for name in ("a.jpg", "b.jpg"):
        s3.put_object(Bucket=bucket, Key=f"demo/post/{name}", Body=jpeg(1080, 1350), ContentType="image/jpeg")
    media = resolve(
        "demo",
        [
            MediaItem(s3_key="demo/post/a.jpg", type="image", alt_text="Equipe no set"),
            MediaItem(s3_key="demo/post/b.jpg", type="image"),
        ],
    )
    ig = InstagramClient.for_org("demo")
    carousel = post(*media, text="Dois momentos")

    step = ig.prepare_post(carousel)
    published = ig.publish_post(carousel, step.job)

    items = sent(sandboxes, "POST", f"/{IG}/media")
    assert len(items) == 3  # two items, then the carousel
    assert "is_carousel_item=true" in items[0]["body"] and "alt_text=Equipe" in items[0]["body"]
    assert "media_type=CAROUSEL" in items[2]["body"]
    assert published.post_id


@pytest.mark.parametrize(
    ("body", "content_type", "code"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image/jpeg", "image_not_jpeg"),  # a PNG named .jpg
        (jpeg(1080, 1920), "image/jpeg", "aspect_ratio"),  # 9:16 is a story, not a feed image
    ],
)
def test_what_instagram_would_fail_as_bad_body_is_refused_before_any_call(
    hub_aws: HubAws, sandboxes: ServedSandboxes, body: bytes, content_type: str, code: str
) -> None:
    bucket = hub_aws.env["MEDIA_UPLOADS_BUCKET"]
    hub_aws.client("s3").put_object(Bucket=bucket, Key="demo/x/photo.jpg", Body=body, ContentType=content_type)
    media = resolve("demo", [MediaItem(s3_key="demo/x/photo.jpg", type="image")])

    with pytest.raises(InvalidRequestError) as refused:
        InstagramClient.for_org("demo").prepare_post(post(*media))

    assert refused.value.code == code
    assert refused.value.message.startswith("content.media[0]")
    assert sent(sandboxes, "GET", "/content_publishing_limit") == []


def test_a_container_the_network_cannot_process_is_content_rejected(sandboxes: ServedSandboxes) -> None:
    graph_control(sandboxes, polls_in_progress=1, final_status="ERROR")
    ig = InstagramClient.for_org("demo")
    step = ig.prepare_post(post(VIDEO))

    with pytest.raises(InvalidRequestError) as rejected:
        ig.poll_post(post(VIDEO), step.job)
    assert rejected.value.code == "processing_failed"
    assert "2207026" in rejected.value.message
    assert graph_control(sandboxes)["publishes"] == 0


def test_a_container_left_24_hours_expires(sandboxes: ServedSandboxes) -> None:
    graph_control(sandboxes, polls_in_progress=1)
    ig = InstagramClient.for_org("demo")
    step = ig.prepare_post(post(VIDEO))
    graph_control(sandboxes, advance_seconds=24 * 3600)  # the sandbox clock, not a sleep

    with pytest.raises(InvalidRequestError) as expired:
        ig.poll_post(post(VIDEO), step.job)
    assert expired.value.code == "container_expired"


def test_the_spent_publishing_cap_delays_the_post_without_creating_a_container(sandboxes: ServedSandboxes) -> None:
    graph_control(sandboxes, quota_total=100, quota_usage=100)

    with pytest.raises(RateLimitedError) as delayed:
        InstagramClient.for_org("demo").prepare_post(post(IMAGE))

    assert delayed.value.code == "publishing_limit"
    assert delayed.value.retry_after == 86400  # no media of the account in the window: a whole window
    assert sent(sandboxes, "POST", f"/{IG}/media") == []


def test_a_slow_publish_is_an_unknown_outcome_then_found_never_posted_twice(sandboxes: ServedSandboxes) -> None:
    # Given media_publish publishes but answers after the client's read timeout
    graph_control(sandboxes, slow_publish_seconds=1.5)
    ig = InstagramClient.for_org("demo", http=httpx.Client(timeout=0.5))
    the_post = post(IMAGE, text="Publicado devagar")
    step = ig.prepare_post(the_post)
    started = datetime.now(UTC)

    # When it is published, the answer is lost
    with pytest.raises(OutcomeUnknownError):
        ig.publish_post(the_post, step.job)
    graph_control(sandboxes, slow_publish_seconds=0)

    # Then the lookup finds the post, and the network was asked to publish once
    found = InstagramClient.for_org("demo").find_post(the_post, step.job, since=started)
    assert found is not None
    assert len(sent(sandboxes, "POST", "/media_publish")) == 1
    assert graph_control(sandboxes)["publishes"] == 1


# ----- insights and Meta's usage ---------------------------------------------------------------


def test_insights_read_views_per_day_and_each_posts_metrics(sandboxes: ServedSandboxes) -> None:
    ig = InstagramClient.for_org("demo")
    the_post = post(VIDEO)
    published = ig.publish_post(the_post, ig.prepare_post(the_post).job)

    days = ig.account_metrics(IG, date(2026, 11, 1), date(2026, 11, 3))
    [metrics] = ig.post_metrics(IG, [published.post_id])

    assert [d.day for d in days] == [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)]
    assert set(days[0].metrics) >= {"views", "reach", "accounts_engaged"}
    assert "impressions" not in days[0].metrics
    assert set(metrics.metrics) == {"views", "reach", "likes", "comments", "shares", "saved", "total_interactions"}
    assert ig.list_accounts()[0].account == IG


def test_usage_headers_rise_with_calls_and_a_throttled_account_waits_the_regain_time(
    sandboxes: ServedSandboxes,
) -> None:
    # Given usage at 80 % rising 10 points a call
    graph_control(sandboxes, usage_start=80, usage_step=10, regain_minutes=7)
    token = {"Authorization": "Bearer IGAAdemoInstagramLongLivedAccessToken"}
    first = httpx.get(f"{sandboxes.url}/instagram/v26.0/me", headers=token, timeout=5)
    assert json.loads(first.headers["x-app-usage"])["call_count"] == 90

    # When the account is read at 100 %
    with pytest.raises(RateLimitedError) as throttled:
        InstagramClient.for_org("demo").list_accounts()

    # Then it waits the regain time Meta's usage header gives (never retried at once)
    assert throttled.value.retry_after == 7 * 60
    assert len(sent(sandboxes, "GET", "/me")) == 2
    usage = json.loads(
        httpx.get(f"{sandboxes.url}/instagram/v26.0/me", headers=token, timeout=5).headers["x-business-use-case-usage"]
    )
    assert usage[IG][0]["estimated_time_to_regain_access"] == 7


# ----- Facebook Login: hashtag search and its count -----------------------------------------------


def facebook_login(hub_aws: HubAws, sandboxes: ServedSandboxes, org: str = "acme") -> InstagramClient:
    hub_aws.put_secret(
        org, "facebook", {"base_url": f"{sandboxes.url}/instagram/facebook-login", "access_token": FACEBOOK_TOKEN}
    )
    return InstagramClient.for_org(org)


def test_facebook_login_lists_the_pages_account_and_posts_there(hub_aws: HubAws, sandboxes: ServedSandboxes) -> None:
    ig = facebook_login(hub_aws, sandboxes)
    [account] = ig.list_accounts()
    the_post = post(IMAGE)
    published = ig.publish_post(the_post, ig.prepare_post(the_post).job)

    assert ig.login == "facebook"
    assert account.account == IG
    [created] = sent(sandboxes, "POST", f"/{IG}/media")
    assert created["path"] == f"/facebook-login/v26.0/{IG}/media"
    assert created["headers"]["Authorization"] == f"Bearer {FACEBOOK_TOKEN}"
    assert published.post_id


def test_hashtag_search_counts_30_unique_hashtags_per_7_days_in_the_hub(
    hub_aws: HubAws, sandboxes: ServedSandboxes
) -> None:
    # Given an account that searched 30 unique hashtags this week
    ig = facebook_login(hub_aws, sandboxes)
    for n in range(30):
        assert ig.search_hashtag(IG, f"tag{n}")

    # When it searches one of them again, and then a 31st
    again = ig.search_hashtag(IG, "#TAG3", "top_media")
    with pytest.raises(RateLimitedError) as refused:
        ig.search_hashtag(IG, "tag30")

    # Then the repeat is free, the 31st waits for the oldest to leave the window (~7 days) and
    # never reaches Instagram
    assert again
    assert 7 * 86400 - 120 < refused.value.retry_after <= 7 * 86400
    assert refused.value.code == "hashtag_quota"
    searched = [r["query"]["q"] for r in sent(sandboxes, "GET", "/ig_hashtag_search")]
    assert "tag30" not in searched
    assert HashtagWindow(hub_aws.env["RESILIENCE_TABLE"]).status(IG).used == 30


def test_the_hashtag_window_frees_the_oldest_after_7_days(hub_aws: HubAws) -> None:
    now = [datetime(2026, 12, 1, tzinfo=UTC).timestamp()]
    window = HashtagWindow(hub_aws.env["RESILIENCE_TABLE"], limit=2, clock=lambda: now[0])
    window.take("acct", "a")
    now[0] += 3600
    window.take("acct", "b")
    with pytest.raises(RateLimitedError) as full:
        window.take("acct", "c")
    assert full.value.retry_after == 7 * 86400 - 3600

    now[0] += 7 * 86400 - 3600  # "a" leaves the window
    assert window.take("acct", "c") == 0
    assert sorted(window.status("acct").searched) == ["b", "c"]


def test_the_hub_counts_containers_per_account_and_refuses_past_the_limit(
    sandboxes: ServedSandboxes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a deployment that lowers the 400-a-day container limit to 2 (RATE_LIMIT_OVERRIDES)
    rule = {"name": "containers_per_day", "limit": 2, "window_seconds": 86400, "scope": "account"}
    monkeypatch.setenv("RATE_LIMIT_OVERRIDES", json.dumps({"instagram": [{**rule, "applies_to": "ig_container"}]}))
    reset_hub_caches()
    ig = InstagramClient.for_org("demo")
    ig.prepare_post(post(IMAGE))
    ig.prepare_post(post(IMAGE))

    # When a third container is asked for
    with pytest.raises(RateLimitedError) as refused:
        ig.prepare_post(post(IMAGE))

    # Then Instagram never saw it
    assert refused.value.code == "quota_exceeded"
    assert len(sent(sandboxes, "POST", f"/{IG}/media")) == 2


def test_an_instagram_outage_is_provider_unavailable(sandboxes: ServedSandboxes) -> None:
    httpx.put(
        f"{sandboxes.url}/__sandbox/faults/instagram", json={"mode": "error", "status": 503}, timeout=5
    ).raise_for_status()
    with pytest.raises(ProviderUnavailableError):
        InstagramClient.for_org("demo", retry_policy=RetryPolicy(max_attempts=1)).prepare_post(post(IMAGE))
    assert sent(sandboxes, "POST", f"/{IG}/media") == []


def test_a_rejected_facebook_login_token_disables_the_facebook_integration(
    hub_aws: HubAws, sandboxes: ServedSandboxes
) -> None:
    # Given an org publishing to Instagram through its facebook integration, whose token Meta rejects
    ig = facebook_login(hub_aws, sandboxes)
    httpx.put(f"{sandboxes.url}/__sandbox/faults/instagram", json={"mode": "error", "status": 401}, timeout=5)

    # When a post is prepared: refused for re-auth
    with pytest.raises(AuthenticationError):
        ig.prepare_post(post(IMAGE))

    # Then the facebook integration is the one disabled (the org has no instagram one), and the
    # next call is refused by the hub without reaching Meta
    record = get_record("acme", "facebook")
    assert record is not None and record.status == "disabled"
    assert get_record("acme", "instagram") is None
    httpx.delete(f"{sandboxes.url}/__sandbox/faults/instagram", timeout=5)
    records.forget()
    with pytest.raises(AuthenticationError) as refused:
        InstagramClient.for_org("acme").list_accounts()
    assert refused.value.code == "integration_disabled"
    assert sent(sandboxes, "GET", "/me/accounts") == []
