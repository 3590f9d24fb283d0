"""Resend: transactional email and Svix-signed tracking webhooks.

The API facts this adapter relies on, with their doc links, are in README.md.
"""

from hub.providers.base.descriptor import ProviderDescriptor
from hub.resilience.ratelimit import LimitRule

DESCRIPTOR = ProviderDescriptor(
    auth="api_key",
    default_base_url="https://api.resend.com",
    webhook=True,
    capabilities=frozenset({"EmailSender", "WebhookRegistrar", "CredentialRotator"}),
    # 10 requests per second per team (https://resend.com/docs/api-reference/rate-limit); the
    # plan's daily/monthly email quota comes back as 429 daily/monthly_quota_exceeded.
    limits=(LimitRule("requests_per_second", 10, 1, "account"),),
    docs="https://resend.com/docs/api-reference",
)
