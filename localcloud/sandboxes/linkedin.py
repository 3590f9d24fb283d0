"""LinkedIn sandbox (OAuth2 3-legged flow, OpenID userinfo and the versioned REST API), mounted at
``/linkedin``. Paths as on LinkedIn's hosts: ``/oauth/v2/authorization`` and
``/oauth/v2/accessToken`` (www.linkedin.com), ``/v2/userinfo`` and ``/rest/...`` (api.linkedin.com).
OAuth behaviour, switches and counters: :mod:`localcloud.sandboxes.oauth_server` (no PKCE for web
apps, client credentials in the form, 60-day access tokens, no refresh tokens: LinkedIn issues
them to approved partners only). API errors as LinkedIn answers them
(``{"status", "serviceErrorCode", "code", "message"}``).

The REST API (docs/social.md, "LinkedIn", lists the doc pages) is enforced as LinkedIn does:
every ``/rest`` call needs a live Bearer token, ``LinkedIn-Version`` (missing → 400
``VERSION_MISSING``; sunset or unknown → 426 ``NONEXISTENT_VERSION``) and
``X-Restli-Protocol-Version: 2.0.0`` (else 400). Served:

* ``POST /rest/posts`` (body checked field by field, 422 naming the field; 201 + ``x-restli-id``),
  ``GET /rest/posts?q=author&author=…`` (newest first);
* ``POST /rest/images?action=initializeUpload`` → an upload URL on this sandbox (``PUT``, Bearer);
* ``POST /rest/videos?action=initializeUpload`` → byte-range parts (``PUT``, each answers an
  ``ETag``), ``POST /rest/videos?action=finalizeUpload`` (the ETags in order), ``GET
  /rest/videos/{urn}``: ``PROCESSING`` for ``video_processing_polls`` reads, then ``AVAILABLE``;
* ``GET /rest/organizationAcls?q=roleAssignee`` (the demo member administers one organization);
* ``GET /rest/organizationalEntityShareStatistics`` (per day for ``timeIntervals``, or per post
  for ``shares=List(…)`` / ``ugcPosts=List(…)``; organic, rolling 12 months).

Control: ``POST /linkedin/_sandbox/api`` with any of ``{"daily_limit": N|null (posts per day, then
429 until midnight UTC), "slow_publish_seconds": s (the post is stored, the answer comes s later),
"video_processing_polls": N, "video_fail": bool, "part_size": bytes, "sunset": ["202607", …]}``;
``GET`` answers the switches and what LinkedIn received (posts, uploads, status polls).
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import unquote

from werkzeug.wrappers import Request, Response

from localcloud.sandboxes.base import DemoSecret, json_response, reason
from localcloud.sandboxes.oauth_server import OAuthProfile, OAuthSandbox

DEMO_CLIENT_ID = "86demolinkedin"
DEMO_CLIENT_SECRET = "WPL_AP1.demo-linkedin-secret"
DEMO_ACCESS_TOKEN = "AQVdemo-linkedin-access-token"
SCOPES = frozenset(
    {
        "openid",
        "profile",
        "email",
        "w_member_social",
        "r_basicprofile",
        # Community Management API (organization pages), for apps LinkedIn approved for it.
        "w_organization_social",
        "r_organization_social",
        "rw_organization_admin",
    }
)
DEMO_MEMBER_ID = "782bbtaQ"
DEMO_MEMBER = f"urn:li:person:{DEMO_MEMBER_ID}"
DEMO_ORGANIZATION = "urn:li:organization:2414183"
# Versions live on the sandbox's "today" (2026-12): each lives 12 months, 202512 was never released
# (https://learn.microsoft.com/en-us/linkedin/marketing/integrations/migrations).
LIVE_VERSIONS = frozenset(
    {
        "202511",
        "202601",
        "202602",
        "202603",
        "202604",
        "202605",
        "202606",
        "202607",
        "202608",
        "202609",
        "202610",
        "202611",
    }
)
# LinkedIn's upload parts are 4 MiB (videos-api, "Upload the Video").
PART_SIZE = 4 * 1024 * 1024
POST_FIELDS = frozenset(
    {
        "author",
        "commentary",
        "visibility",
        "distribution",
        "content",
        "lifecycleState",
        "isReshareDisabledByAuthor",
        "contentLandingPage",
        "adContext",
        "container",
    }
)
_INTERVAL = re.compile(r"^\(timeRange:\(start:(\d+),end:(\d+)\),timeGranularityType:(DAY|MONTH)\)$")
_LIST = re.compile(r"^List\((.*)\)$")
_ESCAPE = re.compile(r"\\(.)")
DAY_MS = 86_400_000


@dataclass
class _Video:
    owner: str
    size: int
    parts: list[tuple[int, int]]
    etags: dict[int, str] = field(default_factory=dict)
    finalized: bool = False
    polls_left: int = 0
    status: str = "WAITING_UPLOAD"


@dataclass
class _Api:
    posts: list[dict[str, Any]] = field(default_factory=list)
    images: dict[str, dict[str, Any]] = field(default_factory=dict)
    videos: dict[str, _Video] = field(default_factory=dict)
    created_today: dict[str, int] = field(default_factory=dict)
    status_polls: int = 0
    finalized: int = 0
    uploads: int = 0
    next_id: int = 7_100_000_000_000_000_000
    daily_limit: int | None = None
    slow_publish_seconds: float = 0.0
    video_processing_polls: int = 1
    video_fail: bool = False
    part_size: int = PART_SIZE
    sunset: set[str] = field(default_factory=set)


class LinkedInSandbox(OAuthSandbox):
    provider = "linkedin"
    profile = OAuthProfile(
        client_id=DEMO_CLIENT_ID,
        client_secret=DEMO_CLIENT_SECRET,
        authorize_path="/oauth/v2/authorization",
        exchange_path="/oauth/v2/accessToken",
        scopes=SCOPES,
        demo_access_token=DEMO_ACCESS_TOKEN,
        pkce="none",
        client_auth="body",
        access_token_lifetime=5_184_000,
        issue_refresh_token=False,
        scope_in_answer="comma",
    )

    def __init__(self) -> None:
        super().__init__()
        self.api = _Api()
        self.api_lock = threading.Lock()
        self.route("/v2/userinfo", ["GET"], self.authorized(self.userinfo))
        rest = [
            ("/rest/posts", ["POST"], self.create_post),
            ("/rest/posts", ["GET"], self.find_posts),
            ("/rest/images", ["POST"], self.images_action),
            ("/rest/images/<urn>", ["GET"], self.get_image),
            ("/rest/videos", ["POST"], self.videos_action),
            ("/rest/videos/<urn>", ["GET"], self.get_video),
            ("/rest/organizationAcls", ["GET"], self.organization_acls),
            ("/rest/organizationalEntityShareStatistics", ["GET"], self.share_statistics),
        ]
        for path, methods, handler in rest:
            self.route(path, methods, self.authorized(self.versioned(handler)))
        self.route("/_upload/image/<image_id>", ["PUT"], self.authorized(self.upload_image))
        self.route("/_upload/video/<video_id>/<int:part>", ["PUT"], self.upload_video_part)
        self.route("/_sandbox/api", ["GET", "POST"], self.api_control)

    def reset(self) -> None:
        super().reset()
        with self.api_lock:
            self.api = _Api()

    # ----- errors ----------------------------------------------------------------------------
    def error_response(self, status: int, message: str | None = None, code: str | None = None) -> Response:
        if code is None:
            code = "INVALID_ACCESS_TOKEN" if status == 401 else reason(status).upper().replace(" ", "_")
        body = {"status": status, "serviceErrorCode": 65600 if status == 401 else 100, "code": code}
        body["message"] = message or reason(status)
        return json_response(body, status)

    def unauthorized(self) -> Response:
        return self.error_response(401, "Invalid access token")

    def versioned(self, handler: Any) -> Any:
        """LinkedIn's version and protocol headers, checked before the resource
        (https://learn.microsoft.com/en-us/linkedin/marketing/versioning)."""

        def wrapped(request: Request, **kwargs: Any) -> Response:
            version = request.headers.get("LinkedIn-Version")
            if not version:
                return self.error_response(
                    400,
                    "A version must be present. Please specify a version by adding the LinkedIn-Version header.",
                    "VERSION_MISSING",
                )
            with self.api_lock:
                live = version in LIVE_VERSIONS and version not in self.api.sunset
            if not live:
                return self.error_response(426, f"Requested version {version} is not active", "NONEXISTENT_VERSION")
            if request.headers.get("X-Restli-Protocol-Version") != "2.0.0":
                return self.error_response(
                    400, "X-Restli-Protocol-Version 2.0.0 is required for this resource", "ILLEGAL_ARGUMENT"
                )
            return handler(request, **kwargs)

        return wrapped

    def userinfo(self, request: Request, **_: Any) -> Response:
        return json_response(
            {
                "sub": DEMO_MEMBER_ID,
                "name": "Somos Produtora",
                "given_name": "Somos",
                "family_name": "Produtora",
                "email": "contato@somosprodutora.com.br",
                "email_verified": True,
                "locale": {"country": "BR", "language": "pt"},
            }
        )

    # ----- posts -----------------------------------------------------------------------------
    def _unprocessable(self, *problems: str) -> Response:
        # LinkedIn's schema errors: 422, "ERROR :: /path :: reason" lines.
        return self.error_response(422, "".join(f"ERROR :: {p}\n" for p in problems), "UNPROCESSABLE_ENTITY")

    def _post_problems(self, body: dict[str, Any]) -> list[str]:
        problems = [f"/{name} :: unrecognized field found but not allowed" for name in body if name not in POST_FIELDS]
        for name in ("author", "commentary", "visibility", "distribution", "lifecycleState"):
            if name not in body:
                problems.append(f"/{name} :: field is required but not found and has no default value")
        if problems:
            return problems
        if body["author"] not in (DEMO_MEMBER, DEMO_ORGANIZATION):
            problems.append(f"/author :: {body['author']} is not a member or organization this token may post as")
        # 3,000 characters of text (escapes of little's reserved characters do not count).
        if not isinstance(body["commentary"], str) or len(_ESCAPE.sub(r"\1", body["commentary"])) > 3000:
            problems.append("/commentary :: must be a string of at most 3000 characters")
        if body["visibility"] not in ("PUBLIC", "CONNECTIONS", "LOGGED_IN"):
            problems.append(f"/visibility :: {body['visibility']} is not a valid Visibility")
        if body["visibility"] == "CONNECTIONS" and body["author"] != DEMO_MEMBER:
            problems.append("/visibility :: CONNECTIONS is only for member posts")
        if body["lifecycleState"] not in ("PUBLISHED", "DRAFT"):
            problems.append(f"/lifecycleState :: {body['lifecycleState']} is not a valid LifecycleState")
        distribution = body["distribution"]
        if not isinstance(distribution, dict) or distribution.get("feedDistribution") not in ("MAIN_FEED", "NONE"):
            problems.append("/distribution/feedDistribution :: field is required (MAIN_FEED or NONE)")
        if "isReshareDisabledByAuthor" in body and not isinstance(body["isReshareDisabledByAuthor"], bool):
            problems.append("/isReshareDisabledByAuthor :: must be a boolean")
        content = body.get("content")
        if content is not None:
            problems += self._content_problems(content, body["author"])
        return problems

    def _content_problems(self, content: Any, author: str) -> list[str]:
        if not isinstance(content, dict) or len(content) != 1:
            return ["/content :: exactly one of media, multiImage, article"]
        kind, value = next(iter(content.items()))
        if kind == "media":
            urn = value.get("id") if isinstance(value, dict) else None
            return self._media_problems(urn, author, "/content/media/id")
        if kind == "multiImage":
            images = value.get("images") if isinstance(value, dict) else None
            if not isinstance(images, list) or not 2 <= len(images) <= 20:
                return ["/content/multiImage/images :: 2 to 20 images"]
            problems: list[str] = []
            for i, image in enumerate(images):
                urn = image.get("id") if isinstance(image, dict) else None
                if not isinstance(urn, str) or not urn.startswith("urn:li:image:"):
                    problems.append(f"/content/multiImage/images/{i}/id :: an image URN is required")
                else:
                    problems += self._media_problems(urn, author, f"/content/multiImage/images/{i}/id")
            return problems
        if kind == "article":
            if not isinstance(value, dict) or not value.get("source") or not value.get("title"):
                return ["/content/article :: source and title are required"]
            return []
        return [f"/content/{kind} :: unrecognized field found but not allowed"]

    def _media_problems(self, urn: Any, author: str, path: str) -> list[str]:
        with self.api_lock:
            if isinstance(urn, str) and urn.startswith("urn:li:image:"):
                image = self.api.images.get(urn)
                if image is None or image["owner"] != author:
                    return [f"{path} :: {urn} is not an image of {author}"]
                if image["status"] != "AVAILABLE":
                    return [f"{path} :: {urn} was not uploaded"]
                return []
            if isinstance(urn, str) and urn.startswith("urn:li:video:"):
                video = self.api.videos.get(urn)
                if video is None or video.owner != author:
                    return [f"{path} :: {urn} is not a video of {author}"]
                if video.status != "AVAILABLE":
                    return [f"{path} :: {urn} is {video.status}, not AVAILABLE"]
                return []
        return [f"{path} :: an image or video URN is required"]

    def create_post(self, request: Request, **_: Any) -> Response:
        body = request.get_json(force=True, silent=True)
        if not isinstance(body, dict):
            return self.error_response(400, "Request body could not be converted to data map", "ILLEGAL_ARGUMENT")
        problems = self._post_problems(body)
        if problems:
            return self._unprocessable(*problems)
        today = datetime.now(UTC).date().isoformat()
        with self.api_lock:
            api = self.api
            if api.daily_limit is not None and api.created_today.get(today, 0) >= api.daily_limit:
                # Daily limits reset at midnight UTC (rate-limits page); no Retry-After.
                return self.error_response(
                    429,
                    "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.",
                    "TOO_MANY_REQUESTS",
                )
            api.created_today[today] = api.created_today.get(today, 0) + 1
            api.next_id += 1
            urn = f"urn:li:share:{api.next_id}"
            now = int(time.time() * 1000)
            api.posts.append(
                {
                    "id": urn,
                    **{k: v for k, v in body.items()},
                    "created": {"time": now},
                    "lastModified": {"time": now},
                    "publishedAt": now,
                }
            )
            delay = api.slow_publish_seconds
        if delay:
            time.sleep(delay)  # stored, but the answer comes after the client stopped waiting
        response = Response(status=201)
        response.headers["x-restli-id"] = urn
        response.headers["x-linkedin-id"] = urn
        return response

    def find_posts(self, request: Request, **_: Any) -> Response:
        args = request.args
        if args.get("q") != "author" or not args.get("author"):
            return self.error_response(400, "q=author and author are required", "ILLEGAL_ARGUMENT")
        sort = args.get("sortBy", "LAST_MODIFIED")
        if sort not in ("LAST_MODIFIED", "CREATED"):
            return self.error_response(400, f"Invalid sortBy {sort}", "ILLEGAL_ARGUMENT")
        author = args["author"]
        count = min(int(args.get("count", "10")), 100)
        key = "lastModified" if sort == "LAST_MODIFIED" else "created"
        with self.api_lock:
            mine = [dict(p) for p in self.api.posts if p["author"] == author]
        mine.sort(key=lambda p: p[key]["time"], reverse=True)
        return json_response({"paging": {"start": 0, "count": count, "links": []}, "elements": mine[:count]})

    # ----- images and videos -----------------------------------------------------------------
    def _action(self, request: Request) -> tuple[str | None, dict[str, Any] | None]:
        body = request.get_json(force=True, silent=True)
        return request.args.get("action"), body if isinstance(body, dict) else None

    def images_action(self, request: Request, **_: Any) -> Response:
        action, body = self._action(request)
        init = (body or {}).get("initializeUploadRequest")
        if action != "initializeUpload" or not isinstance(init, dict) or not init.get("owner"):
            return self._unprocessable("/initializeUploadRequest/owner :: field is required but not found")
        if init["owner"] not in (DEMO_MEMBER, DEMO_ORGANIZATION):
            return self.error_response(
                403, f"Not enough permissions to upload images for {init['owner']}", "ACCESS_DENIED"
            )
        with self.api_lock:
            self.api.next_id += 1
            image_id = f"D4D10AQ{self.api.next_id}"
            urn = f"urn:li:image:{image_id}"
            self.api.images[urn] = {"owner": init["owner"], "status": "WAITING_UPLOAD", "size": 0}
        expires = int((time.time() + 86400) * 1000)
        base = f"{request.host_url.rstrip('/')}/{self.provider}"
        return json_response(
            {"value": {"uploadUrlExpiresAt": expires, "uploadUrl": f"{base}/_upload/image/{image_id}", "image": urn}}
        )

    def upload_image(self, request: Request, image_id: str, **_: Any) -> Response:
        data = request.get_data()
        with self.api_lock:
            image = self.api.images.get(f"urn:li:image:{image_id}")
            if image is None:
                return self.error_response(404, "Unknown upload")
            image.update(status="AVAILABLE" if data else "WAITING_UPLOAD", size=len(data))
            self.api.uploads += 1
        return Response(status=201)

    def get_image(self, request: Request, urn: str, **_: Any) -> Response:
        urn = unquote(urn)
        with self.api_lock:
            image = self.api.images.get(urn)
            if image is None:
                return self.error_response(404, f"Image {urn} not found")
            return json_response({"id": urn, "owner": image["owner"], "status": image["status"]})

    def videos_action(self, request: Request, **_: Any) -> Response:
        action, body = self._action(request)
        if action == "initializeUpload":
            return self._video_initialize(request, (body or {}).get("initializeUploadRequest"))
        if action == "finalizeUpload":
            return self._video_finalize((body or {}).get("finalizeUploadRequest"))
        return self.error_response(400, f"Unknown action {action}", "ILLEGAL_ARGUMENT")

    def _video_initialize(self, request: Request, init: Any) -> Response:
        if not isinstance(init, dict):
            return self._unprocessable("/initializeUploadRequest :: field is required but not found")
        problems = [
            f"/initializeUploadRequest/{name} :: field is required but not found"
            for name in ("owner", "fileSizeBytes")
            if name not in init
        ]
        size = init.get("fileSizeBytes")
        if not problems and (not isinstance(size, int) or size <= 0):
            problems.append("/initializeUploadRequest/fileSizeBytes :: must be a positive long")
        if problems or not isinstance(size, int):
            return self._unprocessable(*problems)
        if init["owner"] not in (DEMO_MEMBER, DEMO_ORGANIZATION):
            return self.error_response(
                403, "Accessing this video resource is forbidden. Please check your permissions for this resource"
            )
        with self.api_lock:
            api = self.api
            api.next_id += 1
            video_id = f"C5F10AQ{api.next_id}"
            step = api.part_size
            parts = [(first, min(first + step, size) - 1) for first in range(0, size, step)]
            api.videos[f"urn:li:video:{video_id}"] = _Video(owner=init["owner"], size=size, parts=parts)
        base = f"{request.host_url.rstrip('/')}/{self.provider}/_upload/video/{video_id}"
        return json_response(
            {
                "value": {
                    "uploadUrlsExpireAt": int((time.time() + 86400) * 1000),
                    "video": f"urn:li:video:{video_id}",
                    "uploadInstructions": [
                        {"uploadUrl": f"{base}/{n}", "firstByte": first, "lastByte": last}
                        for n, (first, last) in enumerate(parts)
                    ],
                    "uploadToken": "",
                    "thumbnailUploadUrl": "",
                    "captionsUploadUrl": "",
                }
            }
        )

    def upload_video_part(self, request: Request, video_id: str, part: int, **_: Any) -> Response:
        data = request.get_data()
        with self.api_lock:
            video = self.api.videos.get(f"urn:li:video:{video_id}")
            if video is None or not 0 <= part < len(video.parts):
                return self.error_response(404, "Unknown upload")
            first, last = video.parts[part]
            if len(data) != last - first + 1:
                return self.error_response(400, f"Part {part} must be {last - first + 1} bytes, got {len(data)}")
            etag = f"/ambry-video/signedId/{video_id}-{part}-{len(data)}"
            video.etags[part] = etag
            self.api.uploads += 1
        response = Response(status=200)
        response.headers["ETag"] = etag
        return response

    def _video_finalize(self, final: Any) -> Response:
        if not isinstance(final, dict) or "video" not in final or "uploadedPartIds" not in final:
            return self._unprocessable("/finalizeUploadRequest/video and uploadedPartIds :: fields are required")
        with self.api_lock:
            video = self.api.videos.get(str(final["video"]))
            if video is None:
                return self.error_response(404, f"Video {final['video']} not found")
            expected = [video.etags.get(n) for n in range(len(video.parts))]
            if None in expected or final["uploadedPartIds"] != expected:
                return self.error_response(
                    400, "uploadedPartIds do not match the uploaded parts (all parts, in order)", "ILLEGAL_ARGUMENT"
                )
            video.finalized = True
            video.status = "PROCESSING"
            video.polls_left = self.api.video_processing_polls
            self.api.finalized += 1
        return Response(status=200)

    def get_video(self, request: Request, urn: str, **_: Any) -> Response:
        urn = unquote(urn)
        with self.api_lock:
            video = self.api.videos.get(urn)
            if video is None:
                return self.error_response(404, f"Video {urn} not found")
            self.api.status_polls += 1
            if video.status == "PROCESSING":
                if self.api.video_fail:
                    video.status = "PROCESSING_FAILED"
                elif video.polls_left > 0:
                    video.polls_left -= 1
                else:
                    video.status = "AVAILABLE"
            return json_response({"id": urn, "owner": video.owner, "status": video.status})

    # ----- organizations and statistics ------------------------------------------------------
    def organization_acls(self, request: Request, **_: Any) -> Response:
        if request.args.get("q") != "roleAssignee":
            return self.error_response(400, "Unknown finder", "ILLEGAL_ARGUMENT")
        element = {"roleAssignee": DEMO_MEMBER, "state": "APPROVED", "role": "ADMINISTRATOR"}
        element["organization"] = DEMO_ORGANIZATION
        wanted = {k: request.args.get(k) for k in ("role", "state")}
        matches = all(v is None or v == element[k] for k, v in wanted.items())
        return json_response(
            {"paging": {"start": 0, "count": 10, "links": []}, "elements": [element] if matches else []}
        )

    def share_statistics(self, request: Request, **_: Any) -> Response:
        args = request.args
        entity = args.get("organizationalEntity", "")
        if args.get("q") != "organizationalEntity" or not entity.startswith("urn:li:organization:"):
            return self.error_response(
                400, "q=organizationalEntity and an organization URN are required", "ILLEGAL_ARGUMENT"
            )
        if entity != DEMO_ORGANIZATION:
            return self.error_response(403, f"Not enough permissions to access statistics of {entity}", "ACCESS_DENIED")
        wanted: list[str] = []
        for name in ("shares", "ugcPosts"):
            if name in args:
                match = _LIST.match(args[name])
                if match is None:
                    return self.error_response(400, f"{name} must be a List(...)", "ILLEGAL_ARGUMENT")
                wanted += [unquote(p) for p in match.group(1).split(",") if p]
        if wanted:
            return self._post_statistics(entity, wanted)
        intervals = args.get("timeIntervals")
        if intervals is None:
            return json_response({"elements": [{"organizationalEntity": entity, "totalShareStatistics": _stats(0)}]})
        match = _INTERVAL.match(intervals)
        if match is None or match.group(3) != "DAY":
            return self.error_response(400, f"Invalid timeIntervals {intervals}", "ILLEGAL_ARGUMENT")
        start, end = int(match.group(1)), int(match.group(2))
        # Organic statistics of the rolling 12 months only (share-statistics page).
        oldest = _ms(datetime.now(UTC).date() - timedelta(days=365))
        elements = []
        for day_start in range(start - start % DAY_MS, end, DAY_MS):
            if day_start < oldest or day_start + DAY_MS > end:
                continue
            day = datetime.fromtimestamp(day_start / 1000, UTC).date()
            elements.append(
                {
                    "organizationalEntity": entity,
                    "timeRange": {"start": day_start, "end": day_start + DAY_MS},
                    "totalShareStatistics": _stats(day.toordinal()),
                }
            )
        return json_response({"paging": {"start": 0, "count": 10, "links": []}, "elements": elements})

    def _post_statistics(self, entity: str, urns: list[str]) -> Response:
        with self.api_lock:
            ours = {p["id"] for p in self.api.posts if p["author"] == entity}
        elements = []
        for urn in urns:
            if urn in ours:
                kind = "share" if urn.startswith("urn:li:share:") else "ugcPost"
                seed = int(re.sub(r"\D", "", urn)[-4:] or "0")
                elements.append({"organizationalEntity": entity, kind: urn, "totalShareStatistics": _stats(seed)})
        return json_response({"paging": {"start": 0, "count": 10, "links": []}, "elements": elements})

    # ----- control ---------------------------------------------------------------------------
    def api_control(self, request: Request, **_: Any) -> Response:
        with self.api_lock:
            api = self.api
            if request.method == "POST":
                data = request.get_json(force=True, silent=True) or {}
                if "daily_limit" in data:
                    api.daily_limit = None if data["daily_limit"] is None else int(data["daily_limit"])
                if "slow_publish_seconds" in data:
                    api.slow_publish_seconds = float(data["slow_publish_seconds"] or 0)
                if "video_processing_polls" in data:
                    api.video_processing_polls = int(data["video_processing_polls"])
                if "video_fail" in data:
                    api.video_fail = bool(data["video_fail"])
                if "part_size" in data:
                    api.part_size = max(1, int(data["part_size"]))
                if "sunset" in data:
                    api.sunset = {str(v) for v in data["sunset"] or []}
            return json_response(
                {
                    "switches": {
                        "daily_limit": api.daily_limit,
                        "slow_publish_seconds": api.slow_publish_seconds,
                        "video_processing_polls": api.video_processing_polls,
                        "video_fail": api.video_fail,
                        "part_size": api.part_size,
                        "sunset": sorted(api.sunset),
                    },
                    "live_versions": sorted(LIVE_VERSIONS - api.sunset),
                    "posts": api.posts,
                    "images": api.images,
                    "videos": {
                        urn: {"status": v.status, "size": v.size, "parts": len(v.parts), "uploaded": len(v.etags)}
                        for urn, v in api.videos.items()
                    },
                    "uploads": api.uploads,
                    "finalized": api.finalized,
                    "status_polls": api.status_polls,
                }
            )


def _ms(day: date) -> int:
    return int(datetime.combine(day, datetime.min.time(), tzinfo=UTC).timestamp() * 1000)


def _stats(seed: int) -> dict[str, Any]:
    """Deterministic organic statistics (share-statistics page: ShareStatisticsData)."""
    impressions = 100 + seed % 50
    clicks, likes, comments, shares = seed % 7, seed % 5, seed % 3, seed % 2
    return {
        "impressionCount": impressions,
        "uniqueImpressionsCount": impressions - 10,
        "clickCount": clicks,
        "likeCount": likes,
        "commentCount": comments,
        "shareCount": shares,
        "engagement": round((clicks + likes + comments + shares) / impressions, 6),
    }


SANDBOX = LinkedInSandbox
DEMO_SECRETS = (
    DemoSecret(
        "linkedin",
        lambda base_url: {
            "base_url": base_url,
            "access_token": DEMO_ACCESS_TOKEN,
            "scopes": [
                "email",
                "openid",
                "profile",
                "w_member_social",
                "w_organization_social",
                "r_organization_social",
                "rw_organization_admin",
            ],
        },
    ),
    DemoSecret(
        "linkedin",
        lambda base_url: {
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
            "authorize_url": f"{base_url}/oauth/v2/authorization",
            "token_url": f"{base_url}/oauth/v2/accessToken",
            "api_base_url": base_url,
        },
        org_id="_apps",
    ),
)
