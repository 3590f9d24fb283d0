"""Canva Connect for an org connected through OAuth (README.md has the doc links)."""

from __future__ import annotations

from typing import ClassVar

from hub.providers.base.descriptor import OAuthSpec
from hub.providers.base.oauth import OAuthClient
from hub.providers.canva import OAUTH


class CanvaClient(OAuthClient):
    provider: ClassVar[str] = "canva"
    oauth_spec: ClassVar[OAuthSpec] = OAUTH

    def health_check(self) -> None:
        # https://www.canva.dev/docs/connect/api-reference/users/users-me/ (no scope needed)
        self.request("GET", self.api_url("/v1/users/me"), operation="health")
