"""LinkedInClient against LinkedIn's documented Posts, Images, Videos, organizationAcls and
organizationalEntityShareStatistics requests, and its error mapping (httpx.MockTransport)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from hub import runtime
from hub.errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidRequestError,
    OutcomeUnknownError,
    ProviderUnavailableError,
    RateLimitedError,
)
from hub.providers import descriptor, ports
from hub.providers.linkedin import client as linkedin
from hub.providers.linkedin.client import LinkedInClient, LinkedInCredentials, escape_little, seconds_to_utc_midnight
from hub.social.models import MediaItem, ResolvedMedia, SocialContent, SocialPost
from tests.helpers import AdapterFactory, FakeSecrets, recording, timing_out

TOKEN = "AQV-linkedin-test-token-123"
API = "https://api.linkedin.com"
ORG = "urn:li:organization:2414183"
MEMBER = "urn:li:person:782bbtaQ"
CREDS = LinkedInCredentials(
    access_token=SecretStr(TOKEN), base_url=API, scopes=["openid", "profile", "w_member_social"]
)
ORG_CREDS = CREDS.model_copy(
    update={"scopes": ["openid", "profile", "w_member_social", "w_organization_social", "rw_organization_admin"]}
)
client_with = AdapterFactory(LinkedInClient, CREDS)


@pytest.fixture(autouse=True)
def no_app_secret(secrets: FakeSecrets) -> FakeSecrets:
    """No ``_apps/linkedin`` secret: the version comes from the org's secret or the setting."""
    return secrets


@pytest.fixture
def object_bytes(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """Our S3 objects as hub.social.media.read_range reads them (by key, inclusive ranges)."""
    store: dict[str, bytes] = {}

    def read_range(media: ResolvedMedia, start: int, end: int) -> bytes:
        assert media.key is not None
        return store[media.key][start : end + 1]

    monkeypatch.setattr(linkedin.social_media, "read_range", read_range)
    return store


def ours(
    key: str, size: int, type_: str = "image", content_type: str = "image/png", alt: str | None = None
) -> ResolvedMedia:
    return ResolvedMedia(
        type=type_,  # type: ignore[arg-type]
        url=f"https://media.s3.amazonaws.com/{key}?X-Amz-Signature=x",
        alt_text=alt,
        bucket="media",
        key=key,
        size=size,
        content_type=content_type,
    )


def a_post(account: str = ORG, text: str = "Olá, LinkedIn!", **fields: Any) -> SocialPost:
    return SocialPost(org_id="acme", publication_id="pub_" + "0" * 32, account=account, text=text, **fields)


def created(urn: str = "urn:li:share:6844785523593134080") -> httpx.Response:
    return httpx.Response(201, headers={"x-restli-id": urn})


def li_error(status: int, code: str, message: str, **headers: str) -> httpx.Response:
    return httpx.Response(
        status, json={"status": status, "serviceErrorCode": 100, "code": code, "message": message}, headers=headers
    )


def versioned(request: httpx.Request, version: str = "202607") -> None:
    assert request.headers["LinkedIn-Version"] == version
    assert request.headers["X-Restli-Protocol-Version"] == "2.0.0"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"


# ----- registry ---------------------------------------------------------------------------------


def test_linkedin_is_a_social_publisher_and_insights_provider() -> None:
    found = descriptor("linkedin")
    assert found is not None and {"SocialPublisher", "SocialInsights"} <= found.capabilities
    assert ports.missing_members(ports.SocialPublisher, LinkedInClient) == frozenset()
    assert ports.missing_members(ports.SocialInsights, LinkedInClient) == frozenset()


# ----- check_post -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "field", "code"),
    [
        (lambda: SocialContent(text="x", format="story"), "content.format", "unsupported_format"),
        (lambda: SocialContent(text="x", format="reel"), "content.format", "unsupported_format"),
        (lambda: SocialContent(text="x", visibility="unlisted"), "content.visibility", "unsupported_visibility"),
        (lambda: SocialContent(text="x" * 3001), "content.text", "text_too_long"),
        (
            lambda: SocialContent(
                media=(MediaItem(s3_key="acme/a.png", type="image"), MediaItem(s3_key="acme/b.mp4", type="video"))
            ),
            "content.media",
            "mixed_media",
        ),
        (
            lambda: SocialContent(
                media=(MediaItem(s3_key="acme/a.mp4", type="video"), MediaItem(s3_key="acme/b.mp4", type="video"))
            ),
            "content.media",
            "too_many_media",
        ),
        (
            lambda: SocialContent(link="https://example.com/a", media=(MediaItem(s3_key="acme/a.png", type="image"),)),
            "content.link",
            "link_with_media",
        ),
        (lambda: SocialContent(text="   "), "content.text", "empty_post"),
    ],
)
def test_check_post_refuses_what_linkedin_cannot_post_naming_the_field(
    make: Callable[[], SocialContent], field: str, code: str
) -> None:
    with pytest.raises(InvalidRequestError) as info:
        LinkedInClient.check_post(make())
    assert info.value.code == code
    assert info.value.message.startswith(field)


def test_check_post_accepts_text_a_link_twenty_images_or_one_video() -> None:
    LinkedInClient.check_post(SocialContent(text="x" * 3000))
    LinkedInClient.check_post(SocialContent(text="leia", link="https://example.com/artigo"))
    LinkedInClient.check_post(
        SocialContent(media=tuple(MediaItem(s3_key=f"acme/{i}.png", type="image") for i in range(20)))
    )
    LinkedInClient.check_post(SocialContent(text="v", media=(MediaItem(s3_key="acme/v.mp4", type="video"),)))


def test_little_text_reserved_characters_are_escaped() -> None:
    # https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/little-text-format
    assert escape_little("Promo (hoje) #vendas @ana [x] {y} <z> a_b *c* ~d~ | \\") == (
        "Promo \\(hoje\\) \\#vendas \\@ana \\[x\\] \\{y\\} \\<z\\> a\\_b \\*c\\* \\~d\\~ \\| \\\\"
    )


# ----- publishing ---------------------------------------------------------------------------------


def test_a_text_post_is_the_documented_posts_request_sent_once() -> None:
    # Given LinkedIn accepting the post
    seen, handler = recording(created())
    client = client_with(handler)
    post = a_post(text="Lançamento (hoje)!")

    # When it is prepared and published
    step = client.prepare_post(post)
    assert step.status == "ready" and seen == []  # nothing to upload
    published = client.publish_post(post, step.job)

    # Then one POST /rest/posts with the versioned headers and the documented body
    (request,) = seen
    assert (request.method, str(request.url)) == ("POST", f"{API}/rest/posts")
    versioned(request)
    assert json.loads(request.content) == {
        "author": ORG,
        "commentary": "Lançamento \\(hoje\\)!",
        "visibility": "PUBLIC",
        "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False,
    }
    # And the post URN comes from x-restli-id
    assert published.post_id == "urn:li:share:6844785523593134080"
    assert published.url == "https://www.linkedin.com/feed/update/urn:li:share:6844785523593134080/"
    assert published.visibility == "PUBLIC"


def test_a_private_member_post_is_for_connections_and_an_organization_cannot_post_privately() -> None:
    seen, handler = recording(created())
    client = client_with(handler)
    member = a_post(account=MEMBER, visibility="private")
    client.publish_post(member, client.prepare_post(member).job)
    assert json.loads(seen[0].content)["visibility"] == "CONNECTIONS"
    with pytest.raises(InvalidRequestError) as info:
        client.prepare_post(a_post(account=ORG, visibility="private"))
    assert info.value.message.startswith("content.visibility")
    assert len(seen) == 1


def test_a_link_is_an_article() -> None:
    seen, handler = recording(created())
    client = client_with(handler)
    post = a_post(link="https://example.com/artigo", title="Nosso artigo")
    client.publish_post(post, client.prepare_post(post).job)
    assert json.loads(seen[0].content)["content"] == {
        "article": {"source": "https://example.com/artigo", "title": "Nosso artigo"}
    }


def test_an_account_that_is_not_a_urn_is_refused_before_any_call() -> None:
    seen, handler = recording(created())
    with pytest.raises(InvalidRequestError) as info:
        client_with(handler).prepare_post(a_post(account="2414183"))
    assert info.value.message.startswith("account") and seen == []


def test_media_given_only_as_a_url_is_refused_naming_it_before_any_call() -> None:
    seen, handler = recording(created())
    post = a_post(media=(ResolvedMedia(type="image", url="https://example.com/a.png"),))
    with pytest.raises(InvalidRequestError) as info:
        client_with(handler).prepare_post(post)
    assert info.value.message.startswith("content.media[0].url")
    assert "LinkedIn" in info.value.message and "upload" in info.value.message
    assert seen == []


def test_a_video_that_is_not_mp4_is_refused_before_any_call(object_bytes: dict[str, bytes]) -> None:
    seen, handler = recording(created())
    post = a_post(media=(ours("acme/v.mov", 10, "video", "video/quicktime"),))
    with pytest.raises(InvalidRequestError) as info:
        client_with(handler).prepare_post(post)
    assert info.value.message.startswith("content.media[0]") and seen == []


def test_one_image_is_initialized_uploaded_with_its_bytes_and_posted_as_media(object_bytes: dict[str, bytes]) -> None:
    # Given one PNG of ours
    object_bytes["acme/a.png"] = b"\x89PNG-bytes"
    upload_url = "https://www.linkedin.com/dms-uploads/sp/D4D10AQ/uploaded-image/0?ca=vector_ads&cn=uploads"
    seen, handler = recording(
        httpx.Response(
            200,
            json={
                "value": {
                    "uploadUrlExpiresAt": 1650567510704,
                    "uploadUrl": upload_url,
                    "image": "urn:li:image:C4E10AQFoyyAjHPMQuQ",
                }
            },
        ),
        httpx.Response(201),
        created(),
    )
    client = client_with(handler)
    post = a_post(media=(ours("acme/a.png", 10, alt="Nosso logo"),))

    # When prepared and published
    step = client.prepare_post(post)
    client.publish_post(post, step.job)

    # Then: initializeUpload for the author, the bytes PUT (with the token), the image in the post
    init, put, create = seen
    assert (init.method, str(init.url)) == ("POST", f"{API}/rest/images?action=initializeUpload")
    versioned(init)
    assert json.loads(init.content) == {"initializeUploadRequest": {"owner": ORG}}
    assert (put.method, str(put.url), put.content) == ("PUT", upload_url, b"\x89PNG-bytes")
    assert put.headers["Authorization"] == f"Bearer {TOKEN}"
    assert step.status == "ready"
    assert json.loads(create.content)["content"] == {
        "media": {"id": "urn:li:image:C4E10AQFoyyAjHPMQuQ", "altText": "Nosso logo"}
    }


def test_several_images_are_a_multi_image_post(object_bytes: dict[str, bytes]) -> None:
    answers: list[httpx.Response] = []
    for i in range(3):
        object_bytes[f"acme/{i}.png"] = b"img%d" % i
        answers.append(
            httpx.Response(200, json={"value": {"uploadUrl": f"https://up.example/{i}", "image": f"urn:li:image:I{i}"}})
        )
        answers.append(httpx.Response(201))
    seen, handler = recording(*answers, created())
    client = client_with(handler)
    post = a_post(media=tuple(ours(f"acme/{i}.png", 4, alt=f"alt {i}" if i else None) for i in range(3)))
    client.publish_post(post, client.prepare_post(post).job)
    assert [r.content for r in seen if r.method == "PUT"] == [b"img0", b"img1", b"img2"]
    assert json.loads(seen[-1].content)["content"] == {
        "multiImage": {
            "images": [
                {"id": "urn:li:image:I0"},
                {"id": "urn:li:image:I1", "altText": "alt 1"},
                {"id": "urn:li:image:I2", "altText": "alt 2"},
            ]
        }
    }


VIDEO = "urn:li:video:C5F10AQGKQg_6y2a4sQ"


def video_init(parts: list[tuple[int, int]]) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "value": {
                "uploadUrlsExpireAt": 1657325760000,
                "video": VIDEO,
                "uploadInstructions": [
                    {"uploadUrl": f"https://up.example/part{n}", "firstByte": first, "lastByte": last}
                    for n, (first, last) in enumerate(parts)
                ],
                "uploadToken": "",
                "thumbnailUploadUrl": "",
                "captionsUploadUrl": "",
            }
        },
    )


def test_a_video_is_uploaded_in_parts_finalized_and_polled_until_available(object_bytes: dict[str, bytes]) -> None:
    # Given a 10-byte MP4 that LinkedIn wants in two parts, still processing after the upload
    object_bytes["acme/v.mp4"] = b"0123456789"
    seen, handler = recording(
        video_init([(0, 5), (6, 9)]),
        httpx.Response(200, headers={"ETag": "etag-1"}),
        httpx.Response(200, headers={"ETag": "etag-2"}),
        httpx.Response(200),
        httpx.Response(200, json={"id": VIDEO, "status": "PROCESSING"}),
        httpx.Response(200, json={"id": VIDEO, "status": "AVAILABLE"}),
        created("urn:li:ugcPost:7001"),
    )
    client = client_with(handler)
    post = a_post(media=(ours("acme/v.mp4", 10, "video", "video/mp4"),), title="Bastidores")

    # When prepared: initialize, PUT each byte range, finalize with the ETags, read the status
    step = client.prepare_post(post)
    init, part1, part2, finalize, status = seen
    assert json.loads(init.content) == {
        "initializeUploadRequest": {
            "owner": ORG,
            "fileSizeBytes": 10,
            "uploadCaptions": False,
            "uploadThumbnail": False,
        }
    }
    assert str(init.url) == f"{API}/rest/videos?action=initializeUpload"
    assert [(p.method, str(p.url), p.content) for p in (part1, part2)] == [
        ("PUT", "https://up.example/part0", b"012345"),
        ("PUT", "https://up.example/part1", b"6789"),
    ]
    assert str(finalize.url) == f"{API}/rest/videos?action=finalizeUpload"
    assert json.loads(finalize.content) == {
        "finalizeUploadRequest": {"video": VIDEO, "uploadToken": "", "uploadedPartIds": ["etag-1", "etag-2"]}
    }
    assert (status.method, str(status.url)) == ("GET", f"{API}/rest/videos/urn%3Ali%3Avideo%3AC5F10AQGKQg_6y2a4sQ")
    versioned(status)
    # Then it is pending while LinkedIn processes it, ready once AVAILABLE (nothing uploaded again)
    assert step.status == "pending"
    again = client.poll_post(post, step.job)
    assert again.status == "ready" and len(seen) == 6
    published = client.publish_post(post, again.job)
    assert json.loads(seen[-1].content)["content"] == {"media": {"id": VIDEO, "title": "Bastidores"}}
    assert published.post_id == "urn:li:ugcPost:7001"


def test_a_long_video_upload_continues_in_the_next_invocation(object_bytes: dict[str, bytes]) -> None:
    # Given an invocation with too little time left for another part
    object_bytes["acme/v.mp4"] = b"0123456789"
    seen, handler = recording(video_init([(0, 5), (6, 9)]), httpx.Response(200, headers={"ETag": "e1"}))
    client = client_with(handler)
    post = a_post(media=(ours("acme/v.mp4", 10, "video", "video/mp4"),))
    runtime._deadline.set(time.monotonic() + 5)
    try:
        step = client.prepare_post(post)
    finally:
        runtime._deadline.set(None)
    # Then nothing was uploaded yet and the workflow is asked to come back at once
    assert (step.status, step.poll_after_seconds, len(seen)) == ("pending", 0, 1)
    assert step.job["video"]["etags"] == []


def test_a_video_linkedin_could_not_process_is_content_rejected(object_bytes: dict[str, bytes]) -> None:
    object_bytes["acme/v.mp4"] = b"0123"
    _, handler = recording(
        video_init([(0, 3)]),
        httpx.Response(200, headers={"ETag": "e1"}),
        httpx.Response(200),
        httpx.Response(200, json={"id": VIDEO, "status": "PROCESSING_FAILED"}),
    )
    with pytest.raises(InvalidRequestError) as info:
        client_with(handler).prepare_post(a_post(media=(ours("acme/v.mp4", 4, "video", "video/mp4"),)))
    assert info.value.code == "processing_failed"


def test_a_publish_whose_answer_is_lost_is_an_unknown_outcome_sent_once() -> None:
    seen, handler = timing_out()
    client = client_with(handler, attempts=3)
    post = a_post()
    with pytest.raises(OutcomeUnknownError):
        client.publish_post(post, client.prepare_post(post).job)
    assert len(seen) == 1


# ----- find_post ------------------------------------------------------------------------------


def test_find_post_reads_the_authors_recent_posts_and_matches_text_and_time() -> None:
    since = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    at = int(since.timestamp() * 1000)
    posts = {
        "elements": [
            {"id": "urn:li:share:1", "commentary": "Outro post", "created": {"time": at + 5000}},
            {"id": "urn:li:share:2", "commentary": "Olá \\(oi\\)", "created": {"time": at - 60_000}},
            {
                "id": "urn:li:share:3",
                "commentary": "Olá \\(oi\\)",
                "created": {"time": at + 2000},
                "visibility": "PUBLIC",
            },
        ]
    }
    seen, handler = recording(httpx.Response(200, json=posts))
    found = client_with(handler).find_post(a_post(text="Olá (oi)"), {}, since=since)
    (request,) = seen
    assert (
        str(request.url)
        == f"{API}/rest/posts?author=urn%3Ali%3Aorganization%3A2414183&q=author&count=10&sortBy=LAST_MODIFIED"
    )
    versioned(request)
    assert found is not None and found.post_id == "urn:li:share:3"
    assert found.published_at == since + timedelta(seconds=2)


def test_find_post_answers_none_when_the_post_is_not_there() -> None:
    _, handler = recording(httpx.Response(200, json={"elements": []}))
    assert client_with(handler).find_post(a_post(), {}, since=datetime(2026, 12, 3, tzinfo=UTC)) is None


def test_a_member_lookup_linkedin_forbids_finds_nothing_and_is_not_a_credentials_failure() -> None:
    # Given LinkedIn refusing to list a member's posts (r_member_social is for partners only)
    forbidden = li_error(403, "ACCESS_DENIED", "Not enough permissions to access: posts.FINDER-author")
    seen, handler = recording(forbidden)
    client = client_with(handler)
    # When the lookup runs / Then nothing is found (the workflow ends it "unconfirmed")
    assert client.find_post(a_post(account=MEMBER), {}, since=datetime(2026, 12, 3, tzinfo=UTC)) is None
    assert len(seen) == 1
    # And that 403 is no credentials failure (elsewhere a 403 is: the grant lacks a scope)
    error = client.classify(httpx.Response(403, json=forbidden.json(), request=seen[0]))
    assert isinstance(error, InvalidRequestError) and error.code == "linkedin_lookup_not_permitted"


# ----- versions and errors -------------------------------------------------------------------------


def test_the_version_is_configuration_the_setting_or_the_orgs_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    from hub.config import get_settings

    monkeypatch.setenv("LINKEDIN_API_VERSION", "202611")
    get_settings.cache_clear()
    seen, handler = recording(created())
    client_with(handler).publish_post(a_post(), {})
    versioned(seen[-1], "202611")
    own = CREDS.model_copy(update={"api_version": "202610"})
    client_with(handler, creds=own).publish_post(a_post(), {})
    versioned(seen[-1], "202610")


def test_the_app_secret_sets_the_version_for_the_deployment_and_the_orgs_secret_wins(secrets: FakeSecrets) -> None:
    # Given the hub's LinkedIn app pinned to 202609
    secrets.stored["hub/_apps/linkedin"] = {"client_id": "c", "client_secret": "s", "api_version": "202609"}
    seen, handler = recording(created())
    # When an org without its own version posts / Then the app's version is sent
    client_with(handler).publish_post(a_post(), {})
    versioned(seen[-1], "202609")
    # And an org with its own version sends that one
    client_with(handler, creds=CREDS.model_copy(update={"api_version": "202611"})).publish_post(a_post(), {})
    versioned(seen[-1], "202611")


def test_a_malformed_version_in_the_app_secret_is_a_configuration_error_not_skipped(secrets: FakeSecrets) -> None:
    secrets.stored["hub/_apps/linkedin"] = {"client_id": "c", "client_secret": "s", "api_version": "July 2026"}
    seen, handler = recording(created())
    with pytest.raises(ConfigurationError) as info:
        client_with(handler).publish_post(a_post(), {})
    assert "api_version" in info.value.message and seen == []


def test_a_malformed_version_in_the_secret_is_refused() -> None:
    with pytest.raises(ValidationError):
        LinkedInCredentials(access_token=SecretStr("t"), api_version="2026-07")


def test_a_sunset_version_is_a_configuration_error_naming_the_setting_never_retried() -> None:
    seen, handler = recording(li_error(426, "NONEXISTENT_VERSION", "Requested version 20260101 is not active"))
    with pytest.raises(ConfigurationError) as info:
        client_with(handler, attempts=3).publish_post(a_post(), {})
    assert info.value.code == "linkedin_api_version_sunset" and info.value.http_status == 426
    assert "LINKEDIN_API_VERSION" in info.value.message and "202607" in info.value.message
    assert len(seen) == 1


def test_a_daily_limit_waits_until_midnight_utc_unless_linkedin_says_otherwise() -> None:
    _, handler = recording(li_error(429, "TOO_MANY_REQUESTS", "Resource level throttle APPLICATION DAY limit"))
    with pytest.raises(RateLimitedError) as info:
        client_with(handler, attempts=1).publish_post(a_post(), {})
    assert abs(info.value.retry_after - seconds_to_utc_midnight()) < 5
    _, handler = recording(li_error(429, "TOO_MANY_REQUESTS", "slow down", **{"Retry-After": "30"}))
    with pytest.raises(RateLimitedError) as info:
        client_with(handler, attempts=1).publish_post(a_post(), {})
    assert info.value.retry_after == 30


def test_seconds_to_utc_midnight() -> None:
    assert seconds_to_utc_midnight(datetime(2026, 12, 3, 21, 0, tzinfo=UTC)) == 3 * 3600
    assert seconds_to_utc_midnight(datetime(2026, 12, 31, 23, 59, 30, tzinfo=UTC)) == 30


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (li_error(401, "INVALID_ACCESS_TOKEN", "Invalid access token"), AuthenticationError),
        (
            li_error(403, "ACCESS_DENIED", "Not enough permissions to access: partnerApiPostsExternal.CREATE"),
            AuthenticationError,
        ),
        (li_error(422, "UNPROCESSABLE_ENTITY", "ERROR :: /commentary :: field is required"), InvalidRequestError),
        (li_error(400, "ILLEGAL_ARGUMENT", "Request body could not be converted to data map"), InvalidRequestError),
        (li_error(500, "INTERNAL_SERVER_ERROR", "Internal Server Error"), ProviderUnavailableError),
    ],
)
def test_linkedin_errors_map_to_the_taxonomy_with_its_message(answer: httpx.Response, error: type[Exception]) -> None:
    _, handler = recording(answer)
    with pytest.raises(error) as info:
        client_with(handler, attempts=1).publish_post(a_post(), {})
    assert json.loads(answer.content)["message"] in str(info.value)


# ----- insights ---------------------------------------------------------------------------------


def test_list_accounts_is_the_member_alone_without_organization_scopes() -> None:
    seen, handler = recording(httpx.Response(200, json={"sub": "782bbtaQ", "name": "Somos Produtora"}))
    accounts = client_with(handler).list_accounts()
    assert [(a.account, a.name, a.kind) for a in accounts] == [(MEMBER, "Somos Produtora", "member")]
    assert [str(r.url) for r in seen] == [f"{API}/v2/userinfo"]


def test_list_accounts_adds_the_organizations_the_member_administers() -> None:
    acls = {
        "elements": [
            {"roleAssignee": MEMBER, "state": "APPROVED", "role": "ADMINISTRATOR", "organization": ORG},
            {
                "roleAssignee": MEMBER,
                "state": "APPROVED",
                "role": "ADMINISTRATOR",
                "organization": "urn:li:organization:9",
            },
        ]
    }
    seen, handler = recording(httpx.Response(200, json={"sub": "782bbtaQ"}), httpx.Response(200, json=acls))
    accounts = client_with(handler, creds=ORG_CREDS).list_accounts()
    assert [a.account for a in accounts] == [MEMBER, ORG, "urn:li:organization:9"]
    assert str(seen[1].url) == f"{API}/rest/organizationAcls?q=roleAssignee&role=ADMINISTRATOR&state=APPROVED"
    versioned(seen[1])


def stats_element(day: date, **stats: Any) -> dict[str, Any]:
    start = int(datetime.combine(day, datetime.min.time(), tzinfo=UTC).timestamp() * 1000)
    return {
        "organizationalEntity": ORG,
        "timeRange": {"start": start, "end": start + 86_400_000},
        "totalShareStatistics": stats,
    }


def test_account_metrics_are_daily_share_statistics_in_restli_syntax() -> None:
    # Given two days inside LinkedIn's rolling 12 months
    first = LinkedInClient.oldest_day() + timedelta(days=10)
    second = first + timedelta(days=1)
    body = {
        "elements": [
            stats_element(
                first,
                impressionCount=120,
                clickCount=4,
                likeCount=3,
                commentCount=1,
                shareCount=0,
                uniqueImpressionsCount=100,
                engagement=0.0666,
            ),
            stats_element(
                second,
                impressionCount=80,
                clickCount=0,
                likeCount=1,
                commentCount=0,
                shareCount=1,
                uniqueImpressionsCount=70,
                engagement=0.025,
            ),
        ]
    }
    seen, handler = recording(httpx.Response(200, json=body))
    days = client_with(handler).account_metrics(ORG, first, second)
    (request,) = seen
    start = int(datetime.combine(first, datetime.min.time(), tzinfo=UTC).timestamp() * 1000)
    end = start + 2 * 86_400_000
    assert str(request.url) == (
        f"{API}/rest/organizationalEntityShareStatistics?q=organizationalEntity"
        "&organizationalEntity=urn%3Ali%3Aorganization%3A2414183"
        f"&timeIntervals=(timeRange:(start:{start},end:{end}),timeGranularityType:DAY)"
    )
    versioned(request)
    assert [d.day for d in days] == [first, second]
    assert days[0].metrics == {
        "impressionCount": 120,
        "clickCount": 4,
        "likeCount": 3,
        "commentCount": 1,
        "shareCount": 0,
        "uniqueImpressionsCount": 100,
        "engagement": 0.0666,
    }


def test_account_metrics_clip_days_older_than_twelve_months() -> None:
    oldest = LinkedInClient.oldest_day()
    seen, handler = recording(httpx.Response(200, json={"elements": []}))
    client = client_with(handler)
    # A range entirely before the window: nothing asked
    assert client.account_metrics(ORG, date(2000, 1, 1), oldest - timedelta(days=1)) == []
    assert seen == []
    # A range starting before it: asked from the window's first day
    client.account_metrics(ORG, oldest - timedelta(days=30), oldest + timedelta(days=2))
    start = int(datetime.combine(oldest, datetime.min.time(), tzinfo=UTC).timestamp() * 1000)
    assert f"timeRange:(start:{start}," in str(seen[0].url)


def test_oldest_day_is_twelve_months_back() -> None:
    assert LinkedInClient.oldest_day(date(2026, 12, 3)) == date(2025, 12, 4)
    assert LinkedInClient.oldest_day(date(2028, 2, 29)) == date(2027, 3, 1)


def test_members_have_no_share_statistics() -> None:
    seen, handler = recording(httpx.Response(500))
    client = client_with(handler)
    assert client.account_metrics(MEMBER, date(2026, 12, 1), date(2026, 12, 2)) == []
    assert client.post_metrics(MEMBER, ["urn:li:share:1"]) == []
    assert seen == []


def test_post_metrics_ask_for_shares_and_ugc_posts_as_restli_lists() -> None:
    body = {
        "elements": [
            {"share": "urn:li:share:1", "organizationalEntity": ORG, "totalShareStatistics": {"impressionCount": 9}},
            {"ugcPost": "urn:li:ugcPost:2", "organizationalEntity": ORG, "totalShareStatistics": {"likeCount": 2}},
        ]
    }
    seen, handler = recording(httpx.Response(200, json=body))
    metrics = client_with(handler).post_metrics(ORG, ["urn:li:share:1", "urn:li:ugcPost:2"])
    assert str(seen[0].url) == (
        f"{API}/rest/organizationalEntityShareStatistics?q=organizationalEntity"
        "&organizationalEntity=urn%3Ali%3Aorganization%3A2414183"
        "&shares=List(urn%3Ali%3Ashare%3A1)&ugcPosts=List(urn%3Ali%3AugcPost%3A2)"
    )
    assert [(m.post_id, m.metrics) for m in metrics] == [
        ("urn:li:share:1", {"impressionCount": 9}),
        ("urn:li:ugcPost:2", {"likeCount": 2}),
    ]


# ----- closed to non-partners ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "args"),
    [("search_people", ("designers São Paulo",)), ("send_invitation", (MEMBER,)), ("send_message", ([MEMBER], "Oi"))],
)
def test_people_search_invitations_and_messaging_are_refused_pointing_to_web_search(
    call: str, args: tuple[Any, ...]
) -> None:
    seen, handler = recording(httpx.Response(200))
    with pytest.raises(InvalidRequestError) as info:
        getattr(client_with(handler), call)(*args)
    assert info.value.code == "linkedin_partner_only"
    assert "WebSearch" in info.value.message and "site:linkedin.com/in" in info.value.message
    assert seen == []
