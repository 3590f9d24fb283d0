"""ContactConsentSet — record a contact's opt-in/opt-out for one channel (LGPD), with source and time.

Payload: {"org_id", "channel": "whatsapp"|"sms"|"email", "address", "status": "opted_in"|"opted_out",
"source", "at"?, "clear_suppression"?}
Result:  the channel state: {"channel", "address", "consent_status", "consent_source", "consent_at",
"suppressed_reason"?, "last_inbound_at"?}
"""

from hub.invocation import operation_handler
from hub.messaging.contacts import ConsentUpdateRequest, update_consent

handler = operation_handler("contact.consent_set", ConsentUpdateRequest, update_consent)
