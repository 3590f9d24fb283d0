"""LinkedIn: the member's and their organizations' posts and organic statistics, for an org
connected through OAuth (README.md lists every API fact with its doc link).

Every ``/rest`` call carries ``LinkedIn-Version`` (configuration: LINKEDIN_API_VERSION, or the
secret's ``api_version``) and ``X-Restli-Protocol-Version: 2.0.0``. A sunset version answers
426 NONEXISTENT_VERSION: a ConfigurationError naming the setting (the hub's to fix, never
retried, never the org's fault).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from pydantic import Field

from hub.config import get_settings
from hub.credentials import get_app_secret, parse_secret
from hub.errors import (
    AuthenticationError,
    ConfigurationError,
    HubError,
    InvalidRequestError,
    ProviderUnavailableError,
    RateLimitedError,
)
from hub.observability import logger
from hub.providers.base.client import ProviderCredentials
from hub.providers.base.descriptor import OAuthSpec
from hub.providers.base.oauth import OAuthApp, OAuthClient, OAuthCredentials
from hub.providers.linkedin import OAUTH
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

RESTLI_PROTOCOL = "2.0.0"
API_VERSION_PATTERN = r"^[0-9]{6}(\.[0-9]{2})?$"
# https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api
# commentary: LinkedIn's composer and API take 3,000 characters.
MAX_COMMENTARY = 3000
# content.multiImage: 2 to 20 images (posts-api, "MultiImage").
MAX_IMAGES = 20
# "little" text format: these characters are markup and must be backslash-escaped to be text
# (https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/little-text-format).
_LITTLE_RESERVED = re.compile(r"([\\|{}@\[\]()<>#*_~])")
# Images API: JPG, GIF, PNG; Videos API: MP4 only (images-api / videos-api, "Supported formats").
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif"})
VIDEO_TYPES = frozenset({"video/mp4"})
# Videos API: status of a video (videos-api, "Video Status").
VIDEO_PENDING = frozenset({"WAITING_UPLOAD", "PROCESSING"})
# Time left in a Lambda below which no further video part is uploaded in this invocation.
UPLOAD_RESERVE_SECONDS = 20.0
UPLOAD_TIMEOUT_SECONDS = 60.0
# Scopes that let a member act for the organizations they administer (Community Management API).
ORGANIZATION_SCOPES = frozenset(
    {"w_organization_social", "r_organization_social", "rw_organization_admin", "r_organization_admin"}
)
_PERSON = re.compile(r"^urn:li:person:[A-Za-z0-9_-]+$")
_ORGANIZATION = re.compile(r"^urn:li:organization:[0-9]+$")
PARTNER_ONLY = "linkedin_partner_only"
SUNSET_VERSION = "linkedin_api_version_sunset"
LOOKUP_NOT_PERMITTED = "linkedin_lookup_not_permitted"


class LinkedInCredentials(OAuthCredentials):
    """The org's secret (written by the OAuth callback), plus an optional ``api_version`` that
    overrides LINKEDIN_API_VERSION for this org."""

    api_version: str | None = Field(None, pattern=API_VERSION_PATTERN)


class LinkedInApp(OAuthApp):
    """The hub's LinkedIn app (``_apps/linkedin``); ``api_version`` overrides LINKEDIN_API_VERSION
    for the deployment."""

    api_version: str | None = Field(None, pattern=API_VERSION_PATTERN)


def escape_little(text: str) -> str:
    """``text`` as plain text in LinkedIn's "little" format (reserved characters escaped)."""
    return _LITTLE_RESERVED.sub(r"\\\1", text)


def seconds_to_utc_midnight(now: datetime | None = None) -> float:
    """LinkedIn's daily limits reset at midnight UTC
    (https://learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/rate-limits)."""
    now = now or datetime.now(UTC)
    tomorrow = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    return max(1.0, (tomorrow - now).total_seconds())


def _ms(day: date) -> int:
    return int(datetime.combine(day, datetime.min.time(), tzinfo=UTC).timestamp() * 1000)


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _metrics(stats: Any) -> dict[str, int | float]:
    if not isinstance(stats, dict):
        return {}
    out: dict[str, int | float] = {}
    for name, value in stats.items():
        number = _number(value)
        if number is not None:
            out[str(name)] = number
    return out


def _q(value: str) -> str:
    """A value inside a Rest.li 2.0 query (URNs and URLs percent-encoded, reserved characters too)
    (https://learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/protocol-version)."""
    return quote(value, safe="")


class LinkedInClient(OAuthClient):
    provider: ClassVar[str] = "linkedin"
    oauth_spec: ClassVar[OAuthSpec] = OAUTH
    credentials_model: ClassVar[type[ProviderCredentials]] = LinkedInCredentials

    def health_check(self) -> None:
        # https://learn.microsoft.com/en-us/linkedin/consumer/integrations/self-serve/sign-in-with-linkedin-v2
        self.request("GET", self.api_url("/v2/userinfo"), operation="health")

    # ----- configuration --------------------------------------------------------------------
    @property
    def app(self) -> OAuthApp:
        if self._app is None:
            # hub.providers.base.oauth.load_app, read into LinkedInApp (its ``api_version``).
            try:
                raw = get_app_secret(self.provider)
            except AuthenticationError:
                raise ConfigurationError(
                    "the hub has no linkedin OAuth app: create the secret _apps/linkedin with client_id and "
                    "client_secret",
                    provider=self.provider,
                    code="oauth_app_missing",
                ) from None
            self._app = parse_secret(LinkedInApp, raw, what="linkedin OAuth app credentials", provider=self.provider)
        return self._app

    @cached_property
    def api_version(self) -> str:
        """The org's ``api_version``, else the app's, else LINKEDIN_API_VERSION (resolved once
        per client)."""
        creds = self.credentials
        if isinstance(creds, LinkedInCredentials) and creds.api_version:
            return creds.api_version
        try:
            app: OAuthApp | None = self.app
        except ConfigurationError as exc:
            if exc.code != "oauth_app_missing":
                raise  # a malformed app secret (a bad api_version included) is said, never skipped
            app = None  # a stored token needs no app; the setting decides
        if isinstance(app, LinkedInApp) and app.api_version:
            return app.api_version
        return get_settings().linkedin_api_version

    def rest_headers(self) -> dict[str, str]:
        # https://learn.microsoft.com/en-us/linkedin/marketing/versioning
        return {"LinkedIn-Version": self.api_version, "X-Restli-Protocol-Version": RESTLI_PROTOCOL}

    def rest(self, method: str, path: str, *, query: str | None = None, **kwargs: Any) -> httpx.Response:
        """One call to ``/rest{path}``; ``query`` is sent as written (Rest.li 2.0 encoding)."""
        url = self.api_url(f"/rest{path}") + (f"?{query}" if query else "")
        headers = {**self.rest_headers(), **kwargs.pop("headers", {})}
        return self.request(method, url, headers=headers, **kwargs)

    # ----- errors ----------------------------------------------------------------------------
    def error_details(self, response: httpx.Response) -> tuple[str, str | None]:
        """LinkedIn's error body: ``{"status", "serviceErrorCode", "code", "message"}``
        (https://learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/error-handling)."""
        try:
            body = response.json()
        except ValueError:
            return (response.text[:300] or response.reason_phrase, None)
        if not isinstance(body, dict):
            return (str(body)[:300], None)
        message = body.get("message")
        code = body.get("code")
        return (
            str(message)[:300] if message else response.reason_phrase,
            str(code) if isinstance(code, str) and code else None,
        )

    def classify(self, response: httpx.Response) -> HubError | None:
        status = response.status_code
        if status < 400:
            return None
        message, code = self.error_details(response)
        common: dict[str, Any] = {
            "provider": self.provider,
            "http_status": status,
            "request_id": self.request_id_of(response),
        }
        if status == 426 or code == "NONEXISTENT_VERSION":
            # A sunset (or never released) LinkedIn-Version: the hub's configuration, not the
            # org's credentials nor its content; retrying cannot help.
            return ConfigurationError(
                f"linkedin refused API version {self.api_version} ({status} {code or 'NONEXISTENT_VERSION'}: "
                "sunset or unknown): set LINKEDIN_API_VERSION (or the secret's api_version) to a live version, "
                "see https://learn.microsoft.com/en-us/linkedin/marketing/versioning",
                code=SUNSET_VERSION,
                **common,
            )
        if status == 429:
            # Daily application and member limits reset at midnight UTC (rate-limits page).
            header = response.headers.get("retry-after")
            retry_after = self.retry_after_of(response) if header else seconds_to_utc_midnight()
            return RateLimitedError(f"linkedin answered 429: {message}", retry_after=retry_after, code=code, **common)
        if status == 403 and response.request.method == "GET" and "q=author" in str(response.request.url):
            # Reading a member's posts needs r_member_social (restricted to approved partners):
            # the lookup cannot tell, but the token is fine (never disable the integration for it).
            return InvalidRequestError(
                f"linkedin answered 403 to the posts lookup: {message} (reading a member's posts needs "
                "r_member_social, granted to approved partners only)",
                code=LOOKUP_NOT_PERMITTED,
                **common,
            )
        error = super().classify(response)
        return error

    # ----- SocialPublisher -------------------------------------------------------------------
    @classmethod
    def check_post(cls, content: SocialContent) -> None:
        if content.format != "feed":
            raise InvalidRequestError(
                f"content.format: LinkedIn has no {content.format}s; only feed posts", code="unsupported_format"
            )
        if content.visibility == "unlisted":
            raise InvalidRequestError(
                "content.visibility: LinkedIn posts are public or (members only) for connections; no unlisted",
                code="unsupported_visibility",
            )
        if len(content.text) > MAX_COMMENTARY:
            raise InvalidRequestError(
                f"content.text: LinkedIn takes at most {MAX_COMMENTARY} characters ({len(content.text)} given)",
                code="text_too_long",
            )
        images = [m for m in content.media if m.type == "image"]
        videos = [m for m in content.media if m.type == "video"]
        if images and videos:
            raise InvalidRequestError(
                "content.media: a LinkedIn post carries images or one video, never both", code="mixed_media"
            )
        if len(videos) > 1:
            raise InvalidRequestError("content.media: a LinkedIn post carries one video at most", code="too_many_media")
        if len(images) > MAX_IMAGES:
            raise InvalidRequestError(
                f"content.media: a LinkedIn post carries at most {MAX_IMAGES} images", code="too_many_media"
            )
        if content.link is not None and content.media:
            raise InvalidRequestError(
                "content.link: a LinkedIn post is an article (link) or media, not both; put the link in the text",
                code="link_with_media",
            )
        if not content.text.strip() and not content.media and content.link is None:
            raise InvalidRequestError("content.text: nothing to post", code="empty_post")

    def prepare_post(self, post: SocialPost) -> PublishStep:
        author = self._author(post.account)
        if post.visibility == "private" and not _PERSON.match(author):
            raise InvalidRequestError(
                "content.visibility: 'private' (connections only) exists for member posts, not organization pages",
                code="unsupported_visibility",
            )
        objects = [self._media_object(item, index) for index, item in enumerate(post.media)]
        job: dict[str, Any] = {"author": author, "images": [], "video": None}
        for index, item in enumerate(post.media):
            if item.type == "image":
                job["images"].append(self._upload_image(author, item, objects[index]))
        video = next(((i, m) for i, m in enumerate(post.media) if m.type == "video"), None)
        if video is None:
            return PublishStep(status="ready", job=job)
        index, item = video
        job["video"] = self._initialize_video(author, objects[index][2], index)
        return self._advance_video(post, job)

    def poll_post(self, post: SocialPost, job: dict[str, Any]) -> PublishStep:
        if not job.get("video"):
            return PublishStep(status="ready", job=job)
        return self._advance_video(post, job)

    def publish_post(self, post: SocialPost, job: dict[str, Any]) -> PublishedPost:
        body = self.post_body(post, job)
        # https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api
        # ("Create a Post": 201, the post's URN in the x-restli-id header). Sent once.
        response = self.rest("POST", "/posts", json=body, operation="publish", attempts=1, effect=True)
        urn = response.headers.get("x-restli-id")
        if not urn:
            raise ProviderUnavailableError(
                "linkedin created the post without an x-restli-id header", provider=self.provider
            )
        return PublishedPost(
            post_id=urn,
            url=f"https://www.linkedin.com/feed/update/{urn}/",
            published_at=datetime.now(UTC),
            visibility=body["visibility"],
        )

    def find_post(self, post: SocialPost, job: dict[str, Any], *, since: datetime) -> PublishedPost | None:
        author = self._author(post.account)
        # https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api
        # ("Find Posts by Authors": q=author, sortBy LAST_MODIFIED | CREATED).
        try:
            response = self.rest(
                "GET",
                "/posts",
                query=f"author={_q(author)}&q=author&count=10&sortBy=LAST_MODIFIED",
                operation="find_post",
            )
        except InvalidRequestError as exc:
            if exc.code != LOOKUP_NOT_PERMITTED:
                raise
            # A member's posts cannot be read without r_member_social: not found, as far as the
            # hub can tell (the workflow ends it "unconfirmed", never posts it again).
            logger.warning("linkedin_lookup_not_permitted", extra={"account": author, "org_id": self.org_id})
            return None
        body = self.json_object(response)
        commentary = escape_little(post.text)
        media_ids = self._media_ids(job)
        floor = int(since.timestamp() * 1000)
        for element in body.get("elements") or []:
            if not isinstance(element, dict) or element.get("commentary") not in (commentary, post.text):
                continue
            created = (element.get("created") or {}).get("time") or element.get("publishedAt") or 0
            if not isinstance(created, int | Decimal) or int(created) < floor:
                continue
            if media_ids and not media_ids <= self._element_media(element):
                continue
            urn = element.get("id")
            if isinstance(urn, str) and urn:
                return PublishedPost(
                    post_id=urn,
                    url=f"https://www.linkedin.com/feed/update/{urn}/",
                    published_at=datetime.fromtimestamp(int(created) / 1000, UTC),
                    visibility=element.get("visibility"),
                )
        return None

    def post_body(self, post: SocialPost, job: dict[str, Any]) -> dict[str, Any]:
        """The Posts API body for ``post`` with the media ``job`` uploaded."""
        author = self._author(post.account)
        body: dict[str, Any] = {
            "author": author,
            "commentary": escape_little(post.text),
            "visibility": "CONNECTIONS" if post.visibility == "private" else "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        images: list[dict[str, Any]] = [
            {"id": urn, **({"altText": item.alt_text} if item.alt_text else {})}
            for urn, item in zip(job.get("images") or [], [m for m in post.media if m.type == "image"], strict=False)
        ]
        video = job.get("video")
        if video:
            media: dict[str, Any] = {"id": video["urn"]}
            if post.title:
                media["title"] = post.title
            body["content"] = {"media": media}
        elif len(images) == 1:
            body["content"] = {"media": images[0]}
        elif len(images) > 1:
            body["content"] = {"multiImage": {"images": images}}
        elif post.link:
            body["content"] = {"article": {"source": post.link, "title": post.title or post.link}}
        return body

    # ----- media -----------------------------------------------------------------------------
    def _author(self, account: str) -> str:
        if _PERSON.match(account) or _ORGANIZATION.match(account):
            return account
        raise InvalidRequestError(
            "account: a LinkedIn account is a URN, urn:li:person:<id> or urn:li:organization:<id>",
            code="invalid_account",
        )

    def _media_object(self, item: ResolvedMedia, index: int) -> tuple[str, str, int]:
        # LinkedIn takes the file's bytes (images-api / videos-api): only our own objects.
        bucket, key, size = social_media.require_object(item, index, "LinkedIn")
        allowed = IMAGE_TYPES if item.type == "image" else VIDEO_TYPES
        if item.content_type and item.content_type.split(";")[0].strip().lower() not in allowed:
            raise InvalidRequestError(
                f"content.media[{index}]: LinkedIn takes {', '.join(sorted(allowed))} for a {item.type}, "
                f"not {item.content_type}",
                code="unsupported_media_type",
            )
        if size <= 0:
            raise InvalidRequestError(f"content.media[{index}]: the object is empty", code="empty_media")
        return bucket, key, size

    def _upload_image(self, author: str, item: ResolvedMedia, obj: tuple[str, str, int]) -> str:
        # https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/images-api
        # ("Initialize Image Upload", then PUT the bytes to uploadUrl with the Bearer token).
        response = self.rest(
            "POST",
            "/images",
            query="action=initializeUpload",
            json={"initializeUploadRequest": {"owner": author}},
            operation="upload_init",
        )
        value = self.json_object(response).get("value") or {}
        upload_url, urn = value.get("uploadUrl"), value.get("image")
        if not isinstance(upload_url, str) or not isinstance(urn, str):
            raise ProviderUnavailableError(
                "linkedin answered initializeUpload without uploadUrl/image", provider=self.provider
            )
        data = social_media.read_range(item, 0, obj[2] - 1)
        self._put(upload_url, data, authenticate=True)
        return urn

    def _initialize_video(self, author: str, size: int, index: int) -> dict[str, Any]:
        # https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/videos-api
        # ("Initialize Video Upload": uploadInstructions with byte ranges, uploadToken).
        response = self.rest(
            "POST",
            "/videos",
            query="action=initializeUpload",
            json={
                "initializeUploadRequest": {
                    "owner": author,
                    "fileSizeBytes": size,
                    "uploadCaptions": False,
                    "uploadThumbnail": False,
                }
            },
            operation="upload_init",
        )
        value = self.json_object(response).get("value") or {}
        urn = value.get("video")
        instructions = value.get("uploadInstructions")
        if not isinstance(urn, str) or not isinstance(instructions, list) or not instructions:
            raise ProviderUnavailableError(
                "linkedin answered initializeUpload without video/uploadInstructions", provider=self.provider
            )
        parts = [
            {"url": str(part["uploadUrl"]), "first": int(part["firstByte"]), "last": int(part["lastByte"])}
            for part in instructions
        ]
        return {
            "urn": urn,
            "token": str(value.get("uploadToken") or ""),
            "index": index,
            "parts": parts,
            "etags": [],
            "finalized": False,
        }

    def _advance_video(self, post: SocialPost, job: dict[str, Any]) -> PublishStep:
        """Upload the parts still to send (as many as this invocation's time allows), finalize,
        then read the video's status: ``pending`` until LinkedIn says AVAILABLE."""
        video = job["video"]
        item = post.media[video["index"]]
        while len(video["etags"]) < len(video["parts"]):
            left = remaining_seconds()
            if left is not None and left < UPLOAD_RESERVE_SECONDS:
                return PublishStep(status="pending", job=job, poll_after_seconds=0)
            part = video["parts"][len(video["etags"])]
            response = self._put(part["url"], social_media.read_range(item, part["first"], part["last"]))
            etag = response.headers.get("etag")
            if not etag:
                raise ProviderUnavailableError("linkedin accepted a video part without an ETag", provider=self.provider)
            video["etags"].append(etag)
        if not video["finalized"]:
            # videos-api, "Finalize Video Upload": the ETags of the parts, in order.
            self.rest(
                "POST",
                "/videos",
                query="action=finalizeUpload",
                json={
                    "finalizeUploadRequest": {
                        "video": video["urn"],
                        "uploadToken": video["token"],
                        "uploadedPartIds": video["etags"],
                    }
                },
                operation="upload_finalize",
            )
            video["finalized"] = True
        # videos-api, "Get a Video": status WAITING_UPLOAD | PROCESSING | AVAILABLE | PROCESSING_FAILED.
        status = self.json_object(self.rest("GET", f"/videos/{_q(video['urn'])}", operation="video_status")).get(
            "status"
        )
        if status == "AVAILABLE":
            return PublishStep(status="ready", job=job)
        if status in VIDEO_PENDING:
            return PublishStep(status="pending", job=job)
        raise InvalidRequestError(
            f"content.media[{video['index']}]: linkedin could not process the video (status {status})",
            provider=self.provider,
            code="processing_failed",
        )

    def _put(self, url: str, data: bytes, *, authenticate: bool = False) -> httpx.Response:
        """PUT ``data`` to an upload URL LinkedIn handed out (idempotent: retried as any read)."""
        from hub.providers.base.client import httpx as lazy_httpx

        def attempt() -> httpx.Response:
            headers = {"Content-Type": "application/octet-stream", **(self.auth_headers() if authenticate else {})}
            timeout = self._effective_timeout(UPLOAD_TIMEOUT_SECONDS)
            extra: dict[str, Any] = {"timeout": timeout} if timeout is not None else {}
            try:
                response = self.http.request("PUT", url, content=data, headers=headers, **extra)
            except lazy_httpx.TransportError as exc:
                raise self._transport_error(exc, effect=False) from exc
            error = self.classify(response)
            if error is not None:
                raise self.scrub(error, response.request)
            return response

        return self.guarded(attempt, operation="upload")

    @staticmethod
    def _media_ids(job: dict[str, Any]) -> set[str]:
        ids = set(job.get("images") or [])
        if job.get("video"):
            ids.add(job["video"]["urn"])
        return ids

    @staticmethod
    def _element_media(element: dict[str, Any]) -> set[str]:
        content = element.get("content") or {}
        found: set[str] = set()
        media = content.get("media")
        if isinstance(media, dict) and isinstance(media.get("id"), str):
            found.add(media["id"])
        for image in (content.get("multiImage") or {}).get("images") or []:
            if isinstance(image, dict) and isinstance(image.get("id"), str):
                found.add(image["id"])
        return found

    # ----- SocialInsights --------------------------------------------------------------------
    def list_accounts(self) -> list[SocialAccount]:
        # The member: OpenID userinfo ``sub`` is the person id
        # (https://learn.microsoft.com/en-us/linkedin/consumer/integrations/self-serve/sign-in-with-linkedin-v2).
        info = self.json_object(self.request("GET", self.api_url("/v2/userinfo"), operation="accounts"))
        accounts: list[SocialAccount] = []
        sub = info.get("sub")
        if isinstance(sub, str) and sub:
            accounts.append(SocialAccount(account=f"urn:li:person:{sub}", name=info.get("name"), kind="member"))
        scopes = set(self.oauth_credentials.scopes)
        if not scopes & ORGANIZATION_SCOPES:
            return accounts  # Share on LinkedIn only: no organization can be read or posted to
        # https://learn.microsoft.com/en-us/linkedin/marketing/community-management/organizations/organization-access-control-by-role
        # ("Find a Member's Organization Access Control Information": q=roleAssignee).
        response = self.rest(
            "GET", "/organizationAcls", query="q=roleAssignee&role=ADMINISTRATOR&state=APPROVED", operation="accounts"
        )
        for element in self.json_object(response).get("elements") or []:
            organization = element.get("organization") if isinstance(element, dict) else None
            if isinstance(organization, str) and _ORGANIZATION.match(organization):
                accounts.append(SocialAccount(account=organization, kind="organization"))
        return accounts

    def account_metrics(self, account: str, start: date, end: date) -> list[DayMetrics]:
        """Daily organic statistics of an organization, within LinkedIn's rolling 12 months
        (older days are clipped). Members have no share statistics: always []."""
        author = self._author(account)
        if _PERSON.match(author):
            return []
        first = max(start, self.oldest_day())
        if end < first:
            return []
        # https://learn.microsoft.com/en-us/linkedin/marketing/community-management/organizations/share-statistics
        # ("Retrieve Time-Bound Share Statistics": timeIntervals in Rest.li 2.0 syntax, DAY).
        intervals = f"(timeRange:(start:{_ms(first)},end:{_ms(end + timedelta(days=1))}),timeGranularityType:DAY)"
        response = self.rest(
            "GET",
            "/organizationalEntityShareStatistics",
            query=f"q=organizationalEntity&organizationalEntity={_q(author)}&timeIntervals={intervals}",
            operation="insights",
        )
        days: list[DayMetrics] = []
        for element in self.json_object(response).get("elements") or []:
            if not isinstance(element, dict):
                continue
            started = (element.get("timeRange") or {}).get("start")
            if not isinstance(started, int | Decimal):
                continue
            day = datetime.fromtimestamp(int(started) / 1000, UTC).date()
            if first <= day <= end:
                days.append(DayMetrics(day=day, metrics=_metrics(element.get("totalShareStatistics"))))
        return sorted(days, key=lambda d: d.day)

    def post_metrics(self, account: str, post_ids: list[str]) -> list[PostMetrics]:
        """Lifetime organic statistics of an organization's posts (``urn:li:share:`` and
        ``urn:li:ugcPost:`` URNs). Members have none: []."""
        author = self._author(account)
        if _PERSON.match(author) or not post_ids:
            return []
        shares = [p for p in post_ids if p.startswith("urn:li:share:")]
        ugc = [p for p in post_ids if p.startswith("urn:li:ugcPost:")]
        query = f"q=organizationalEntity&organizationalEntity={_q(author)}"
        if shares:
            query += f"&shares=List({','.join(_q(p) for p in shares)})"
        if ugc:
            query += f"&ugcPosts=List({','.join(_q(p) for p in ugc)})"
        if not shares and not ugc:
            return []
        # share-statistics, "Retrieve Statistics for Specific Shares".
        response = self.rest("GET", "/organizationalEntityShareStatistics", query=query, operation="insights")
        out: list[PostMetrics] = []
        for element in self.json_object(response).get("elements") or []:
            if not isinstance(element, dict):
                continue
            urn = element.get("share") or element.get("ugcPost")
            if isinstance(urn, str) and urn in post_ids:
                out.append(PostMetrics(post_id=urn, metrics=_metrics(element.get("totalShareStatistics"))))
        return out

    @staticmethod
    def oldest_day(today: date | None = None) -> date:
        """The first day LinkedIn still reports (rolling 12 months)."""
        today = today or datetime.now(UTC).date()
        try:
            year_ago = today.replace(year=today.year - 1)
        except ValueError:  # 29 February
            year_ago = today.replace(year=today.year - 1, day=28)
        return year_ago + timedelta(days=1)

    # ----- closed to non-partners ------------------------------------------------------------
    def search_people(self, query: str, **_: Any) -> list[dict[str, Any]]:
        raise _partner_only("people search")

    def send_invitation(self, person: str, message: str | None = None, **_: Any) -> None:
        raise _partner_only("invitations")

    def send_message(self, recipients: Iterable[str], text: str, **_: Any) -> None:
        raise _partner_only("messaging")


def _partner_only(what: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"LinkedIn opens {what} only to approved partner apps (people search, invitations and messaging "
        "are closed to others); for lead search use the WebSearch function with a "
        "'site:linkedin.com/in' query (docs/social.md, LinkedIn)",
        provider="linkedin",
        code=PARTNER_ONLY,
    )
