"""WebhookPagBank — POST /webhooks/pagbank/{org_id}."""

from hub.webhooks.receiver import webhook_handler
from hub.webhooks.specs import webhook_spec

handler = webhook_handler(webhook_spec("pagbank"))
