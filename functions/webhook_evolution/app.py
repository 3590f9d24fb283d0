"""WebhookEvolution — POST /webhooks/evolution/{org_id}: Evolution API events (messages.upsert)."""

from hub.webhooks.receiver import webhook_handler
from hub.webhooks.specs import EVOLUTION_WEBHOOK

handler = webhook_handler(EVOLUTION_WEBHOOK)
