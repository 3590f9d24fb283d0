"""LinkedIn: the member's profile and posts for an org connected through OAuth (README.md)."""

from __future__ import annotations

from typing import ClassVar

from hub.providers.base.descriptor import OAuthSpec
from hub.providers.base.oauth import OAuthClient
from hub.providers.linkedin import OAUTH


class LinkedInClient(OAuthClient):
    provider: ClassVar[str] = "linkedin"
    oauth_spec: ClassVar[OAuthSpec] = OAUTH

    def health_check(self) -> None:
        # https://learn.microsoft.com/en-us/linkedin/consumer/integrations/self-serve/sign-in-with-linkedin-v2
        self.request("GET", self.api_url("/v2/userinfo"), operation="health")
