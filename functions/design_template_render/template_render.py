"""The template fallback of DesignRender: an org's Jinja2 HTML/CSS template → PDF and PNG.

Kept in this function's own directory with its own requirements.txt (xhtml2pdf + reportlab for
HTML→PDF, pypdfium2 to rasterise page 1, Pillow to encode the PNG): ~50 MB unzipped that no
other function should carry, and the shared layer has no room (docs/design.md "Template fallback").

Templates live in the public-assets bucket under ``{org_id}/templates/{name}/``: ``index.html``
(Jinja2, sandboxed, autoescaped) and whatever it links by a relative name (``style.css``,
images). Nothing else is ever read: the link callback maps relative names to that folder,
``object:{key}`` (an image field) to the org's uploads, ``hub-font:{file}`` to the fonts shipped
here, and refuses every other URL; the xhtml2pdf resource policy (``allow_remote=False``, reads
confined to the render's scratch directory and the fonts) is the second gate, since some
xhtml2pdf paths bypass the callback (fonts, watermarks: the docstring of
xhtml2pdf/config/resources.py, 0.2.28; link_callback(uri, rel) in
https://github.com/xhtml2pdf/xhtml2pdf/blob/master/docs/source/usage.rst).
"""

from __future__ import annotations

import io
import posixpath
import re
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

import jinja2
import pypdfium2 as pdfium
from botocore.exceptions import ClientError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator
from xhtml2pdf import pisa
from xhtml2pdf.config.resources import ResourceAccessPolicy

from hub.config import get_settings
from hub.errors import InvalidRequestError
from hub.observability import logger
from hub.storage import ObjectStorage

FONTS_DIR = Path(__file__).resolve().parent / "fonts"
URL_EXPIRES_IN = 3600
MAX_TEMPLATE_BYTES = 512 * 1024
MAX_ASSET_BYTES = 10 * 1024 * 1024
MAX_FIELD_CHARS = 2000
MAX_FIELDS = 50
# CSS px → PDF points: 1 px = 0.75 pt, so a page of 810 pt is 1080 px wide in the PNG.
PX_PER_PT = 96 / 72

# Noto Sans (OFL-1.1, fonts/OFL.txt) as the families "Noto Sans" and "sans-serif"; a template
# uses them by name, its own fonts by a relative name beside index.html.
BASE_CSS = """
@font-face { font-family: "Noto Sans"; src: url("hub-font:NotoSans-Regular.ttf"); }
@font-face { font-family: "Noto Sans"; src: url("hub-font:NotoSans-Bold.ttf"); font-weight: bold; }
body { font-family: "Noto Sans"; }
"""

FieldName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
ImageBucket = Literal["media-uploads", "generated-content", "public-assets"]
Format = Literal["png", "pdf"]


class ImageField(BaseModel):
    model_config = ConfigDict(extra="forbid")

    image: str = Field(min_length=1, max_length=1024, description="object key under the org prefix")
    bucket: ImageBucket = "media-uploads"


class Size(BaseModel):
    model_config = ConfigDict(extra="forbid")

    width: int = Field(ge=16, le=4096)
    height: int = Field(ge=16, le=4096)


class RenderRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    org_id: str
    render_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    template: str = Field(pattern=r"^[a-z0-9_-]{1,64}$")
    fields: dict[FieldName, Annotated[str, Field(max_length=MAX_FIELD_CHARS)] | ImageField] = Field(
        default_factory=dict, max_length=MAX_FIELDS
    )
    formats: list[Format] = Field(default_factory=lambda: list[Format](["png", "pdf"]), min_length=1, max_length=2)
    size: Size | None = None
    idempotency_key: str | None = Field(None, min_length=1, max_length=255)

    @field_validator("formats")
    @classmethod
    def _distinct(cls, value: list[Format]) -> list[Format]:
        if len(set(value)) != len(value):
            raise ValueError("each format at most once")
        return value

    @model_validator(mode="after")
    def _images_under_the_org(self) -> RenderRequest:
        for name, value in self.fields.items():
            if isinstance(value, ImageField) and not _under_org(self.org_id, value.image):
                raise ValueError(f"fields.{name}.image must be a key under {self.org_id}/")
        return self


class RenderedFile(BaseModel):
    format: Literal["png", "pdf"]
    bucket: str
    key: str
    bytes: int
    content_type: str
    url: str
    url_expires_in: int
    pages: int | None = None
    width: int | None = None
    height: int | None = None


class RenderResult(BaseModel):
    path: Literal["template"] = "template"
    render_id: str
    template: str
    files: list[RenderedFile]


def _under_org(org_id: str, key: str) -> bool:
    normal = posixpath.normpath(key)
    return key == normal and normal.startswith(f"{org_id}/") and ".." not in normal.split("/")


def _bucket(name: str) -> str:
    settings = get_settings()
    bucket = {
        "media-uploads": settings.media_uploads_bucket,
        "generated-content": settings.generated_content_bucket,
        "public-assets": settings.public_assets_bucket,
    }[name]
    if not bucket:
        raise RuntimeError(f"the {name} bucket is not configured")
    return bucket


def _missing(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404", "NotFound"}


def _read(storage: ObjectStorage, bucket: str, key: str, limit: int) -> bytes | None:
    """The object's bytes, None when it does not exist; larger than ``limit`` is refused."""
    try:
        data = storage.get_bytes(bucket, key)
    except ClientError as exc:
        if _missing(exc):
            return None
        raise
    if len(data) > limit:
        raise InvalidRequestError(f"{key.split('/', 1)[-1]}: larger than {limit} bytes", code="validation_error")
    return data


class _Resources:
    """The link callback: every URL the document names is resolved here, or refused."""

    def __init__(self, storage: ObjectStorage, request: RenderRequest, scratch: Path) -> None:
        self.storage = storage
        self.request = request
        self.scratch = scratch
        self.folder = f"{request.org_id}/templates/{request.template}/"
        self.refused: list[str] = []
        self._count = 0

    def _save(self, data: bytes, name: str) -> str:
        self._count += 1
        path = self.scratch / f"{self._count:04d}{Path(name).suffix[:10]}"
        path.write_bytes(data)
        return str(path)

    def image_field(self, name: str, field: ImageField) -> str:
        """An image field's bytes, fetched before rendering (a missing one names the field)."""
        data = _read(self.storage, _bucket(field.bucket), field.image, MAX_ASSET_BYTES)
        if data is None:
            raise InvalidRequestError(f"fields.{name}.image: no such object", code="validation_error")
        return self._save(data, field.image)

    def __call__(self, uri: str, rel: str | None = None) -> str:
        if uri.startswith("hub-font:"):
            font = FONTS_DIR / Path(uri.removeprefix("hub-font:")).name
            if font.is_file():
                return str(font)
        elif uri.startswith(str(self.scratch)):  # an image field, already fetched
            return uri
        elif not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", uri) and not uri.startswith(("/", "\\")):
            key = posixpath.normpath(self.folder + uri.split("#")[0].split("?")[0])
            if key.startswith(self.folder):
                data = _read(self.storage, _bucket("public-assets"), key, MAX_ASSET_BYTES)
                if data is not None:
                    return self._save(data, key)
        self.refused.append(uri[:200])
        # Nothing readable: the resource policy refuses the original URI too.
        return str(self.scratch / "refused")


def _environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(autoescape=True, undefined=jinja2.StrictUndefined)


def render_html(source: str, context: dict[str, Any], template: str) -> str:
    """The org's template with the request's fields, escaped; template errors name the template."""
    try:
        html = _environment().from_string(source).render(**context)
    except jinja2.UndefinedError as exc:
        raise InvalidRequestError(
            f"fields: template {template!r} uses a field that was not sent ({exc.message})", code="validation_error"
        ) from None
    except jinja2.TemplateSyntaxError as exc:
        raise InvalidRequestError(
            f"template {template!r}: syntax error line {exc.lineno}: {exc.message}", code="invalid_template"
        ) from None
    except jinja2.exceptions.SecurityError:
        raise InvalidRequestError(f"template {template!r}: unsafe operation", code="invalid_template") from None
    style = f"<style>{BASE_CSS}</style>"
    head = re.search(r"<head[^>]*>", html, re.IGNORECASE)
    if head:
        return html[: head.end()] + style + html[head.end() :]
    return style + html


def html_to_pdf(html: str, resources: _Resources) -> bytes:
    policy = ResourceAccessPolicy.server(
        base_dir=resources.scratch, extra_roots=(FONTS_DIR,), allow_remote=False, max_render_seconds=45
    )
    out = io.BytesIO()
    status = pisa.CreatePDF(html, dest=out, link_callback=resources, encoding="utf-8", resource_policy=policy)
    if status.err:
        raise InvalidRequestError(
            f"template {resources.request.template!r} could not be rendered", code="invalid_template"
        )
    return out.getvalue()


def pdf_to_png(pdf: bytes, size: Size | None) -> tuple[bytes, int, int, int]:
    """Page 1 as PNG: at 1 CSS px per px, or scaled to cover ``size`` and centre-cropped to it.
    Returns (png, width, height, pages)."""
    document = pdfium.PdfDocument(pdf)
    try:
        pages = len(document)
        page = document[0]
        page_w, page_h = page.get_size()
        if size is None:
            scale = PX_PER_PT
        else:
            scale = max(size.width / page_w, size.height / page_h)
        image = page.render(scale=scale).to_pil().convert("RGB")
        if size is not None:
            left = max(0, (image.width - size.width) // 2)
            top = max(0, (image.height - size.height) // 2)
            image = image.crop((left, top, left + size.width, top + size.height))
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=False)
        return out.getvalue(), image.width, image.height, pages
    finally:
        document.close()


def page_count(pdf: bytes) -> int:
    document = pdfium.PdfDocument(pdf)
    try:
        return len(document)
    finally:
        document.close()


def render_template(request: RenderRequest, storage: ObjectStorage | None = None) -> RenderResult:
    """Render, then store ``{org_id}/designs/{render_id}/design.{pdf,png}`` in generated-content."""
    storage = storage or ObjectStorage()
    folder = f"{request.org_id}/templates/{request.template}/"
    raw = _read(storage, _bucket("public-assets"), folder + "index.html", MAX_TEMPLATE_BYTES)
    if raw is None:
        raise InvalidRequestError(
            f"template: {request.template!r} not found (public-assets {folder}index.html)", code="template_not_found"
        )
    with tempfile.TemporaryDirectory(prefix="render-") as tmp:
        resources = _Resources(storage, request, Path(tmp))
        context: dict[str, Any] = {}
        for name, value in request.fields.items():
            context[name] = resources.image_field(name, value) if isinstance(value, ImageField) else value
        html = render_html(raw.decode("utf-8", errors="replace"), context, request.template)
        pdf = html_to_pdf(html, resources)
    if resources.refused:
        logger.warning("design_render_refused_urls", extra={"org_id": request.org_id, "urls": resources.refused[:20]})

    out_bucket = _bucket("generated-content")
    prefix = f"{request.org_id}/designs/{request.render_id}/design"
    files: list[RenderedFile] = []
    for fmt in request.formats:
        key = f"{prefix}.{fmt}"
        if fmt == "pdf":
            data, content_type = pdf, "application/pdf"
            extra: dict[str, Any] = {"pages": page_count(pdf)}
        else:
            data, width, height, _ = pdf_to_png(pdf, request.size)
            content_type = "image/png"
            extra = {"width": width, "height": height}
        storage.put_bytes(
            out_bucket,
            key,
            data,
            content_type=content_type,
            metadata={"render-path": "template", "template": request.template},
        )
        files.append(
            RenderedFile(
                format=fmt,
                bucket=out_bucket,
                key=key,
                bytes=len(data),
                content_type=content_type,
                url=storage.presigned_get_url(out_bucket, key, expires_in=URL_EXPIRES_IN),
                url_expires_in=URL_EXPIRES_IN,
                **extra,
            )
        )
    logger.info(
        "design_rendered",
        extra={
            "org_id": request.org_id,
            "render_id": request.render_id,
            "path": "template",
            "template": request.template,
        },
    )
    return RenderResult(render_id=request.render_id, template=request.template, files=files)
