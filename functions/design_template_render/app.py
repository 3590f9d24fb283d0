"""DesignTemplateRender — the HTML/CSS template fallback of DesignRender (docs/design.md).

Payload: {"org_id", "render_id", "template", "fields": {name: text | {"image": key, "bucket"?}},
"formats"?: ["png", "pdf"], "size"?: {"width", "height"}, "idempotency_key"?}.
Result: {"path": "template", "render_id", "template", "files": [{"format", "bucket", "key",
"bytes", "content_type", "url", "url_expires_in", "pages" (pdf) | "width", "height" (png)}]},
files in generated-content under {org_id}/designs/{render_id}/design.{pdf,png}.
"""

from template_render import RenderRequest, render_template

from hub.invocation import operation_handler

handler = operation_handler("design.template_render", RenderRequest, render_template)
