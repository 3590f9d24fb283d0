"""DesignRenderStatus — where a render is and, when done, its files with presigned URLs.

Payload: {"org_id", "render_id"}
Result:  {"render_id", "status": "rendering"|"done"|"failed", "path"?: "canva"|"template",
"files": [{"format", "bucket", "key", "bytes", "url", "pages"?, "width"?, "height"?}],
"fallback_reason"?, "errors": [{"path", "step", "error", "code"?, "message"?}]}. docs/design.md.
"""

from hub.design.models import DesignRenderRef
from hub.design.render import render_status
from hub.invocation import operation_handler

handler = operation_handler("design.render_status", DesignRenderRef, render_status)
