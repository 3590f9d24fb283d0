"""Google: Calendar for an org connected through OAuth (README.md has the doc links); YouTube is
the ``youtube`` provider."""

from __future__ import annotations

from typing import ClassVar

from hub.providers.base.descriptor import OAuthSpec
from hub.providers.base.oauth import OAuthClient
from hub.providers.google import OAUTH


class GoogleClient(OAuthClient):
    provider: ClassVar[str] = "google"
    oauth_spec: ClassVar[OAuthSpec] = OAUTH

    def health_check(self) -> None:
        # The cheapest call the granted scopes allow: one calendar of the user's list.
        # https://developers.google.com/calendar/api/v3/reference/calendarList/list
        self.request(
            "GET", self.api_url("/calendar/v3/users/me/calendarList"), params={"maxResults": 1}, operation="health"
        )
