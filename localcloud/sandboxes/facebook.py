"""Facebook Login sandbox, mounted at ``/facebook``. Paths as on Meta's hosts, with the Graph
version in the path as there: ``/{version}/dialog/oauth`` (www.facebook.com),
``/{version}/oauth/access_token`` (graph.facebook.com: the code exchange, a GET with query
parameters, and the long-lived exchange ``grant_type=fb_exchange_token``), ``/{version}/me``.
OAuth behaviour, switches and counters: :mod:`localcloud.sandboxes.oauth_server` (no PKCE,
comma-separated scopes, short-lived tokens of 1-2 hours, long-lived ones of ~60 days; the token
answer reports no scopes). Errors in the Graph format ``{"error": {"message", "type", "code",
"fbtrace_id"}}`` (https://developers.facebook.com/docs/graph-api/guides/error-handling).
"""

from __future__ import annotations

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
        self.route("/<version>/me", ["GET"], self.authorized(self.me))

    def error_response(self, status: int, message: str | None = None) -> Response:
        code = 190 if status == 401 else (4 if status == 429 else 2 if status >= 500 else 100)
        kind = "OAuthException" if status in (400, 401, 403) else "FacebookApiException"
        body = {"error": {"message": message or reason(status), "type": kind, "code": code, "fbtrace_id": "Sandbox01"}}
        return json_response(body, status)

    def unauthorized(self) -> Response:
        return self.error_response(401, "Error validating access token: Session has expired or is invalid.")

    def me(self, request: Request, **_: Any) -> Response:
        return json_response({"id": "10160000000000001", "name": "Somos Produtora"})


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
