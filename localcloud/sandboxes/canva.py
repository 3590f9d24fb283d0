"""Canva Connect sandbox, mounted at ``/canva``. Paths as on Canva's hosts:
``/api/oauth/authorize`` (www.canva.com), ``/rest/v1/oauth/token`` and ``/rest/v1/users/me``
(api.canva.com). OAuth behaviour, switches and counters: :mod:`localcloud.sandboxes.oauth_server`
with Canva's rules (https://www.canva.dev/docs/connect/authentication/): PKCE S256 required,
client authentication by HTTP Basic only, 4-hour access tokens, refresh tokens single-use and
rotated on every refresh (a reused one is ``invalid_grant``). API errors as Canva answers them
(``{"code", "message"}``).

Design endpoints (Bearer token; Canva's published contract, doc links in
hub/providers/canva/README.md):

* ``GET /rest/v1/brand-templates`` and ``GET /rest/v1/brand-templates/{id}/dataset`` (the demo
  template ``DEMO_BRAND_TEMPLATE_ID`` has text fields ``headline`` and ``price``, image ``photo``);
* ``POST /rest/v1/autofills`` {brand_template_id, title?, data: {field: {type: text, text} |
  {type: image, asset_id}}} → ``{"job": {id, status: in_progress}}``; an unknown template is 404,
  an unknown field or a wrong type 400; ``GET /rest/v1/autofills/{id}`` stays ``in_progress`` for
  ``polls_to_finish`` polls, then ``success`` with ``result.design``;
* ``POST /rest/v1/exports`` {design_id, format: {type: png|jpg|pdf}} → job, ``GET
  /rest/v1/exports/{id}`` in_progress the same way, then ``urls`` served by the sandbox at
  ``/canva/export-files/{id}/{n}.{ext}`` (no auth, as Canva's pre-signed download URLs);
  more than ``export_limit`` exports per user per 5 minutes is Canva's 429 ``too_many_requests``.

Switches (``POST /canva/_sandbox/design`` {..}, GET reads them and the counters):
``polls_to_finish`` (default 1), ``plan_required`` (brand templates and autofill answer 403
``permission_denied``, as for a user without the plan), ``autofill_fails``, ``export_fails``,
``export_limit``. The shared faults (down, slow, 5xx, rate_limited) apply to every path.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Request, Response

from localcloud.sandboxes.base import DemoSecret, json_response, reason
from localcloud.sandboxes.oauth_server import OAuthProfile, OAuthSandbox
from localcloud.sandboxes.replicate import tiny_png

DEMO_CLIENT_ID = "OC-demoCanvaClient"
DEMO_CLIENT_SECRET = "cnvca-demo-canva-client-secret"
DEMO_ACCESS_TOKEN = (
    "JagALLazU0i2ld9WW4zTO4kaG0lkvP8Y5sSO206ZwxNF4E1y3xKJKF7TzN17BXTfaNOeY0P88AeRCE6cRF7SJzvf3Sx97rA80sGHtFplFo"
)
DEMO_REFRESH_TOKEN = "JABix5nolsk9k8n5r0Ss-demo-canva-refresh"
SCOPES = frozenset(
    {
        "profile:read",
        "design:meta:read",
        "design:content:read",
        "design:content:write",
        "asset:read",
        "asset:write",
        "folder:read",
        "brandtemplate:meta:read",
        "brandtemplate:content:read",
    }
)
DEMO_BRAND_TEMPLATE_ID = "DAFVztcvd9z"
BRAND_TEMPLATES: dict[str, dict[str, Any]] = {
    DEMO_BRAND_TEMPLATE_ID: {
        "title": "Oferta da semana",
        "dataset": {"headline": {"type": "text"}, "price": {"type": "text"}, "photo": {"type": "image"}},
    }
}
EXPORT_WINDOW_SECONDS = 300
EXTENSIONS = {"png": "png", "jpg": "jpg", "pdf": "pdf"}
CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg", "pdf": "application/pdf"}
PNG = tiny_png(16, (20, 120, 200))
# A one-page PDF (stands in for Canva's rendered file).
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


@dataclass
class DesignSwitches:
    polls_to_finish: int = 1
    plan_required: bool = False
    autofill_fails: bool = False
    export_fails: bool = False
    export_limit: int = 75


@dataclass
class DesignState:
    switches: DesignSwitches = field(default_factory=DesignSwitches)
    autofills: dict[str, dict[str, Any]] = field(default_factory=dict)
    exports: dict[str, dict[str, Any]] = field(default_factory=dict)
    export_times: list[float] = field(default_factory=list)
    ids: Any = field(default_factory=itertools.count)


class CanvaSandbox(OAuthSandbox):
    provider = "canva"
    profile = OAuthProfile(
        client_id=DEMO_CLIENT_ID,
        client_secret=DEMO_CLIENT_SECRET,
        authorize_path="/api/oauth/authorize",
        exchange_path="/rest/v1/oauth/token",
        scopes=SCOPES,
        demo_access_token=DEMO_ACCESS_TOKEN,
        demo_refresh_token=DEMO_REFRESH_TOKEN,
        pkce="required",
        client_auth="basic",
        access_token_lifetime=14_400,
        rotating_refresh_token=True,
    )

    def __init__(self) -> None:
        super().__init__()
        self.design = DesignState()
        self.route("/rest/v1/users/me", ["GET"], self.authorized(self.users_me))
        self.route("/rest/v1/brand-templates", ["GET"], self.authorized(self.brand_templates))
        self.route("/rest/v1/brand-templates/<template_id>/dataset", ["GET"], self.authorized(self.dataset))
        self.route("/rest/v1/autofills", ["POST"], self.authorized(self.create_autofill))
        self.route("/rest/v1/autofills/<job_id>", ["GET"], self.authorized(self.get_autofill))
        self.route("/rest/v1/exports", ["POST"], self.authorized(self.create_export))
        self.route("/rest/v1/exports/<job_id>", ["GET"], self.authorized(self.get_export))
        self.route("/export-files/<job_id>/<filename>", ["GET"], self.export_file)
        self.route("/_sandbox/design", ["GET", "POST"], self.design_control)

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self.design = DesignState()

    def error_response(self, status: int, message: str | None = None) -> Response:
        code = "invalid_access_token" if status == 401 else reason(status).lower().replace(" ", "_")
        return json_response({"code": code, "message": message or reason(status)}, status)

    def unauthorized(self) -> Response:
        return self.error_response(401, "Access token is invalid or expired")

    def users_me(self, request: Request, **_: Any) -> Response:
        return json_response({"team_user": {"user_id": "auDAbliZ2rQNNOsUl5OLu", "team_id": "Oi2RJILTrKk0KRhRUZozX"}})

    # ----- design: brand templates, autofill, export ---------------------------------------------
    def _error(self, status: int, code: str, message: str) -> Response:
        return json_response({"code": code, "message": message}, status)

    def _plan_refusal(self) -> Response | None:
        if self.design.switches.plan_required:
            return self._error(403, "permission_denied", "The user must be a member of a Canva Enterprise organization")
        return None

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self.design.ids):06d}"

    def brand_templates(self, request: Request, **_: Any) -> Response:
        with self.lock:
            refused = self._plan_refusal()
        if refused:
            return refused
        items = [{"id": key, "title": value["title"]} for key, value in BRAND_TEMPLATES.items()]
        return json_response({"items": items})

    def dataset(self, request: Request, template_id: str, **_: Any) -> Response:
        with self.lock:
            refused = self._plan_refusal()
        if refused:
            return refused
        template = BRAND_TEMPLATES.get(template_id)
        if template is None:
            return self._error(404, "not_found", f"Brand template {template_id} not found")
        return json_response({"dataset": template["dataset"]})

    def create_autofill(self, request: Request, **_: Any) -> Response:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("brand_template_id"), str):
            return self._error(400, "invalid_field", "brand_template_id is required")
        if not isinstance(body.get("data"), dict):
            return self._error(400, "invalid_field", "data is required")
        title = body.get("title")
        if title is not None and (not isinstance(title, str) or not 1 <= len(title) <= 255):
            return self._error(400, "invalid_field", "title must be 1..255 characters")
        with self.lock:
            refused = self._plan_refusal()
            if refused:
                return refused
            template = BRAND_TEMPLATES.get(body["brand_template_id"])
            if template is None:
                return self._error(404, "not_found", f"Brand template {body['brand_template_id']} not found")
            for name, value in body["data"].items():
                spec = template["dataset"].get(name)
                if spec is None:
                    return self._error(400, "invalid_field", f"Data field {name} is not in the brand template")
                kind = value.get("type") if isinstance(value, dict) else None
                if kind != spec["type"]:
                    return self._error(400, "invalid_field", f"Data field {name} must be of type {spec['type']}")
                needed = "text" if kind == "text" else "asset_id"
                if not isinstance(value.get(needed), str):
                    return self._error(400, "invalid_field", f"Data field {name} needs {needed}")
            job_id = self._next_id("autofill-")
            self.design.autofills[job_id] = {"polls": 0, "title": title or template["title"]}
        return json_response({"job": {"id": job_id, "status": "in_progress"}})

    def get_autofill(self, request: Request, job_id: str, **_: Any) -> Response:
        with self.lock:
            job = self.design.autofills.get(job_id)
            if job is None:
                return self._error(404, "not_found", f"Autofill job {job_id} not found")
            job["polls"] += 1
            switches = self.design.switches
            if job["polls"] < switches.polls_to_finish:
                return json_response({"job": {"id": job_id, "status": "in_progress"}})
            if switches.autofill_fails:
                error = {"code": "autofill_error", "message": "Error autofilling design from brand template"}
                return json_response({"job": {"id": job_id, "status": "failed", "error": error}})
            design_id = "DAF" + job_id.split("-")[1]
            design = {"id": design_id, "title": job["title"], "url": f"https://www.canva.com/design/{design_id}/edit"}
        return json_response(
            {"job": {"id": job_id, "status": "success", "result": {"type": "create_design", "design": design}}}
        )

    def create_export(self, request: Request, **_: Any) -> Response:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("design_id"), str):
            return self._error(400, "invalid_field", "design_id is required")
        fmt = body.get("format")
        kind = fmt.get("type") if isinstance(fmt, dict) else None
        if kind not in EXTENSIONS:
            return self._error(400, "invalid_field", "format.type must be one of png, jpg, pdf (sandbox subset)")
        now = time.time()
        with self.lock:
            times = [t for t in self.design.export_times if t > now - EXPORT_WINDOW_SECONDS]
            if len(times) >= self.design.switches.export_limit:
                self.design.export_times = times
                return self._error(429, "too_many_requests", "Too many export requests")
            times.append(now)
            self.design.export_times = times
            job_id = self._next_id("export-")
            self.design.exports[job_id] = {"polls": 0, "format": kind, "design_id": body["design_id"]}
        return json_response({"job": {"id": job_id, "status": "in_progress"}})

    def get_export(self, request: Request, job_id: str, **_: Any) -> Response:
        with self.lock:
            job = self.design.exports.get(job_id)
            if job is None:
                return self._error(404, "not_found", f"Export job {job_id} not found")
            job["polls"] += 1
            switches = self.design.switches
            if job["polls"] < switches.polls_to_finish:
                return json_response({"job": {"id": job_id, "status": "in_progress"}})
            if switches.export_fails:
                error = {"code": "internal_failure", "message": "The export failed"}
                return json_response({"job": {"id": job_id, "status": "failed", "error": error}})
        url = f"{request.host_url}canva/export-files/{job_id}/1.{EXTENSIONS[job['format']]}"
        return json_response({"job": {"id": job_id, "status": "success", "urls": [url]}})

    def export_file(self, request: Request, job_id: str, filename: str, **_: Any) -> Response:
        with self.lock:
            job = self.design.exports.get(job_id)
        if job is None or filename != f"1.{EXTENSIONS[job['format']]}":
            return Response(b"not found", status=404, content_type="text/plain")
        data = PDF if job["format"] == "pdf" else PNG
        return Response(data, status=200, content_type=CONTENT_TYPES[job["format"]])

    def design_control(self, request: Request, **_: Any) -> Response:
        with self.lock:
            switches = self.design.switches
            if request.method == "POST":
                data = request.get_json(force=True, silent=True) or {}
                for name in ("polls_to_finish", "export_limit"):
                    if name in data:
                        setattr(switches, name, int(data[name]))
                for name in ("plan_required", "autofill_fails", "export_fails"):
                    if name in data:
                        setattr(switches, name, bool(data[name]))
            return json_response(
                {
                    "switches": vars(switches),
                    "autofills": len(self.design.autofills),
                    "exports": len(self.design.exports),
                }
            )


SANDBOX = CanvaSandbox
DEMO_SECRETS = (
    DemoSecret(
        "canva",
        lambda base_url: {
            "base_url": f"{base_url}/rest",
            "access_token": DEMO_ACCESS_TOKEN,
            "refresh_token": DEMO_REFRESH_TOKEN,
            "scopes": sorted(SCOPES - {"folder:read"}),
        },
    ),
    DemoSecret(
        "canva",
        lambda base_url: {
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
            "authorize_url": f"{base_url}/api/oauth/authorize",
            "token_url": f"{base_url}/rest/v1/oauth/token",
            "api_base_url": f"{base_url}/rest",
        },
        org_id="_apps",
    ),
)
