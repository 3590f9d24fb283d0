"""SocialPublish — publish (or schedule) a post on LinkedIn, Instagram, a Facebook page or YouTube.

Payload: {"org_id", "network": "linkedin"|"instagram"|"facebook"|"youtube", "account",
"content": {"text", "media": [{"s3_key"|"url", "type": "image"|"video", "alt_text"?}], "link"?, "title"?,
"format"?: "feed"|"story"|"reel", "visibility"?}, "publish_at"?, "idempotency_key"}
Result:  {"publication_id", "status": "scheduled"|"publishing", "publish_at"?} at once; the
SocialPublishWorkflow execution does the rest (SocialPublicationStatus). docs/social.md.
"""

from hub.invocation import operation_handler
from hub.social.models import SocialPublishRequest
from hub.social.publish import start_publish

handler = operation_handler("social.publish", SocialPublishRequest, start_publish)
