"""WebhookUnknownProvider — /webhooks/{provider}/{org_id} for a provider with no receiver: 404.

API Gateway routes literal paths (/webhooks/stripe/{org_id}) before this parameterised one,
so only unknown providers land here (API Gateway's own answer would be a 403)."""

from hub.webhooks.receiver import unknown_provider_handler

handler = unknown_provider_handler()
