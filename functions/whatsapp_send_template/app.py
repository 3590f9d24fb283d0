"""WhatsAppSendTemplate — an approved template (name, language, parameters validated).

Payload: {"org_id", "to", "template": {"name", "language", "body_parameters"?, "header"?, "buttons"?},
"idempotency_key"?}
Result:  {"channel": "whatsapp", "provider", "message_id", "to", "status", "via_template"}
"""

from hub.invocation import operation_handler
from hub.messaging.whatsapp import SendTemplateRequest, send_template

handler = operation_handler("whatsapp.send_template", SendTemplateRequest, send_template)
