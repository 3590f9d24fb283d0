"""EmailSendBatch — up to 100 emails in one Resend batch (no attachments), SES one by one as fallback.

Payload: {"org_id", "emails": [{"from"?, "to", "subject", "html"|"text", ...}], "provider"?, "idempotency_key"?}
Result:  {"results": [{"index", "status": "queued"|"refused", "provider"?, "message_id"?, "error"?}],
"failed_attempts"}
"""

from hub.invocation import operation_handler
from hub.messaging.email import EmailSendBatchRequest, send_batch

handler = operation_handler("email.send_batch", EmailSendBatchRequest, send_batch)
