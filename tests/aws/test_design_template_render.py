"""DesignTemplateRender as deployed against moto: the template's buckets, the demo template as
`make dev` seeds it, the handler's validation and the files in generated-content."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pypdfium2 as pdfium
import pytest
from PIL import Image

from hub.errors import InvalidRequestError
from localcloud.aws import seed_design_templates
from tests.aws.conftest import HubAws
from tests.helpers import FakeLambdaContext, load_function, load_function_module

load_function_module("design_template_render", "template_render")  # app.py's sibling, as in Lambda
app = load_function("design_template_render")

RENDER_ID = "rnd_5f0c6a1e9b7d4c2a8e3f1b0d9c7a6e54"


def invoke(payload: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = app.handler(payload, FakeLambdaContext("DesignTemplateRender", 60_000))
    return result


def test_the_demo_template_lands_in_generated_content_under_the_org(hub_aws: HubAws) -> None:
    # Given the demo templates seeded as `make dev` seeds them
    seed_design_templates(hub_aws.endpoint, hub_aws.env["PUBLIC_ASSETS_BUCKET"], "demo")

    # When a service (the Canva workflow's fallback Task) invokes the function
    result = invoke(
        {
            "org_id": "demo",
            "render_id": RENDER_ID,
            "template": "promo",
            "fields": {"headline": "Lançamento de outono", "cta": "Garanta já"},
        }
    )

    # Then both files are in generated-content under demo/designs/<render_id>/, reachable by URL
    assert result["path"] == "template" and result["render_id"] == RENDER_ID
    s3 = hub_aws.client("s3")
    bucket = hub_aws.env["GENERATED_CONTENT_BUCKET"]
    listed = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert listed == [f"demo/designs/{RENDER_ID}/design.pdf", f"demo/designs/{RENDER_ID}/design.png"]
    files = {f["format"]: f for f in result["files"]}
    assert files["pdf"]["bucket"] == bucket and files["pdf"]["pages"] == 1
    pdf = httpx.get(files["pdf"]["url"]).content
    assert len(pdf) == files["pdf"]["bytes"]
    document = pdfium.PdfDocument(pdf)
    assert "Lançamento de outono" in document[0].get_textpage().get_text_range()
    document.close()
    png = s3.get_object(Bucket=bucket, Key=files["png"]["key"])
    assert png["ContentType"] == "image/png"
    assert Image.open(io.BytesIO(png["Body"].read())).size == (1080, 1080)


def test_refusals_name_the_problem_and_write_nothing(hub_aws: HubAws) -> None:
    seed_design_templates(hub_aws.endpoint, hub_aws.env["PUBLIC_ASSETS_BUCKET"], "demo")
    refused = [
        ({"org_id": "demo", "render_id": RENDER_ID, "template": "nope"}, "'nope' not found"),
        ({"org_id": "nobody", "render_id": RENDER_ID, "template": "promo"}, "unknown org 'nobody'"),
        (
            {"org_id": "demo", "render_id": RENDER_ID, "template": "promo", "fields": {"p": {"image": "acme/x.png"}}},
            r"fields\.p\.image",
        ),
        ({"org_id": "demo", "render_id": "a/b", "template": "promo"}, "render_id"),
    ]
    for payload, message in refused:
        with pytest.raises(InvalidRequestError, match=message):
            invoke(payload)
    assert "Contents" not in hub_aws.client("s3").list_objects_v2(Bucket=hub_aws.env["GENERATED_CONTENT_BUCKET"])
