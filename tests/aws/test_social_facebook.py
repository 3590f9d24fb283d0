"""FacebookClient against the Facebook sandbox with the hub's AWS (moto): the publish steps the
workflow drives (prepare → poll → publish → find), the 2-posts-per-hour limit per page in the
resilience table, Meta's usage back-off shared across instances, and the insights reads."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from hub.errors import AuthenticationError, OutcomeUnknownError, RateLimitedError
from hub.providers.base import client as base_client
from hub.providers.facebook.client import FacebookClient
from hub.providers.meta import graph
from hub.resilience.ratelimit import RateLimiter
from hub.social.models import ResolvedMedia, SocialPost
from localcloud.sandboxes.facebook import DEMO_PAGE_ID, DEMO_READONLY_PAGE_ID
from tests.conftest import ServedSandboxes

ORG = "demo"
PHOTO = ResolvedMedia(type="image", url="https://media.example.com/a.jpg?X-Amz-Signature=s")
PHOTO2 = ResolvedMedia(type="image", url="https://media.example.com/b.jpg?X-Amz-Signature=s")
VIDEO = ResolvedMedia(type="video", url="https://media.example.com/v.mp4?X-Amz-Signature=s")
# A fixed instant for the hub's fixed-hour window: 30 s before the hour ends.
HOUR_END = datetime(2026, 12, 3, 20, 0, tzinfo=UTC).timestamp()


def post(text: str, media: tuple[ResolvedMedia, ...] = (), *, page: str = DEMO_PAGE_ID, **extra: Any) -> SocialPost:
    return SocialPost(org_id=ORG, publication_id="pub_" + "1" * 32, account=page, text=text, media=media, **extra)


def control(sandboxes: ServedSandboxes, **config: Any) -> dict[str, Any]:
    response = httpx.post(f"{sandboxes.url}/facebook/_sandbox/graph", json=config)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def graph_requests(sandboxes: ServedSandboxes) -> list[dict[str, Any]]:
    return sandboxes.app.requests_for("facebook")


@pytest.fixture
def frozen_hour(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rate limiter's clock at HOUR_END - 30 s (the window never turns mid-test)."""
    monkeypatch.setattr(base_client, "RateLimiter", lambda table: RateLimiter(table, clock=lambda: HOUR_END - 30))


def test_a_text_post_is_prepared_published_and_found(sandboxed: ServedSandboxes, frozen_hour: None) -> None:
    client = FacebookClient.for_org(ORG)
    social = post("Lançamento da coleção de verão")
    started = datetime.now(UTC)

    step = client.prepare_post(social)
    published = client.publish_post(social, step.job)
    found = FacebookClient.for_org(ORG).find_post(social, step.job, since=started)

    assert step.status == "ready"
    assert found is not None and found.post_id == published.post_id
    (made,) = control(sandboxed)["posts"]
    assert (made["page"], made["message"], made["kind"]) == (DEMO_PAGE_ID, social.text, "feed")


def test_several_photos_become_one_post_with_attached_media(sandboxed: ServedSandboxes, frozen_hour: None) -> None:
    client = FacebookClient.for_org(ORG)
    social = post("Duas fotos", (PHOTO, PHOTO2))
    step = client.prepare_post(social)
    client.publish_post(social, step.job)

    state = control(sandboxed)
    (made,) = state["posts"]
    assert made["attached"] == step.job["media_fbids"] and len(made["attached"]) == 2
    assert set(state["unpublished_photos"]) == set(step.job["media_fbids"])


def test_a_reel_is_polled_until_uploaded_then_published_and_found(
    sandboxed: ServedSandboxes, frozen_hour: None
) -> None:
    control(sandboxed, reel_polls=2)
    social = post("Bastidores", (VIDEO,), format="reel")
    started = datetime.now(UTC)
    step = FacebookClient.for_org(ORG).prepare_post(social)
    assert step.status == "pending"

    # Each poll is its own invocation (a Step Functions Wait between them).
    statuses = [FacebookClient.for_org(ORG).poll_post(social, step.job).status for _ in range(3)]
    published = FacebookClient.for_org(ORG).publish_post(social, step.job)

    assert statuses == ["pending", "pending", "ready"]
    assert published.post_id == step.job["video_id"]
    reel = control(sandboxed)["reels"][published.post_id]
    assert reel["uploaded"] and reel["finished"]
    found = FacebookClient.for_org(ORG).find_post(social, step.job, since=started)
    assert found is not None and found.post_id == published.post_id


def test_a_publish_answered_too_late_is_unknown_then_found_never_posted_twice(
    sandboxed: ServedSandboxes, frozen_hour: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_READ_TIMEOUT", "0.3")
    control(sandboxed, slow_publish_seconds=1.0, slow_publish_times=1)
    social = post("Post que demorou")
    started = datetime.now(UTC)
    client = FacebookClient.for_org(ORG)
    step = client.prepare_post(social)

    with pytest.raises(OutcomeUnknownError):
        client.publish_post(social, step.job)
    found = FacebookClient.for_org(ORG).find_post(social, step.job, since=started)

    assert found is not None
    publishes = [r for r in graph_requests(sandboxed) if r["method"] == "POST" and r["path"].endswith("/feed")]
    assert len(publishes) == 1
    assert [p["id"] for p in control(sandboxed)["posts"]] == [found.post_id]


def test_the_third_post_in_an_hour_waits_for_the_next_hour_per_page(
    sandboxed: ServedSandboxes, frozen_hour: None
) -> None:
    for n in range(2):
        FacebookClient.for_org(ORG).publish_post(post(f"post {n}"), {"kind": "feed"})

    with pytest.raises(RateLimitedError) as info:
        FacebookClient.for_org(ORG).publish_post(post("terceiro"), {"kind": "feed"})

    assert info.value.retry_after == pytest.approx(30)
    assert len(control(sandboxed)["posts"]) == 2  # the third never reached Meta


def test_a_page_the_user_cannot_publish_to_needs_a_new_connection(sandboxed: ServedSandboxes) -> None:
    with pytest.raises(AuthenticationError) as info:
        FacebookClient.for_org(ORG).prepare_post(post("x", page=DEMO_READONLY_PAGE_ID))
    assert info.value.code == "page_task_missing"


def test_usage_at_95_percent_backs_off_every_instance_until_the_regain_time(
    sandboxed: ServedSandboxes, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [datetime.now(UTC).timestamp()]
    monkeypatch.setattr(graph, "_clock", lambda: now[0])
    control(sandboxed, usage_start=95)
    FacebookClient.for_org(ORG).list_accounts()  # answered with X-App-Usage at 95 %
    sent = len(graph_requests(sandboxed))

    graph.forget_usage()  # another container: only DynamoDB tells it
    with pytest.raises(RateLimitedError) as info:
        FacebookClient.for_org(ORG).list_accounts()
    assert info.value.retry_after == pytest.approx(300, abs=1)
    assert len(graph_requests(sandboxed)) == sent  # refused without calling Meta

    control(sandboxed, usage_start=10)
    now[0] += 301
    graph.forget_usage()
    assert FacebookClient.for_org(ORG).list_accounts()


def test_page_insights_and_post_insights_with_the_2025_names(sandboxed: ServedSandboxes, frozen_hour: None) -> None:
    client = FacebookClient.for_org(ORG)
    days = client.account_metrics(DEMO_PAGE_ID, date(2026, 11, 1), date(2026, 11, 3))
    assert [d.day for d in days] == [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)]
    assert {"page_total_media_view_unique", "page_follows"} <= set(days[0].metrics)

    published = client.publish_post(post("métricas"), {"kind": "feed"})
    (metrics,) = FacebookClient.for_org(ORG).post_metrics(DEMO_PAGE_ID, [published.post_id])
    assert {"post_media_view", "post_total_media_view_unique"} <= set(metrics.metrics)


def test_the_sandbox_answers_removed_metrics_and_bad_schedules_as_meta_does(sandboxed: ServedSandboxes) -> None:
    from localcloud.sandboxes.facebook import DEMO_PAGES

    token = DEMO_PAGES[DEMO_PAGE_ID].token
    base = f"{sandboxed.url}/facebook/v26.0/{DEMO_PAGE_ID}"
    headers = {"Authorization": f"Bearer {token}"}
    old = httpx.get(f"{base}/insights", params={"metric": "page_impressions", "period": "day"}, headers=headers)
    assert old.status_code == 400 and old.json()["error"]["code"] == 100
    soon = int((datetime.now(UTC) + timedelta(minutes=5)).timestamp())
    early = httpx.post(
        f"{base}/feed",
        data={"message": "x", "published": "false", "scheduled_publish_time": str(soon)},
        headers=headers,
    )
    assert early.status_code == 400 and "scheduled publish time" in early.json()["error"]["message"]
    later = int((datetime.now(UTC) + timedelta(days=2)).timestamp())
    scheduled = httpx.post(
        f"{base}/feed",
        data={"message": "amanhã", "published": "false", "scheduled_publish_time": str(later)},
        headers=headers,
    )
    assert scheduled.status_code == 200
    listed = httpx.get(f"{base}/published_posts", headers=headers).json()["data"]
    assert listed == []  # scheduled, not published yet
