"""DesignTemplateRender's renderer (functions/design_template_render/template_render.py) against
an in-memory object store: the demo template to PDF and PNG, escaping, no remote fetches."""

from __future__ import annotations

import io
import socket
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from botocore.exceptions import ClientError
from PIL import Image, ImageStat

from hub.config import get_settings
from hub.errors import InvalidRequestError
from hub.invocation import parse_request
from tests.helpers import ROOT, load_function_module, sample_event

render = load_function_module("design_template_render", "template_render")

DEMO_TEMPLATES = ROOT / "localcloud" / "demo_templates"
ASSETS, UPLOADS, GENERATED = "assets-bucket", "uploads-bucket", "generated-bucket"


class MemoryStorage:
    """hub.storage.ObjectStorage's interface over a dict: (bucket, key) → bytes."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}
        self.content_types: dict[tuple[str, str], str] = {}

    def get_bytes(self, bucket: str, key: str) -> bytes:
        if (bucket, key) not in self.objects:
            raise ClientError({"Error": {"Code": "NoSuchKey", "Message": "missing"}}, "GetObject")
        return self.objects[(bucket, key)]

    def put_bytes(self, bucket: str, key: str, data: bytes, *, content_type: str = "", metadata: Any = None) -> str:
        self.objects[(bucket, key)] = data
        self.content_types[(bucket, key)] = content_type
        return key

    def presigned_get_url(self, bucket: str, key: str, *, expires_in: int = 3600) -> str:
        return f"https://storage.test/{bucket}/{key}?expires={expires_in}"


@pytest.fixture
def storage(monkeypatch: pytest.MonkeyPatch) -> MemoryStorage:
    monkeypatch.setenv("PUBLIC_ASSETS_BUCKET", ASSETS)
    monkeypatch.setenv("MEDIA_UPLOADS_BUCKET", UPLOADS)
    monkeypatch.setenv("GENERATED_CONTENT_BUCKET", GENERATED)
    get_settings.cache_clear()
    store = MemoryStorage()
    for path in DEMO_TEMPLATES.rglob("*"):
        if path.is_file():
            store.objects[(ASSETS, f"demo/templates/{path.relative_to(DEMO_TEMPLATES).as_posix()}")] = path.read_bytes()
    return store


def request(**overrides: Any) -> Any:
    payload: dict[str, Any] = {
        "org_id": "demo",
        "render_id": "rnd_0123456789abcdef0123456789abcdef",
        "template": "promo",
        "fields": {"headline": "Promoção de verão", "subtitle": "Ação válida em São Paulo", "cta": "Peça já"},
    }
    payload.update(overrides)
    return render.RenderRequest.model_validate(payload)


def add_template(store: MemoryStorage, name: str, html: str) -> None:
    store.objects[(ASSETS, f"demo/templates/{name}/index.html")] = html.encode()


def pdf_text(data: bytes) -> str:
    document = pdfium.PdfDocument(data)
    try:
        return "".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


def files_by_format(result: Any) -> dict[str, Any]:
    return {f.format: f for f in result.files}


def test_the_demo_template_renders_to_a_pdf_and_a_png_in_generated_content(storage: MemoryStorage) -> None:
    # Given the demo org's promo template and pt-BR fields
    # When it is rendered
    result = render.render_template(request(), storage)

    # Then the answer says the template path made it, and both files are in generated-content
    assert result.path == "template"
    files = files_by_format(result)
    assert set(files) == {"pdf", "png"}
    prefix = "demo/designs/rnd_0123456789abcdef0123456789abcdef/design"
    assert (files["pdf"].bucket, files["pdf"].key) == (GENERATED, f"{prefix}.pdf")
    assert (files["png"].bucket, files["png"].key) == (GENERATED, f"{prefix}.png")
    assert storage.content_types[(GENERATED, f"{prefix}.pdf")] == "application/pdf"
    assert files["pdf"].url.startswith("https://storage.test/")

    # The PDF: one 810 x 810 pt page with the fields' text (accents included)
    pdf = storage.objects[(GENERATED, f"{prefix}.pdf")]
    document = pdfium.PdfDocument(pdf)
    assert len(document) == files["pdf"].pages == 1
    assert document[0].get_size() == pytest.approx((810, 810))
    document.close()
    text = pdf_text(pdf)
    for expected in ("Promoção de verão", "Ação válida em São Paulo", "Peça já", "Agência Demo"):
        assert expected in text

    # The PNG: 1080 x 1080 px (1 CSS px per pixel), not a blank page
    png = Image.open(io.BytesIO(storage.objects[(GENERATED, f"{prefix}.png")]))
    assert png.size == (1080, 1080) == (files["png"].width, files["png"].height)
    assert ImageStat.Stat(png.convert("L")).stddev[0] > 10
    assert files["png"].bytes == len(storage.objects[(GENERATED, f"{prefix}.png")])


def test_a_png_size_is_honoured_and_only_the_formats_asked_for_are_written(storage: MemoryStorage) -> None:
    result = render.render_template(request(formats=["png"], size={"width": 600, "height": 400}), storage)

    assert [f.format for f in result.files] == ["png"]
    png = Image.open(io.BytesIO(storage.objects[(GENERATED, result.files[0].key)]))
    assert png.size == (600, 400)
    assert not [key for bucket, key in storage.objects if bucket == GENERATED and key.endswith(".pdf")]


def test_field_values_are_escaped_and_render_as_text(storage: MemoryStorage) -> None:
    # Given a headline that is markup
    hostile = '<script>alert(1)</script><img src="http://example.com/x.png">'

    # When it is rendered
    result = render.render_template(request(fields={"headline": hostile}, formats=["pdf"]), storage)

    # Then the markup is in the PDF as the text the user typed, not as elements
    text = " ".join(pdf_text(storage.objects[(GENERATED, result.files[0].key)]).split())
    assert "<script>alert(1)</script>" in text
    assert '<img src="http://example.com/x.png">' in text


def test_a_template_naming_remote_urls_renders_without_any_network_access(
    storage: MemoryStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a template that links a remote stylesheet, image and font
    add_template(
        storage,
        "remote",
        '<html><head><link rel="stylesheet" href="https://cdn.example.com/s.css">'
        '<style>@font-face { font-family: "X"; src: url("https://fonts.example.com/x.ttf"); }</style></head>'
        '<body><h1>{{ headline }}</h1><img src="https://images.example.com/a.png">'
        '<img src="file:///etc/hostname"><img src="/etc/hostname"></body></html>',
    )
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args[:2])
        raise OSError("network access in a render")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)

    # When it is rendered
    result = render.render_template(request(template="remote", fields={"headline": "Sem rede"}), storage)

    # Then it rendered, and nothing was resolved or connected to
    assert attempts == []
    assert "Sem rede" in pdf_text(storage.objects[(GENERATED, files_by_format(result)["pdf"].key)])


def test_an_image_field_is_read_from_the_org_uploads(storage: MemoryStorage) -> None:
    # Given a red photo uploaded by the org
    photo = io.BytesIO()
    Image.new("RGB", (300, 200), (220, 20, 20)).save(photo, format="PNG")
    storage.objects[(UPLOADS, "demo/uploads/photo.png")] = photo.getvalue()

    # When the promo template shows it
    fields = {"headline": "Com foto", "photo": {"image": "demo/uploads/photo.png"}}
    result = render.render_template(request(fields=fields, formats=["png"]), storage)

    # Then the PNG has red in it
    png = Image.open(io.BytesIO(storage.objects[(GENERATED, result.files[0].key)])).convert("RGB")
    colours = png.getcolors(maxcolors=1_000_000) or []
    assert any(r > 200 and g < 60 and b < 60 for _, (r, g, b) in colours)


def test_an_image_outside_the_org_prefix_is_refused_before_anything_is_read(storage: MemoryStorage) -> None:
    for key in ("acme/uploads/photo.png", "demo/../acme/photo.png", "/demo/photo.png"):
        payload = {"org_id": "demo", "render_id": "r1", "template": "promo"}
        with pytest.raises(InvalidRequestError, match=r"fields\.photo\.image") as caught:
            parse_request(render.RenderRequest, {**payload, "fields": {"headline": "x", "photo": {"image": key}}})
        assert "demo/" in str(caught.value)


def test_a_missing_image_names_its_field(storage: MemoryStorage) -> None:
    fields = {"headline": "x", "photo": {"image": "demo/uploads/nope.png"}}
    with pytest.raises(InvalidRequestError, match=r"fields\.photo\.image"):
        render.render_template(request(fields=fields), storage)
    assert not [k for b, k in storage.objects if b == GENERATED]


def test_a_missing_template_is_named_and_nothing_is_written(storage: MemoryStorage) -> None:
    with pytest.raises(InvalidRequestError, match="'black-friday' not found") as caught:
        render.render_template(request(template="black-friday"), storage)
    assert caught.value.code == "template_not_found"
    assert not [k for b, k in storage.objects if b == GENERATED]


def test_a_field_the_template_needs_but_was_not_sent_is_named(storage: MemoryStorage) -> None:
    with pytest.raises(InvalidRequestError, match="'headline' is undefined"):
        render.render_template(request(fields={"subtitle": "sem título"}), storage)


def test_the_template_runs_in_jinja_s_sandbox(storage: MemoryStorage) -> None:
    add_template(storage, "evil", "{{ ''.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(InvalidRequestError, match="'evil'"):
        render.render_template(request(template="evil"), storage)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"render_id": "../x"}, "render_id"),
        ({"template": "Promo!"}, "template"),
        ({"formats": ["png", "png"]}, "formats"),
        ({"formats": ["gif"]}, "formats"),
        ({"size": {"width": 10_000, "height": 100}}, "size.width"),
        ({"fields": {"headline": "x" * 2001}}, "fields.headline"),
    ],
)
def test_bad_payloads_name_the_field(overrides: dict[str, Any], field: str) -> None:
    payload = {"org_id": "demo", "render_id": "r1", "template": "promo", **overrides}
    with pytest.raises(InvalidRequestError, match=field):
        parse_request(render.RenderRequest, payload)


def test_the_shipped_fonts_have_their_licence() -> None:
    fonts = Path(render.FONTS_DIR)
    assert {p.name for p in fonts.glob("*.ttf")} == {"NotoSans-Regular.ttf", "NotoSans-Bold.ttf"}
    assert "SIL OPEN FONT LICENSE Version 1.1" in (fonts / "OFL.txt").read_text()


def test_the_documented_sample_event_is_a_valid_request(storage: MemoryStorage) -> None:
    request = parse_request(render.RenderRequest, sample_event("design_template_render"))
    result = render.render_template(request, storage)
    assert {f.format for f in result.files} == {"png", "pdf"}
