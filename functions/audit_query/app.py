"""AuditQuery — an org's audit trail, newest first (docs/integrations.md, "Audit").

Payload: {"org_id", "from", "to" (ISO 8601 with offset, from <= to), "action"?, "limit"? (1-200, default 50),
"cursor"? (the previous page's next_cursor)}
Result:  {"records": [{"at", "action", "actor", "integration"?, "details", "source_ip"?, "user_agent"?,
"sensitive"}], "next_cursor"?}; a garbled or foreign cursor is InvalidRequestError(invalid_cursor).
"""

from hub.audit import AuditQueryRequest, query
from hub.invocation import operation_handler

handler = operation_handler("audit.query", AuditQueryRequest, query)
