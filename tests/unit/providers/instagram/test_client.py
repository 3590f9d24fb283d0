"""InstagramClient against the Instagram Platform's documented requests, answers and errors.

Both login paths: Instagram Login (graph.instagram.com, the org's ``instagram`` secret) and
Facebook Login (graph.facebook.com, the org's ``facebook`` secret). Doc links: the package's
README.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from pydantic import SecretStr

from hub.errors import (
    AuthenticationError,
    InvalidRequestError,
    OutcomeUnknownError,
    ProviderUnavailableError,
    RateLimitedError,
)
from hub.providers.facebook import GRAPH_VERSION
from hub.providers.facebook.client import FacebookClient, FacebookCredentials
from hub.providers.instagram.client import InstagramClient, InstagramCredentials, jpeg_size
from hub.retry import RetryPolicy
from hub.social.models import MediaItem, ResolvedMedia, SocialContent, SocialPost
from tests.helpers import FakeSecrets

IG = "17841400000000001"
TOKEN = "IGAA-secret-instagram-token"
FB_TOKEN = "EAAG-secret-facebook-token"
V = GRAPH_VERSION
IG_HOST = f"https://graph.instagram.com/{V}"
FB_HOST = f"https://graph.facebook.com/{V}"
CREDS = InstagramCredentials(access_token=SecretStr(TOKEN), user_id=IG, base_url="https://graph.instagram.com")
FB_CREDS = FacebookCredentials(access_token=SecretStr(FB_TOKEN), base_url="https://graph.facebook.com")
JPEG_URL = "https://cdn.example.com/photos/cafe.jpg"
MP4_URL = "https://cdn.example.com/videos/reel.mp4"
LIMIT_OK = {"data": [{"quota_usage": 2, "config": {"quota_total": 100, "quota_duration": 86400}}]}

Route = httpx.Response | Callable[[httpx.Request], httpx.Response]


class FakeGraph:
    """A Graph host answering by (method, path without version): each route a response, or a
    list answered in order (the last one from then on); every request recorded."""

    def __init__(self, routes: dict[tuple[str, str], Route | list[Route]]) -> None:
        self.routes = {key: value if isinstance(value, list) else [value] for key, value in routes.items()}
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        key = (request.method, re.sub(r"^/v[0-9]+\.[0-9]+", "", request.url.path))
        answers = self.routes.get(key)
        if answers is None:
            return graph_error(400, 100, f"Unsupported {key}")
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        return answer(request) if callable(answer) else answer

    def calls(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.seen if r.method == method and r.url.path == f"/{V}{path}"]


def graph_error(status: int, code: int, message: str = "m", subcode: int | None = None) -> httpx.Response:
    # https://developers.facebook.com/docs/graph-api/guides/error-handling
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCd"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return httpx.Response(status, json={"error": error})


def ok(body: dict[str, Any]) -> httpx.Response:
    return httpx.Response(200, json=body)


def form(request: httpx.Request) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(request.content.decode()).items()}


def client(graph: FakeGraph, *, creds: InstagramCredentials = CREDS, org_id: str | None = None) -> InstagramClient:
    http = httpx.Client(transport=httpx.MockTransport(graph))
    return InstagramClient(
        creds, http=http, retry_policy=RetryPolicy(max_attempts=3, sleep=lambda _: None), org_id=org_id
    )


def fb_client(graph: FakeGraph) -> InstagramClient:
    http = httpx.Client(transport=httpx.MockTransport(graph))
    facebook = FacebookClient(FB_CREDS, http=http)
    creds = InstagramCredentials(access_token=SecretStr(FB_TOKEN), base_url="https://graph.facebook.com")
    return InstagramClient(
        creds, http=http, facebook=facebook, retry_policy=RetryPolicy(max_attempts=3, sleep=lambda _: None)
    )


def post(*media: ResolvedMedia, text: str = "Café novo #coffee", fmt: str = "feed") -> SocialPost:
    return SocialPost(
        org_id="acme",
        publication_id="pub_" + "0" * 32,
        account=IG,
        text=text,
        media=media,
        format=fmt,
    )


def image(url: str = JPEG_URL, alt: str | None = None) -> ResolvedMedia:
    return ResolvedMedia(type="image", url=url, alt_text=alt)


def video(url: str = MP4_URL) -> ResolvedMedia:
    return ResolvedMedia(type="video", url=url)


def content(text: str = "ok", *media: MediaItem, **kwargs: Any) -> SocialContent:
    return SocialContent(text=text, media=media or (MediaItem(url=JPEG_URL, type="image"),), **kwargs)


# ----- check_post: what Instagram refuses, before anything is stored ------------------------------


def test_a_jpeg_feed_post_passes_the_check() -> None:
    InstagramClient.check_post(content("Olá #a #b @c", MediaItem(url=JPEG_URL, type="image", alt_text="a cup")))


@pytest.mark.parametrize(
    ("given", "field", "code"),
    [
        (lambda: content("x" * 2201), "content.text", "caption_too_long"),
        (lambda: content(" ".join(f"#t{i}" for i in range(31))), "content.text", "too_many_hashtags"),
        (lambda: content(" ".join(f"@user{i}" for i in range(21))), "content.text", "too_many_mentions"),
        (lambda: SocialContent(text="no media"), "content.media", "media_required"),
        (
            lambda: content("x", *(MediaItem(url=JPEG_URL, type="image") for _ in range(11))),
            "content.media",
            "too_many_media",
        ),
        (
            lambda: content("x", MediaItem(url="https://cdn.example.com/a.png", type="image")),
            "content.media[0]",
            "image_not_jpeg",
        ),
        (
            lambda: content("x", MediaItem(url="https://cdn.example.com/a.avi", type="video")),
            "content.media[0]",
            "video_format",
        ),
        (
            lambda: content("x", MediaItem(url=JPEG_URL, type="image"), format="reel"),
            "content.media",
            "reel_needs_one_video",
        ),
        (
            lambda: content("caption", MediaItem(url=JPEG_URL, type="image"), format="story"),
            "content.text",
            "story_caption_unsupported",
        ),
        (
            lambda: content("x", MediaItem(url=MP4_URL, type="video", alt_text="a")),
            "content.media[0].alt_text",
            "alt_text_unsupported",
        ),
        (lambda: content("x", link="https://example.com/"), "content.link", "link_unsupported"),
        (lambda: content("x", visibility="private"), "content.visibility", "visibility_unsupported"),
    ],
)
def test_check_post_refuses_naming_the_field(given: Callable[[], SocialContent], field: str, code: str) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        InstagramClient.check_post(given())
    assert refused.value.message.startswith(field)
    assert refused.value.code == code


def test_thirty_hashtags_and_twenty_mentions_are_allowed_and_emails_are_not_mentions() -> None:
    text = " ".join(f"#t{i}" for i in range(30)) + " " + " ".join(f"@u{i}" for i in range(20)) + " a@b.com"
    InstagramClient.check_post(content(text))


# ----- prepare: the live cap, then the containers ----------------------------------------------


def test_a_single_image_reads_the_cap_then_creates_one_container_with_caption_and_alt_text() -> None:
    graph = FakeGraph(
        {
            ("GET", f"/{IG}/content_publishing_limit"): ok(LIMIT_OK),
            ("POST", f"/{IG}/media"): ok({"id": "17900000000000001"}),
            ("GET", "/17900000000000001"): ok({"status_code": "FINISHED", "id": "17900000000000001"}),
        }
    )
    step = client(graph).prepare_post(post(image(alt="Uma xícara"), text="Café novo #coffee"))

    limit, create, status = graph.seen
    assert str(limit.url) == f"{IG_HOST}/{IG}/content_publishing_limit?fields=config%2Cquota_usage"
    assert limit.headers["authorization"] == f"Bearer {TOKEN}"
    assert (create.method, str(create.url)) == ("POST", f"{IG_HOST}/{IG}/media")
    assert form(create) == {"image_url": JPEG_URL, "alt_text": "Uma xícara", "caption": "Café novo #coffee"}
    assert str(status.url) == f"{IG_HOST}/17900000000000001?fields=status_code%2Cstatus"
    assert step.status == "ready"
    assert step.job["container"] == "17900000000000001"
    assert step.max_poll_seconds == 300
    assert step.poll_after_seconds is None  # the hub's SOCIAL_POLL_SECONDS (Meta: once a minute)


def test_a_video_is_a_reel_and_stays_pending_while_in_progress() -> None:
    graph = FakeGraph(
        {
            ("GET", f"/{IG}/content_publishing_limit"): ok(LIMIT_OK),
            ("POST", f"/{IG}/media"): ok({"id": "c1"}),
            ("GET", "/c1"): [ok({"status_code": "IN_PROGRESS"}), ok({"status_code": "FINISHED"})],
        }
    )
    ig = client(graph)
    step = ig.prepare_post(post(video(), text="Reel"))
    assert form(graph.calls("POST", f"/{IG}/media")[0]) == {
        "media_type": "REELS",
        "video_url": MP4_URL,
        "caption": "Reel",
    }
    assert step.status == "pending"

    assert ig.poll_post(post(video(), text="Reel"), step.job).status == "ready"


def test_a_story_is_a_stories_container_without_caption() -> None:
    graph = FakeGraph(
        {
            ("GET", f"/{IG}/content_publishing_limit"): ok(LIMIT_OK),
            ("POST", f"/{IG}/media"): ok({"id": "s1"}),
            ("GET", "/s1"): ok({"status_code": "FINISHED"}),
        }
    )
    client(graph).prepare_post(post(image(), text="", fmt="story"))
    assert form(graph.calls("POST", f"/{IG}/media")[0]) == {"media_type": "STORIES", "image_url": JPEG_URL}


def test_a_carousel_creates_children_then_the_carousel_container() -> None:
    graph = FakeGraph(
        {
            ("GET", f"/{IG}/content_publishing_limit"): ok(LIMIT_OK),
            ("POST", f"/{IG}/media"): [ok({"id": "k1"}), ok({"id": "k2"}), ok({"id": "car"})],
            ("GET", "/car"): ok({"status_code": "FINISHED"}),
        }
    )
    step = client(graph).prepare_post(post(image(alt="um"), image("https://cdn.example.com/b.jpeg"), text="Dois"))

    first, second, parent = (form(r) for r in graph.calls("POST", f"/{IG}/media"))
    assert first == {"image_url": JPEG_URL, "alt_text": "um", "is_carousel_item": "true"}
    assert second == {"image_url": "https://cdn.example.com/b.jpeg", "is_carousel_item": "true"}
    assert parent == {"media_type": "CAROUSEL", "children": "k1,k2", "caption": "Dois"}
    assert step.status == "ready"
    assert step.job["children"] == ["k1", "k2"]


def test_a_carousel_with_a_video_waits_for_its_items_before_the_carousel_container() -> None:
    graph = FakeGraph(
        {
            ("GET", f"/{IG}/content_publishing_limit"): ok(LIMIT_OK),
            ("POST", f"/{IG}/media"): [ok({"id": "k1"}), ok({"id": "k2"}), ok({"id": "car"})],
            ("GET", "/k1"): ok({"status_code": "FINISHED"}),
            ("GET", "/k2"): [ok({"status_code": "IN_PROGRESS"}), ok({"status_code": "FINISHED"})],
            ("GET", "/car"): ok({"status_code": "IN_PROGRESS"}),
        }
    )
    ig = client(graph)
    the_post = post(image(), video(), text="Misto")
    step = ig.prepare_post(the_post)
    assert step.status == "pending"
    assert form(graph.calls("POST", f"/{IG}/media")[1]) == {
        "media_type": "VIDEO",
        "video_url": MP4_URL,
        "is_carousel_item": "true",
    }
    assert len(graph.calls("POST", f"/{IG}/media")) == 2

    step = ig.poll_post(the_post, step.job)  # k2 still processing
    assert (step.status, len(graph.calls("POST", f"/{IG}/media"))) == ("pending", 2)
    step = ig.poll_post(the_post, step.job)  # both done: the carousel container
    assert step.status == "pending"
    assert step.job["container"] == "car"
    assert form(graph.calls("POST", f"/{IG}/media")[2]) == {
        "media_type": "CAROUSEL",
        "children": "k1,k2",
        "caption": "Misto",
    }


def test_the_spent_publishing_cap_delays_until_the_oldest_post_leaves_the_window() -> None:
    # Given 100 of 100 posts used, the oldest inside the 24 h window published 20 hours ago
    oldest = datetime.now(UTC) - timedelta(hours=20)
    stamps = [oldest + timedelta(minutes=i) for i in range(3)] + [oldest - timedelta(hours=10)]
    media = {"data": [{"id": str(i), "timestamp": s.strftime("%Y-%m-%dT%H:%M:%S+0000")} for i, s in enumerate(stamps)]}
    spent = {"data": [{"quota_usage": 100, "config": {"quota_total": 100, "quota_duration": 86400}}]}
    graph = FakeGraph({("GET", f"/{IG}/content_publishing_limit"): ok(spent), ("GET", f"/{IG}/media"): ok(media)})

    # When the post is prepared
    with pytest.raises(RateLimitedError) as delayed:
        client(graph).prepare_post(post(image()))

    # Then nothing was created and the wait ends when the oldest leaves the window (~4 h)
    assert graph.calls("POST", f"/{IG}/media") == []
    assert delayed.value.code == "publishing_limit"
    assert 4 * 3600 - 120 <= delayed.value.retry_after <= 4 * 3600 + 5


@pytest.mark.parametrize(("status", "code"), [("ERROR", "processing_failed"), ("EXPIRED", "container_expired")])
def test_a_failed_or_expired_container_is_content_rejected_with_its_status(status: str, code: str) -> None:
    graph = FakeGraph({("GET", "/c9"): ok({"status_code": status, "status": "Error: 2207026"})})
    with pytest.raises(InvalidRequestError) as rejected:
        client(graph).poll_post(post(video()), {"account": IG, "container": "c9"})
    assert rejected.value.code == code
    assert status in rejected.value.message


def test_the_resolved_media_is_checked_before_the_cap_or_any_container() -> None:
    graph = FakeGraph({})
    png = ResolvedMedia(
        type="image", url="https://bucket.s3.amazonaws.com/acme/a.jpg?X-Amz-Signature=s", content_type="image/png"
    )
    with pytest.raises(InvalidRequestError) as refused:
        client(graph).prepare_post(post(png))
    assert refused.value.code == "image_not_jpeg"
    assert graph.seen == []


def test_jpeg_size_reads_the_frame_header_and_refuses_other_formats() -> None:
    # SOI, APP0 (16 bytes), SOF0 with height 1350 and width 1080
    head = b"\xff\xd8" + b"\xff\xe0\x00\x10" + b"JFIF\x00" + b"\x00" * 9 + b"\xff\xc0\x00\x11\x08\x05\x46\x04\x38"
    assert jpeg_size(head) == (1080, 1350)
    with pytest.raises(ValueError, match="not a JPEG"):
        jpeg_size(b"\x89PNG\r\n\x1a\n")


# ----- publish: once; a lost answer is an unknown outcome ---------------------------------------


def test_publish_posts_the_creation_id_once_and_answers_the_permalink() -> None:
    graph = FakeGraph(
        {
            ("POST", f"/{IG}/media_publish"): ok({"id": "17920000000000009"}),
            ("GET", "/17920000000000009"): ok(
                {"permalink": "https://www.instagram.com/p/Abc123/", "timestamp": "2026-12-03T19:00:00+0000"}
            ),
        }
    )
    published = client(graph).publish_post(post(image()), {"account": IG, "container": "c1"})

    [sent] = graph.calls("POST", f"/{IG}/media_publish")
    assert str(sent.url) == f"{IG_HOST}/{IG}/media_publish"
    assert form(sent) == {"creation_id": "c1"}
    assert published.post_id == "17920000000000009"
    assert published.url == "https://www.instagram.com/p/Abc123/"
    assert published.published_at == datetime(2026, 12, 3, 19, tzinfo=UTC)


def test_a_publish_whose_answer_is_lost_is_an_unknown_outcome_never_retried() -> None:
    seen: list[httpx.Request] = []

    def lost(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(OutcomeUnknownError):
        client(FakeGraph({("POST", f"/{IG}/media_publish"): lost})).publish_post(
            post(image()), {"account": IG, "container": "c1"}
        )
    assert len(seen) == 1


def test_a_published_post_whose_permalink_cannot_be_read_is_still_published() -> None:
    graph = FakeGraph({("POST", f"/{IG}/media_publish"): ok({"id": "m1"}), ("GET", "/m1"): graph_error(500, 2, "down")})
    published = client(graph).publish_post(post(image()), {"account": IG, "container": "c1"})
    assert (published.post_id, published.url) == ("m1", None)
    assert published.warnings


# ----- find: after an unknown outcome ---------------------------------------------------------


def test_find_post_answers_none_when_the_container_was_not_published() -> None:
    graph = FakeGraph({("GET", "/c1"): ok({"status_code": "FINISHED"})})
    found = client(graph).find_post(post(image()), {"account": IG, "container": "c1"}, since=datetime.now(UTC))
    assert found is None
    assert graph.calls("GET", f"/{IG}/media") == []


def test_find_post_matches_the_published_containers_media_on_caption_and_time() -> None:
    since = datetime(2026, 12, 3, 19, 0, tzinfo=UTC)
    media = {
        "data": [
            {"id": "new-other", "caption": "Outro", "timestamp": "2026-12-03T19:01:00+0000"},
            {
                "id": "ours",
                "caption": "Café novo #coffee",
                "timestamp": "2026-12-03T19:00:30+0000",
                "permalink": "https://www.instagram.com/p/X/",
            },
            {"id": "old-same", "caption": "Café novo #coffee", "timestamp": "2026-12-01T10:00:00+0000"},
        ]
    }
    graph = FakeGraph({("GET", "/c1"): ok({"status_code": "PUBLISHED"}), ("GET", f"/{IG}/media"): ok(media)})
    found = client(graph).find_post(post(image()), {"account": IG, "container": "c1"}, since=since)

    assert found is not None
    assert (found.post_id, found.url) == ("ours", "https://www.instagram.com/p/X/")
    [listed] = graph.calls("GET", f"/{IG}/media")
    assert listed.url.params["fields"] == "id,caption,media_type,media_product_type,permalink,timestamp"


# ----- errors: the Graph taxonomy ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        (graph_error(401, 190, "Invalid OAuth access token"), AuthenticationError),
        (graph_error(400, 4, "Application request limit reached"), RateLimitedError),
        (graph_error(400, 9, "Application request limit reached", 2207042), RateLimitedError),
        (graph_error(400, -1, "Instagram server error. Try again.", 2207001), ProviderUnavailableError),
        (graph_error(400, -2, "It takes too long to download the media.", 2207003), ProviderUnavailableError),
        (graph_error(400, -2, "The media you are trying to access has expired.", 2207020), InvalidRequestError),
        (graph_error(400, 36003, "The aspect ratio is not supported.", 2207009), InvalidRequestError),
        (graph_error(500, 2, "Service temporarily unavailable"), ProviderUnavailableError),
    ],
)
def test_graph_errors_map_to_the_taxonomy(answer: httpx.Response, kind: type[Exception]) -> None:
    graph = FakeGraph({("GET", f"/{IG}/content_publishing_limit"): answer})
    with pytest.raises(kind) as raised:
        client(graph).publishing_limit(IG)
    assert TOKEN not in str(raised.value)


# ----- insights ----------------------------------------------------------------------------------


def test_account_metrics_reads_each_utc_day_as_total_values_with_views() -> None:
    def day(request: httpx.Request) -> httpx.Response:
        since = int(request.url.params["since"])
        if since == int(datetime(2026, 12, 2, tzinfo=UTC).timestamp()):
            return ok({"data": []})  # no data that day (the API answers nothing rather than 0)
        return ok(
            {
                "data": [
                    {"name": "views", "period": "day", "total_value": {"value": 1200}},
                    {"name": "reach", "period": "day", "total_value": {"value": 800}},
                ]
            }
        )

    graph = FakeGraph({("GET", f"/{IG}/insights"): day})
    days = client(graph).account_metrics(IG, date(2026, 12, 1), date(2026, 12, 2))

    first = graph.seen[0]
    assert dict(first.url.params) == {
        "metric": "views,reach,accounts_engaged,total_interactions,likes,comments,shares,saves",
        "period": "day",
        "metric_type": "total_value",
        "since": str(int(datetime(2026, 12, 1, tzinfo=UTC).timestamp())),
        "until": str(int(datetime(2026, 12, 2, tzinfo=UTC).timestamp())),
    }
    assert "impressions" not in first.url.params["metric"]
    assert [(d.day, d.metrics) for d in days] == [(date(2026, 12, 1), {"views": 1200, "reach": 800})]


def test_post_metrics_asks_each_media_for_its_product_types_metrics() -> None:
    graph = FakeGraph(
        {
            ("GET", "/m1"): ok({"id": "m1", "media_product_type": "STORY"}),
            ("GET", "/m1/insights"): ok({"data": [{"name": "views", "period": "lifetime", "values": [{"value": 90}]}]}),
            ("GET", "/gone"): graph_error(400, 100, "Object does not exist"),
        }
    )
    metrics = client(graph).post_metrics(IG, ["m1", "gone"])
    assert [(m.post_id, m.metrics) for m in metrics] == [("m1", {"views": 90})]
    assert graph.calls("GET", "/m1/insights")[0].url.params["metric"] == "views,reach,replies,shares,total_interactions"


def test_list_accounts_with_instagram_login_is_the_tokens_account() -> None:
    graph = FakeGraph({("GET", "/me"): ok({"user_id": IG, "username": "somosprodutora", "id": "app-scoped"})})
    [account] = client(graph).list_accounts()
    assert (account.account, account.name) == (IG, "somosprodutora")
    assert graph.seen[0].url.params["fields"] == "user_id,username"


# ----- Facebook Login: graph.facebook.com with the facebook integration's token -----------------


def test_facebook_login_uses_graph_facebook_com_and_the_facebook_token() -> None:
    graph = FakeGraph(
        {
            ("GET", "/me/accounts"): ok(
                {
                    "data": [
                        {"name": "Página", "id": "p1", "instagram_business_account": {"id": IG, "username": "somos"}},
                        {"name": "Sem IG", "id": "p2"},
                    ]
                }
            ),
            ("GET", f"/{IG}/content_publishing_limit"): ok(LIMIT_OK),
            ("POST", f"/{IG}/media"): ok({"id": "c1"}),
            ("GET", "/c1"): ok({"status_code": "FINISHED"}),
        }
    )
    ig = fb_client(graph)
    [account] = ig.list_accounts()
    ig.prepare_post(post(image()))

    assert account.account == IG
    listing = graph.seen[0]
    assert str(listing.url).startswith(f"{FB_HOST}/me/accounts?")
    assert listing.url.params["fields"] == "name,instagram_business_account{id,username}"
    assert all(r.headers["authorization"] == f"Bearer {FB_TOKEN}" for r in graph.seen)
    assert str(graph.calls("POST", f"/{IG}/media")[0].url) == f"{FB_HOST}/{IG}/media"


def test_hashtag_search_with_facebook_login_finds_the_id_then_its_edge() -> None:
    graph = FakeGraph(
        {
            ("GET", "/ig_hashtag_search"): ok({"data": [{"id": "17843853986012965"}]}),
            ("GET", "/17843853986012965/top_media"): ok({"data": [{"id": "m1", "caption": "#cafe"}]}),
        }
    )
    found = fb_client(graph).search_hashtag(IG, "#Cafe", "top_media")

    search, edge = graph.seen
    assert dict(search.url.params) == {"user_id": IG, "q": "cafe"}
    assert edge.url.params["user_id"] == IG
    assert edge.url.params["fields"] == "id,caption,media_type,permalink,timestamp,like_count,comments_count"
    assert found == [{"id": "m1", "caption": "#cafe"}]


def test_hashtag_search_is_refused_on_instagram_login_and_for_bad_input() -> None:
    with pytest.raises(InvalidRequestError) as no_fb:
        client(FakeGraph({})).search_hashtag(IG, "cafe")
    assert no_fb.value.code == "hashtag_search_needs_facebook_login"
    with pytest.raises(InvalidRequestError) as bad:
        fb_client(FakeGraph({})).search_hashtag(IG, "two words")
    assert bad.value.message.startswith("hashtag:")


# ----- which login: the instagram integration, else the facebook one ------------------------------


def test_for_org_prefers_the_instagram_integration(secrets: FakeSecrets) -> None:
    secrets.stored["hub/acme/instagram"] = {"access_token": TOKEN, "user_id": IG}
    secrets.stored["hub/acme/facebook"] = {"access_token": FB_TOKEN}
    assert InstagramClient.for_org("acme").login == "instagram"


def test_for_org_falls_back_to_facebook_login(secrets: FakeSecrets) -> None:
    secrets.stored["hub/acme/facebook"] = {"access_token": FB_TOKEN, "graph_version": "v27.0"}
    ig = InstagramClient.for_org("acme")
    assert ig.login == "facebook"
    assert ig.auth_headers() == {"Authorization": f"Bearer {FB_TOKEN}"}
    assert ig.api_version() == "v27.0"


def test_for_org_without_either_integration_names_both(secrets: FakeSecrets) -> None:
    with pytest.raises(AuthenticationError, match=r"instagram integration .* nor a facebook one"):
        InstagramClient.for_org("acme")


def test_the_graph_version_is_configuration_not_code(secrets: FakeSecrets) -> None:
    # Given the app secret of this deployment names a newer version
    secrets.stored["hub/_apps/instagram"] = {"client_id": "1", "client_secret": "s", "graph_version": "v27.0"}
    graph = FakeGraph({("GET", "/me"): ok({"user_id": IG})})
    creds = InstagramCredentials(access_token=SecretStr(TOKEN), user_id=IG)
    http = httpx.Client(transport=httpx.MockTransport(graph))
    InstagramClient(creds, http=http).list_accounts()
    assert str(graph.seen[0].url).startswith("https://graph.instagram.com/v27.0/me?")
