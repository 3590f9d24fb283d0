"""Google sandbox (OAuth2 + Calendar's cheapest read), mounted at ``/google``. Calendar scopes
only: YouTube is its own sandbox (``localcloud/sandboxes/youtube.py``). Paths as on
Google's hosts: ``/o/oauth2/v2/auth`` (accounts.google.com), ``/token`` (oauth2.googleapis.com),
``/calendar/v3/users/me/calendarList`` (www.googleapis.com); the app secret ``_apps/google``
points the hub at them. OAuth behaviour, switches and counters: :mod:`localcloud.sandboxes.oauth_server`
(PKCE S256 optional as at Google, HTTP Basic or body client auth, refresh tokens that do not
rotate, 1-hour access tokens). API errors in Google's JSON error format
(https://cloud.google.com/apis/design/errors#http_mapping).
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from localcloud.sandboxes.base import DemoSecret, json_response, reason
from localcloud.sandboxes.oauth_server import OAuthProfile, OAuthSandbox

DEMO_CLIENT_ID = "123456789012-demo.apps.googleusercontent.com"
DEMO_CLIENT_SECRET = "GOCSPX-demo-google-client-secret"
DEMO_ACCESS_TOKEN = "ya29.demo-google-access-token"
DEMO_REFRESH_TOKEN = "1//demo-google-refresh-token"
SCOPES = frozenset(
    {
        "https://www.googleapis.com/auth/calendar.events",
        "https://www.googleapis.com/auth/calendar.calendarlist.readonly",
        "https://www.googleapis.com/auth/calendar.readonly",
        "openid",
        "email",
        "profile",
    }
)
_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND"}


def google_oauth_profile(
    client_id: str, client_secret: str, scopes: frozenset[str], access_token: str, refresh_token: str
) -> OAuthProfile:
    """Google's authorization server (accounts.google.com / oauth2.googleapis.com): the same for
    every Google API an org connects (Calendar here, YouTube in its own sandbox)."""
    return OAuthProfile(
        client_id=client_id,
        client_secret=client_secret,
        authorize_path="/o/oauth2/v2/auth",
        exchange_path="/token",
        scopes=scopes,
        demo_access_token=access_token,
        demo_refresh_token=refresh_token,
        pkce="optional",
        access_token_lifetime=3599,
    )


class GoogleSandbox(OAuthSandbox):
    provider = "google"
    profile = google_oauth_profile(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, SCOPES, DEMO_ACCESS_TOKEN, DEMO_REFRESH_TOKEN)

    def __init__(self) -> None:
        super().__init__()
        self.route("/calendar/v3/users/me/calendarList", ["GET"], self.authorized(self.calendar_list))

    def error_response(self, status: int, message: str | None = None) -> Response:
        status_name = _STATUS.get(status, "UNAVAILABLE" if status >= 500 else "FAILED_PRECONDITION")
        body = {"error": {"code": status, "message": message or reason(status), "status": status_name}}
        return json_response(body, status)

    def unauthorized(self) -> Response:
        return self.error_response(401, "Request had invalid authentication credentials.")

    def calendar_list(self, request: Request, **_: Any) -> Response:
        items = [{"kind": "calendar#calendarListEntry", "id": "primary", "summary": "Somos Produtora", "primary": True}]
        limit = int(request.args.get("maxResults", "100"))
        return json_response({"kind": "calendar#calendarList", "etag": '"p33c"', "items": items[:limit]})


SANDBOX = GoogleSandbox
DEMO_SECRETS = (
    # The demo org, as if it had connected: a token the sandbox always accepts.
    DemoSecret(
        "google",
        lambda base_url: {
            "base_url": base_url,
            "access_token": DEMO_ACCESS_TOKEN,
            "refresh_token": DEMO_REFRESH_TOKEN,
            "scopes": sorted(SCOPES - {"openid", "email", "profile"}),
            "token_type": "Bearer",
        },
    ),
    # The hub's Google app (not per org), with the sandbox's URLs.
    DemoSecret(
        "google",
        lambda base_url: {
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
            "authorize_url": f"{base_url}/o/oauth2/v2/auth",
            "token_url": f"{base_url}/token",
            "api_base_url": base_url,
        },
        org_id="_apps",
    ),
)
