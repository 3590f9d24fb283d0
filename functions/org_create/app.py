"""OrgCreate — register an organisation in the hub's org registry (docs/orgs.md).

Payload: {"org_id", "name", "created_by"?}
Result:  {"org_id", "name", "created_at", "created_by"?, "created"}: the same id again answers the
existing org unchanged, with "created": false (its name is never overwritten).
"""

from hub.invocation import operation_handler
from hub.orgs import OrgCreateRequest, org_create

handler = operation_handler("org.create", OrgCreateRequest, org_create)
