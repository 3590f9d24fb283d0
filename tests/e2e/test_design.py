"""End to end in the local cloud: a service invokes DesignRender; DesignRenderWorkflow (moto's
Step Functions running the template's definition) drives DesignRenderStep through its Wait
state while the Canva sandbox keeps the autofill and export jobs in progress; the files land in
generated-content and DesignRenderStatus answers them with presigned URLs. Polls are 1 s."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from localcloud import LocalCloud
from localcloud.sandboxes.canva import DEMO_BRAND_TEMPLATE_ID, PNG
from tests.conftest import register_test_orgs
from tests.e2e.conftest import booted, fault, invoke, wait_status

pytestmark = pytest.mark.e2e

ORG = "demo"


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with booted(retry_delay=1, env={"DESIGN_POLL_SECONDS": "1"}) as running:
        orgs_table = running.template.env_value("ORGS_TABLE") if running.template else None
        assert orgs_table
        register_test_orgs(running.aws_url, orgs_table)
        yield running


def test_canva_jobs_are_polled_by_wait_states_and_the_files_stored(cloud: LocalCloud) -> None:
    # Given Canva's jobs in progress for two polls each
    switches = httpx.post(f"{cloud.sandbox_url}/canva/_sandbox/design", json={"polls_to_finish": 2}, timeout=5)
    switches.raise_for_status()
    # When a service asks for a render
    accepted = invoke(
        cloud,
        "DesignRender",
        {
            "org_id": ORG,
            "brand_template_id": DEMO_BRAND_TEMPLATE_ID,
            "template": "oferta",
            "fields": {"headline": "Pão de queijo", "price": "R$ 12,90"},
            "formats": ["png", "pdf"],
            "idempotency_key": "e2e-render-1",
        },
    )
    assert accepted["status"] == "rendering"
    # Then the workflow finishes on the Canva path
    done = wait_status(
        cloud, "DesignRenderStatus", {"org_id": ORG, "render_id": accepted["render_id"]}, "done", seconds=60
    )
    assert done["path"] == "canva" and [f["format"] for f in done["files"]] == ["png", "pdf"]
    assert httpx.get(done["files"][0]["url"], timeout=5).content == PNG
    # Each job was asked about again after a Wait state (two polls each), never in one Lambda.
    log = httpx.get(f"{cloud.sandbox_url}/__sandbox/requests", params={"provider": "canva"}, timeout=5).json()
    calls = [(r["method"], r["path"].rsplit("/", 1)[0]) for r in log]
    assert calls.count(("POST", "/rest/v1")) == 3  # one autofill, one export per format
    assert calls.count(("GET", "/rest/v1/autofills")) == 2
    assert calls.count(("GET", "/rest/v1/exports")) == 4
    design = httpx.get(f"{cloud.sandbox_url}/canva/_sandbox/design", timeout=5).json()
    assert (design["autofills"], design["exports"]) == (1, 2)


def test_canva_down_renders_the_orgs_html_template_through_the_fallback_function(cloud: LocalCloud) -> None:
    # Given Canva refusing every connection
    fault(cloud, "canva", mode="down")
    try:
        accepted = invoke(
            cloud,
            "DesignRender",
            {
                "org_id": ORG,
                "brand_template_id": DEMO_BRAND_TEMPLATE_ID,
                "template": "promo",
                "fields": {"headline": "Pão de queijo quentinho", "subtitle": "Só hoje", "cta": "Peça já"},
                "formats": ["png", "pdf"],
                "idempotency_key": "e2e-render-fallback",
            },
        )
        done = wait_status(
            cloud, "DesignRenderStatus", {"org_id": ORG, "render_id": accepted["render_id"]}, "done", seconds=60
        )
    finally:
        httpx.delete(f"{cloud.sandbox_url}/__sandbox/faults/canva", timeout=5)
    # Then DesignTemplateRender (its own function, its own dependencies) produced both files
    assert done["path"] == "template"
    by_format = {f["format"]: httpx.get(f["url"], timeout=5).content for f in done["files"]}
    assert by_format["pdf"].startswith(b"%PDF-") and by_format["png"].startswith(b"\x89PNG\r\n\x1a\n")
