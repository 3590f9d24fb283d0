"""OrgGet — one registered organisation (docs/orgs.md).

Payload: {"org_id"}
Result:  {"org_id", "name", "created_at", "created_by"?}; an unknown org is InvalidRequestError(unknown_org).
"""

from hub.invocation import operation_handler
from hub.orgs import OrgGetRequest, org_get

handler = operation_handler("org.get", OrgGetRequest, org_get)
