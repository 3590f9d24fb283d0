"""LinkedIn sandbox (OAuth2 3-legged flow + OpenID userinfo), mounted at ``/linkedin``. Paths
as on LinkedIn's hosts: ``/oauth/v2/authorization`` and ``/oauth/v2/accessToken``
(www.linkedin.com), ``/v2/userinfo`` (api.linkedin.com). OAuth behaviour, switches and
counters: :mod:`localcloud.sandboxes.oauth_server` (no PKCE for web apps, client credentials in
the form, 60-day access tokens, no refresh tokens: LinkedIn issues them to approved partners
only). API errors as LinkedIn answers them (``{"status", "serviceErrorCode", "code", "message"}``).
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from localcloud.sandboxes.base import DemoSecret, json_response, reason
from localcloud.sandboxes.oauth_server import OAuthProfile, OAuthSandbox

DEMO_CLIENT_ID = "86demolinkedin"
DEMO_CLIENT_SECRET = "WPL_AP1.demo-linkedin-secret"
DEMO_ACCESS_TOKEN = "AQVdemo-linkedin-access-token"
SCOPES = frozenset({"openid", "profile", "email", "w_member_social", "r_basicprofile"})


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
        self.route("/v2/userinfo", ["GET"], self.authorized(self.userinfo))

    def error_response(self, status: int, message: str | None = None) -> Response:
        code = "INVALID_ACCESS_TOKEN" if status == 401 else reason(status).upper().replace(" ", "_")
        body = {"status": status, "serviceErrorCode": 65600 if status == 401 else 0, "code": code}
        body["message"] = message or reason(status)
        return json_response(body, status)

    def unauthorized(self) -> Response:
        return self.error_response(401, "Invalid access token")

    def userinfo(self, request: Request, **_: Any) -> Response:
        return json_response(
            {
                "sub": "782bbtaQ",
                "name": "Somos Produtora",
                "given_name": "Somos",
                "family_name": "Produtora",
                "email": "contato@somosprodutora.com.br",
                "email_verified": True,
                "locale": {"country": "BR", "language": "pt"},
            }
        )


SANDBOX = LinkedInSandbox
DEMO_SECRETS = (
    DemoSecret(
        "linkedin",
        lambda base_url: {
            "base_url": base_url,
            "access_token": DEMO_ACCESS_TOKEN,
            "scopes": ["email", "openid", "profile", "w_member_social"],
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
