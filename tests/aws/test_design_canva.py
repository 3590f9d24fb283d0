"""DesignRender through the Canva sandbox (OAuth, brand templates, async jobs, throttles) with
moto's S3: autofill → export → files in generated-content, each job polled as the workflow's
Wait states do; and every Canva failure (down, quota, 429, plan refusal, not connected) taking
the template path with the documented DesignTemplateRender payload."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from hub.design import render
from hub.errors import InvalidRequestError
from localcloud.sandboxes.base import Fault
from localcloud.sandboxes.canva import DEMO_BRAND_TEMPLATE_ID, PNG
from tests.aws.conftest import HubAws
from tests.conftest import ServedSandboxes, reset_hub_caches
from tests.helpers import FakeLambdaContext, load_function

ORG = "demo"


@pytest.fixture
def design(hub_aws: HubAws, sandboxed: ServedSandboxes, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Executions captured instead of run by moto (the tests play the machine), and the
    template renderer faked at its invoke seam."""
    seen: dict[str, Any] = {"executions": {}, "template_calls": []}
    monkeypatch.setenv("DESIGN_TEMPLATE_RENDER_FUNCTION", "hub-DesignTemplateRender")
    reset_hub_caches()

    def start(machine: str, name: str, execution_input: dict[str, Any]) -> None:
        seen["executions"].setdefault(name, {"input": json.dumps(execution_input), "status": "RUNNING"})

    def template_renderer(function_name: str, payload: dict[str, Any]) -> dict[str, Any]:
        seen["template_calls"].append((function_name, payload))
        bucket = hub_aws.env["GENERATED_CONTENT_BUCKET"]
        files = []
        for fmt in payload["formats"]:
            key = f"{payload['org_id']}/designs/{payload['render_id']}/template.{fmt}"
            hub_aws.client("s3").put_object(Bucket=bucket, Key=key, Body=b"x" * 10)
            files.append({"format": fmt, "bucket": bucket, "key": key, "bytes": 10, "pages": 1})
        return {"path": "template", "files": files}

    monkeypatch.setattr(render, "start_execution", start)
    monkeypatch.setattr(render, "describe_execution", lambda arn: seen["executions"].get(arn.rsplit(":", 1)[1]))
    monkeypatch.setattr(render, "invoke_template_renderer", template_renderer)
    yield seen


def invoke(function: str, payload: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = load_function(function).handler(payload, FakeLambdaContext(function))
    return answer


def request(key: str = "render-1", **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "org_id": ORG,
        "brand_template_id": DEMO_BRAND_TEMPLATE_ID,
        "template": "oferta",
        "title": "Oferta da semana",
        "fields": {"headline": "Pão de queijo", "price": "R$ 12,90"},
        "formats": ["png", "pdf"],
        "idempotency_key": key,
    }
    payload.update(overrides)
    return payload


def play(design: dict[str, Any], render_id: str, max_steps: int = 30) -> list[str]:
    """Run the steps as DesignRenderWorkflow does (statemachines/design_render.py): Advance,
    Route on ``next``, WaitForCanva, Template, Done; the routes taken are returned."""
    execution = design["executions"][render_id]
    document: dict[str, Any] = json.loads(execution["input"])
    step = load_function("design_render_step").handler
    routes: list[str] = []
    op = "advance"
    for _ in range(max_steps):
        payload = {"op": op, "state": document["state"]}
        if op == "template":
            payload["error"] = document.get("error")
        document = step(payload, FakeLambdaContext("design_render_step"))
        routes.append(document["next"])
        if document["next"] == "done":
            execution.update(status="SUCCEEDED", output=json.dumps(document))
            return routes
        op = "template" if document["next"] == "template" else "advance"
    raise AssertionError(routes)


def test_canva_autofill_then_export_polled_then_stored(
    hub_aws: HubAws, sandboxed: ServedSandboxes, design: dict[str, Any]
) -> None:
    # Bad requests are refused, naming the field, before anything starts.
    for payload, field in [
        (request(fields={"photo": {"s3_key": "demo/a.png"}}), "fields.photo"),
        (request(brand_template_id=None, template=None), "brand_template_id or template"),
        (request(formats=["gif"]), "formats"),
        (request(formats=["png", "png"]), "formats"),
    ]:
        with pytest.raises(InvalidRequestError) as caught:
            invoke("design_render", payload)
        assert field in str(caught.value)
    assert design["executions"] == {}
    # Given Canva's jobs that stay in progress for two polls each
    httpx.post(f"{sandboxed.url}/canva/_sandbox/design", json={"polls_to_finish": 2})
    # When the render is requested and the workflow runs
    accepted = invoke("design_render", request())
    assert accepted["status"] == "rendering"
    assert invoke("design_render_status", {"org_id": ORG, "render_id": accepted["render_id"]})["status"] == "rendering"
    routes = play(design, accepted["render_id"])
    # Then each job was waited on by the machine (never in the Lambda) and the files are ours
    assert routes == ["wait", "wait", "advance", "wait", "wait", "done"]
    result = invoke("design_render_status", {"org_id": ORG, "render_id": accepted["render_id"]})
    assert (result["status"], result["path"], result["errors"]) == ("done", "canva", [])
    assert [f["format"] for f in result["files"]] == ["png", "pdf"]
    png = result["files"][0]
    assert png["key"] == f"{ORG}/designs/{accepted['render_id']}/canva.png"
    stored = hub_aws.client("s3").get_object(Bucket=hub_aws.env["GENERATED_CONTENT_BUCKET"], Key=png["key"])
    assert stored["Body"].read() == PNG and stored["ContentType"] == "image/png"
    assert httpx.get(png["url"]).content == PNG  # the presigned URL works
    # The exact Canva requests: one autofill with the text fields, one export per format.
    canva = [(r["method"], r["path"]) for r in sandboxed.app.requests_for("canva")]
    assert canva.count(("POST", "/rest/v1/autofills")) == 1
    assert canva.count(("POST", "/rest/v1/exports")) == 2
    autofill = next(r for r in sandboxed.app.requests_for("canva") if r["path"] == "/rest/v1/autofills")
    assert json.loads(autofill["body"])["data"] == {
        "headline": {"type": "text", "text": "Pão de queijo"},
        "price": {"type": "text", "text": "R$ 12,90"},
    }
    assert design["template_calls"] == []
    # Another org cannot read the render.
    with pytest.raises(InvalidRequestError):
        invoke("design_render_status", {"org_id": "demo-cloud", "render_id": accepted["render_id"]})


FAILURES: list[tuple[str, dict[str, Any], str]] = [
    ("plan-refused", {"switch": {"plan_required": True}}, "canva_plan_required"),
    ("down", {"fault": Fault("error", status=503, times=5)}, "canva_unavailable"),
    ("429", {"fault": Fault("rate_limited", retry_after=0, times=5)}, "canva_over_quota"),
    ("hub-quota", {"quota": 0}, "canva_over_quota"),
    ("not-connected", {"no_secret": True}, "canva_not_connected"),
]


def test_canva_failures_take_the_template_path(
    hub_aws: HubAws, sandboxed: ServedSandboxes, design: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # One moto for every failure mode (its setup is the slow part); retries off: the first
    # answer decides, as the step's own retry budget would in the end.
    monkeypatch.setenv("RETRY_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("RETRY_UNAVAILABLE_MAX_ATTEMPTS", "1")
    for name, setup, reason in FAILURES:
        # Given Canva failing one way
        sandboxed.reset()
        design["template_calls"].clear()
        if "switch" in setup:
            httpx.post(f"{sandboxed.url}/canva/_sandbox/design", json=setup["switch"])
        if "fault" in setup:
            sandboxed.app.set_fault("canva", setup["fault"])
        if "quota" in setup:
            limit = {
                "name": "exports_per_user_5min",
                "limit": setup["quota"],
                "window_seconds": 300,
                "scope": "account",
                "applies_to": "export",
            }
            monkeypatch.setenv("RATE_LIMIT_OVERRIDES", json.dumps({"canva": [limit]}))
        if "no_secret" in setup:
            hub_aws.client("secretsmanager").delete_secret(SecretId=f"hub/{ORG}/canva", ForceDeleteWithoutRecovery=True)
        reset_hub_caches()
        # When
        accepted = invoke("design_render", request(key=f"render-{name}"))
        routes = play(design, accepted["render_id"])
        # Then the template renderer got the same request, and the result says which path
        assert routes[-2:] == ["template", "done"], name
        assert design["template_calls"] == [
            (
                "hub-DesignTemplateRender",
                {
                    "org_id": ORG,
                    "render_id": accepted["render_id"],
                    "template": "oferta",
                    "fields": {"headline": "Pão de queijo", "price": "R$ 12,90"},
                    "formats": ["png", "pdf"],
                },
            )
        ], name
        result = invoke("design_render_status", {"org_id": ORG, "render_id": accepted["render_id"]})
        assert (result["status"], result["path"], result["fallback_reason"]) == ("done", "template", reason), (
            name,
            result["errors"],
        )
        assert [f["format"] for f in result["files"]] == ["png", "pdf"] and all(f["url"] for f in result["files"])
        assert result["errors"][0]["path"] == "canva", name
        if name == "plan-refused":
            assert result["errors"][0]["code"] == "canva_plan_required"
        if name == "hub-quota":  # the hub refused before asking Canva for an export
            paths = [r["path"] for r in sandboxed.app.requests_for("canva")]
            assert "/rest/v1/autofills" in paths and "/rest/v1/exports" not in paths

    # Without the template function's setting, the render fails clearly.
    monkeypatch.delenv("DESIGN_TEMPLATE_RENDER_FUNCTION")
    reset_hub_caches()
    accepted = invoke("design_render", request(key="render-no-template-function"))
    play(design, accepted["render_id"])
    result = invoke("design_render_status", {"org_id": ORG, "render_id": accepted["render_id"]})
    assert (result["status"], result["path"]) == ("failed", "template")
    assert result["errors"][-1]["error"] == "ConfigurationError"
    assert "DESIGN_TEMPLATE_RENDER_FUNCTION" in result["errors"][-1]["message"]
