"""Meta app sandbox (key ``meta``), mounted at ``/meta``: the app's webhook subscriptions.

The WhatsApp Cloud API fake is ``whatsapp_cloud.py``; webhooks are received by the hub itself.
Auth: the app access token ``{app-id}|{app-secret}`` as ``Authorization: Bearer`` or the
``access_token`` parameter (https://developers.facebook.com/docs/facebook-login/guides/access-tokens#apptokens);
anything else → 400 OAuthException code 190, a token of another app → 400 code 100.

Implemented (https://developers.facebook.com/docs/graph-api/reference/app/subscriptions/,
https://developers.facebook.com/docs/graph-api/webhooks/subscriptions-edge):

* ``GET /{version}/{app-id}?fields=id,name`` → the app (``{"id", "name"}``).
* ``POST /{version}/{app-id}/subscriptions`` (form or query: ``object`` one of
  :data:`OBJECT_FIELDS`, ``callback_url`` http(s), ``fields`` comma-separated names known for the
  object, ``verify_token``, ``include_values``?) → ``{"success": true}``. As Meta does, the call
  first sends the verification request to the callback — ``GET callback_url?hub.mode=subscribe
  &hub.challenge=<n>&hub.verify_token=<token>`` — and refuses the subscription (400, code 2200
  "callback verification failed") unless it answers 200 with the challenge. ``verify_callback``
  (a callable ``(url, params) -> (status, body)``) makes that request; tests replace it to reach
  the hub's receiver in-process. Subscribing an object again replaces its subscription.
* ``GET /{version}/{app-id}/subscriptions`` → ``{"data": [{"object", "callback_url", "active",
  "fields": [{"name", "version"}]}]}``.
* ``DELETE /{version}/{app-id}/subscriptions?object=`` → ``{"success": true}``.
* :meth:`MetaSandbox.webhook_delivery` builds the POST Meta sends to the object's subscription
  (``X-Hub-Signature-256: sha256=<HMAC of the body with the app secret>``): tests post it to the hub.

Errors: the Graph body ``{"error": {"message", "type", "code", "fbtrace_id"}}``; faults answer 429
code 4 ("Application request limit reached") and 5xx code 2.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable
from typing import Any

import httpx
from werkzeug.wrappers import Request, Response

from localcloud.demo import DEMO_CLOUD_ORG_ID
from localcloud.sandboxes.base import DemoSecret, Sandbox, json_response
from localcloud.sandboxes.whatsapp_cloud import graph_error

DEMO_APP_ID = "1234567890123456"
DEMO_APP_SECRET = "demo-meta-app-secret"
DEMO_VERIFY_TOKEN = "demo-meta-verify-token"
# Fields an app may subscribe to, per object (a subset: what the hub and its tests use and a few
# neighbours; https://developers.facebook.com/docs/graph-api/webhooks/reference).
OBJECT_FIELDS: dict[str, frozenset[str]] = {
    "whatsapp_business_account": frozenset(
        {"messages", "message_template_status_update", "account_update", "phone_number_quality_update"}
    ),
    "instagram": frozenset({"comments", "messages", "mentions", "story_insights"}),
    "page": frozenset({"feed", "messages", "mention", "ratings"}),
    "user": frozenset({"photos", "feed", "email"}),
}
_HTTP_URL = re.compile(r"^https?://[^\s/]+")
VerifyCallback = Callable[[str, dict[str, str]], tuple[int, str]]


def http_verify_callback(url: str, params: dict[str, str]) -> tuple[int, str]:
    """Meta's verification request, over HTTP (what the local cloud uses)."""
    try:
        response = httpx.get(url, params=params, timeout=5.0)
    except httpx.HTTPError as exc:
        return 0, type(exc).__name__
    return response.status_code, response.text


class MetaSandbox(Sandbox):
    provider = "meta"

    def __init__(self, app_id: str = DEMO_APP_ID, app_secret: str = DEMO_APP_SECRET) -> None:
        super().__init__()
        self.app_id = app_id
        self.app_secret = app_secret
        self.verify_callback: VerifyCallback = http_verify_callback
        # object -> {"object", "callback_url", "active", "fields": [...], "verify_token"}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.route("/<version>/<app_id>", ["GET"], self.get_app)
        self.route("/<version>/<app_id>/subscriptions", ["POST"], self.subscribe)
        self.route("/<version>/<app_id>/subscriptions", ["GET"], self.list_subscriptions)
        self.route("/<version>/<app_id>/subscriptions", ["DELETE"], self.unsubscribe)

    def error_response(self, status: int, message: str | None = None) -> Response:
        if status == 429:
            return graph_error(429, 4, "(#4) Application request limit reached")
        if status >= 500:
            return graph_error(status, 2, "An unexpected error has occurred. Please retry your request later.")
        if status == 401:
            return graph_error(400, 190, message or "Invalid OAuth access token - Cannot parse access token")
        return graph_error(status, 100, message or "(#100) Invalid parameter")

    def not_found(self, request: Request, subpath: str) -> Response:
        return graph_error(400, 100, f"Unsupported request - method type: {request.method.lower()}")

    def reset(self) -> None:
        with self.lock:
            self.subscriptions.clear()
            self.verify_callback = http_verify_callback

    def _guard(self, request: Request, app_id: str) -> Response | None:
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.lower().startswith("bearer ") else request.values.get("access_token", "")
        expected = f"{self.app_id}|{self.app_secret}"
        if not token or not secrets.compare_digest(token, expected):
            return graph_error(400, 190, "Invalid OAuth access token - Cannot parse access token")
        if app_id != self.app_id:
            return graph_error(400, 100, f"(#100) The app {app_id} does not exist or the token is of another app")
        return None

    def get_app(self, request: Request, version: str, app_id: str) -> Response:
        denied = self._guard(request, app_id)
        if denied is not None:
            return denied
        return json_response({"id": self.app_id, "name": "Somos Produtora (demo app)"})

    def subscribe(self, request: Request, version: str, app_id: str) -> Response:
        denied = self._guard(request, app_id)
        if denied is not None:
            return denied
        params = request.values
        obj, url = params.get("object", ""), params.get("callback_url", "")
        names = [f.strip() for f in params.get("fields", "").split(",") if f.strip()]
        token = params.get("verify_token", "")
        if obj not in OBJECT_FIELDS:
            return graph_error(400, 100, "(#100) Param object must be one of " + ", ".join(sorted(OBJECT_FIELDS)))
        if not _HTTP_URL.match(url):
            return graph_error(400, 100, "(#100) Param callback_url must be a valid URL")
        if not names:
            return graph_error(400, 100, "(#100) Param fields is required")
        unknown = [f for f in names if f not in OBJECT_FIELDS[obj]]
        if unknown:
            return graph_error(400, 100, f"(#100) Invalid field {unknown[0][:60]} for object {obj}")
        if not token:
            return graph_error(400, 100, "(#100) Param verify_token is required")
        challenge = str(secrets.randbelow(10**9))
        status, body = self.verify_callback(
            url, {"hub.mode": "subscribe", "hub.challenge": challenge, "hub.verify_token": token}
        )
        if status != 200 or body.strip() != challenge:
            return graph_error(
                400,
                2200,
                "(#2200) callback verification failed: The URL couldn't be validated. Response does not match "
                f'challenge, expected value="{challenge}", received="{body[:40]}"',
            )
        with self.lock:
            self.subscriptions[obj] = {
                "object": obj,
                "callback_url": url,
                "active": True,
                "fields": [{"name": f, "version": version} for f in dict.fromkeys(names)],
                "verify_token": token,
            }
        return json_response({"success": True})

    def list_subscriptions(self, request: Request, version: str, app_id: str) -> Response:
        denied = self._guard(request, app_id)
        if denied is not None:
            return denied
        with self.lock:
            data = [{k: v for k, v in s.items() if k != "verify_token"} for s in self.subscriptions.values()]
        return json_response({"data": data})

    def unsubscribe(self, request: Request, version: str, app_id: str) -> Response:
        denied = self._guard(request, app_id)
        if denied is not None:
            return denied
        obj = request.values.get("object")
        with self.lock:
            if obj:
                self.subscriptions.pop(obj, None)
            else:
                self.subscriptions.clear()
        return json_response({"success": True})

    def webhook_delivery(self, payload: dict[str, Any]) -> tuple[str, dict[str, str], bytes] | None:
        """The POST Meta sends for ``payload`` (``{"object", "entry": [...]}``) to the object's
        subscription, signed with the app secret; None when the object is not subscribed."""
        with self.lock:
            subscription = self.subscriptions.get(str(payload.get("object")))
        if subscription is None:
            return None
        body = json.dumps(payload).encode("utf-8")
        signature = hmac.new(self.app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={signature}"}
        return subscription["callback_url"], headers, body


def _demo(base_url: str) -> dict[str, Any]:
    return {
        "base_url": base_url,
        "app_id": DEMO_APP_ID,
        "app_secret": DEMO_APP_SECRET,
        "verify_token": DEMO_VERIFY_TOKEN,
    }


# Self-registration: the local cloud serves SANDBOX at /meta and seeds DEMO_SECRETS.
SANDBOX = MetaSandbox
DEMO_SECRETS = (
    DemoSecret("meta", _demo),
    DemoSecret("meta", _demo, org_id=DEMO_CLOUD_ORG_ID),
)
