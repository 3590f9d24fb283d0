"""Evolution API: self-hosted WhatsApp gateway (send, media, templates, webhook).

The API facts this adapter relies on, with their doc links, are in README.md.
"""

from hub.providers.base.descriptor import ProviderDescriptor
from hub.resilience.ratelimit import DAY, LimitRule

DESCRIPTOR = ProviderDescriptor(
    auth="api_key",
    webhook=True,
    capabilities=frozenset({"WhatsAppSender", "WebhookRegistrar"}),
    # WhatsApp Business messaging tier: 1,000 business-initiated conversations/day on tier 1.
    limits=(LimitRule("messages_per_day", 1_000, DAY, "account", applies_to="send"),),
    docs="https://doc.evolution-api.com/v2/api-reference",
)
