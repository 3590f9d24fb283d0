"""The LinkedIn adapter against the LinkedIn sandbox, with the demo org's secrets and media in moto:
prepare → poll → publish → find, and the insights calls, as SocialPublishWorkflow and
SocialInsightsSync drive them (docs/social.md, "LinkedIn")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from hub.config import get_settings
from hub.errors import ConfigurationError, InvalidRequestError, OutcomeUnknownError, RateLimitedError
from hub.providers import ports
from hub.providers.linkedin.client import LinkedInClient, seconds_to_utc_midnight
from hub.social import media
from hub.social.models import MediaItem, SocialPost
from localcloud.sandboxes.linkedin import DEMO_ACCESS_TOKEN, DEMO_MEMBER, DEMO_ORGANIZATION
from tests.aws.conftest import HubAws
from tests.conftest import ServedSandboxes

ORG_ID = "demo"


def control(sandboxes: ServedSandboxes, **switches: Any) -> dict[str, Any]:
    url = f"{sandboxes.url}/linkedin/_sandbox/api"
    answer = httpx.post(url, json=switches, timeout=5) if switches else httpx.get(url, timeout=5)
    answer.raise_for_status()
    body: dict[str, Any] = answer.json()
    return body


@pytest.fixture
def linkedin(sandboxed: ServedSandboxes) -> LinkedInClient:
    adapter = ports.for_org(ports.SocialPublisher, ORG_ID, "linkedin")
    assert isinstance(adapter, LinkedInClient)
    return adapter


def upload(hub_aws: HubAws, key: str, data: bytes, content_type: str) -> None:
    hub_aws.client("s3").put_object(
        Bucket=hub_aws.env["MEDIA_UPLOADS_BUCKET"], Key=key, Body=data, ContentType=content_type
    )


def a_post(text: str, account: str = DEMO_ORGANIZATION, items: tuple[MediaItem, ...] = (), **fields: Any) -> SocialPost:
    return SocialPost(
        org_id=ORG_ID,
        publication_id="pub_" + "1" * 32,
        account=account,
        text=text,
        media=media.resolve(ORG_ID, items),
        **fields,
    )


def test_an_image_post_is_uploaded_published_and_found_again(
    linkedin: LinkedInClient, sandboxed: ServedSandboxes, hub_aws: HubAws
) -> None:
    # Given a PNG of the org's in the media bucket
    upload(hub_aws, "demo/posts/logo.png", b"\x89PNG\r\n\x1a\n-logo", "image/png")
    post = a_post(
        "Novidade (hoje) #somos", items=(MediaItem(s3_key="demo/posts/logo.png", type="image", alt_text="Logo"),)
    )
    since = datetime.now(UTC) - timedelta(seconds=1)

    # When prepared and published
    step = linkedin.prepare_post(post)
    published = linkedin.publish_post(post, step.job)

    # Then LinkedIn holds the image and one post referencing it, with the text escaped
    state = control(sandboxed)
    (image,) = state["images"].values()
    assert image["status"] == "AVAILABLE" and image["size"] == len(b"\x89PNG\r\n\x1a\n-logo")
    (stored,) = state["posts"]
    assert stored["id"] == published.post_id and stored["author"] == DEMO_ORGANIZATION
    assert stored["commentary"] == "Novidade \\(hoje\\) \\#somos"
    assert stored["content"] == {"media": {"id": step.job["images"][0], "altText": "Logo"}}
    # And the lookup after an unknown outcome finds that very post
    found = linkedin.find_post(post, step.job, since=since)
    assert found is not None and found.post_id == published.post_id


def test_a_video_is_uploaded_in_parts_and_published_once_linkedin_finished_processing(
    linkedin: LinkedInClient, sandboxed: ServedSandboxes, hub_aws: HubAws
) -> None:
    # Given 10-byte parts and a video LinkedIn processes for two status reads
    control(sandboxed, part_size=10, video_processing_polls=2)
    data = bytes(range(256)) * 2 + b"tail"
    upload(hub_aws, "demo/posts/clip.mp4", data, "video/mp4")
    post = a_post("Bastidores", items=(MediaItem(s3_key="demo/posts/clip.mp4", type="video"),), title="Bastidores")

    # When prepared and polled as the workflow does
    steps = [linkedin.prepare_post(post)]
    while steps[-1].status == "pending":
        assert len(steps) < 5
        steps.append(linkedin.poll_post(post, steps[-1].job))
    published = linkedin.publish_post(post, steps[-1].job)

    # Then every byte went up once, in ranges, and the post references the finished video
    assert [s.status for s in steps] == ["pending", "pending", "ready"]
    state = control(sandboxed)
    (video,) = state["videos"].values()
    assert video == {"status": "AVAILABLE", "size": len(data), "parts": 52, "uploaded": 52}
    assert state["finalized"] == 1 and state["uploads"] == 52
    (stored,) = state["posts"]
    assert stored["id"] == published.post_id
    assert stored["content"] == {"media": {"id": steps[-1].job["video"]["urn"], "title": "Bastidores"}}


def test_a_publish_that_timed_out_is_found_by_the_lookup_and_never_posted_twice(
    sandboxed: ServedSandboxes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given LinkedIn storing the post but answering after the client's read timeout
    monkeypatch.setenv("HTTP_READ_TIMEOUT", "0.5")
    get_settings.cache_clear()
    linkedin = LinkedInClient.for_org(ORG_ID)
    control(sandboxed, slow_publish_seconds=1.5)
    post = a_post("Publicação lenta")
    since = datetime.now(UTC) - timedelta(seconds=1)
    step = linkedin.prepare_post(post)

    # When published: the answer is lost
    with pytest.raises(OutcomeUnknownError):
        linkedin.publish_post(post, step.job)

    # Then the lookup finds the one post LinkedIn stored (no second POST was sent)
    control(sandboxed, slow_publish_seconds=0)
    found = linkedin.find_post(post, step.job, since=since)
    posts = control(sandboxed)["posts"]
    assert found is not None and [p["id"] for p in posts] == [found.post_id]
    sent = [
        r for r in httpx.get(f"{sandboxed.url}/__sandbox/requests?provider=linkedin").json() if r["method"] == "POST"
    ]
    assert [r["path"] for r in sent if r["path"] == "/rest/posts"] == ["/rest/posts"]


def test_a_sunset_version_is_a_configuration_error_and_nothing_is_posted(
    linkedin: LinkedInClient, sandboxed: ServedSandboxes
) -> None:
    control(sandboxed, sunset=["202607"])
    post = a_post("Versão antiga")
    with pytest.raises(ConfigurationError) as info:
        linkedin.publish_post(post, linkedin.prepare_post(post).job)
    assert info.value.http_status == 426 and "LINKEDIN_API_VERSION" in info.value.message
    assert control(sandboxed)["posts"] == []


def test_the_daily_limit_delays_until_midnight_utc(linkedin: LinkedInClient, sandboxed: ServedSandboxes) -> None:
    control(sandboxed, daily_limit=1)
    first = a_post("Primeiro")
    linkedin.publish_post(first, linkedin.prepare_post(first).job)
    with pytest.raises(RateLimitedError) as info:
        linkedin.publish_post(a_post("Segundo"), {})
    assert abs(info.value.retry_after - seconds_to_utc_midnight()) < 5
    assert len(control(sandboxed)["posts"]) == 1


def test_a_url_only_media_is_refused_naming_it(linkedin: LinkedInClient, sandboxed: ServedSandboxes) -> None:
    post = a_post("Link", items=(MediaItem(url="https://example.com/a.png", type="image"),))
    with pytest.raises(InvalidRequestError) as info:
        linkedin.prepare_post(post)
    assert info.value.message.startswith("content.media[0].url")
    assert httpx.get(f"{sandboxed.url}/__sandbox/requests?provider=linkedin").json() == []


def test_accounts_and_organic_statistics(linkedin: LinkedInClient, sandboxed: ServedSandboxes) -> None:
    insights = ports.for_org(ports.SocialInsights, ORG_ID, "linkedin")
    accounts = insights.list_accounts()
    assert [(a.account, a.kind) for a in accounts] == [(DEMO_MEMBER, "member"), (DEMO_ORGANIZATION, "organization")]

    end = datetime.now(UTC).date() - timedelta(days=1)
    start = end - timedelta(days=2)
    days = insights.account_metrics(DEMO_ORGANIZATION, start, end)
    assert [d.day for d in days] == [start, start + timedelta(days=1), end]
    assert {"impressionCount", "clickCount", "likeCount", "commentCount", "shareCount", "engagement"} <= set(
        days[0].metrics
    )
    assert insights.account_metrics(DEMO_MEMBER, start, end) == []

    post = a_post("Métricas")
    published = linkedin.publish_post(post, linkedin.prepare_post(post).job)
    (metrics,) = insights.post_metrics(DEMO_ORGANIZATION, [published.post_id])
    assert metrics.post_id == published.post_id and metrics.metrics["impressionCount"] > 0


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({"X-Restli-Protocol-Version": "2.0.0"}, 400, "VERSION_MISSING"),
        ({"LinkedIn-Version": "202401", "X-Restli-Protocol-Version": "2.0.0"}, 426, "NONEXISTENT_VERSION"),
        ({"LinkedIn-Version": "202607"}, 400, "ILLEGAL_ARGUMENT"),
    ],
)
def test_the_sandbox_enforces_linkedins_version_and_protocol_headers(
    sandboxes: ServedSandboxes, headers: dict[str, str], status: int, code: str
) -> None:
    answer = httpx.get(
        f"{sandboxes.url}/linkedin/rest/posts",
        params={"q": "author", "author": DEMO_ORGANIZATION},
        headers={"Authorization": f"Bearer {DEMO_ACCESS_TOKEN}", **headers},
    )
    assert answer.status_code == status and answer.json()["code"] == code


def test_the_sandbox_refuses_a_post_body_naming_the_fields(sandboxes: ServedSandboxes) -> None:
    answer = httpx.post(
        f"{sandboxes.url}/linkedin/rest/posts",
        json={"author": DEMO_ORGANIZATION, "text": "x"},
        headers={
            "Authorization": f"Bearer {DEMO_ACCESS_TOKEN}",
            "LinkedIn-Version": "202607",
            "X-Restli-Protocol-Version": "2.0.0",
        },
    )
    assert answer.status_code == 422
    message = answer.json()["message"]
    assert "/text :: unrecognized field" in message and "/commentary :: field is required" in message


REST_HEADERS = {
    "Authorization": f"Bearer {DEMO_ACCESS_TOKEN}",
    "LinkedIn-Version": "202607",
    "X-Restli-Protocol-Version": "2.0.0",
}


def test_the_sandbox_refuses_a_post_with_media_never_uploaded(sandboxes: ServedSandboxes) -> None:
    body = {
        "author": DEMO_ORGANIZATION,
        "commentary": "x",
        "visibility": "PUBLIC",
        "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
        "lifecycleState": "PUBLISHED",
        "content": {"media": {"id": "urn:li:image:D4D10AQnever"}},
    }
    answer = httpx.post(f"{sandboxes.url}/linkedin/rest/posts", json=body, headers=REST_HEADERS)
    assert answer.status_code == 422 and "/content/media/id" in answer.json()["message"]


def test_the_sandbox_finalizes_a_video_only_with_every_etag_in_order(sandboxes: ServedSandboxes) -> None:
    control(sandboxes, part_size=2)
    init = httpx.post(
        f"{sandboxes.url}/linkedin/rest/videos?action=initializeUpload",
        json={"initializeUploadRequest": {"owner": DEMO_ORGANIZATION, "fileSizeBytes": 4}},
        headers=REST_HEADERS,
    ).json()["value"]
    etags = [httpx.put(p["uploadUrl"], content=b"ab").headers["ETag"] for p in init["uploadInstructions"]]

    def finalize(parts: list[str]) -> int:
        request = {"finalizeUploadRequest": {"video": init["video"], "uploadToken": "", "uploadedPartIds": parts}}
        url = f"{sandboxes.url}/linkedin/rest/videos?action=finalizeUpload"
        return httpx.post(url, json=request, headers=REST_HEADERS).status_code

    assert finalize(list(reversed(etags))) == 400
    assert finalize(etags[:1]) == 400
    assert finalize(etags) == 200
