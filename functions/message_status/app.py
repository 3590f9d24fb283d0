"""MessageStatus — the latest state of a message sent through the hub (fed by provider webhooks).

Payload: {"org_id", "message_id"}
Result:  {"org_id", "message_id", "channel", "provider", "to", "status" (queued|sent|delivered|read|failed),
"status_at", "error_code"?, "error_reason"?, "sent_at", "via_template"?, "notification_id"?}
"""

from hub.invocation import operation_handler
from hub.messaging.records import MessageStatusRequest, message_status

handler = operation_handler("message.status", MessageStatusRequest, message_status)
