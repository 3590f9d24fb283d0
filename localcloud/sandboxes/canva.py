"""Canva Connect sandbox, mounted at ``/canva``. Paths as on Canva's hosts:
``/api/oauth/authorize`` (www.canva.com), ``/rest/v1/oauth/token`` and ``/rest/v1/users/me``
(api.canva.com). OAuth behaviour, switches and counters: :mod:`localcloud.sandboxes.oauth_server`
with Canva's rules (https://www.canva.dev/docs/connect/authentication/): PKCE S256 required,
client authentication by HTTP Basic only, 4-hour access tokens, refresh tokens single-use and
rotated on every refresh (a reused one is ``invalid_grant``). API errors as Canva answers them
(``{"code", "message"}``).
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from localcloud.sandboxes.base import DemoSecret, json_response, reason
from localcloud.sandboxes.oauth_server import OAuthProfile, OAuthSandbox

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
    }
)


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
        self.route("/rest/v1/users/me", ["GET"], self.authorized(self.users_me))

    def error_response(self, status: int, message: str | None = None) -> Response:
        code = "invalid_access_token" if status == 401 else reason(status).lower().replace(" ", "_")
        return json_response({"code": code, "message": message or reason(status)}, status)

    def unauthorized(self) -> Response:
        return self.error_response(401, "Access token is invalid or expired")

    def users_me(self, request: Request, **_: Any) -> Response:
        return json_response({"team_user": {"user_id": "auDAbliZ2rQNNOsUl5OLu", "team_id": "Oi2RJILTrKk0KRhRUZozX"}})


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
