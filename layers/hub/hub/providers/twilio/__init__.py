"""Twilio: SMS and WhatsApp messages and signed status webhooks.

The API facts this adapter relies on, with their doc links, are in README.md.
"""

from hub.providers.base.descriptor import ProviderDescriptor
from hub.resilience.ratelimit import LimitRule

DESCRIPTOR = ProviderDescriptor(
    auth="basic",
    default_base_url="https://api.twilio.com",
    webhook=True,
    capabilities=frozenset({"SmsSender", "CredentialRotator"}),
    # A sender's throughput is 1 message/s for a US long code and about 10/s for international
    # and alphanumeric senders; above it Twilio queues (up to ~10 h, then error 21611).
    # https://help.twilio.com/articles/115002943027
    limits=(
        LimitRule("messages_per_second", 10, 1, "account", "per sender, international default", applies_to="send"),
    ),
    docs="https://www.twilio.com/docs/messaging/api/message-resource",
)
