"""Instagram (Instagram Login) for an org's professional account (README.md has the doc links)."""

from __future__ import annotations

from typing import ClassVar

from hub.providers.base.descriptor import OAuthSpec
from hub.providers.base.oauth import OAuthClient
from hub.providers.instagram import OAUTH


class InstagramClient(OAuthClient):
    provider: ClassVar[str] = "instagram"
    oauth_spec: ClassVar[OAuthSpec] = OAUTH

    def health_check(self) -> None:
        # https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/get-started
        self.request("GET", self.api_url("/me"), params={"fields": "user_id,username"}, operation="health")
