"""FacebookClient against the Pages API's documented requests (paths, tokens, form bodies) and
answers, and what the publish workflow sees of its errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from pydantic import SecretStr

from hub.errors import AuthenticationError, InvalidRequestError, OutcomeUnknownError, RateLimitedError
from hub.providers import descriptor
from hub.providers.facebook import GRAPH_VERSION
from hub.providers.facebook.client import DEPRECATED_METRICS, FacebookClient, FacebookCredentials
from hub.social.models import MediaItem, ResolvedMedia, SocialContent, SocialPost
from tests.helpers import AdapterFactory

USER_TOKEN = "EAAuser-long-lived-token-0001"
PAGE = "102030405060708"
PAGE_TOKEN = "EAApage-token-for-102030405060708"
READER_PAGE = "908070605040302"
V = GRAPH_VERSION
CREDS = FacebookCredentials(base_url="https://graph.facebook.com", access_token=SecretStr(USER_TOKEN))
ACCOUNTS = {
    "data": [
        {"id": PAGE, "name": "Somos Produtora", "access_token": PAGE_TOKEN, "tasks": ["ANALYZE", "CREATE_CONTENT"]},
        {"id": READER_PAGE, "name": "Read only", "access_token": "EAAreader-page-token", "tasks": ["ANALYZE"]},
    ],
    "paging": {"cursors": {"before": "a", "after": "b"}},
}
PHOTO = ResolvedMedia(type="image", url="https://media.example.com/a.jpg?X-Amz-Signature=s", alt_text="a cat")
PHOTO2 = ResolvedMedia(type="image", url="https://media.example.com/b.jpg?X-Amz-Signature=s")
VIDEO = ResolvedMedia(type="video", url="https://media.example.com/v.mp4?X-Amz-Signature=s")

Route = Callable[[httpx.Request], httpx.Response]


class FakeGraph:
    """Answers by (method, path); /me/accounts answered unless overridden; requests recorded."""

    def __init__(self, routes: dict[tuple[str, str], Any] | None = None) -> None:
        self.routes: dict[tuple[str, str], Any] = {("GET", f"/{V}/me/accounts"): ACCOUNTS, **(routes or {})}
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        answer = self.routes.get((request.method, request.url.path))
        if answer is None:
            unknown = {"error": {"message": "Unknown path", "code": 803, "type": "OAuthException"}}
            return httpx.Response(404, json=unknown)
        if callable(answer):
            result: httpx.Response = answer(request)
            return result
        if isinstance(answer, list):  # answered in order, the last one from then on
            answer = answer.pop(0) if len(answer) > 1 else answer[0]
        return answer if isinstance(answer, httpx.Response) else httpx.Response(200, json=answer)

    def calls(self, method: str | None = None) -> list[httpx.Request]:
        return [r for r in self.seen if method is None or r.method == method]

    def posts(self) -> list[httpx.Request]:
        return [r for r in self.seen if r.method == "POST"]


client_with = AdapterFactory(FacebookClient, CREDS, attempts=3)


def form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode(), keep_blank_values=True).items()}


def post_of(text: str = "Nova coleção", media: tuple[ResolvedMedia, ...] = (), **extra: Any) -> SocialPost:
    return SocialPost(org_id="acme", publication_id="pub_" + "0" * 32, account=PAGE, text=text, media=media, **extra)


def content(**fields: Any) -> SocialContent:
    return SocialContent(**fields)


IMG = MediaItem(s3_key="acme/social/a.jpg", type="image")
VID = MediaItem(s3_key="acme/social/v.mp4", type="video")


# ----- check_post: refused before anything is stored or sent -----------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"text": "x", "format": "story", "media": (IMG,)}, "content.format"),
        ({"media": (IMG, VID)}, "content.media"),
        ({"media": (VID, VID)}, "content.media"),
        ({"media": (IMG,) * 11}, "content.media"),
        ({"format": "reel", "media": (IMG,)}, "content.media"),
        ({"text": "x", "link": "https://example.com/p", "media": (IMG,)}, "content.link"),
        ({"text": "   "}, "content"),
    ],
)
def test_check_post_refuses_what_a_page_cannot_post_naming_the_field(fields: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        FacebookClient.check_post(content(**fields))
    assert info.value.message.startswith(f"{field}:")


@pytest.mark.parametrize(
    "fields",
    [
        {"text": "só texto"},
        {"text": "link", "link": "https://example.com/p"},
        {"text": "fotos", "media": (IMG,) * 10},
        {"format": "reel", "media": (VID,)},
        {"media": (VID,)},
    ],
)
def test_check_post_accepts_what_pages_publish(fields: dict[str, Any]) -> None:
    FacebookClient.check_post(content(**fields))


# ----- tokens ----------------------------------------------------------------------------------


def test_page_calls_use_the_page_token_read_from_me_accounts_with_the_user_token() -> None:
    graph = FakeGraph({("POST", f"/{V}/{PAGE}/feed"): {"id": f"{PAGE}_111"}})
    client = client_with(graph)

    published = client.publish_post(post_of("Olá", link="https://example.com/p"), {"kind": "feed"})

    accounts, feed = graph.seen
    assert accounts.url.path == f"/{V}/me/accounts"
    assert accounts.url.params["fields"] == "id,name,access_token,tasks"
    assert accounts.headers["Authorization"] == f"Bearer {USER_TOKEN}"
    assert feed.headers["Authorization"] == f"Bearer {PAGE_TOKEN}"
    assert form(feed) == {"message": "Olá", "link": "https://example.com/p"}
    assert published.post_id == f"{PAGE}_111"
    assert published.url == f"https://www.facebook.com/{PAGE}_111"


def test_a_page_the_connection_does_not_manage_is_an_invalid_request_naming_the_account() -> None:
    graph = FakeGraph()
    with pytest.raises(InvalidRequestError) as info:
        client_with(graph).prepare_post(post_of().model_copy(update={"account": "555"}))
    assert info.value.message.startswith("account: page 555")
    assert len(graph.posts()) == 0


def test_a_page_without_create_content_needs_the_org_to_connect_again() -> None:
    graph = FakeGraph()
    with pytest.raises(AuthenticationError) as info:
        client_with(graph).prepare_post(post_of().model_copy(update={"account": READER_PAGE}))
    assert info.value.code == "page_task_missing"
    assert "CREATE_CONTENT" in info.value.message
    assert graph.posts() == []


def test_page_tokens_never_appear_in_errors() -> None:
    echo = httpx.Response(400, json={"error": {"message": f"bad token {PAGE_TOKEN}", "code": 100, "type": "X"}})
    graph = FakeGraph({("POST", f"/{V}/{PAGE}/feed"): echo})
    with pytest.raises(InvalidRequestError) as info:
        client_with(graph).publish_post(post_of(), {"kind": "feed"})
    assert PAGE_TOKEN not in str(info.value) and PAGE_TOKEN not in json.dumps(info.value.details, default=str)


# ----- publishing ------------------------------------------------------------------------------


def test_text_posts_need_no_preparation() -> None:
    graph = FakeGraph()
    step = client_with(graph).prepare_post(post_of())
    assert (step.status, step.job) == ("ready", {"kind": "feed"})
    assert graph.posts() == []


def test_one_photo_is_published_with_url_caption_and_alt_text() -> None:
    graph = FakeGraph({("POST", f"/{V}/{PAGE}/photos"): {"id": "9001", "post_id": f"{PAGE}_9001"}})
    client = client_with(graph)
    post = post_of("Legenda", (PHOTO,))
    step = client.prepare_post(post)
    published = client.publish_post(post, step.job)

    (photo,) = graph.posts()
    assert form(photo) == {"url": PHOTO.url, "caption": "Legenda", "alt_text_custom": "a cat"}
    assert published.post_id == f"{PAGE}_9001"


def test_several_photos_are_uploaded_unpublished_then_attached_to_one_feed_post() -> None:
    graph = FakeGraph(
        {
            ("POST", f"/{V}/{PAGE}/photos"): [{"id": "71"}, {"id": "72"}],
            ("POST", f"/{V}/{PAGE}/feed"): {"id": f"{PAGE}_73"},
        }
    )
    client = client_with(graph)
    post = post_of("Duas fotos", (PHOTO, PHOTO2))

    step = client.prepare_post(post)
    assert step.status == "ready" and step.job == {"kind": "photos", "media_fbids": ["71", "72"]}
    published = client.publish_post(post, step.job)

    first, second, feed = graph.posts()
    assert form(first) == {"url": PHOTO.url, "published": "false", "alt_text_custom": "a cat"}
    assert form(second) == {"url": PHOTO2.url, "published": "false"}
    assert form(feed) == {
        "message": "Duas fotos",
        "attached_media[0]": '{"media_fbid":"71"}',
        "attached_media[1]": '{"media_fbid":"72"}',
    }
    assert published.post_id == f"{PAGE}_73"


def test_a_reel_is_started_uploaded_by_file_url_polled_then_finished() -> None:
    upload_url = f"https://rupload.facebook.com/video-upload/{V}/5550001"
    status_in_progress = {"status": {"video_status": "upload_complete", "uploading_phase": {"status": "in_progress"}}}
    status_done = {
        "status": {
            "video_status": "upload_complete",
            "uploading_phase": {"status": "complete"},
            "processing_phase": {"status": "not_started"},
        }
    }
    graph = FakeGraph(
        {
            ("POST", f"/{V}/{PAGE}/video_reels"): [
                {"video_id": "5550001", "upload_url": upload_url},
                {"success": True},
            ],
            ("POST", f"/video-upload/{V}/5550001"): {"success": True},
            ("GET", f"/{V}/5550001"): [status_in_progress, status_done],
        }
    )
    client = client_with(graph)
    post = post_of("Reel!", (VIDEO,), format="reel")

    step = client.prepare_post(post)
    assert step.status == "pending" and step.job == {"kind": "reel", "video_id": "5550001"}
    assert client.poll_post(post, step.job).status == "pending"
    assert client.poll_post(post, step.job).status == "ready"
    published = client.publish_post(post, step.job)

    start, upload, finish = graph.posts()
    assert form(start) == {"upload_phase": "start"}
    assert str(upload.url) == upload_url
    assert upload.headers["Authorization"] == f"OAuth {PAGE_TOKEN}"
    assert upload.headers["file_url"] == VIDEO.url
    polls = [r for r in graph.calls("GET") if r.url.path == f"/{V}/5550001"]
    assert [r.url.params["fields"] for r in polls] == ["status", "status"]
    assert form(finish) == {
        "upload_phase": "finish",
        "video_id": "5550001",
        "video_state": "PUBLISHED",
        "description": "Reel!",
    }
    assert published.post_id == "5550001"
    assert published.url == "https://www.facebook.com/reel/5550001"


def test_a_reel_meta_could_not_process_is_refused_content() -> None:
    failed = {
        "status": {
            "video_status": "error",
            "uploading_phase": {"status": "error", "errors": [{"code": 1, "message": "could not fetch file_url"}]},
        }
    }
    graph = FakeGraph({("GET", f"/{V}/5550001"): failed})
    with pytest.raises(InvalidRequestError) as info:
        client_with(graph).poll_post(post_of(media=(VIDEO,), format="reel"), {"kind": "reel", "video_id": "5550001"})
    assert info.value.code == "processing_failed"
    assert "could not fetch file_url" in info.value.message


def test_a_feed_video_is_published_by_file_url() -> None:
    graph = FakeGraph({("POST", f"/{V}/{PAGE}/videos"): {"id": "8880001"}})
    published = client_with(graph).publish_post(post_of("Vídeo", (VIDEO,)), {"kind": "video"})
    (video,) = graph.posts()
    assert form(video) == {"file_url": VIDEO.url, "description": "Vídeo"}
    assert published.url == f"https://www.facebook.com/{PAGE}/videos/8880001"


def test_publish_is_sent_once_and_a_lost_answer_is_an_unknown_outcome() -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    graph = FakeGraph({("POST", f"/{V}/{PAGE}/feed"): timeout})
    with pytest.raises(OutcomeUnknownError):
        client_with(graph, attempts=3).publish_post(post_of(), {"kind": "feed"})
    assert len(graph.posts()) == 1


def test_a_throttled_publish_is_rate_limited_with_metas_wait() -> None:
    usage = {PAGE: [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 12}]}
    throttled = httpx.Response(
        400,
        json={"error": {"message": "(#32) Page request limit reached", "code": 32, "type": "OAuthException"}},
        headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
    )
    graph = FakeGraph({("POST", f"/{V}/{PAGE}/feed"): throttled})
    with pytest.raises(RateLimitedError) as info:
        client_with(graph).publish_post(post_of(), {"kind": "feed"})
    assert info.value.retry_after == 720


# ----- Meta's own scheduling (a client option the workflow does not use) -----------------------


def test_scheduled_at_posts_unpublished_with_scheduled_publish_time() -> None:
    when = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    graph = FakeGraph({("POST", f"/{V}/{PAGE}/feed"): {"id": f"{PAGE}_5"}})
    published = client_with(graph).publish_post(post_of(), {"kind": "feed"}, scheduled_at=when)
    (feed,) = graph.posts()
    assert form(feed) == {
        "message": "Nova coleção",
        "published": "false",
        "scheduled_publish_time": str(int(when.timestamp())),
    }
    assert published.published_at is None and published.warnings


@pytest.mark.parametrize("ahead", [timedelta(minutes=5), timedelta(days=31)])
def test_scheduled_at_outside_10_minutes_to_30_days_is_refused_before_any_call(ahead: timedelta) -> None:
    graph = FakeGraph()
    with pytest.raises(InvalidRequestError) as info:
        client_with(graph).publish_post(post_of(), {"kind": "feed"}, scheduled_at=datetime.now(UTC) + ahead)
    assert info.value.message.startswith("scheduled_at:")
    assert graph.seen == []


# ----- the unknown-outcome lookup --------------------------------------------------------------


def test_find_post_matches_the_pages_published_posts_on_message_and_time() -> None:
    since = datetime(2026, 12, 3, 19, 0, tzinfo=UTC)
    listing = {
        "data": [
            {"id": f"{PAGE}_1", "message": "outro", "created_time": "2026-12-03T19:00:05+0000"},
            {
                "id": f"{PAGE}_2",
                "message": "Nova coleção",
                "created_time": "2026-12-03T19:00:07+0000",
                "permalink_url": "https://www.facebook.com/somos/posts/2",
            },
        ]
    }
    graph = FakeGraph({("GET", f"/{V}/{PAGE}/published_posts"): listing})
    found = client_with(graph).find_post(post_of(), {"kind": "feed"}, since=since)
    assert found is not None and found.post_id == f"{PAGE}_2"
    assert found.url == "https://www.facebook.com/somos/posts/2"
    lookup = graph.calls("GET")[-1]
    assert lookup.url.params["fields"] == "id,message,created_time,permalink_url"
    assert lookup.url.params["since"] == str(int((since - timedelta(minutes=2)).timestamp()))
    assert lookup.headers["Authorization"] == f"Bearer {PAGE_TOKEN}"


def test_find_post_answers_none_when_the_page_holds_no_such_post() -> None:
    graph = FakeGraph({("GET", f"/{V}/{PAGE}/published_posts"): {"data": []}})
    since = datetime(2026, 12, 3, 19, 0, tzinfo=UTC)
    assert client_with(graph).find_post(post_of(), {"kind": "feed"}, since=since) is None


def test_find_post_of_a_reel_looks_for_its_video_id_among_the_pages_reels() -> None:
    listing = {"data": [{"id": "5550001", "description": "Reel!", "created_time": "2026-12-03T19:01:00+0000"}]}
    graph = FakeGraph({("GET", f"/{V}/{PAGE}/video_reels"): listing})
    since = datetime(2026, 12, 3, 19, 0, tzinfo=UTC)
    found = client_with(graph).find_post(
        post_of("Reel!", (VIDEO,), format="reel"), {"kind": "reel", "video_id": "5550001"}, since=since
    )
    assert found is not None and found.post_id == "5550001"


# ----- insights --------------------------------------------------------------------------------


def test_list_accounts_answers_the_pages() -> None:
    accounts = client_with(FakeGraph()).list_accounts()
    assert [(a.account, a.name, a.kind) for a in accounts] == [
        (PAGE, "Somos Produtora", "page"),
        (READER_PAGE, "Read only", "page"),
    ]


def test_page_insights_use_the_2025_metric_names_and_date_each_value_by_its_day() -> None:
    insights = {
        "data": [
            {
                "name": "page_total_media_view_unique",
                "period": "day",
                "values": [
                    {"value": 120, "end_time": "2026-11-02T08:00:00+0000"},
                    {"value": 95, "end_time": "2026-11-03T08:00:00+0000"},
                ],
            },
            {
                "name": "page_follows",
                "period": "day",
                "values": [{"value": 1500, "end_time": "2026-11-02T08:00:00+0000"}],
            },
        ]
    }
    graph = FakeGraph({("GET", f"/{V}/{READER_PAGE}/insights"): insights})
    days = client_with(graph).account_metrics(READER_PAGE, date(2026, 11, 1), date(2026, 11, 2))

    assert [(d.day, d.metrics) for d in days] == [
        (date(2026, 11, 1), {"page_total_media_view_unique": 120, "page_follows": 1500}),
        (date(2026, 11, 2), {"page_total_media_view_unique": 95}),
    ]
    request = graph.calls("GET")[-1]
    metrics = request.url.params["metric"].split(",")
    assert {"page_total_media_view_unique", "page_follows"} <= set(metrics)
    assert not set(metrics) & DEPRECATED_METRICS
    assert (request.url.params["period"], request.url.params["since"], request.url.params["until"]) == (
        "day",
        "2026-11-01",
        "2026-11-03",
    )
    assert request.headers["Authorization"] == "Bearer EAAreader-page-token"


def test_long_ranges_are_read_in_spans_of_90_days() -> None:
    graph = FakeGraph({("GET", f"/{V}/{PAGE}/insights"): {"data": []}})
    client_with(graph).account_metrics(PAGE, date(2026, 1, 1), date(2026, 6, 30))
    spans = [(r.url.params["since"], r.url.params["until"]) for r in graph.calls("GET")[1:]]
    assert spans == [("2026-01-01", "2026-04-01"), ("2026-04-01", "2026-06-30"), ("2026-06-30", "2026-07-01")]


def test_post_insights_read_the_renamed_post_metrics() -> None:
    insights = {
        "data": [
            {"name": "post_total_media_view_unique", "period": "lifetime", "values": [{"value": 340}]},
            {"name": "post_media_view", "period": "lifetime", "values": [{"value": 512}]},
        ]
    }
    graph = FakeGraph({("GET", f"/{V}/{PAGE}_2/insights"): insights})
    (metrics,) = client_with(graph).post_metrics(PAGE, [f"{PAGE}_2"])
    assert metrics.metrics == {"post_total_media_view_unique": 340, "post_media_view": 512}
    names = graph.calls("GET")[-1].url.params["metric"].split(",")
    assert "post_total_media_view_unique" in names and not set(names) & DEPRECATED_METRICS


# ----- the hub-side limit ----------------------------------------------------------------------


def test_the_descriptor_limits_publishing_to_2_posts_per_hour_per_page() -> None:
    found = descriptor("facebook")
    assert found is not None
    (rule,) = found.limits
    assert (rule.limit, rule.window_seconds, rule.scope, rule.applies_to) == (2, 3600, "account", "publish")
    assert {"SocialPublisher", "SocialInsights"} <= found.capabilities


def test_publishing_counts_against_the_page_being_published_to() -> None:
    scopes: list[tuple[str | None, str]] = []

    class Spy(FacebookClient):
        def take_rate_limits(self, operation: str | None, cost: int = 1) -> None:
            scopes.append((operation, self.account_scope()))
            super().take_rate_limits(operation, cost)

    graph = FakeGraph({("POST", f"/{V}/{PAGE}/feed"): {"id": f"{PAGE}_1"}})
    client = Spy(CREDS, http=httpx.Client(transport=httpx.MockTransport(graph)), org_id="acme")
    client.publish_post(post_of(), {"kind": "feed"})
    assert scopes == [("accounts", "acme"), ("publish", PAGE)]


def test_a_reel_finish_answered_success_false_goes_to_the_manual_queue_not_a_retry() -> None:
    graph = FakeGraph({("POST", f"/{V}/{PAGE}/video_reels"): {"success": False}})
    with pytest.raises(InvalidRequestError) as info:
        client_with(graph).publish_post(
            post_of("Reel!", (VIDEO,), format="reel"), {"kind": "reel", "video_id": "5550001"}
        )
    assert info.value.code == "publish_refused"
    assert len(graph.posts()) == 1
