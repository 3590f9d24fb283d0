"""WhatsAppSendText — send a WhatsApp text through the org's Evolution API instance.

Invoked directly (boto3 ``lambda.invoke``) or as a Step Functions task.
Payload: {"org_id", "to", "text", "delay_ms"?, "idempotency_key"?}
Result:  {"provider": "evolution", "message_id", "to" (E.164), "status"}
Errors:  InvalidRequestError, AuthenticationError, RateLimitedError, ProviderUnavailableError.
"""

from hub.invocation import operation_handler
from hub.messaging.whatsapp import SendTextRequest, send_text

handler = operation_handler("whatsapp.send_text", SendTextRequest, send_text)
