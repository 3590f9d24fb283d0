"""WhatsAppSendMedia — image/video/audio/document by URL or from one of our buckets (presigned).

Payload: {"org_id", "to", "media_type", "media": {"url"} | {"bucket", "key"}, "caption"?, "filename"?,
"mimetype"?, "idempotency_key"?}
Result:  {"channel": "whatsapp", "provider", "message_id", "to", "status"}
A caller's "url" must be public https (hub.urls: no private, loopback, link-local or metadata hosts).
"""

from hub.invocation import operation_handler
from hub.messaging.whatsapp import SendMediaRequest, send_media

handler = operation_handler("whatsapp.send_media", SendMediaRequest, send_media)
