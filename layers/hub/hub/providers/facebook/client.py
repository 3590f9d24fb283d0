"""Facebook (Graph API) for an org connected through Facebook Login (README.md has the doc links)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from hub.providers.base.client import ProviderCredentials
from hub.providers.base.descriptor import OAuthSpec
from hub.providers.base.oauth import OAuthClient, OAuthCredentials
from hub.providers.facebook import GRAPH_VERSION, OAUTH


class FacebookCredentials(OAuthCredentials):
    # The Graph version the token was obtained with (the callback stores it): paths use it.
    graph_version: str | None = Field(None, pattern=r"^v[0-9]+\.[0-9]+$")


class FacebookClient(OAuthClient):
    provider: ClassVar[str] = "facebook"
    oauth_spec: ClassVar[OAuthSpec] = OAUTH
    credentials_model: ClassVar[type[ProviderCredentials]] = FacebookCredentials

    def health_check(self) -> None:
        # https://developers.facebook.com/docs/graph-api/overview#me
        assert isinstance(self.credentials, FacebookCredentials)
        version = self.credentials.graph_version or GRAPH_VERSION
        self.request("GET", self.api_url(f"/{version}/me"), params={"fields": "id"}, operation="health")
