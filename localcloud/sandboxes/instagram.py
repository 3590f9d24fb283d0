"""Instagram Login sandbox, mounted at ``/instagram``. Paths as on Instagram's hosts:
``/oauth/authorize`` (www.instagram.com), ``/oauth/access_token`` (api.instagram.com: POST form,
answers ``{"data": [{"access_token", "user_id", "permissions"}]}``), ``/access_token``
(graph.instagram.com, ``grant_type=ig_exchange_token``: the long-lived token, 60 days),
``/refresh_access_token`` (``grant_type=ig_refresh_token``) and ``/me``. OAuth behaviour,
switches and counters: :mod:`localcloud.sandboxes.oauth_server`. Token endpoint errors as
``{"error_type", "code", "error_message"}``; Graph errors as ``{"error": {...}}``
(https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/business-login).
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from localcloud.sandboxes.base import DemoSecret, json_response, reason
from localcloud.sandboxes.oauth_server import OAuthProfile, OAuthSandbox

DEMO_CLIENT_ID = "990602627938098"
DEMO_CLIENT_SECRET = "demo-instagram-app-secret-0123456789"
DEMO_ACCESS_TOKEN = "IGAAdemoInstagramLongLivedAccessToken"
SCOPES = frozenset(
    {
        "instagram_business_basic",
        "instagram_business_content_publish",
        "instagram_business_manage_messages",
        "instagram_business_manage_comments",
    }
)


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
        self.route("/me", ["GET"], self.authorized(self.me))

    def error_response(self, status: int, message: str | None = None) -> Response:
        code = 190 if status == 401 else (4 if status == 429 else 2 if status >= 500 else 100)
        body = {"error": {"message": message or reason(status), "type": "OAuthException", "code": code}}
        return json_response(body, status)

    def unauthorized(self) -> Response:
        return self.error_response(401, "Invalid OAuth access token - Cannot parse access token")

    def me(self, request: Request, **_: Any) -> Response:
        return json_response({"user_id": "17841400000000001", "username": "somosprodutora", "id": "17841400000000001"})


SANDBOX = InstagramSandbox
DEMO_SECRETS = (
    DemoSecret(
        "instagram",
        lambda base_url: {
            "base_url": base_url,
            "access_token": DEMO_ACCESS_TOKEN,
            "scopes": sorted(SCOPES),
            "user_id": "17841400000000001",
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
