"""Instagram sandbox, mounted at ``/instagram``: Instagram Login and the Instagram Graph API.

OAuth (paths as on Instagram's hosts): ``/oauth/authorize`` (www.instagram.com),
``/oauth/access_token`` (api.instagram.com: POST form, answers ``{"data": [{"access_token",
"user_id", "permissions"}]}``), ``/access_token`` (graph.instagram.com,
``grant_type=ig_exchange_token``: the long-lived token, 60 days), ``/refresh_access_token``
(``grant_type=ig_refresh_token``). OAuth behaviour, switches and counters:
:mod:`localcloud.sandboxes.oauth_server`. Token endpoint errors as ``{"error_type", "code",
"error_message"}``
(https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/business-login).

Graph API, two hosts (README of hub.providers.instagram has every doc link):

* ``/instagram/{version}/...`` is graph.instagram.com (Instagram Login): a live token issued
  here, or :data:`DEMO_ACCESS_TOKEN`.
* ``/instagram/facebook-login/{version}/...`` is graph.facebook.com's Instagram nodes (Facebook
  Login): the Facebook sandbox's demo token; adds ``/me/accounts`` (the Page with its
  ``instagram_business_account``) and hashtag search (``/ig_hashtag_search``,
  ``/{hashtag-id}/recent_media|top_media``), which graph.instagram.com does not have.

Both enforce the version prefix (``vNN.N``; an unversioned path is 400 code 100, except the
legacy ``/me``), the bearer token (401 code 190), the account id (:data:`DEMO_IG_USER_ID`) and
the documented fields: ``POST /{ig}/media`` (image_url JPEG only, REELS/VIDEO with video_url,
STORIES, carousel items with ``is_carousel_item=true`` and a CAROUSEL of 2-10 FINISHED children,
caption <= 2200 characters / 30 hashtags / 20 @mentions, ``alt_text`` on images only),
``GET /{container}?fields=status_code`` (IN_PROGRESS for ``polls_in_progress`` reads, then
``final_status``; EXPIRED once the container is ``container_ttl_seconds`` old on the sandbox
clock; PUBLISHED once published), ``POST /{ig}/media_publish`` (FINISHED containers only, once;
the live publishing cap), ``GET /{ig}/content_publishing_limit``, ``GET /{ig}/media|stories``,
``GET /{media}?fields=...``, ``GET /{ig}/insights`` (``views`` needs ``metric_type=total_value``;
``impressions`` is refused as since April 2025; since..until at most 30 days) and
``GET /{media}/insights`` (the metrics of its product type). Errors in the Graph format
``{"error": {"message", "type", "code", "error_subcode"?, "fbtrace_id"}}``.

Every Graph answer carries ``X-App-Usage`` and ``X-Business-Use-Case-Usage`` whose percentages
rise by ``usage_step`` per call from ``usage_start``; at 100 % calls are refused (code 80002, the
header's ``estimated_time_to_regain_access`` = ``regain_minutes``).

Control: ``POST /instagram/_sandbox/graph`` with any of ``{"polls_in_progress": N,
"final_status": "FINISHED"|"ERROR", "container_ttl_seconds": s, "advance_seconds": s,
"quota_total": N, "quota_usage": N, "usage_start": pct, "usage_step": pct, "regain_minutes": m,
"slow_publish_seconds": s}`` (``slow_publish_seconds``: media_publish publishes, then answers
that much later — past a client's read timeout); ``GET`` answers the settings and counters
(containers by status, publishes, status reads, media, hashtags searched, usage %). The server's
faults (``PUT /__sandbox/faults/instagram``) apply as for every sandbox.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from localcloud.sandboxes.base import DemoSecret, json_response, reason
from localcloud.sandboxes.facebook import DEMO_ACCESS_TOKEN as FACEBOOK_DEMO_TOKEN
from localcloud.sandboxes.oauth_server import OAuthProfile, OAuthSandbox

DEMO_CLIENT_ID = "990602627938098"
DEMO_CLIENT_SECRET = "demo-instagram-app-secret-0123456789"
DEMO_ACCESS_TOKEN = "IGAAdemoInstagramLongLivedAccessToken"
DEMO_IG_USER_ID = "17841400000000001"
DEMO_USERNAME = "somosprodutora"
DEMO_PAGE_ID = "10300000000000001"
SCOPES = frozenset(
    {
        "instagram_business_basic",
        "instagram_business_content_publish",
        "instagram_business_manage_messages",
        "instagram_business_manage_comments",
        "instagram_business_manage_insights",
    }
)
MAX_CAPTION, MAX_HASHTAGS, MAX_MENTIONS, MAX_CHILDREN = 2200, 30, 20, 10
MAX_UNIQUE_HASHTAGS, HASHTAG_WINDOW = 30, 7 * 86400
ACCOUNT_METRICS = frozenset(
    {"views", "reach", "accounts_engaged", "total_interactions", "likes", "comments", "shares", "saves", "replies"}
)
TOTAL_VALUE_ONLY = ACCOUNT_METRICS - {"reach"}
MEDIA_METRICS = {
    "FEED": frozenset({"views", "reach", "likes", "comments", "shares", "saved", "total_interactions"}),
    "REELS": frozenset({"views", "reach", "likes", "comments", "shares", "saved", "total_interactions"}),
    "STORY": frozenset({"views", "reach", "replies", "shares", "total_interactions", "navigation"}),
}
_VERSION = re.compile(r"^v[0-9]+\.[0-9]+$")
_HASHTAG = re.compile(r"(?<![\w&])#(\w+)")
_MENTION = re.compile(r"(?<![\w.])@([A-Za-z0-9_.]+)")
_TAG = re.compile(r"^\w{1,100}$")


@dataclass
class GraphSettings:
    polls_in_progress: int = 0
    final_status: str = "FINISHED"
    container_ttl_seconds: int = 24 * 3600
    quota_total: int = 100
    quota_usage: int = 0
    usage_start: int = 0
    usage_step: int = 0
    regain_minutes: int = 5
    slow_publish_seconds: float = 0.0


@dataclass
class Container:
    id: str
    kind: str  # IMAGE | REELS | VIDEO | STORIES | CAROUSEL
    created_at: float
    polls_left: int
    final_status: str
    caption: str = ""
    carousel_item: bool = False
    children: list[str] = field(default_factory=list)
    media_id: str | None = None


@dataclass
class Media:
    id: str
    product: str  # FEED | REELS | STORY
    media_type: str
    caption: str
    timestamp: float
    container: str


@dataclass
class GraphState:
    settings: GraphSettings = field(default_factory=GraphSettings)
    offset: float = 0.0
    calls: int = 0
    next_id: int = 1
    containers: dict[str, Container] = field(default_factory=dict)
    media: dict[str, Media] = field(default_factory=dict)
    publishes: int = 0
    status_reads: int = 0
    hashtags: dict[str, float] = field(default_factory=dict)
    hashtag_ids: dict[str, str] = field(default_factory=dict)


def _graph_time(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


class InstagramSandbox(OAuthSandbox):
    provider = "instagram"
    profile = OAuthProfile(
        client_id=DEMO_CLIENT_ID,
        client_secret=DEMO_CLIENT_SECRET,
        authorize_path="/oauth/authorize",
        exchange_path="/oauth/access_token",
        scopes=SCOPES,
        demo_access_token=DEMO_ACCESS_TOKEN,
        pkce="none",
        client_auth="body",
        access_token_lifetime=3600,
        issue_refresh_token=False,
        scope_in_answer="none",
        answer_shape="data",
        error_format="instagram",
        long_lived_path="/access_token",
        long_lived_grant="ig_exchange_token",
        refresh_long_lived_path="/refresh_access_token",
        scope_separators=", ",
    )

    def __init__(self) -> None:
        super().__init__()
        self.graph = GraphState()
        self.route("/me", ["GET"], self.authorized(self.me))  # unversioned: the latest version
        self.route("/_sandbox/graph", ["GET", "POST"], self.graph_control)
        for prefix, host in (("", "instagram"), ("/facebook-login", "facebook")):
            self.route(f"{prefix}/<version>/<path:rest>", ["GET", "POST"], self._graph_route(host))

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self.graph = GraphState()

    # ----- errors in the Graph format ----------------------------------------------------------
    def error_response(self, status: int, message: str | None = None) -> Response:
        code = 190 if status == 401 else (4 if status == 429 else 2 if status >= 500 else 100)
        return self.graph_error(status, code, message or reason(status))

    def graph_error(self, status: int, code: int, message: str, subcode: int | None = None) -> Response:
        error: dict[str, Any] = {
            "message": message,
            "type": "OAuthException" if status < 500 else "FacebookApiException",
            "code": code,
            "fbtrace_id": "SandboxIg01",
        }
        if subcode is not None:
            error["error_subcode"] = subcode
        return json_response({"error": error}, status, {"x-fb-trace-id": "SandboxIg01"})

    def unauthorized(self) -> Response:
        return self.error_response(401, "Invalid OAuth access token - Cannot parse access token")

    def me(self, request: Request, **_: Any) -> Response:
        return json_response({"user_id": DEMO_IG_USER_ID, "username": DEMO_USERNAME, "id": DEMO_IG_USER_ID})

    # ----- control ------------------------------------------------------------------------------
    def graph_control(self, request: Request, **_: Any) -> Response:
        with self.lock:
            state = self.graph
            if request.method == "POST":
                data = request.get_json(force=True, silent=True) or {}
                for name in asdict(state.settings):
                    if name in data:
                        kind = type(getattr(state.settings, name))
                        setattr(state.settings, name, kind(data[name]))
                if "advance_seconds" in data:
                    state.offset += float(data["advance_seconds"])
            now = self._now()
            return json_response(
                {
                    "settings": asdict(state.settings),
                    "containers": {c.id: self._status_of(c, now, read=False) for c in state.containers.values()},
                    "containers_created": len(state.containers),
                    "publishes": state.publishes,
                    "status_reads": state.status_reads,
                    "media": [m.id for m in state.media.values()],
                    "hashtags": sorted(state.hashtags),
                    "usage_percent": self._usage(),
                }
            )

    def _now(self) -> float:
        return time.time() + self.graph.offset

    def _usage(self) -> int:
        s = self.graph.settings
        return min(100, s.usage_start + s.usage_step * self.graph.calls)

    def _new_id(self, prefix: str) -> str:
        self.graph.next_id += 1
        return f"{prefix}{self.graph.next_id:09d}"

    # ----- dispatch -----------------------------------------------------------------------------
    def _graph_route(self, host: str) -> Any:
        def handle(request: Request, version: str, rest: str) -> Response:
            if not _VERSION.fullmatch(version):
                return self.graph_error(400, 100, f"Unknown path components: /{version}/{rest}")
            header = request.headers.get("Authorization", "")
            token = header[7:] if header.startswith("Bearer ") else request.args.get("access_token", "")
            if host == "facebook":
                if token != FACEBOOK_DEMO_TOKEN:
                    return self.unauthorized()
            else:
                with self.lock:
                    issued = self.state.access.get(token)
                    live = token == DEMO_ACCESS_TOKEN or (issued is not None and issued.expires_at > time.time())
                if not live:
                    return self.unauthorized()
            with self.lock:
                self.graph.calls += 1
                usage = self._usage()
                if usage >= 100:
                    response = self.graph_error(
                        400,
                        80002,
                        "There have been too many calls to this Instagram account. Wait a bit and try again.",
                    )
                else:
                    params = {**request.args.to_dict(), **request.form.to_dict()}
                    response = self._dispatch(host, request.method, rest.strip("/").split("/"), params)
                self._usage_headers(response, usage)
            if request.method == "POST" and rest.endswith("media_publish") and response.status_code == 200:
                delay = self.graph.settings.slow_publish_seconds
                if delay > 0:
                    time.sleep(delay)  # published already: the answer comes too late for the client
            return response

        return handle

    def _usage_headers(self, response: Response, usage: int) -> None:
        # https://developers.facebook.com/docs/graph-api/overview/rate-limiting
        regain = self.graph.settings.regain_minutes if usage >= 100 else 0
        response.headers["X-App-Usage"] = json.dumps({"call_count": usage, "total_cputime": usage, "total_time": usage})
        response.headers["X-Business-Use-Case-Usage"] = json.dumps(
            {
                DEMO_IG_USER_ID: [
                    {
                        "type": "instagram",
                        "call_count": usage,
                        "total_cputime": usage,
                        "total_time": usage,
                        "estimated_time_to_regain_access": regain,
                    }
                ]
            }
        )

    def _dispatch(self, host: str, method: str, parts: list[str], params: dict[str, str]) -> Response:
        """(caller holds the lock)"""
        head = parts[0]
        if method == "GET" and parts == ["me"]:
            if host == "facebook":
                return json_response({"id": "10160000000000001", "name": "Somos Produtora"})
            return json_response({"user_id": DEMO_IG_USER_ID, "username": DEMO_USERNAME, "id": DEMO_IG_USER_ID})
        if host == "facebook" and method == "GET" and parts == ["me", "accounts"]:
            return json_response(
                {
                    "data": [
                        {
                            "id": DEMO_PAGE_ID,
                            "name": "Somos Produtora",
                            "instagram_business_account": {"id": DEMO_IG_USER_ID, "username": DEMO_USERNAME},
                        }
                    ]
                }
            )
        if head == "ig_hashtag_search" and method == "GET":
            if host != "facebook":
                return self.graph_error(400, 100, "Unsupported get request. Hashtag search needs Facebook Login.")
            return self._hashtag_search(params)
        if head in self.graph.hashtag_ids.values() and len(parts) == 2 and method == "GET":
            return self._hashtag_media(head, parts[1], params)
        if head == DEMO_IG_USER_ID and len(parts) == 2:
            edge = parts[1]
            if method == "POST" and edge == "media":
                return self._create(params)
            if method == "POST" and edge == "media_publish":
                return self._publish(params)
            if method == "GET" and edge == "content_publishing_limit":
                s = self.graph.settings
                return json_response(
                    {
                        "data": [
                            {
                                "quota_usage": s.quota_usage,
                                "config": {"quota_total": s.quota_total, "quota_duration": 86400},
                            }
                        ]
                    }
                )
            if method == "GET" and edge in ("media", "stories"):
                return self._list_media(edge, params)
            if method == "GET" and edge == "insights":
                return self._account_insights(params)
        if len(parts) == 1 and method == "GET":
            if head in self.graph.containers:
                container = self.graph.containers[head]
                self.graph.status_reads += 1
                return json_response(
                    {
                        "id": head,
                        "status_code": self._status_of(container, self._now(), read=True),
                        **self._detail(container),
                    }
                )
            if head in self.graph.media:
                return json_response(self._media_node(self.graph.media[head]))
        if len(parts) == 2 and parts[1] == "insights" and head in self.graph.media and method == "GET":
            return self._media_insights(self.graph.media[head], params)
        if head.isdigit() and head != DEMO_IG_USER_ID and head not in self.graph.containers:
            return self.graph_error(
                400, 100, f"Unsupported {method.lower()} request. Object with ID '{head}' does not exist", 33
            )
        return self.graph_error(400, 100, f"Unsupported {method.lower()} request: /{'/'.join(parts)}")

    # ----- containers -----------------------------------------------------------------------------
    def _status_of(self, container: Container, now: float, *, read: bool) -> str:
        if container.media_id is not None:
            return "PUBLISHED"
        if now - container.created_at >= self.graph.settings.container_ttl_seconds:
            return "EXPIRED"
        if container.polls_left > 0:
            if read:
                container.polls_left -= 1
            return "IN_PROGRESS"
        return container.final_status

    def _detail(self, container: Container) -> dict[str, str]:
        """``status``: the error subcode of an ERROR container."""
        if container.final_status == "ERROR" and container.polls_left == 0 and container.media_id is None:
            return {"status": "Error: Media upload has failed with error code 2207026"}
        return {}

    def _caption_error(self, caption: str) -> Response | None:
        if len(caption) > MAX_CAPTION:
            return self.graph_error(400, 100, f"The caption is longer than {MAX_CAPTION} characters", 2207036)
        if len(_HASHTAG.findall(caption)) > MAX_HASHTAGS:
            return self.graph_error(400, 100, f"The caption has more than {MAX_HASHTAGS} hashtags", 2207035)
        if len(_MENTION.findall(caption)) > MAX_MENTIONS:
            return self.graph_error(400, 100, f"The caption has more than {MAX_MENTIONS} mentions", 2207037)
        return None

    def _create(self, params: dict[str, str]) -> Response:
        kind = params.get("media_type", "IMAGE").upper()
        caption = params.get("caption", "")
        carousel_item = params.get("is_carousel_item", "").lower() == "true"
        if kind not in ("IMAGE", "REELS", "VIDEO", "STORIES", "CAROUSEL"):
            return self.graph_error(400, 100, f"(#100) Invalid parameter: media_type {kind}")
        if (error := self._caption_error(caption)) is not None:
            return error
        image, video = params.get("image_url"), params.get("video_url")
        if params.get("alt_text") and (kind != "IMAGE" or not image):
            return self.graph_error(400, 100, "(#100) alt_text is supported for images only")
        children: list[str] = []
        if kind == "CAROUSEL":
            children = [c for c in params.get("children", "").split(",") if c]
            if not 2 <= len(children) <= MAX_CHILDREN:
                return self.graph_error(400, 100, f"(#100) children must list 2 to {MAX_CHILDREN} containers")
            now = self._now()
            for child in children:
                found = self.graph.containers.get(child)
                if found is None or not found.carousel_item:
                    return self.graph_error(400, 100, f"(#100) {child} is not a carousel item container")
                if self._status_of(found, now, read=False) != "FINISHED":
                    return self.graph_error(400, 9007, "The media is not ready for publishing, please wait", 2207027)
        elif kind in ("REELS", "VIDEO"):
            if not video or image:
                return self.graph_error(400, 100, "(#100) video_url is required for REELS and VIDEO")
            if kind == "VIDEO" and not carousel_item:
                return self.graph_error(400, 100, "(#100) VIDEO is for carousel items: publish single videos as REELS")
            if kind == "REELS" and carousel_item:
                return self.graph_error(400, 100, "(#100) carousel video items are media_type VIDEO")
        elif kind == "STORIES":
            if bool(image) == bool(video):
                return self.graph_error(400, 100, "(#100) a story takes image_url or video_url")
        elif not image:
            return self.graph_error(400, 100, "(#100) image_url is required")
        url = image or video or ""
        if image and not re.search(r"\.jpe?g$", url.split("?", 1)[0], re.IGNORECASE):
            # Only JPEG is supported (https://developers.facebook.com/docs/instagram-platform/content-publishing).
            return self.graph_error(
                400, 9004, "Only photo or video can be accepted as media type. (JPEG only)", 2207052
            )
        container = Container(
            id=self._new_id("179"),
            kind=kind,
            created_at=self._now(),
            polls_left=self.graph.settings.polls_in_progress,
            final_status=self.graph.settings.final_status,
            caption=caption,
            carousel_item=carousel_item,
            children=children,
        )
        if kind == "IMAGE" and carousel_item:
            container.polls_left, container.final_status = 0, "FINISHED"  # image items: ready at once
        self.graph.containers[container.id] = container
        return json_response({"id": container.id})

    def _publish(self, params: dict[str, str]) -> Response:
        creation = params.get("creation_id", "")
        container = self.graph.containers.get(creation)
        if container is None or container.carousel_item:
            return self.graph_error(400, 100, f"(#100) creation_id {creation!r} is not a container of this account")
        status = self._status_of(container, self._now(), read=False)
        if status == "EXPIRED":
            return self.graph_error(
                400, -2, "The media you are trying to access has expired. Please try to upload again.", 2207020
            )
        if status == "PUBLISHED":
            return self.graph_error(400, 9007, "The media has already been published", 2207006)
        if status != "FINISHED":
            return self.graph_error(
                400, 9007, "Media ID is not available: the media is not ready for publishing", 2207027
            )
        s = self.graph.settings
        if s.quota_usage >= s.quota_total:
            return self.graph_error(
                400, 9, "Application request limit reached: the account reached its publishing limit", 2207042
            )
        s.quota_usage += 1
        self.graph.publishes += 1
        product = {"REELS": "REELS", "STORIES": "STORY"}.get(container.kind, "FEED")
        media_type = {"REELS": "VIDEO", "CAROUSEL": "CAROUSEL_ALBUM"}.get(container.kind, "IMAGE")
        media = Media(self._new_id("1792"), product, media_type, container.caption, self._now(), container.id)
        self.graph.media[media.id] = media
        container.media_id = media.id
        return json_response({"id": media.id})

    def _media_node(self, media: Media) -> dict[str, Any]:
        return {
            "id": media.id,
            "caption": media.caption,
            "media_type": media.media_type,
            "media_product_type": media.product,
            "permalink": f"https://www.instagram.com/p/{media.id[-8:]}/",
            "timestamp": _graph_time(media.timestamp),
            "like_count": 0,
            "comments_count": 0,
        }

    def _list_media(self, edge: str, params: dict[str, str]) -> Response:
        stories = edge == "stories"
        items = sorted(
            (m for m in self.graph.media.values() if (m.product == "STORY") == stories),
            key=lambda m: m.timestamp,
            reverse=True,
        )
        limit = int(params.get("limit", "25")) if params.get("limit", "25").isdigit() else 25
        return json_response({"data": [self._media_node(m) for m in items[:limit]]})

    # ----- insights ---------------------------------------------------------------------------------
    def _account_insights(self, params: dict[str, str]) -> Response:
        metrics = [m for m in params.get("metric", "").split(",") if m]
        if not metrics:
            return self.graph_error(400, 100, "(#100) The parameter metric is required")
        if "impressions" in metrics:
            return self.graph_error(400, 100, "(#100) impressions is no longer supported: use views")
        unknown = [m for m in metrics if m not in ACCOUNT_METRICS]
        if unknown:
            return self.graph_error(
                400, 100, f"(#100) metric[0] must be one of the valid insights metrics: {unknown[0]}"
            )
        if params.get("metric_type") != "total_value" and any(m in TOTAL_VALUE_ONLY for m in metrics):
            return self.graph_error(
                400, 100, "(#100) The following metrics should be specified with parameter metric_type=total_value"
            )
        try:
            since, until = int(params["since"]), int(params["until"])
        except (KeyError, ValueError):
            return self.graph_error(400, 100, "(#100) since and until (unix seconds) are required")
        if not 0 < until - since <= 30 * 86400:
            return self.graph_error(400, 100, "(#100) The since and until range must be positive and at most 30 days")
        data = [
            {
                "name": m,
                "period": "day",
                "title": m,
                "total_value": {"value": _figure(f"{m}:{since}:{until}")},
                "id": f"{DEMO_IG_USER_ID}/insights/{m}/day",
            }
            for m in metrics
        ]
        return json_response({"data": data})

    def _media_insights(self, media: Media, params: dict[str, str]) -> Response:
        metrics = [m for m in params.get("metric", "").split(",") if m]
        allowed = MEDIA_METRICS[media.product]
        wrong = [m for m in metrics if m not in allowed]
        if not metrics or wrong:
            return self.graph_error(
                400, 100, f"(#100) metric {wrong[0] if wrong else ''} is not supported for {media.product} media"
            )
        data = [
            {
                "name": m,
                "period": "lifetime",
                "values": [{"value": _figure(f"{media.id}:{m}")}],
                "id": f"{media.id}/insights/{m}/lifetime",
            }
            for m in metrics
        ]
        return json_response({"data": data})

    # ----- hashtag search (Facebook Login host) ------------------------------------------------------
    def _hashtag_search(self, params: dict[str, str]) -> Response:
        if params.get("user_id") != DEMO_IG_USER_ID:
            return self.graph_error(400, 100, "(#100) user_id must be the app user's Instagram account id")
        tag = params.get("q", "").lower()
        if not _TAG.fullmatch(tag):
            return self.graph_error(400, 100, "(#100) q must be one hashtag without '#', spaces or emoji")
        now = self._now()
        live = {t: first for t, first in self.graph.hashtags.items() if first + HASHTAG_WINDOW > now}
        if tag not in live:
            if len(live) >= MAX_UNIQUE_HASHTAGS:
                return self.graph_error(
                    400, 24, f"(#24) {MAX_UNIQUE_HASHTAGS} unique hashtags have been searched within 7 days", 2207033
                )
            live[tag] = now
        self.graph.hashtags = live
        hashtag_id = self.graph.hashtag_ids.setdefault(tag, f"178438{_figure(tag, 10**11):011d}")
        return json_response({"data": [{"id": hashtag_id}]})

    def _hashtag_media(self, hashtag_id: str, edge: str, params: dict[str, str]) -> Response:
        if edge not in ("recent_media", "top_media"):
            return self.graph_error(400, 100, f"(#100) Tried accessing nonexisting field ({edge})")
        if params.get("user_id") != DEMO_IG_USER_ID:
            return self.graph_error(400, 100, "(#100) user_id is required")
        tag = next(t for t, i in self.graph.hashtag_ids.items() if i == hashtag_id)
        data = [
            {
                "id": f"{hashtag_id[-6:]}{edge[0]}{n}",
                "caption": f"#{tag} post {n}",
                "media_type": "IMAGE",
                "permalink": f"https://www.instagram.com/p/{tag[:4]}{n}/",
                "timestamp": _graph_time(self._now() - 3600 * n),
                "like_count": _figure(f"{tag}:{edge}:{n}"),
                "comments_count": n,
            }
            for n in range(1, 4)
        ]
        return json_response({"data": data})


def _figure(seed: str, modulo: int = 5000) -> int:
    """A stable figure per seed (the same day reads the same numbers)."""
    return int(hashlib.sha256(seed.encode()).hexdigest(), 16) % modulo


SANDBOX = InstagramSandbox
DEMO_SECRETS = (
    DemoSecret(
        "instagram",
        lambda base_url: {
            "base_url": base_url,
            "access_token": DEMO_ACCESS_TOKEN,
            "scopes": sorted(SCOPES),
            "user_id": DEMO_IG_USER_ID,
        },
    ),
    DemoSecret(
        "instagram",
        lambda base_url: {
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
            "authorize_url": f"{base_url}/oauth/authorize",
            "token_url": f"{base_url}/oauth/access_token",
            "long_lived_url": f"{base_url}/access_token",
            "refresh_url": f"{base_url}/refresh_access_token",
            "api_base_url": base_url,
        },
        org_id="_apps",
    ),
)
