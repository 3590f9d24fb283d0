"""WebhookEvolution — POST /webhooks/evolution/{org_id}: Evolution API events (messages.upsert)."""

from hub.webhooks.receiver import webhook_handler
from hub.webhooks.specs import webhook_spec

handler = webhook_handler(webhook_spec("evolution"))
