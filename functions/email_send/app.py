"""EmailSend — one email through Resend, Amazon SES as fallback; suppressed recipients refused.

Payload: {"org_id", "from"?, "to", "cc"?, "bcc"?, "reply_to"?, "subject", "html"?, "text"?, "tags"?,
"headers"?, "attachments"?: [{"bucket", "key", "filename"?}], "provider"?, "idempotency_key"?}
Result:  {"channel": "email", "provider", "message_id", "to", "status", "failed_attempts"}
"headers" may only be List-Unsubscribe, List-Unsubscribe-Post, X-Entity-Ref-ID, In-Reply-To, References;
no address, subject, header, tag or filename may hold a line break (docs/messaging.md).
"""

from hub.invocation import operation_handler
from hub.messaging.email import EmailSendRequest, send_email

handler = operation_handler("email.send", EmailSendRequest, send_email)
