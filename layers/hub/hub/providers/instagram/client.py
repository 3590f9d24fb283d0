"""Instagram professional accounts: publishing (containers), insights and hashtag search.

Login paths. The Instagram Platform is served two ways
(https://developers.facebook.com/docs/instagram-platform/overview): Instagram Login (the org's
``instagram`` integration: an Instagram user token, host ``graph.instagram.com``) and Facebook
Login (the org's ``facebook`` integration: a Facebook user token, host ``graph.facebook.com``,
the Instagram account being a Page's ``instagram_business_account``). :meth:`InstagramClient.for_org`
uses the ``instagram`` integration when the org has one, else its ``facebook`` one. Paths and
fields are the same on both hosts; hashtag search exists only with Facebook Login.

The Graph version in every path is configuration: the org's secret ``graph_version`` (stored by
the OAuth callback), else the app secret's, else ``hub.providers.facebook.GRAPH_VERSION``.

Every API fact, with its doc link: README.md.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self, TypeVar
from urllib.parse import urlsplit

from pydantic import Field

from hub.config import get_settings
from hub.credentials import get_provider_secret
from hub.errors import (
    AuthenticationError,
    ConfigurationError,
    HubError,
    InvalidRequestError,
    ProviderUnavailableError,
    RateLimitedError,
)
from hub.integrations.records import blocked
from hub.observability import logger
from hub.providers.base.client import ProviderCredentials
from hub.providers.base.descriptor import OAuthSpec
from hub.providers.base.oauth import OAuthClient, OAuthCredentials
from hub.providers.facebook import GRAPH_VERSION
from hub.providers.facebook.client import FacebookClient
from hub.providers.instagram import OAUTH
from hub.providers.instagram.hashtags import HashtagWindow
from hub.providers.meta.graph import GraphApiClient
from hub.resilience.integrations import disable_integration
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
from hub.usage.meter import Billing

if TYPE_CHECKING:
    import httpx

T = TypeVar("T")
Login = Literal["instagram", "facebook"]
HashtagEdge = Literal["recent_media", "top_media"]

# ----- what Instagram accepts (README.md, "Limits", has the doc links) -------------------------
MAX_CAPTION = 2200
MAX_HASHTAGS = 30
MAX_MENTIONS = 20
MAX_CAROUSEL = 10
MAX_IMAGE_BYTES = 8 * 1024 * 1024  # error 2207004: "It should be less than 8 MiB"
MAX_REEL_BYTES = 300 * 1024 * 1024
MIN_FEED_RATIO, MAX_FEED_RATIO = 4 / 5, 1.91  # feed images: 4:5 to 1.91:1
IMAGE_TYPES = frozenset({"image/jpeg", "image/jpg", "image/pjpeg"})
VIDEO_TYPES = frozenset({"video/mp4", "video/quicktime"})
IMAGE_EXTENSIONS = frozenset({"jpg", "jpeg"})
VIDEO_EXTENSIONS = frozenset({"mp4", "mov"})
# Meta: "query a container's status once per minute, for no more than 5 minutes".
MAX_POLL_SECONDS = 300
# How far before the unknown publish a post found afterwards may be dated (clock skew).
FIND_SKEW = timedelta(minutes=2)
# A publishing-limit refusal at media_publish: try again in an hour (the window is rolling).
PUBLISH_LIMIT_RETRY = 3600.0
# Bytes read from the start of our JPEGs to find their size (the SOF marker comes early).
JPEG_HEAD_BYTES = 64 * 1024

_HASHTAG = re.compile(r"(?<![\w&])#(\w+)")
_MENTION = re.compile(r"(?<![\w.])@([A-Za-z0-9_.]+)")
_HASHTAG_QUERY = re.compile(r"^#?(\w{1,100})$")

# Account metrics read per day (metric_type=total_value; ``views`` replaced ``impressions``).
ACCOUNT_METRICS = ("views", "reach", "accounts_engaged", "total_interactions", "likes", "comments", "shares", "saves")
# Media metrics by media_product_type (the API refuses a metric a product type lacks).
MEDIA_METRICS: dict[str, tuple[str, ...]] = {
    "FEED": ("views", "reach", "likes", "comments", "shares", "saved", "total_interactions"),
    "REELS": ("views", "reach", "likes", "comments", "shares", "saved", "total_interactions"),
    "STORY": ("views", "reach", "replies", "shares", "total_interactions"),
}
MEDIA_FIELDS = "id,caption,media_type,media_product_type,permalink,timestamp"
HASHTAG_MEDIA_FIELDS = "id,caption,media_type,permalink,timestamp,like_count,comments_count"


class InstagramCredentials(OAuthCredentials):
    """``hub/{org}/instagram`` (Instagram Login), or the org's ``facebook`` secret read for the
    Facebook Login path. ``graph_version``: the version the token was obtained with."""

    graph_version: str | None = Field(None, pattern=r"^v[0-9]+\.[0-9]+$")


def _refuse(message: str, code: str) -> InvalidRequestError:
    return InvalidRequestError(message, provider="instagram", code=code)


def _extension(location: str) -> str | None:
    """The lower-case extension of a URL's path or an object key, if it has one."""
    path = urlsplit(location).path if "://" in location else location
    name = path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else None


def jpeg_size(head: bytes) -> tuple[int, int] | None:
    """(width, height) from a JPEG's first bytes (its SOFn marker); None when not found there.
    ValueError when the bytes are not a JPEG at all."""
    if head[:3] != b"\xff\xd8\xff":
        raise ValueError("not a JPEG")
    index = 2
    while index + 4 <= len(head):
        if head[index] != 0xFF:
            return None
        marker = head[index + 1]
        if marker == 0xFF:  # fill byte
            index += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length
            index += 2
            continue
        (length,) = struct.unpack(">H", head[index + 2 : index + 4])
        # SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if index + 9 > len(head):
                return None
            height, width = struct.unpack(">HH", head[index + 5 : index + 9])
            return width, height
        index += 2 + length
    return None


class InstagramClient(OAuthClient, GraphApiClient):
    """SocialPublisher and SocialInsights for an Instagram professional account."""

    provider: ClassVar[str] = "instagram"
    oauth_spec: ClassVar[OAuthSpec] = OAUTH
    credentials_model: ClassVar[type[ProviderCredentials]] = InstagramCredentials
    graph_version: ClassVar[str] = GRAPH_VERSION

    def __init__(
        self, credentials: ProviderCredentials, *, facebook: FacebookClient | None = None, **kwargs: Any
    ) -> None:
        super().__init__(credentials, **kwargs)
        # Facebook Login: that integration's adapter gives the token, host and version, and its
        # integration status is the one that blocks or is disabled (see guarded).
        self.facebook = facebook
        if facebook is not None:
            self.credentials_check = True  # the base then leaves the (absent) instagram record alone
        self._account: str | None = None

    # ----- which login ---------------------------------------------------------------------
    @classmethod
    def for_org(cls, org_id: str, **kwargs: Any) -> Self:
        """The org's ``instagram`` integration (Instagram Login) when it has one, else its
        ``facebook`` one (Facebook Login); AuthenticationError when it has neither."""
        try:
            raw = get_provider_secret(org_id, "instagram")
        except AuthenticationError as missing:
            try:
                raw = get_provider_secret(org_id, "facebook")
            except AuthenticationError:
                raise AuthenticationError(
                    "the org has no instagram integration (Instagram Login) nor a facebook one (Facebook Login)",
                    provider=cls.provider,
                    code=missing.code,
                ) from None
            http = kwargs.get("http")
            facebook = FacebookClient(FacebookClient.parse_credentials(raw), org_id=org_id, http=http)
            return cls(cls.parse_credentials(raw), org_id=org_id, facebook=facebook, **kwargs)
        return cls(cls.parse_credentials(raw), org_id=org_id, **kwargs)

    @property
    def login(self) -> Login:
        return "facebook" if self.facebook is not None else "instagram"

    def auth_headers(self) -> dict[str, str]:
        if self.facebook is not None:
            return self.facebook.auth_headers()
        return super().auth_headers()

    def api_version(self) -> str:
        creds = self.credentials
        own = creds.graph_version if isinstance(creds, InstagramCredentials) else None
        if own:
            return own
        if creds.base_url is None:  # the deployment's app may set a newer version
            owner: OAuthClient = self.facebook or self
            try:
                return owner.oauth.graph_version or self.graph_version
            except ConfigurationError:
                return self.graph_version
        return self.graph_version

    def graph_url(self, path: str) -> str:
        """``path`` under the Graph version on the login's host."""
        versioned = f"/{self.api_version()}{path}"
        if self.facebook is not None:
            return self.facebook.api_url(versioned)
        return self.api_url(versioned)

    def account_scope(self) -> str:
        # Per-account limits (containers per day) count against the Instagram account in use.
        return f"{self.org_id or 'default'}:{self._account}" if self._account else super().account_scope()

    # Meta's usage back-off (GraphApiClient: X-App-Usage / X-Business-Use-Case-Usage, shared in
    # the resilience table). One app per deployment for each login: its platform usage is every
    # org's, so the app-level back-off is shared; on Facebook Login it is the Facebook app's,
    # the same scope as FacebookClient's. The Business Use Case usage is per Instagram account.
    def usage_scope(self) -> str:
        return "facebook" if self.facebook is not None else self.provider

    def usage_business_ids(self) -> Iterable[str] | None:
        return (self._account,) if self._account else ()

    def guarded(
        self,
        call: Callable[[], T],
        *,
        operation: str | None = None,
        cost: int = 1,
        attempts: int | None = None,
        billing: Billing | None = None,
    ) -> T:
        """On Facebook Login the org's ``facebook`` integration is the one refused while
        disabled or waiting for re-auth, and the one disabled when Meta rejects its token (the
        org has no ``instagram`` record to change)."""
        if self.facebook is None or not self.org_id:
            return super().guarded(call, operation=operation, cost=cost, attempts=attempts, billing=billing)
        if refused := blocked(self.org_id, "facebook"):
            status, reason = refused
            raise AuthenticationError(
                f"instagram goes through the org's facebook integration (Facebook Login), which is {status} "
                f"({reason}): connect it again",
                provider=self.provider,
                code="integration_needs_reauth" if status == "needs_reauth" else "integration_disabled",
            )
        try:
            return super().guarded(call, operation=operation, cost=cost, attempts=attempts, billing=billing)
        except AuthenticationError as exc:
            if exc.http_status is not None:
                disable_integration(self.org_id, "facebook", f"{exc.http_status} from instagram (Facebook Login)")
            raise

    def classify(self, response: httpx.Response) -> HubError | None:
        """The Graph taxonomy (GraphApiClient), with Instagram's own codes
        (https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/error-codes):
        9 / 2207042, the publishing limit reached at media_publish → RateLimitedError (an hour:
        the rolling window frees places as posts age; the cap is re-read before the next post);
        -1 and -2 ("Instagram server error", "takes too long to download the media", "Try
        again") → ProviderUnavailableError, except 2207020 (the container expired)."""
        error = super().classify(response)
        if error is None or not isinstance(error, InvalidRequestError):
            return error
        code, subcode = _graph_codes(response)
        common: dict[str, Any] = {
            "provider": self.provider,
            "http_status": response.status_code,
            "request_id": error.request_id,
        }
        if code == 9:
            return RateLimitedError(
                f"{error.message} (publishing limit)",
                retry_after=PUBLISH_LIMIT_RETRY,
                code="publishing_limit",
                **common,
            )
        if code == -2 and subcode == 2207020:
            return InvalidRequestError(error.message, code="container_expired", **common)
        if code in (-1, -2):
            return ProviderUnavailableError(error.message, code=str(code), **common)
        return error

    def _get(self, path: str, params: Mapping[str, Any] | None = None, *, operation: str) -> dict[str, Any]:
        return self.json_object(self.request("GET", self.graph_url(path), params=params, operation=operation))

    def health_check(self) -> None:
        if self.facebook is not None:
            # https://developers.facebook.com/docs/graph-api/overview#me
            self._get("/me", {"fields": "id"}, operation="health")
            return
        # https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/get-started
        self._get("/me", {"fields": "user_id,username"}, operation="health")

    # ----- SocialPublisher: check ----------------------------------------------------------
    @classmethod
    def check_post(cls, content: SocialContent) -> None:
        """What Instagram refuses, named by field, before anything is stored or sent."""
        items = [(item.type, item.url or item.s3_key or "", item.alt_text) for item in content.media]
        _check(content.text, content.link, content.visibility, content.format, items)

    def _check_media(self, post: SocialPost) -> None:
        """What the objects' metadata and first bytes tell (the causes of Instagram's opaque
        processing failures, "bad_body"): not a JPEG, too large, a feed image outside 4:5..1.91:1."""
        from hub.social.media import read_range

        for index, item in enumerate(post.media):
            field = f"content.media[{index}]"
            kind = (item.content_type or "").split(";")[0].strip().lower()
            if item.type == "image":
                if kind and kind not in IMAGE_TYPES:
                    raise _refuse(f"{field}: Instagram takes JPEG images only ({kind} given)", "image_not_jpeg")
                if item.size is not None and item.size > MAX_IMAGE_BYTES:
                    raise _refuse(f"{field}: Instagram images are at most 8 MiB", "image_too_large")
                if item.bucket is not None and item.key is not None:
                    end = min(JPEG_HEAD_BYTES, item.size or JPEG_HEAD_BYTES) - 1
                    try:
                        size = jpeg_size(read_range(item, 0, end))
                    except ValueError:
                        raise _refuse(
                            f"{field}: the object is not a JPEG image (Instagram takes JPEG only)", "image_not_jpeg"
                        ) from None
                    if size is not None and post.format == "feed":
                        width, height = size
                        ratio = width / height if height else 0
                        if not MIN_FEED_RATIO - 0.005 <= ratio <= MAX_FEED_RATIO + 0.005:
                            raise _refuse(
                                f"{field}: Instagram feed images must be between 4:5 and 1.91:1 "
                                f"({width}x{height} given)",
                                "aspect_ratio",
                            )
            else:
                if kind and kind not in VIDEO_TYPES:
                    raise _refuse(f"{field}: Instagram takes MP4 or MOV videos only ({kind} given)", "video_format")
                if item.size is not None and item.size > MAX_REEL_BYTES:
                    raise _refuse(f"{field}: Instagram videos are at most 300 MB", "video_too_large")

    # ----- SocialPublisher: prepare / poll / publish / find --------------------------------
    def publishing_limit(self, account: str) -> tuple[int, int, int]:
        """(quota_usage, quota_total, quota_duration seconds) read live.
        https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/content_publishing_limit"""
        body = self._get(
            f"/{account}/content_publishing_limit", {"fields": "config,quota_usage"}, operation="publishing_limit"
        )
        data = body.get("data")
        entry = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
        raw_config = entry.get("config")
        config: dict[str, Any] = raw_config if isinstance(raw_config, dict) else {}
        try:
            usage = int(entry.get("quota_usage", 0))
            total = int(config.get("quota_total", 0))
            duration = int(config.get("quota_duration", 86400))
        except (TypeError, ValueError):
            raise ProviderUnavailableError(
                "instagram answered content_publishing_limit without numbers", provider=self.provider
            ) from None
        return usage, total, duration

    def _quota_retry_after(self, account: str, duration: int) -> float:
        """Seconds until the rolling window frees a place: when the oldest media of the account
        published inside the window leaves it (at least a minute; a whole window when none is
        found). Publishing again re-reads the live cap, so an early guess only delays again."""
        now = datetime.now(UTC)
        body = self._get(f"/{account}/media", {"fields": "id,timestamp", "limit": 100}, operation="find_post")
        stamps = [
            parsed
            for item in body.get("data") or []
            if isinstance(item, dict) and (parsed := _timestamp(item.get("timestamp"))) is not None
        ]
        inside = [stamp for stamp in stamps if stamp > now - timedelta(seconds=duration)]
        if not inside:
            return float(duration)
        return max(60.0, (min(inside) + timedelta(seconds=duration) - now).total_seconds())

    def prepare_post(self, post: SocialPost) -> PublishStep:
        """Read the live publishing cap, check the media, create the container(s)."""
        items = [(m.type, m.key or m.url, m.alt_text) for m in post.media]
        _check(post.text, post.link, post.visibility, post.format, items)
        self._check_media(post)
        account = post.account
        self._account = account
        usage, total, duration = self.publishing_limit(account)
        if total and usage >= total:
            raise RateLimitedError(
                f"instagram publishing limit reached for account {account}: {usage} of {total} posts in "
                f"{duration // 3600} h",
                provider=self.provider,
                retry_after=self._quota_retry_after(account, duration),
                code="publishing_limit",
            )
        created = datetime.now(UTC).isoformat()
        if post.format == "feed" and len(post.media) > 1:
            children = [self._create(account, self._item_fields(item, carousel=True)) for item in post.media]
            job = {"account": account, "kind": "carousel", "children": children, "created_at": created}
            if any(item.type == "video" for item in post.media):
                # Video items must finish processing before the carousel container is created.
                return self._step("pending", job)
            return self._carousel(post, job)
        kind = "story" if post.format == "story" else ("reels" if post.media[0].type == "video" else "image")
        fields = self._item_fields(post.media[0], carousel=False, story=post.format == "story")
        if kind != "story" and post.text:
            fields["caption"] = post.text
        job = {"account": account, "kind": kind, "container": self._create(account, fields), "created_at": created}
        return self._status_step(job)

    def _item_fields(self, item: ResolvedMedia, *, carousel: bool, story: bool = False) -> dict[str, str]:
        # https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media
        fields: dict[str, str] = {}
        if story:
            fields["media_type"] = "STORIES"
        elif item.type == "video":
            fields["media_type"] = "VIDEO" if carousel else "REELS"
        if item.type == "image":
            fields["image_url"] = item.url
            if item.alt_text and not story:
                fields["alt_text"] = item.alt_text
        else:
            fields["video_url"] = item.url
        if carousel:
            fields["is_carousel_item"] = "true"
        return fields

    def _create(self, account: str, fields: dict[str, str]) -> str:
        """POST /{ig-user-id}/media → the container id. A container is not visible, so a lost
        answer is just unavailability (no unknown outcome)."""
        response = self.request(
            "POST", self.graph_url(f"/{account}/media"), data=fields, operation="ig_container", effect=False
        )
        container = self.json_object(response).get("id")
        if not isinstance(container, str | int) or not str(container):
            raise ProviderUnavailableError("instagram created a container without an id", provider=self.provider)
        return str(container)

    def _carousel(self, post: SocialPost, job: dict[str, Any]) -> PublishStep:
        fields = {"media_type": "CAROUSEL", "children": ",".join(job["children"])}
        if post.text:
            fields["caption"] = post.text
        job = {**job, "container": self._create(job["account"], fields)}
        return self._status_step(job)

    def _status(self, container: str) -> tuple[str, str | None]:
        # https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-container
        body = self._get(f"/{container}", {"fields": "status_code,status"}, operation="container_status")
        code = str(body.get("status_code") or "")
        detail = body.get("status")
        return code, detail if isinstance(detail, str) else None

    def _settled(self, container: str, code: str, detail: str | None) -> bool:
        """True when ready; False while IN_PROGRESS; InvalidRequestError when it failed."""
        if code in ("FINISHED", "PUBLISHED"):
            return True
        if code == "IN_PROGRESS":
            return False
        if code == "EXPIRED":
            raise InvalidRequestError(
                f"instagram container {container} expired (status EXPIRED: not published within 24 hours): "
                "prepare the post again",
                provider=self.provider,
                code="container_expired",
            )
        if code == "ERROR":
            raise InvalidRequestError(
                f"instagram could not process the media of container {container} "
                f"(status ERROR: {detail or 'no detail'})",
                provider=self.provider,
                code="processing_failed",
            )
        raise ProviderUnavailableError(
            f"instagram answered an unknown container status {code!r}", provider=self.provider, code="unknown_status"
        )

    def _step(self, status: Literal["ready", "pending"], job: dict[str, Any]) -> PublishStep:
        return PublishStep(status=status, job=job, max_poll_seconds=MAX_POLL_SECONDS)

    def _status_step(self, job: dict[str, Any]) -> PublishStep:
        container = job["container"]
        code, detail = self._status(container)
        return self._step("ready" if self._settled(container, code, detail) else "pending", job)

    def poll_post(self, post: SocialPost, job: dict[str, Any]) -> PublishStep:
        """One status read per call (the workflow waits a minute between calls, 5 minutes at most)."""
        self._account = job.get("account") or post.account
        if "container" not in job:  # a carousel waiting for its video items
            for child in job.get("children", []):
                code, detail = self._status(child)
                if not self._settled(child, code, detail):
                    return self._step("pending", job)
            return self._carousel(post, job)
        return self._status_step(job)

    def publish_post(self, post: SocialPost, job: dict[str, Any]) -> PublishedPost:
        """POST /{ig-user-id}/media_publish, sent once; then the media's permalink (a failure
        there does not undo the post: it is answered without its URL)."""
        account = job.get("account") or post.account
        if not job.get("container"):
            raise InvalidRequestError(
                "instagram: nothing to publish yet (the carousel container was not created)",
                provider=self.provider,
                code="not_prepared",
            )
        response = self.request(
            "POST",
            self.graph_url(f"/{account}/media_publish"),
            data={"creation_id": job["container"]},
            operation="publish",
            effect=True,
            attempts=1,
        )
        media = self.json_object(response).get("id")
        if not isinstance(media, str | int) or not str(media):
            raise ProviderUnavailableError("instagram published without answering the media id", provider=self.provider)
        return self._published(str(media))

    def _published(self, media: str) -> PublishedPost:
        try:
            body = self._get(f"/{media}", {"fields": "permalink,timestamp"}, operation="find_post")
        except HubError as exc:
            logger.warning("instagram_permalink_unread", extra={"media": media, "error": type(exc).__name__})
            return PublishedPost(post_id=media, visibility="public", warnings=["permalink not read yet"])
        permalink = body.get("permalink")
        return PublishedPost(
            post_id=media,
            url=permalink if isinstance(permalink, str) else None,
            published_at=_timestamp(body.get("timestamp")),
            visibility="public",
        )

    def find_post(self, post: SocialPost, job: dict[str, Any], *, since: datetime) -> PublishedPost | None:
        """After an unknown publish: the container says whether it was published (a container
        is published at most once, so a second media_publish cannot post twice); when it was,
        the account's recent media (stories: its stories) matched on caption and time."""
        account = job.get("account") or post.account
        container = job.get("container")
        if container:
            code, _ = self._status(str(container))
            if code in ("FINISHED", "IN_PROGRESS", "EXPIRED", "ERROR"):
                return None  # not published
        edge = "stories" if post.format == "story" else "media"
        body = self._get(f"/{account}/{edge}", {"fields": MEDIA_FIELDS, "limit": 25}, operation="find_post")
        earliest = since - FIND_SKEW
        for item in body.get("data") or []:
            if not isinstance(item, dict):
                continue
            stamp = _timestamp(item.get("timestamp"))
            if stamp is None or stamp < earliest:
                continue
            if post.format != "story" and (item.get("caption") or "").strip() != post.text.strip():
                continue
            permalink = item.get("permalink")
            return PublishedPost(
                post_id=str(item.get("id")),
                url=permalink if isinstance(permalink, str) else None,
                published_at=stamp,
                visibility="public",
            )
        return None

    # ----- SocialInsights -------------------------------------------------------------------
    def list_accounts(self) -> list[SocialAccount]:
        if self.facebook is not None:
            # https://developers.facebook.com/docs/instagram-platform/instagram-api-with-facebook-login/get-started
            body = self._get(
                "/me/accounts",
                {"fields": "name,instagram_business_account{id,username}", "limit": 100},
                operation="list_accounts",
            )
            accounts = []
            for page in body.get("data") or []:
                ig = page.get("instagram_business_account") if isinstance(page, dict) else None
                if isinstance(ig, dict) and ig.get("id"):
                    name = ig.get("username") or page.get("name")
                    accounts.append(SocialAccount(account=str(ig["id"]), name=name, kind="business"))
            return accounts
        # https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/get-started
        me = self._get("/me", {"fields": "user_id,username"}, operation="list_accounts")
        user = me.get("user_id") or me.get("id")
        if not user:
            raise ProviderUnavailableError("instagram answered /me without user_id", provider=self.provider)
        return [SocialAccount(account=str(user), name=me.get("username"), kind="business")]

    def account_metrics(self, account: str, start: date, end: date) -> list[DayMetrics]:
        """One call per UTC day with metric_type=total_value (``views`` and most account metrics
        exist only as totals over since..until, not as daily series); days without data skipped.
        https://developers.facebook.com/docs/instagram-platform/api-reference/instagram-user/insights"""
        if end < start:
            raise InvalidRequestError("to must not be before from", provider=self.provider, code="bad_range")
        days: list[DayMetrics] = []
        day = start
        while day <= end:
            since = int(datetime.combine(day, time(), tzinfo=UTC).timestamp())
            body = self._get(
                f"/{account}/insights",
                {
                    "metric": ",".join(ACCOUNT_METRICS),
                    "period": "day",
                    "metric_type": "total_value",
                    "since": since,
                    "until": since + 86400,
                },
                operation="insights",
            )
            metrics = _metric_values(body)
            if metrics:
                days.append(DayMetrics(day=day, metrics=metrics))
            day += timedelta(days=1)
        return days

    def post_metrics(self, account: str, post_ids: list[str]) -> list[PostMetrics]:
        """Each media's product type, then its lifetime insights with that type's metrics.
        https://developers.facebook.com/docs/instagram-platform/reference/instagram-media/insights"""
        out: list[PostMetrics] = []
        for media in post_ids:
            try:
                node = self._get(f"/{media}", {"fields": "id,media_product_type"}, operation="insights")
                product = str(node.get("media_product_type") or "FEED")
                metrics = MEDIA_METRICS.get(product, MEDIA_METRICS["FEED"])
                body = self._get(f"/{media}/insights", {"metric": ",".join(metrics)}, operation="insights")
            except InvalidRequestError as exc:
                # A deleted media, or "(#10) Not enough viewers for the media to show insights".
                logger.info("instagram_media_insights_skipped", extra={"media": media, "code": exc.code})
                continue
            out.append(PostMetrics(post_id=media, metrics=_metric_values(body)))
        return out

    # ----- hashtag search (Facebook Login only) ---------------------------------------------
    def search_hashtag(
        self, account: str, hashtag: str, edge: HashtagEdge = "recent_media", *, limit: int = 50
    ) -> list[dict[str, Any]]:
        """Public media tagged ``hashtag``: ``GET /ig_hashtag_search?user_id&q`` then
        ``/{hashtag-id}/{edge}``. Each new hashtag counts toward the account's 30 per rolling
        7 days (hashtags.py, shared across instances), refused past them with RateLimitedError.
        https://developers.facebook.com/docs/instagram-platform/instagram-api-with-facebook-login/hashtag-search"""
        if edge not in ("recent_media", "top_media"):
            raise _refuse("edge: recent_media or top_media", "bad_edge")
        match = _HASHTAG_QUERY.fullmatch(hashtag.strip())
        if match is None:
            raise _refuse("hashtag: one hashtag of letters, digits or underscores (no spaces or emoji)", "bad_hashtag")
        if self.facebook is None:
            raise _refuse(
                "hashtag search is available only through Facebook Login: connect the org's facebook integration "
                "(the Instagram Login API has no hashtag search)",
                "hashtag_search_needs_facebook_login",
            )
        tag = match.group(1).lower()
        self._account = account
        table = get_settings().resilience_table
        if table:
            HashtagWindow(table).take(account, tag)
        found = self._get("/ig_hashtag_search", {"user_id": account, "q": tag}, operation="hashtag_search")
        data = found.get("data")
        if not isinstance(data, list) or not data or not isinstance(data[0], dict) or not data[0].get("id"):
            return []
        hashtag_id = str(data[0]["id"])
        body = self._get(
            f"/{hashtag_id}/{edge}",
            {"user_id": account, "fields": HASHTAG_MEDIA_FIELDS, "limit": max(1, min(limit, 50))},
            operation="hashtag_search",
        )
        return [item for item in body.get("data") or [] if isinstance(item, dict)]


def _check(
    text: str, link: str | None, visibility: str, post_format: str, items: Sequence[tuple[str, str, str | None]]
) -> None:
    """check_post's rules over the content's parts (``items``: type, URL or key, alt text)."""
    if len(text) > MAX_CAPTION:
        raise _refuse(f"content.text: Instagram captions are at most {MAX_CAPTION} characters", "caption_too_long")
    hashtags = _HASHTAG.findall(text)
    if len(hashtags) > MAX_HASHTAGS:
        raise _refuse(
            f"content.text: Instagram captions carry at most {MAX_HASHTAGS} hashtags ({len(hashtags)} given)",
            "too_many_hashtags",
        )
    mentions = _MENTION.findall(text)
    if len(mentions) > MAX_MENTIONS:
        raise _refuse(
            f"content.text: Instagram captions carry at most {MAX_MENTIONS} @mentions ({len(mentions)} given)",
            "too_many_mentions",
        )
    if link is not None:
        raise _refuse(
            "content.link: Instagram posts carry no link (links in captions are not clickable)", "link_unsupported"
        )
    if visibility != "public":
        raise _refuse("content.visibility: Instagram posts are public", "visibility_unsupported")
    if not items:
        raise _refuse("content.media: an Instagram post needs an image or a video", "media_required")
    if post_format == "feed" and len(items) > MAX_CAROUSEL:
        raise _refuse(
            f"content.media: an Instagram carousel holds at most {MAX_CAROUSEL} items ({len(items)} given)",
            "too_many_media",
        )
    if post_format == "reel" and (len(items) != 1 or items[0][0] != "video"):
        raise _refuse("content.media: an Instagram reel is exactly one video", "reel_needs_one_video")
    if post_format == "story":
        if len(items) != 1:
            raise _refuse("content.media: an Instagram story is exactly one image or video", "story_needs_one")
        if text:
            raise _refuse("content.text: Instagram stories carry no caption", "story_caption_unsupported")
    for index, (kind, location, alt_text) in enumerate(items):
        field = f"content.media[{index}]"
        extension = _extension(location)
        if kind == "image" and extension is not None and extension not in IMAGE_EXTENSIONS:
            raise _refuse(f"{field}: Instagram takes JPEG images only (.{extension} given)", "image_not_jpeg")
        if kind == "video" and extension is not None and extension not in VIDEO_EXTENSIONS:
            raise _refuse(f"{field}: Instagram takes MP4 or MOV videos only (.{extension} given)", "video_format")
        if alt_text and (kind != "image" or post_format != "feed"):
            raise _refuse(
                f"{field}.alt_text: Instagram takes alt text on feed and carousel images only "
                "(not on videos, reels or stories)",
                "alt_text_unsupported",
            )


def _graph_codes(response: httpx.Response) -> tuple[int | None, int | None]:
    """(code, error_subcode) of a Graph error body."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return None, None
    if not isinstance(error, dict):
        return None, None
    code, subcode = error.get("code"), error.get("error_subcode")
    return (code if isinstance(code, int) else None, subcode if isinstance(subcode, int) else None)


def _timestamp(value: Any) -> datetime | None:
    """Graph timestamps: ISO 8601 with a +0000 offset (2019-04-05T07:56:32+0000)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _metric_values(body: Mapping[str, Any]) -> dict[str, int | float]:
    """``{"data": [{"name", "total_value": {"value"}} | {"name", "values": [{"value"}]}]}`` →
    name → number (absent metrics left out: the API answers no data rather than 0)."""
    out: dict[str, int | float] = {}
    for entry in body.get("data") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        value: Any = None
        total = entry.get("total_value")
        if isinstance(total, dict):
            value = total.get("value")
        elif isinstance(entry.get("values"), list) and entry["values"]:
            last = entry["values"][-1]
            value = last.get("value") if isinstance(last, dict) else None
        if isinstance(value, Decimal):
            value = int(value) if value == value.to_integral_value() else float(value)
        elif isinstance(value, str) and value.isdigit():
            value = int(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[entry["name"]] = value
    return out
