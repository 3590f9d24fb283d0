"""NotifyContact — reach a contact on WhatsApp, else SMS, else email; tell the requester if none works.

Plans the channels (skipping those without an address, opted out or suppressed) and starts
NotifyContactChain. Payload: {"org_id", "contact": {"name"?, "phone"?, "email"?}, "message": {"text",
"subject"?, "html"?}, "channels"?, "requester"?: {"service"?, "user_id"?, "email"?}, "notification_id"?,
"whatsapp_template"?}
Result: {"notification_id", "execution_arn", "status": "started"|"duplicate", "channels", "skipped"}
"""

from hub.invocation import operation_handler
from hub.messaging.notify import NotifyContactRequest, notify_contact

handler = operation_handler("notify.contact", NotifyContactRequest, notify_contact)
