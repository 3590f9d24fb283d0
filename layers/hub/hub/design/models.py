"""What DesignRender and DesignRenderStatus take and answer, and the workflow's state."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, Strict, field_validator, model_validator

from hub.requests import IdempotencyKey, OperationRequest, OrgId

RenderFormat = Literal["png", "jpg", "pdf"]
RenderStatus = Literal["rendering", "done", "failed"]
RenderPath = Literal["canva", "template"]
RenderId = Annotated[str, Strict(), Field(pattern=r"^dr_[0-9a-f]{32}$")]
TemplateName = Annotated[str, Strict(), Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.-]+$")]
FieldName = Annotated[str, Strict(), Field(min_length=1, max_length=100)]
FieldText = Annotated[str, Strict(), Field(max_length=5000)]
# The template renderer's formats (functions/design_template_render): png and pdf.
TEMPLATE_FORMATS = frozenset({"png", "pdf"})
DEFAULT_FORMATS: tuple[RenderFormat, ...] = ("png", "pdf")


def render_id_for(org_id: str, idempotency_key: str) -> str:
    """The same request key always names the same render (and workflow execution)."""
    return "dr_" + hashlib.sha256(f"{org_id}\n{idempotency_key}".encode()).hexdigest()[:32]


class DesignRenderRequest(OperationRequest):
    org_id: OrgId
    # Canva's brand template (Canva path). Absent: the template path only.
    brand_template_id: (
        Annotated[str, Strict(), Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")] | None
    ) = None
    # The org's HTML/CSS template (the fallback, or the only path without brand_template_id).
    template: TemplateName | None = None
    title: Annotated[str, Strict(), Field(min_length=1, max_length=255)] | None = None
    # Text fields only: Canva image fields need an asset upload first, not supported yet
    # (docs/design.md "Canva"); an object value is refused naming its field.
    fields: dict[FieldName, FieldText] = Field(default_factory=dict, max_length=100)
    formats: list[RenderFormat] = Field(default_factory=lambda: list(DEFAULT_FORMATS), min_length=1, max_length=3)
    idempotency_key: IdempotencyKey

    @field_validator("fields", mode="before")
    @classmethod
    def _text_only(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for name, item in value.items():
                if not isinstance(item, str):
                    raise ValueError(
                        f"fields.{name}: only text values are supported (Canva image fields need an asset upload, "
                        "not supported yet)"
                    )
        return value

    @model_validator(mode="after")
    def _a_path(self) -> DesignRenderRequest:
        if self.brand_template_id is None and self.template is None:
            raise ValueError("brand_template_id or template: at least one is required")
        if len(set(self.formats)) != len(self.formats):
            raise ValueError("formats: each format at most once")
        return self


class DesignRenderRef(OperationRequest):
    org_id: OrgId
    render_id: RenderId


class RenderAccepted(BaseModel):
    render_id: str
    status: RenderStatus


class RenderedFile(BaseModel):
    format: str
    bucket: str
    key: str
    bytes: int
    pages: int | None = None
    width: int | None = None
    height: int | None = None
    url: str | None = None


class RenderError(BaseModel):
    path: RenderPath
    step: str
    error: str
    code: str | None = None
    message: str | None = None


class RenderState(BaseModel):
    """The workflow's state: it travels through the execution (no table of its own)."""

    org_id: str
    render_id: str
    request: DesignRenderRequest
    phase: Literal["start", "autofill_poll", "export", "export_poll", "template", "done", "failed"] = "start"
    path: RenderPath = "canva"
    autofill_job: str | None = None
    design_id: str | None = None
    exports: dict[str, str] = Field(default_factory=dict)  # format -> Canva export job id
    files: list[RenderedFile] = Field(default_factory=list)
    polls: int = 0
    fallback_reason: str | None = None
    errors: list[RenderError] = Field(default_factory=list)


class RenderResult(BaseModel):
    render_id: str
    status: RenderStatus
    path: RenderPath | None = None
    files: list[RenderedFile] = Field(default_factory=list)
    fallback_reason: str | None = None
    errors: list[RenderError] = Field(default_factory=list)
