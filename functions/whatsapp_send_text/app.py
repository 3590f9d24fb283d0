"""WhatsAppSendText — send a WhatsApp text through the org's channel (Evolution API or Cloud API).

Invoked directly (boto3 ``lambda.invoke``) or as a Step Functions task.
Payload: {"org_id", "to", "text", "delay_ms"?, "preview_url"?, "use_fallback_template"?, "contact_name"?,
"idempotency_key"?}
Result:  {"channel": "whatsapp", "provider", "message_id", "to" (E.164), "status", "via_template"?}
Errors:  InvalidRequestError (opted out, outside the 24-hour window without a template, not on WhatsApp),
AuthenticationError, RateLimitedError (retry_after), ProviderUnavailableError.
"""

from hub.invocation import operation_handler
from hub.messaging.whatsapp import SendTextRequest, send_text

handler = operation_handler("whatsapp.send_text", SendTextRequest, send_text)
