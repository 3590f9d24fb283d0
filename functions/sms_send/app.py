"""SmsSend — an SMS through Twilio (status callbacks feed MessageStatus).

Payload: {"org_id", "to", "body", "idempotency_key"?}
Result:  {"channel": "sms", "provider": "twilio", "message_id" (SM…), "to", "status": "queued"}
"""

from hub.invocation import operation_handler
from hub.messaging.sms import SmsSendRequest, send_sms

handler = operation_handler("sms.send", SmsSendRequest, send_sms)
