"""Facebook (Graph API) for an org connected through Facebook Login: its pages' posts, photos,
videos and reels (SocialPublisher) and their insights (SocialInsights). README.md has the doc
links; docs/social.md, "Facebook Pages", what the workflow sees.

Tokens: the org's secret holds the long-lived *user* token. Each page call uses that page's
token, read from ``GET /me/accounts`` with the user token at the start of the step that needs
it and kept in this adapter instance only (one Lambda invocation): a page token derived from a
long-lived user token does not expire, so storing it would only widen where a credential
lives; one extra read per workflow step is the price. Page tokens never enter ``job`` (stored
with the publication), logs or errors (the base client scrubs every Authorization header sent).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from hub.errors import AuthenticationError, InvalidRequestError, ProviderUnavailableError
from hub.providers.base.client import ProviderCredentials
from hub.providers.base.descriptor import OAuthSpec
from hub.providers.base.oauth import OAuthClient, OAuthCredentials
from hub.providers.facebook import GRAPH_VERSION, OAUTH, PUBLISH_OPERATION
from hub.providers.meta.graph import GraphApiClient
from hub.social.models import (
    DayMetrics,
    PostMetrics,
    PublishedPost,
    PublishStep,
    SocialAccount,
    SocialContent,
    SocialPost,
)

if TYPE_CHECKING:
    import httpx

# https://developers.facebook.com/docs/pages-api/posts — a post's message; SocialContent's cap.
MAX_TEXT = 63_206
# Photos in one multi-photo post (attached_media): Meta documents no number; the hub keeps the
# Page composer's practical limit and says so (docs/social.md).
MAX_PHOTOS = 10
# https://developers.facebook.com/docs/pages-api/posts#schedule-a-post — scheduled_publish_time
# between 10 minutes and 30 days after the request.
SCHEDULE_MIN = timedelta(minutes=10)
SCHEDULE_MAX = timedelta(days=30)
# The page task needed to publish / to read insights
# (https://developers.facebook.com/docs/pages-api/overview#tasks).
CREATE_CONTENT = "CREATE_CONTENT"
ANALYZE = "ANALYZE"
# Page insights after Meta's 2025 renames (https://developers.facebook.com/docs/graph-api/reference/insights):
# views replace impressions; follows replace fans. The deprecated names (page_impressions*,
# page_fans*, page_fan_adds*, post_impressions*, post_engaged_users) answer error #100.
PAGE_METRICS = ("page_media_view", "page_total_media_view_unique", "page_follows", "page_post_engagements")
POST_METRICS = ("post_media_view", "post_total_media_view_unique", "post_clicks")
DEPRECATED_METRICS = frozenset(
    {
        "page_impressions",
        "page_impressions_unique",
        "page_fans",
        "page_fan_adds",
        "page_fan_removes",
        "post_impressions",
        "post_impressions_unique",
        "post_engaged_users",
    }
)
assert not DEPRECATED_METRICS & {*PAGE_METRICS, *POST_METRICS}, "never request a removed metric"
# Insights answer at most 90 days per request (since/until).
INSIGHTS_MAX_DAYS = 90
# Reels: Meta asks to poll the upload status; the hub's default cadence applies.
REEL_POLL_SECONDS = 30
# How far before ``since`` a post's created_time may be (clock skew between us and Meta).
FIND_SKEW = timedelta(minutes=2)
_PAGES_MAX = 10  # /me/accounts pages of results followed at most (100 pages each)


class FacebookCredentials(OAuthCredentials):
    # The Graph version the token was obtained with (the callback stores it): paths use it.
    graph_version: str | None = Field(None, pattern=r"^v[0-9]+\.[0-9]+$")


def _created(value: Any) -> datetime | None:
    """Graph's ``created_time`` (``2026-12-03T19:00:00+0000``)."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None


def _number(value: Any) -> int | float | None:
    """A metric's value (counts; the JSON reader gives fractions as Decimal): None if not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _refuse(field: str, message: str) -> InvalidRequestError:
    return InvalidRequestError(f"{field}: {message}", provider="facebook", code="unsupported_content")


class FacebookClient(GraphApiClient, OAuthClient):
    provider: ClassVar[str] = "facebook"
    oauth_spec: ClassVar[OAuthSpec] = OAUTH
    credentials_model: ClassVar[type[ProviderCredentials]] = FacebookCredentials
    graph_version: ClassVar[str] = GRAPH_VERSION
    # A post is visible once made: a write whose answer was lost is an unknown outcome.
    writes_have_effects: ClassVar[bool] = True

    def __init__(self, credentials: ProviderCredentials, **kwargs: Any) -> None:
        super().__init__(credentials, **kwargs)
        self._page_tokens: dict[str, tuple[str, frozenset[str]]] | None = None
        self._names: dict[str, str | None] = {}
        self._page: str | None = None  # the page the current call is about

    # ----- scopes: the page being called --------------------------------------------------
    def account_scope(self) -> str:
        # Per-page limits (posts_per_hour) count against the page being published to.
        return self._page or super().account_scope()

    def usage_scope(self) -> str:
        # One Facebook app per deployment (hub/_apps/facebook): its platform usage is shared
        # by every org, so the app-level back-off is too.
        return self.provider

    def usage_business_ids(self) -> Iterable[str] | None:
        # Page-token calls count against the page's Business Use Case limit; user-token calls
        # (/me/accounts) only against the app's platform limit.
        return (self._page,) if self._page else ()

    @contextmanager
    def _on_page(self, page_id: str, task: str = CREATE_CONTENT) -> Iterator[dict[str, str]]:
        """The page's token as headers (the user must hold ``task`` on the page), with the page
        as this client's scope meanwhile."""
        token = self._page_token(page_id, task)
        previous, self._page = self._page, page_id
        try:
            yield {"Authorization": f"Bearer {token}"}
        finally:
            self._page = previous

    # ----- plumbing ---------------------------------------------------------------------------
    @property
    def version(self) -> str:
        assert isinstance(self.credentials, FacebookCredentials)
        return self.credentials.graph_version or GRAPH_VERSION

    def graph(self, path: str) -> str:
        return self.api_url(f"/{self.version}{path}")

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        return self.json_object(response)

    def health_check(self) -> None:
        # https://developers.facebook.com/docs/graph-api/overview#me
        self.request("GET", self.graph("/me"), params={"fields": "id"}, operation="health")

    def _accounts(self) -> dict[str, tuple[str, frozenset[str]]]:
        """page id -> (page token, tasks), from ``GET /me/accounts`` with the user token
        (https://developers.facebook.com/docs/pages-api/getting-started#get-page-token)."""
        if self._page_tokens is not None:
            return self._page_tokens
        pages: dict[str, tuple[str, frozenset[str]]] = {}
        params: dict[str, Any] = {"fields": "id,name,access_token,tasks", "limit": 100}
        for _ in range(_PAGES_MAX):
            body = self._json(self.request("GET", self.graph("/me/accounts"), params=params, operation="accounts"))
            for page in body.get("data") or []:
                if isinstance(page, dict) and page.get("id") and page.get("access_token"):
                    tasks = frozenset(str(t) for t in page.get("tasks") or [])
                    pages[str(page["id"])] = (str(page["access_token"]), tasks)
                    self._names[str(page["id"])] = page.get("name")
            after = ((body.get("paging") or {}).get("cursors") or {}).get("after")
            if not after or not (body.get("paging") or {}).get("next"):
                break
            params = {**params, "after": after}
        self._page_tokens = pages
        return pages

    def _page_token(self, page_id: str, task: str = CREATE_CONTENT) -> str:
        found = self._accounts().get(page_id)
        if found is None:
            raise InvalidRequestError(
                f"account: page {page_id} is not among the pages this Facebook connection manages "
                "(connect again with a user who manages it, or check the page id)",
                provider=self.provider,
                code="page_not_connected",
            )
        token, tasks = found
        if task not in tasks:
            # Only connecting again with a user who has the task on the page fixes it.
            raise AuthenticationError(
                f"the connected Facebook user cannot {task} on page {page_id} (its tasks: "
                f"{', '.join(sorted(tasks)) or 'none'}): connect again with a user who can",
                provider=self.provider,
                code="page_task_missing",
            )
        return token

    # ----- SocialPublisher --------------------------------------------------------------------
    @classmethod
    def check_post(cls, content: SocialContent) -> None:
        images = [m for m in content.media if m.type == "image"]
        videos = [m for m in content.media if m.type == "video"]
        if len(content.text) > MAX_TEXT:
            raise _refuse("content.text", f"Facebook posts take at most {MAX_TEXT} characters")
        if content.format == "story":
            # https://developers.facebook.com/docs/page-stories-api exists (photo_stories /
            # video_stories), but this adapter does not publish stories yet.
            raise _refuse("content.format", "Facebook page stories are not published by the hub; use feed or reel")
        if images and videos:
            raise _refuse("content.media", "a Facebook post takes photos or one video, not both")
        if len(videos) > 1:
            raise _refuse("content.media", "a Facebook post takes one video")
        if len(images) > MAX_PHOTOS:
            raise _refuse("content.media", f"a Facebook post takes at most {MAX_PHOTOS} photos")
        if content.format == "reel" and (len(videos) != 1 or images):
            raise _refuse("content.media", "a Facebook reel is exactly one video")
        if content.link and content.media:
            raise _refuse("content.link", "a Facebook post with a link takes no media (Meta shows the link's preview)")
        if not (content.text.strip() or content.media or content.link):
            raise _refuse("content", "a Facebook post needs text, a link or media")

    @staticmethod
    def _kind(post: SocialPost) -> str:
        videos = [m for m in post.media if m.type == "video"]
        if post.format == "reel":
            return "reel"
        if videos:
            return "video"
        if len(post.media) > 1:
            return "photos"
        if post.media:
            return "photo"
        return "feed"

    def prepare_post(self, post: SocialPost) -> PublishStep:
        kind = self._kind(post)
        with self._on_page(post.account) as auth:
            if kind == "photos":
                # Unpublished photos, then one /feed post attaching them
                # (https://developers.facebook.com/docs/pages-api/posts#publish-a-multi-photo-post).
                # Repeating this step leaves only invisible unpublished photos: not an effect.
                ids = []
                for media in post.media:
                    data = {"url": media.url, "published": "false", **self._alt(media.alt_text)}
                    body = self._json(
                        self.request(
                            "POST",
                            self.graph(f"/{post.account}/photos"),
                            data=data,
                            headers=auth,
                            operation="upload",
                            effect=False,
                        )
                    )
                    ids.append(self._id(body))
                return PublishStep(status="ready", job={"kind": kind, "media_fbids": ids})
            if kind == "reel":
                return self._start_reel(post, auth)
        # Text, link, one photo, one feed video: one call at publish time, nothing before.
        return PublishStep(status="ready", job={"kind": kind})

    def _start_reel(self, post: SocialPost, auth: dict[str, str]) -> PublishStep:
        # https://developers.facebook.com/docs/video-api/guides/reels-publishing — step 1:
        # POST /{page-id}/video_reels upload_phase=start → {video_id, upload_url}.
        body = self._json(
            self.request(
                "POST",
                self.graph(f"/{post.account}/video_reels"),
                data={"upload_phase": "start"},
                headers=auth,
                operation="upload",
                effect=False,
            )
        )
        video_id = str(body.get("video_id") or "")
        upload_url = body.get("upload_url")
        if not video_id or not isinstance(upload_url, str):
            raise ProviderUnavailableError(
                "facebook answered the reel upload start without video_id/upload_url", provider=self.provider
            )
        # Step 2, a hosted file: POST {upload_url} with "Authorization: OAuth {page token}" and
        # "file_url: {our presigned URL}" — Meta fetches the file itself.
        token = auth["Authorization"].partition(" ")[2]
        self.request(
            "POST",
            upload_url,
            headers={"Authorization": f"OAuth {token}", "file_url": post.media[0].url},
            operation="upload",
            effect=False,
        )
        return PublishStep(
            status="pending", job={"kind": "reel", "video_id": video_id}, poll_after_seconds=REEL_POLL_SECONDS
        )

    def poll_post(self, post: SocialPost, job: dict[str, Any]) -> PublishStep:
        if job.get("kind") != "reel":
            return PublishStep(status="ready", job=job)
        video_id = str(job["video_id"])
        with self._on_page(post.account) as auth:
            # GET /{video-id}?fields=status (reels publishing, "Check the upload status").
            body = self._json(
                self.request(
                    "GET", self.graph(f"/{video_id}"), params={"fields": "status"}, headers=auth, operation="status"
                )
            )
        found = body.get("status")
        status: dict[str, Any] = found if isinstance(found, dict) else {}
        phases = {name: (status.get(name) or {}).get("status") for name in ("uploading_phase", "processing_phase")}
        if status.get("video_status") == "error" or "error" in phases.values():
            errors = [
                str(err.get("message"))
                for name in ("uploading_phase", "processing_phase")
                for err in (status.get(name) or {}).get("errors") or []
                if isinstance(err, dict)
            ]
            raise InvalidRequestError(
                f"facebook could not process the reel's video: {'; '.join(errors)[:300] or 'error'}",
                provider=self.provider,
                code="processing_failed",
            )
        if phases["uploading_phase"] == "complete":
            return PublishStep(status="ready", job=job)
        return PublishStep(status="pending", job=job, poll_after_seconds=REEL_POLL_SECONDS)

    def publish_post(
        self, post: SocialPost, job: dict[str, Any], *, scheduled_at: datetime | None = None
    ) -> PublishedPost:
        """The one visible call, sent once. ``scheduled_at`` (text and link posts only)
        lets Meta publish later (``published=false`` + ``scheduled_publish_time``, 10 minutes to
        30 days ahead); the hub's workflow does not use it: it waits in Step Functions until
        ``publish_at`` and publishes then, so the 2-posts-per-hour limit, the token and the
        content are checked at the moment the post goes out, and a cancel needs no call to Meta."""
        kind = str(job.get("kind") or self._kind(post))
        schedule = self._schedule(scheduled_at, kind)
        with self._on_page(post.account) as auth:

            def send(path: str, data: dict[str, Any]) -> dict[str, Any]:
                response = self.request(
                    "POST",
                    self.graph(path),
                    data=data,
                    headers=auth,
                    operation=PUBLISH_OPERATION,
                    attempts=1,
                    effect=True,
                )
                return self._json(response)

            page = post.account
            if kind == "reel":
                # Step 3: upload_phase=finish&video_state=PUBLISHED&description=…
                video_id = str(job["video_id"])
                data = {"upload_phase": "finish", "video_id": video_id, "video_state": "PUBLISHED"}
                if post.text:
                    data["description"] = post.text
                body = send(f"/{page}/video_reels", data)
                if body.get("success") is False:
                    # Meta said no without an error: never retried blindly (a second finish could
                    # publish twice); the post goes to the manual queue.
                    raise InvalidRequestError(
                        "facebook answered the reel publish with success=false",
                        provider=self.provider,
                        code="publish_refused",
                    )
                return self._published(video_id, f"https://www.facebook.com/reel/{video_id}")
            if kind == "video":
                # https://developers.facebook.com/docs/video-api/guides/publishing — file_url:
                # Meta fetches our presigned URL.
                data = {"file_url": post.media[0].url}
                if post.text:
                    data["description"] = post.text
                body = send(f"/{page}/videos", data)
                video_id = self._id(body)
                return self._published(video_id, f"https://www.facebook.com/{page}/videos/{video_id}")
            if kind == "photo":
                # https://developers.facebook.com/docs/pages-api/posts#publish-a-photo
                media = post.media[0]
                data = {"url": media.url, **self._alt(media.alt_text)}
                if post.text:
                    data["caption"] = post.text
                body = send(f"/{page}/photos", data)
                post_id = str(body.get("post_id") or self._id(body))
                return self._published(post_id, f"https://www.facebook.com/{post_id}")
            # Text / link / multi-photo: POST /{page-id}/feed
            # (https://developers.facebook.com/docs/pages-api/posts#publish-a-post).
            data = {}
            if post.text:
                data["message"] = post.text
            if post.link:
                data["link"] = post.link
            for index, fbid in enumerate(job.get("media_fbids") or []):
                data[f"attached_media[{index}]"] = f'{{"media_fbid":"{fbid}"}}'
            data.update(schedule)
            post_id = self._id(send(f"/{page}/feed", data))
            return self._published(post_id, f"https://www.facebook.com/{post_id}", scheduled=bool(schedule))

    @staticmethod
    def _schedule(scheduled_at: datetime | None, kind: str) -> dict[str, str]:
        if scheduled_at is None:
            return {}
        if kind != "feed":
            raise _refuse("scheduled_at", "only text and link posts are scheduled at Meta by this adapter")
        if scheduled_at.tzinfo is None:
            raise _refuse("scheduled_at", "must carry its time zone")
        ahead = scheduled_at - datetime.now(UTC)
        if not SCHEDULE_MIN <= ahead <= SCHEDULE_MAX:
            raise _refuse("scheduled_at", "Meta schedules posts 10 minutes to 30 days ahead")
        return {"published": "false", "scheduled_publish_time": str(int(scheduled_at.timestamp()))}

    @staticmethod
    def _alt(alt_text: str | None) -> dict[str, str]:
        # https://developers.facebook.com/docs/graph-api/reference/page/photos — alt_text_custom.
        return {"alt_text_custom": alt_text} if alt_text else {}

    def _id(self, body: dict[str, Any]) -> str:
        value = body.get("id")
        if not isinstance(value, str | int) or isinstance(value, bool) or not str(value):
            raise ProviderUnavailableError(f"{self.provider} answered without an id", provider=self.provider)
        return str(value)

    @staticmethod
    def _published(post_id: str, url: str, *, scheduled: bool = False) -> PublishedPost:
        warnings = ["scheduled at Meta (published=false): visible at scheduled_publish_time"] if scheduled else []
        return PublishedPost(
            post_id=post_id, url=url, published_at=None if scheduled else datetime.now(UTC), warnings=warnings
        )

    def find_post(self, post: SocialPost, job: dict[str, Any], *, since: datetime) -> PublishedPost | None:
        kind = str(job.get("kind") or self._kind(post))
        page = post.account
        after = since - FIND_SKEW
        with self._on_page(post.account) as auth:
            if kind == "reel":
                # The page's reels (GET /{page-id}/video_reels): the reel is there once finished.
                video_id = str(job["video_id"])
                for item in self._list(f"/{page}/video_reels", auth, "id,description,created_time", after):
                    if str(item.get("id")) == video_id:
                        return self._found(video_id, f"https://www.facebook.com/reel/{video_id}", item)
                return None
            if kind == "video":
                for item in self._list(f"/{page}/videos", auth, "id,description,created_time", after):
                    if (item.get("description") or "") == post.text and self._recent(item, after):
                        video_id = str(item["id"])
                        return self._found(video_id, f"https://www.facebook.com/{page}/videos/{video_id}", item)
                return None
            # GET /{page-id}/published_posts?fields=id,message,created_time,permalink_url&since=…
            # (https://developers.facebook.com/docs/graph-api/reference/page/published_posts).
            fields = "id,message,created_time,permalink_url"
            for item in self._list(f"/{page}/published_posts", auth, fields, after):
                if (item.get("message") or "") == post.text and self._recent(item, after):
                    post_id = str(item["id"])
                    url = item.get("permalink_url") or f"https://www.facebook.com/{post_id}"
                    return self._found(post_id, url, item)
        return None

    def _list(self, path: str, auth: dict[str, str], fields: str, since: datetime) -> list[dict[str, Any]]:
        params = {"fields": fields, "since": str(int(since.timestamp())), "limit": 50}
        body = self._json(self.request("GET", self.graph(path), params=params, headers=auth, operation="lookup"))
        return [item for item in body.get("data") or [] if isinstance(item, dict) and item.get("id")]

    @staticmethod
    def _recent(item: dict[str, Any], after: datetime) -> bool:
        created = _created(item.get("created_time"))
        return created is None or created >= after

    @staticmethod
    def _found(post_id: str, url: str, item: dict[str, Any]) -> PublishedPost:
        return PublishedPost(post_id=post_id, url=url, published_at=_created(item.get("created_time")))

    # ----- SocialInsights ---------------------------------------------------------------------
    def list_accounts(self) -> list[SocialAccount]:
        pages = self._accounts()
        return [SocialAccount(account=page, name=self._names.get(page), kind="page") for page in pages]

    def account_metrics(self, account: str, start: date, end: date) -> list[DayMetrics]:
        """``GET /{page-id}/insights?metric=…&period=day&since&until`` in spans of 90 days.
        Meta dates each daily value by the end of its day (``end_time``, midnight Pacific as
        UTC): the day is the one that ends there."""
        if end < start:
            raise InvalidRequestError("to: must not be before from", provider=self.provider, code="invalid_range")
        days: dict[date, dict[str, int | float]] = {}
        with self._on_page(account, ANALYZE) as auth:
            first = start
            while first <= end:
                last = min(end, first + timedelta(days=INSIGHTS_MAX_DAYS - 1))
                params = {
                    "metric": ",".join(PAGE_METRICS),
                    "period": "day",
                    "since": first.isoformat(),
                    "until": (last + timedelta(days=1)).isoformat(),
                }
                body = self._json(
                    self.request(
                        "GET", self.graph(f"/{account}/insights"), params=params, headers=auth, operation="insights"
                    )
                )
                for metric in body.get("data") or []:
                    for value in (metric.get("values") if isinstance(metric, dict) else None) or []:
                        ended = _created(value.get("end_time")) if isinstance(value, dict) else None
                        number = _number(value.get("value")) if isinstance(value, dict) else None
                        if ended is None or number is None:
                            continue
                        day = (ended - timedelta(days=1)).date()
                        if start <= day <= end:
                            days.setdefault(day, {})[str(metric["name"])] = number
                first = last + timedelta(days=1)
        return [DayMetrics(day=day, metrics=metrics) for day, metrics in sorted(days.items())]

    def post_metrics(self, account: str, post_ids: list[str]) -> list[PostMetrics]:
        """``GET /{post-id}/insights?metric=post_media_view,…`` (lifetime) for each
        ``{page}_{post}`` id; reels and videos (bare video ids) are not read yet."""
        out: list[PostMetrics] = []
        with self._on_page(account, ANALYZE) as auth:
            for post_id in post_ids:
                if "_" not in post_id:
                    continue
                body = self._json(
                    self.request(
                        "GET",
                        self.graph(f"/{post_id}/insights"),
                        params={"metric": ",".join(POST_METRICS)},
                        headers=auth,
                        operation="insights",
                    )
                )
                metrics: dict[str, int | float] = {}
                for metric in body.get("data") or []:
                    values = metric.get("values") if isinstance(metric, dict) else None
                    number = _number(values[-1].get("value")) if values and isinstance(values[-1], dict) else None
                    if number is not None:
                        metrics[str(metric["name"])] = number
                out.append(PostMetrics(post_id=post_id, metrics=metrics))
        return out
