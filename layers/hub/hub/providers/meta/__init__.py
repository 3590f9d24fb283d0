"""Meta: Graph API: the WhatsApp Cloud client and the Meta webhook (WhatsApp, Instagram, Facebook).

The API facts this adapter relies on, with their doc links, are in README.md.
"""

from hub.providers.base.descriptor import ProviderDescriptor
from hub.resilience.ratelimit import DAY, LimitRule

DESCRIPTORS = (
    ProviderDescriptor(
        # The app access token {app-id}|{app-secret} (a key the org holds).
        auth="api_key",
        default_base_url="https://graph.facebook.com",
        # The app's own calls (its webhook subscriptions) when the secret holds the app id.
        client="app",
        webhook=True,
        # Most orgs hold only the app secret and verify token (the webhook): no health probe.
        health_check=False,
        capabilities=frozenset({"WebhookRegistrar"}),
        docs="https://developers.facebook.com/docs/graph-api/webhooks/getting-started",
    ),
    ProviderDescriptor(
        key="whatsapp_cloud",
        auth="api_key",
        default_base_url="https://graph.facebook.com",
        client="whatsapp_cloud",
        capabilities=frozenset({"WhatsAppSender"}),
        # Messaging tier 1: 1,000 business-initiated conversations/day.
        limits=(LimitRule("messages_per_day", 1_000, DAY, "account", applies_to="send"),),
        docs="https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages",
    ),
)
