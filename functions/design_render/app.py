"""DesignRender — render a design: Canva (brand template autofill + export), else the org's
HTML/CSS template (DesignTemplateRender).

Payload: {"org_id", "brand_template_id"?, "template"?, "title"?, "fields": {name: text},
"formats"?: ["png"|"jpg"|"pdf", ...], "idempotency_key"}
Result:  {"render_id", "status": "rendering"} at once; DesignRenderWorkflow does the rest
(DesignRenderStatus). docs/design.md.
"""

from hub.design.models import DesignRenderRequest
from hub.design.render import start_render
from hub.invocation import operation_handler

handler = operation_handler("design.render", DesignRenderRequest, start_render)
