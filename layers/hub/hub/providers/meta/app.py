"""Meta app (key ``meta``): the app's own Graph API calls — its webhook subscriptions.

The provider's API facts this module relies on, with their doc links: README.md.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr

from hub.errors import InvalidRequestError, ProviderUnavailableError
from hub.providers.base.client import OptionalSecret, ProviderCredentials
from hub.providers.base.webhook import WebhookRegistration, webhook_target
from hub.providers.meta.graph import GraphApiClient
from hub.providers.meta.whatsapp_cloud import DEFAULT_GRAPH_VERSION

PROVIDER = "meta"
# What the hub's receiver normalises (webhook.py): object → the fields subscribed. WhatsApp Cloud
# API "messages" (messages and statuses), Instagram "comments" and "mentions", Pages "feed" and "mention".
# https://developers.facebook.com/docs/graph-api/webhooks/reference (fields per object).
SUBSCRIPTIONS: dict[str, tuple[str, ...]] = {
    "whatsapp_business_account": ("messages",),
    "instagram": ("comments", "mentions"),
    "page": ("feed", "mention"),
}


class MetaAppCredentials(ProviderCredentials):
    """The ``meta`` secret: the webhook's fields (webhook.py) plus the app id its API calls need."""

    app_id: str = Field(pattern=r"^[0-9]{1,20}$")
    app_secret: SecretStr = Field(min_length=1)
    previous_app_secret: OptionalSecret = None
    verify_token: SecretStr = Field(min_length=1)
    graph_version: str | None = Field(None, pattern=r"^v[0-9]+\.[0-9]+$")


class MetaAppClient(GraphApiClient):
    """Graph API calls made as the app (an app access token ``{app-id}|{app-secret}``,
    https://developers.facebook.com/docs/facebook-login/guides/access-tokens#apptokens)."""

    provider: ClassVar[str] = PROVIDER
    credentials_model: ClassVar[type[ProviderCredentials]] = MetaAppCredentials
    graph_version: ClassVar[str] = DEFAULT_GRAPH_VERSION
    idempotency_header: ClassVar[str | None] = None

    credentials: MetaAppCredentials

    def auth_headers(self) -> dict[str, str]:
        creds = self.credentials
        return {"Authorization": f"Bearer {creds.app_id}|{creds.app_secret.get_secret_value()}"}

    def api_version(self) -> str:
        return self.credentials.graph_version or self.graph_version

    # https://developers.facebook.com/docs/graph-api/webhooks/subscriptions-edge and
    # https://developers.facebook.com/docs/graph-api/reference/app/subscriptions/ : POST
    # /{app-id}/subscriptions with object, callback_url, fields, verify_token → {"success": true}.
    # Meta sends the verification GET (hub.mode=subscribe, hub.verify_token, hub.challenge) to the
    # callback while the call runs and refuses the subscription when it is not answered.
    def register_webhook(self, url: str, secret: str, *, existing_id: str | None = None) -> WebhookRegistration:
        """Subscribe the app to each object the receiver normalises, at ``url``. The verify token
        sent is the stored ``verify_token`` — what the hub's ``GET /webhooks/meta/{org_id}``
        compares while Meta verifies the callback during this call — so ``secret`` is not used,
        and nothing new is stored: deliveries are signed with the app secret (reset in the App
        Dashboard). Subscribing again replaces the object's subscription, so a retry is
        harmless; ``provider_webhook_id`` is the app id (the subscriptions belong to the app)."""
        webhook_target(url, provider=self.provider)
        path = f"/{self.api_version()}/{self.credentials.app_id}/subscriptions"
        for obj, fields in SUBSCRIPTIONS.items():
            data = {
                "object": obj,
                "callback_url": url,
                "fields": ",".join(fields),
                "verify_token": self.credentials.verify_token.get_secret_value(),
                "include_values": "true",
            }
            answer = self.json_object(self.request("POST", path, data=data, operation="register_webhook"))
            if answer.get("success") not in (True, "true"):
                raise ProviderUnavailableError(
                    f"meta did not confirm the {obj} subscription", provider=self.provider, code="not_subscribed"
                )
        return WebhookRegistration(
            provider_webhook_id=self.credentials.app_id,
            events=tuple(f"{obj}.{field}" for obj, fields in SUBSCRIPTIONS.items() for field in fields),
        )

    def health_check(self) -> None:
        """GET /{app-id}?fields=id,name: the app token is valid for this app."""
        response = self.request(
            "GET", f"/{self.api_version()}/{self.credentials.app_id}", params={"fields": "id,name"}, timeout=5.0
        )
        if str(self.json_object(response).get("id")) != self.credentials.app_id:
            raise InvalidRequestError("meta answered another app than app_id", provider=self.provider)
