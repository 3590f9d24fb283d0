"""WebhookMeta — POST /webhooks/meta/{org_id} (and GET: the subscription check)."""

from hub.webhooks.receiver import webhook_handler
from hub.webhooks.specs import webhook_spec

handler = webhook_handler(webhook_spec("meta"))
