"""SocialPublishCancel — cancel a scheduled post before it starts publishing.

Payload: {"org_id", "publication_id"}
Result:  {"publication_id", "status": "cancelled"}; InvalidRequestError ``not_cancellable`` once
the post is at the network, ``not_found`` for an unknown id. docs/social.md.
"""

from hub.invocation import operation_handler
from hub.social.models import PublicationRef
from hub.social.publish import cancel

handler = operation_handler("social.publish_cancel", PublicationRef, cancel)
