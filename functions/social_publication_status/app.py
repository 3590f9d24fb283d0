"""SocialPublicationStatus — a publication's state, its network post and, in the manual queue, why.

Payload: {"org_id", "publication_id"}
Result:  {"publication_id", "status": "scheduled"|"publishing"|"unconfirmed"|"published"|"needs_manual"|
"cancelled", "post_id"?, "post_url"?, "warnings", "retry_at"?, "manual"?: {"reason", "message", "text",
"media", "action"}, "attempts": [...], ...}. docs/social.md.
"""

from hub.invocation import operation_handler
from hub.social.models import PublicationRef
from hub.social.publish import status

handler = operation_handler("social.publication_status", PublicationRef, status)
