"""SocialPublicationList — an org's publications in one status; by default the manual queue.

Payload: {"org_id", "status"?: "needs_manual" (default)|"scheduled"|"publishing"|"unconfirmed"|"published"|
"cancelled", "limit"?: 1-200 (50)}
Result:  {"publications": [<SocialPublicationStatus answers>, ...]} most recently changed first. docs/social.md.
"""

from hub.invocation import operation_handler
from hub.social.models import PublicationListRequest
from hub.social.publish import list_publications

handler = operation_handler("social.publication_list", PublicationListRequest, list_publications)
