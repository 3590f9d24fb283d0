"""Facebook Login and Pages API sandbox, mounted at ``/facebook``. Paths as on Meta's hosts,
with the Graph version in the path as there: ``/{version}/dialog/oauth`` (www.facebook.com),
``/{version}/oauth/access_token`` (graph.facebook.com: the code exchange, a GET with query
parameters, and the long-lived exchange ``grant_type=fb_exchange_token``), ``/{version}/me``.
OAuth behaviour, switches and counters: :mod:`localcloud.sandboxes.oauth_server` (no PKCE,
comma-separated scopes, short-lived tokens of 1-2 hours, long-lived ones of ~60 days; the token
answer reports no scopes). Errors in the Graph format ``{"error": {"message", "type", "code",
"fbtrace_id"}}`` (https://developers.facebook.com/docs/graph-api/guides/error-handling).

Pages API (docs/social.md, "Facebook Pages"; page endpoints take only that page's token, a user
token gets #200, an unknown one #190):

* ``GET /{v}/me/accounts`` (user token) -> :data:`DEMO_PAGES` with ``access_token`` and ``tasks``.
* ``POST /{v}/{page}/feed`` (message, link, ``attached_media[n]`` of unpublished photos of the
  page, ``published=false`` + ``scheduled_publish_time`` 10 min-30 days ahead, else #100),
  ``/photos`` (url, caption; ``published=false`` -> an unpublished photo), ``/videos``
  (file_url, description), ``/video_reels`` (``upload_phase=start`` -> video_id + upload_url;
  ``finish`` with ``video_state`` after the upload completed).
* ``POST /video-upload/{v}/{video}`` (rupload.facebook.com's path): ``Authorization: OAuth
  {page token}`` and a ``file_url`` header; the upload then stays ``in_progress`` for
  ``reel_polls`` polls of ``GET /{v}/{video}?fields=status``, then ``complete`` (or ``error``).
* ``GET /{v}/{page}/published_posts|video_reels|videos?since=`` (scheduled posts appear at their
  time); ``GET /{v}/{page}/insights?metric=…&period=day&since&until`` and
  ``GET /{v}/{post}/insights?metric=…`` with the 2025 names only (the removed ones -> #100).
* Usage headers on every Graph answer, rising with calls (``usage_start`` + ``usage_step`` per
  call): ``X-App-Usage`` for user-token calls, ``X-Business-Use-Case-Usage`` for page-token
  calls; at 100 % the call is throttled (#4 app, #32 page).
* Control: ``POST /facebook/_sandbox/graph`` with any of ``usage_start``, ``usage_step``,
  ``regain_minutes``, ``reel_polls``, ``reel_error``, ``slow_publish_seconds`` (the next
  ``slow_publish_times`` publishing calls create the post, then answer that late: an unknown
  outcome for the client) ; ``GET`` answers the config, posts, reels and call count. The shared
  faults (``/__sandbox/faults/facebook``) apply as for every sandbox.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from werkzeug.wrappers import Request, Response

from localcloud.sandboxes.base import DemoSecret, json_response, reason
from localcloud.sandboxes.oauth_server import OAuthProfile, OAuthSandbox

DEMO_CLIENT_ID = "1234567890123456"
DEMO_CLIENT_SECRET = "demo-facebook-app-secret-0123456789"
DEMO_ACCESS_TOKEN = "EAAdemoFacebookLongLivedUserAccessToken"
SCOPES = frozenset(
    {
        "public_profile",
        "email",
        "pages_show_list",
        "pages_read_engagement",
        "pages_manage_posts",
        "instagram_basic",
        "instagram_content_publish",
        "business_management",
    }
)


@dataclass(frozen=True)
class DemoPage:
    name: str
    token: str
    tasks: tuple[str, ...]


# The demo user's pages (GET /me/accounts): one it can publish to, one it can only analyse.
DEMO_PAGE_ID = "102030405060708"
DEMO_READONLY_PAGE_ID = "908070605040302"
DEMO_PAGES = {
    DEMO_PAGE_ID: DemoPage(
        "Somos Produtora", "EAAdemoPageTokenSomosProdutora0001", ("ANALYZE", "ADVERTISE", "CREATE_CONTENT", "MODERATE")
    ),
    DEMO_READONLY_PAGE_ID: DemoPage("Somos Leitura", "EAAdemoPageTokenSomosLeitura0002", ("ANALYZE",)),
}
# scheduled_publish_time: 10 minutes to 30 days ahead (https://developers.facebook.com/docs/pages-api/posts).
SCHEDULE_MIN_SECONDS = 600
SCHEDULE_MAX_SECONDS = 30 * 86400
# The 2025 insights names; the removed ones (page_impressions, page_fans, post_impressions, ...)
# answer #100 "The value must be a valid insights metric" as Meta does.
PAGE_METRICS = frozenset(
    {
        "page_media_view",
        "page_total_media_view_unique",
        "page_follows",
        "page_daily_follows_unique",
        "page_post_engagements",
    }
)
POST_METRICS = frozenset(
    {"post_media_view", "post_total_media_view_unique", "post_clicks", "post_reactions_by_type_total"}
)


@dataclass
class _Post:
    id: str
    page: str
    kind: str  # feed | photo | video | reel
    message: str
    created: float
    link: str | None = None
    attached: list[str] = field(default_factory=list)
    scheduled_for: float | None = None

    def visible(self, now: float) -> bool:
        return self.scheduled_for is None or self.scheduled_for <= now


@dataclass
class _Reel:
    id: str
    page: str
    uploaded: bool = False
    polls_left: int = 0
    finished: bool = False


@dataclass
class _GraphConfig:
    # Usage headers: the percentage reported on the n-th Graph call is start + step * n (≤ 100);
    # at 100 the call is throttled (code 4 for the app, 32 for a page) as Meta does.
    usage_start: float = 1.0
    usage_step: float = 0.0
    regain_minutes: int = 5
    # Reels: polls answering uploading_phase "in_progress" before "complete"; or an error.
    reel_polls: int = 2
    reel_error: bool = False
    # "Slow publish": the next N publishing calls create the post, then answer only after this
    # many seconds (past the client's read timeout): the unknown outcome the lookup resolves.
    slow_publish_seconds: float = 0.0
    slow_publish_times: int = 1


@dataclass
class _Graph:
    posts: list[_Post] = field(default_factory=list)
    unpublished_photos: dict[str, str] = field(default_factory=dict)  # photo id -> page
    reels: dict[str, _Reel] = field(default_factory=dict)
    calls: int = 0
    counter: int = 1000
    config: _GraphConfig = field(default_factory=_GraphConfig)


def _stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _since(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


class FacebookSandbox(OAuthSandbox):
    provider = "facebook"
    profile = OAuthProfile(
        client_id=DEMO_CLIENT_ID,
        client_secret=DEMO_CLIENT_SECRET,
        authorize_path="/<version>/dialog/oauth",
        exchange_path="/<version>/oauth/access_token",
        scopes=SCOPES,
        demo_access_token=DEMO_ACCESS_TOKEN,
        pkce="none",
        client_auth="body",
        exchange_method="GET",
        access_token_lifetime=5400,
        issue_refresh_token=False,
        scope_in_answer="none",
        error_format="graph",
        long_lived_path="/<version>/oauth/access_token",
        long_lived_grant="fb_exchange_token",
        scope_separators=", ",
    )

    def __init__(self) -> None:
        super().__init__()
        self.graph = _Graph()
        self.route("/<version>/me", ["GET"], self.authorized(self.usage(self.me)))
        self.route("/<version>/me/accounts", ["GET"], self.authorized(self.usage(self.accounts)))
        for edge, handler in (
            ("feed", self.feed),
            ("photos", self.photos),
            ("videos", self.videos),
            ("video_reels", self.video_reels),
        ):
            self.route(f"/<version>/<page_id>/{edge}", ["POST"], self.page_token(handler))
        self.route("/<version>/<page_id>/published_posts", ["GET"], self.page_token(self.published_posts))
        self.route("/<version>/<page_id>/video_reels", ["GET"], self.page_token(self.list_reels))
        self.route("/<version>/<page_id>/videos", ["GET"], self.page_token(self.list_videos))
        self.route("/<version>/<page_id>/insights", ["GET"], self.page_token(self.insights))
        self.route("/<version>/<page_id>", ["GET"], self.page_token(self.node))
        # rupload.facebook.com/video-upload/{version}/{video-id}, served here.
        self.route("/video-upload/<version>/<video_id>", ["POST"], self.rupload)
        self.route("/_sandbox/graph", ["GET", "POST"], self.graph_control)

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self.graph = _Graph()

    # ----- errors ----------------------------------------------------------------------------
    def error_response(self, status: int, message: str | None = None) -> Response:
        code = 190 if status == 401 else (4 if status == 429 else 2 if status >= 500 else 100)
        return self.graph_error(status, code, message or reason(status))

    @staticmethod
    def graph_error(status: int, code: int, message: str, subcode: int | None = None) -> Response:
        kind = "OAuthException" if status in (400, 401, 403) else "FacebookApiException"
        error: dict[str, Any] = {"message": message, "type": kind, "code": code, "fbtrace_id": "Sandbox01"}
        if subcode is not None:
            error["error_subcode"] = subcode
        return json_response({"error": error}, status)

    def unauthorized(self) -> Response:
        return self.error_response(401, "Error validating access token: Session has expired or is invalid.")

    # ----- tokens and usage headers ----------------------------------------------------------
    @staticmethod
    def _token(request: Request) -> str:
        header = request.headers.get("Authorization", "")
        for scheme in ("Bearer ", "OAuth "):
            if header.startswith(scheme):
                return header[len(scheme) :]
        return request.values.get("access_token", "")

    def _page_of(self, object_id: str) -> str | None:
        """The page an id belongs to: a page, one of its posts, reels, videos or photos."""
        if object_id in DEMO_PAGES:
            return object_id
        if "_" in object_id:
            return object_id.split("_", 1)[0]
        if object_id in self.graph.reels:
            return self.graph.reels[object_id].page
        for post in self.graph.posts:
            if post.id == object_id:
                return post.page
        return self.graph.unpublished_photos.get(object_id)

    def page_token(self, handler: Callable[..., Response]) -> Callable[..., Response]:
        """Page endpoints: the token must be the page token of the page the object belongs to
        (a user token gets #200 as Meta answers; an unknown token #190)."""

        def wrapped(request: Request, page_id: str, **kwargs: Any) -> Response:
            token = self._token(request)
            with self.lock:
                owner = self._page_of(page_id)
            page = next((p for p, demo in DEMO_PAGES.items() if demo.token == token), None)
            if page is None:
                if token == DEMO_ACCESS_TOKEN or token in self.state.access:
                    return self.graph_error(
                        403,
                        200,
                        "(#200) If posting to a page, requires both pages_read_engagement and "
                        "pages_manage_posts as an admin with sufficient administrative permission",
                    )
                return self.unauthorized()
            if owner is None:
                return self.graph_error(
                    400, 100, f"Unsupported request: object with ID '{page_id}' does not exist", subcode=33
                )
            if owner != page:
                return self.graph_error(403, 200, "(#200) The page access token is not for this page")
            return self.usage(handler, page=page)(request, page_id=page_id, **kwargs)

        return wrapped

    def usage(self, handler: Callable[..., Response], *, page: str | None = None) -> Callable[..., Response]:
        """Every Graph answer carries its usage header (X-App-Usage for user-token calls,
        X-Business-Use-Case-Usage for page-token calls) rising with calls."""

        def wrapped(request: Request, **kwargs: Any) -> Response:
            with self.lock:
                config = self.graph.config
                percent = min(100.0, config.usage_start + config.usage_step * self.graph.calls)
                self.graph.calls += 1
            share = round(percent)
            header: tuple[str, Any]
            if page is None:
                header = ("X-App-Usage", {"call_count": share, "total_cputime": share // 2, "total_time": share // 2})
            else:
                entry = {
                    "type": "pages",
                    "call_count": share,
                    "total_cputime": share // 2,
                    "total_time": share // 2,
                    "estimated_time_to_regain_access": config.regain_minutes if share >= 100 else 0,
                }
                header = ("X-Business-Use-Case-Usage", {page: [entry]})
            if share >= 100:
                code, text = (
                    (4, "(#4) Application request limit reached")
                    if page is None
                    else (32, "(#32) Page request limit reached")
                )
                response = self.graph_error(400, code, text)
            else:
                response = handler(request, **kwargs)
            response.headers[header[0]] = json.dumps(header[1])
            return response

        return wrapped

    # ----- the user's pages ------------------------------------------------------------------
    def me(self, request: Request, **_: Any) -> Response:
        return json_response({"id": "10160000000000001", "name": "Somos Produtora"})

    def accounts(self, request: Request, **_: Any) -> Response:
        # https://developers.facebook.com/docs/pages-api/getting-started#get-page-token
        fields = set((request.args.get("fields") or "id,name").split(","))
        data = []
        for page_id, demo in DEMO_PAGES.items():
            full = {"id": page_id, "name": demo.name, "access_token": demo.token, "tasks": list(demo.tasks)}
            data.append({k: v for k, v in full.items() if k in fields or k == "id"})
        return json_response({"data": data, "paging": {"cursors": {"before": "QVFIUjA", "after": "QVFIUjE"}}})

    # ----- publishing ------------------------------------------------------------------------
    def _new_id(self) -> str:
        self.graph.counter += 1
        return f"{self.graph.counter}{int(time.time()) % 100000:05d}"

    def _answer_publish(self, body: dict[str, Any]) -> Response:
        """The answer of a call that created a visible post, slow when the fault says so."""
        with self.lock:
            config = self.graph.config
            delay = config.slow_publish_seconds if config.slow_publish_times > 0 else 0.0
            if delay:
                config.slow_publish_times -= 1
                if config.slow_publish_times <= 0:
                    config.slow_publish_seconds = 0.0
        if delay:
            time.sleep(delay)  # the post exists already: only its answer is late
        return json_response(body)

    def feed(self, request: Request, page_id: str, **_: Any) -> Response:
        # https://developers.facebook.com/docs/pages-api/posts
        values = request.values
        message, link = values.get("message", ""), values.get("link")
        attached: list[str] = []
        index = 0
        while (raw := values.get(f"attached_media[{index}]")) is not None:
            try:
                fbid = str(json.loads(raw)["media_fbid"])
            except (ValueError, KeyError, TypeError):
                return self.graph_error(400, 100, f"(#100) param attached_media[{index}] must be a JSON object")
            with self.lock:
                if self.graph.unpublished_photos.get(fbid) != page_id:
                    return self.graph_error(400, 100, f"(#100) Invalid media_fbid {fbid}")
            attached.append(fbid)
            index += 1
        if not (message or link or attached):
            return self.graph_error(400, 100, "(#100) Missing message or attachment")
        scheduled_for: float | None = None
        if values.get("published") == "false" and values.get("scheduled_publish_time"):
            try:
                scheduled_for = float(values["scheduled_publish_time"])
            except ValueError:
                return self.graph_error(400, 100, "(#100) Invalid scheduled_publish_time")
            ahead = scheduled_for - time.time()
            if not SCHEDULE_MIN_SECONDS <= ahead <= SCHEDULE_MAX_SECONDS:
                return self.graph_error(400, 100, "(#100) The specified scheduled publish time is invalid.")
        elif values.get("scheduled_publish_time"):
            return self.graph_error(400, 100, "(#100) Scheduled posts must be unpublished (published=false)")
        with self.lock:
            post = _Post(
                id=f"{page_id}_{self._new_id()}",
                page=page_id,
                kind="feed",
                message=message,
                created=time.time(),
                link=link,
                attached=attached,
                scheduled_for=scheduled_for,
            )
            self.graph.posts.append(post)
        return self._answer_publish({"id": post.id})

    def photos(self, request: Request, page_id: str, **_: Any) -> Response:
        # https://developers.facebook.com/docs/pages-api/posts#publish-a-photo
        values = request.values
        url = values.get("url")
        if not url or not url.startswith(("https://", "http://")):
            return self.graph_error(400, 324, "(#324) Requires upload file")
        with self.lock:
            photo_id = self._new_id()
            if values.get("published") == "false":
                self.graph.unpublished_photos[photo_id] = page_id
                return json_response({"id": photo_id})
            post = _Post(
                id=f"{page_id}_{photo_id}",
                page=page_id,
                kind="photo",
                message=values.get("caption", ""),
                created=time.time(),
            )
            self.graph.posts.append(post)
        return self._answer_publish({"id": photo_id, "post_id": post.id})

    def videos(self, request: Request, page_id: str, **_: Any) -> Response:
        # https://developers.facebook.com/docs/video-api/guides/publishing (file_url)
        file_url = request.values.get("file_url")
        if not file_url or not file_url.startswith(("https://", "http://")):
            return self.graph_error(400, 100, "(#100) file_url must be a URL Meta can fetch")
        with self.lock:
            video = _Post(
                id=self._new_id(),
                page=page_id,
                kind="video",
                message=request.values.get("description", ""),
                created=time.time(),
            )
            self.graph.posts.append(video)
        return self._answer_publish({"id": video.id})

    def video_reels(self, request: Request, page_id: str, **_: Any) -> Response:
        # https://developers.facebook.com/docs/video-api/guides/reels-publishing
        values = request.values
        phase = values.get("upload_phase")
        if phase == "start":
            with self.lock:
                reel = _Reel(id=self._new_id(), page=page_id)
                self.graph.reels[reel.id] = reel
            version = request.path.strip("/").split("/")[1]
            upload_url = f"{request.host_url}{self.provider}/video-upload/{version}/{reel.id}"
            return json_response({"video_id": reel.id, "upload_url": upload_url})
        if phase != "finish":
            return self.graph_error(400, 100, "(#100) upload_phase must be one of start, finish")
        video_id = values.get("video_id", "")
        with self.lock:
            found = self.graph.reels.get(video_id)
            if found is None or found.page != page_id:
                return self.graph_error(400, 100, f"(#100) Invalid video_id {video_id}")
            if not found.uploaded or found.polls_left > 0:
                return self.graph_error(400, 6000, "The video upload is not complete yet")
            if values.get("video_state") not in ("PUBLISHED", "DRAFT", "SCHEDULED"):
                return self.graph_error(400, 100, "(#100) video_state must be PUBLISHED, DRAFT or SCHEDULED")
            if found.finished:
                return self.graph_error(400, 100, "(#100) This reel was already published")
            found.finished = True
            self.graph.posts.append(
                _Post(
                    id=video_id,
                    page=page_id,
                    kind="reel",
                    message=values.get("description", ""),
                    created=time.time(),
                )
            )
        return self._answer_publish({"success": True})

    def rupload(self, request: Request, version: str, video_id: str, **_: Any) -> Response:
        header = request.headers.get("Authorization", "")
        with self.lock:
            reel = self.graph.reels.get(video_id)
            page_token = DEMO_PAGES[reel.page].token if reel else None
        if not header.startswith("OAuth ") or header[6:] != page_token:
            return self.unauthorized()
        file_url = request.headers.get("file_url")
        if reel is None:
            return self.graph_error(400, 100, f"(#100) Invalid video id {video_id}")
        if not file_url or not file_url.startswith(("https://", "http://")):
            return self.graph_error(400, 100, "(#100) A hosted upload needs the file_url header")
        with self.lock:
            reel.uploaded = True
            reel.polls_left = self.graph.config.reel_polls
        return json_response({"success": True})

    # ----- reading ---------------------------------------------------------------------------
    def node(self, request: Request, page_id: str, **_: Any) -> Response:
        """``GET /{video-id}?fields=status`` (a reel's upload status); other nodes: id only."""
        with self.lock:
            reel = self.graph.reels.get(page_id)
            if reel is None or "status" not in (request.args.get("fields") or ""):
                return json_response({"id": page_id})
            if self.graph.config.reel_error:
                errors = [{"code": 1363130, "message": "Meta could not fetch the file at file_url"}]
                status = {"video_status": "error", "uploading_phase": {"status": "error", "errors": errors}}
            elif not reel.uploaded or reel.polls_left > 0:
                reel.polls_left = max(0, reel.polls_left - 1)
                status = {
                    "video_status": "processing",
                    "uploading_phase": {"status": "in_progress" if reel.uploaded else "not_started"},
                    "processing_phase": {"status": "not_started"},
                    "publishing_phase": {"status": "not_started"},
                }
            else:
                status = {
                    "video_status": "ready" if reel.finished else "upload_complete",
                    "uploading_phase": {"status": "complete"},
                    "processing_phase": {"status": "complete" if reel.finished else "not_started"},
                    "publishing_phase": {"status": "complete" if reel.finished else "not_started"},
                }
        return json_response({"id": reel.id, "status": status})

    def _listing(
        self, request: Request, page_id: str, kinds: set[str], shape: Callable[[_Post], dict[str, Any]]
    ) -> Response:
        since = _since(request.args.get("since"))
        now = time.time()
        with self.lock:
            items = [
                shape(p)
                for p in reversed(self.graph.posts)
                if p.page == page_id and p.kind in kinds and p.visible(now) and (since is None or p.created >= since)
            ]
        return json_response({"data": items})

    def published_posts(self, request: Request, page_id: str, **_: Any) -> Response:
        # https://developers.facebook.com/docs/graph-api/reference/page/published_posts
        def shape(p: _Post) -> dict[str, Any]:
            return {
                "id": p.id if "_" in p.id else f"{page_id}_{p.id}",
                "message": p.message,
                "created_time": _stamp(p.created),
                "permalink_url": f"https://www.facebook.com/{page_id}/posts/{p.id.split('_')[-1]}",
            }

        return self._listing(request, page_id, {"feed", "photo", "video"}, shape)

    def list_reels(self, request: Request, page_id: str, **_: Any) -> Response:
        def shape(p: _Post) -> dict[str, Any]:
            return {"id": p.id, "description": p.message, "created_time": _stamp(p.created)}

        return self._listing(request, page_id, {"reel"}, shape)

    def list_videos(self, request: Request, page_id: str, **_: Any) -> Response:
        def shape(p: _Post) -> dict[str, Any]:
            return {"id": p.id, "description": p.message, "created_time": _stamp(p.created)}

        return self._listing(request, page_id, {"video"}, shape)

    def insights(self, request: Request, page_id: str, **_: Any) -> Response:
        # https://developers.facebook.com/docs/graph-api/reference/insights (2025 names)
        names = [m for m in (request.args.get("metric") or "").split(",") if m]
        if not names:
            return self.graph_error(
                400,
                3001,
                "No metric was specified to be fetched. Please specify one or more metrics to be fetched "
                "and try again.",
                subcode=1504028,
            )
        is_post = "_" in page_id
        valid = POST_METRICS if is_post else PAGE_METRICS
        for name in names:
            if name not in valid:
                return self.graph_error(400, 100, "(#100) The value must be a valid insights metric")
        if is_post:
            seed = sum(map(ord, page_id))
            data = [
                {"name": n, "period": "lifetime", "values": [{"value": (seed * (i + 3)) % 900 + 10}]}
                for i, n in enumerate(names)
            ]
            return json_response({"data": data})
        if request.args.get("period") != "day":
            return self.graph_error(400, 100, "(#100) period must be day for these metrics")
        first, last = _since(request.args.get("since")), _since(request.args.get("until"))
        if first is None or last is None or last <= first:
            return self.graph_error(400, 100, "(#100) since and until must be dates, since before until")
        if last - first > 93 * 86400:
            return self.graph_error(400, 100, "(#100) There cannot be more than 93 days between since and until")
        start = datetime.fromtimestamp(first, UTC).date()
        days = [start + timedelta(days=n) for n in range(round((last - first) / 86400))]
        data = []
        for i, name in enumerate(names):
            values = [
                {
                    "value": (day.toordinal() * (i + 7)) % 500 + (1000 if name == "page_follows" else 0),
                    "end_time": f"{(day + timedelta(days=1)).isoformat()}T08:00:00+0000",
                }
                for day in days
            ]
            data.append({"name": name, "period": "day", "values": values})
        return json_response({"data": data})

    # ----- control ---------------------------------------------------------------------------
    def graph_control(self, request: Request, **_: Any) -> Response:
        """``POST {facebook}/_sandbox/graph`` with any of :class:`_GraphConfig`'s fields; ``GET``
        (and POST) answer the config, every post made (scheduled ones with their time), the
        reels and the Graph call count."""
        with self.lock:
            if request.method == "POST":
                data = request.get_json(force=True, silent=True) or {}
                config = self.graph.config
                for name, value in data.items():
                    if hasattr(config, name):
                        setattr(config, name, type(getattr(config, name))(value))
            return json_response(
                {
                    "config": vars(self.graph.config),
                    "calls": self.graph.calls,
                    "posts": [vars(p) for p in self.graph.posts],
                    "unpublished_photos": dict(self.graph.unpublished_photos),
                    "reels": {k: vars(r) for k, r in self.graph.reels.items()},
                }
            )


SANDBOX = FacebookSandbox
DEMO_SECRETS = (
    DemoSecret(
        "facebook",
        lambda base_url: {
            "base_url": base_url,
            "access_token": DEMO_ACCESS_TOKEN,
            "scopes": sorted(SCOPES - {"public_profile", "email"}),
            "token_type": "bearer",
        },
    ),
    DemoSecret(
        "facebook",
        lambda base_url: {
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
            "authorize_url": f"{base_url}/{{graph_version}}/dialog/oauth",
            "token_url": f"{base_url}/{{graph_version}}/oauth/access_token",
            "long_lived_url": f"{base_url}/{{graph_version}}/oauth/access_token",
            "api_base_url": base_url,
        },
        org_id="_apps",
    ),
)
