"""WebhookTwilio — POST /webhooks/twilio/{org_id}: SMS status callbacks and inbound SMS (X-Twilio-Signature)."""

from hub.webhooks.receiver import webhook_handler
from hub.webhooks.specs import webhook_spec

handler = webhook_handler(webhook_spec("twilio"))
