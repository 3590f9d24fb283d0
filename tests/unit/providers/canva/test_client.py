"""CanvaClient against Canva Connect's documented requests (https://www.canva.dev/docs/connect/):
brand templates and their dataset, autofill and export jobs, Canva's error body, the plan
refusal and the export throttles counted by the hub."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from hub.errors import AuthenticationError, InvalidRequestError, RateLimitedError
from hub.providers import canva
from hub.providers.base.oauth import OAuthCredentials
from hub.providers.canva.client import CanvaClient
from hub.resilience.ratelimit import DAY, MINUTE
from hub.retry import RetryPolicy
from tests.helpers import recording

TOKEN = "canva-unit-test-access-token"
API = "https://api.canva.com/rest"
CREDS = OAuthCredentials(base_url=API, access_token=SecretStr(TOKEN))


def client(handler: Any) -> CanvaClient:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return CanvaClient(CREDS, http=http, retry_policy=RetryPolicy(max_attempts=2, sleep=lambda _: None))


def job(**fields: Any) -> httpx.Response:
    return httpx.Response(200, json={"job": fields})


def test_brand_templates_and_dataset_are_the_documented_gets() -> None:
    # Given Canva's list and dataset answers
    seen, handler = recording(
        httpx.Response(200, json={"items": [{"id": "DAFVztcvd9z", "title": "Oferta"}], "continuation": "c2"}),
        httpx.Response(200, json={"dataset": {"headline": {"type": "text"}, "photo": {"type": "image"}}}),
    )
    canva_client = client(handler)
    # When
    templates, continuation = canva_client.list_brand_templates()
    fields = canva_client.brand_template_dataset("DAFVztcvd9z")
    # Then
    assert [(t.id, t.title) for t in templates] == [("DAFVztcvd9z", "Oferta")] and continuation == "c2"
    assert [(f.name, f.type) for f in fields] == [("headline", "text"), ("photo", "image")]
    assert [(r.method, str(r.url)) for r in seen] == [
        ("GET", f"{API}/v1/brand-templates"),
        ("GET", f"{API}/v1/brand-templates/DAFVztcvd9z/dataset"),
    ]
    assert all(r.headers["Authorization"] == f"Bearer {TOKEN}" for r in seen)


def test_autofill_job_is_created_and_polled_to_its_design() -> None:
    seen, handler = recording(
        job(id="af-1", status="in_progress"),
        job(id="af-1", status="success", result={"type": "create_design", "design": {"id": "DAF123"}}),
    )
    canva_client = client(handler)
    created = canva_client.create_autofill("DAFVztcvd9z", "Oferta", {"headline": {"type": "text", "text": "Pão"}})
    polled = canva_client.get_autofill(created.id)
    assert (created.status, polled.status, polled.design_id) == ("in_progress", "success", "DAF123")
    assert (seen[0].method, str(seen[0].url)) == ("POST", f"{API}/v1/autofills")
    assert json.loads(seen[0].content) == {
        "brand_template_id": "DAFVztcvd9z",
        "title": "Oferta",
        "data": {"headline": {"type": "text", "text": "Pão"}},
    }
    assert (seen[1].method, str(seen[1].url)) == ("GET", f"{API}/v1/autofills/af-1")


def test_a_failed_autofill_job_carries_canvas_error() -> None:
    _, handler = recording(job(id="af-1", status="failed", error={"code": "autofill_error", "message": "bad"}))
    polled = client(handler).get_autofill("af-1")
    assert (polled.status, polled.error_code, polled.error_message) == ("failed", "autofill_error", "bad")


def test_export_job_and_its_download_urls() -> None:
    url = "https://export-download.canva.com/x/1.png?X-Amz-Signature=abc"
    seen, handler = recording(
        job(id="ex-1", status="in_progress"),
        job(id="ex-1", status="success", urls=[url]),
        httpx.Response(200, content=b"\x89PNG-bytes"),
    )
    canva_client = client(handler)
    created = canva_client.create_export("DAF123", "png")
    done = canva_client.get_export(created.id)
    data = canva_client.download(done.urls[0])
    assert json.loads(seen[0].content) == {"design_id": "DAF123", "format": {"type": "png"}}
    assert (str(seen[1].url), done.urls, data) == (f"{API}/v1/exports/ex-1", [url], b"\x89PNG-bytes")
    # Canva's pre-signed download URL gets no Authorization header.
    assert str(seen[2].url) == url and "Authorization" not in seen[2].headers


def test_a_plan_refusal_is_canva_plan_required() -> None:
    # Given Canva refusing autofill to a user without the plan
    refusal = httpx.Response(403, json={"code": "permission_denied", "message": "Enterprise only"})
    _, handler = recording(refusal)
    # When / Then
    with pytest.raises(InvalidRequestError) as caught:
        client(handler).create_autofill("DAFVztcvd9z", "t", {})
    assert caught.value.code == "canva_plan_required" and "Enterprise only" in caught.value.message
    # The same 403 on an export stays an authentication error (not a plan question).
    _, handler = recording(refusal)
    with pytest.raises(AuthenticationError):
        client(handler).create_export("DAF123", "pdf")


def test_429_is_rate_limited() -> None:
    _, handler = recording(httpx.Response(429, json={"code": "too_many_requests", "message": "slow down"}))
    with pytest.raises(RateLimitedError) as caught:
        client(handler).create_export("DAF123", "png")
    assert caught.value.code == "too_many_requests"


def test_export_throttles_are_declared_as_hub_quotas() -> None:
    limits = {
        (rule.name, rule.limit, rule.window_seconds, rule.scope, rule.applies_to) for rule in canva.DESCRIPTOR.limits
    }
    assert limits == {
        ("exports_per_user_5min", 75, 5 * MINUTE, "account", "export"),
        ("exports_per_user_day", 500, DAY, "account", "export"),
        ("exports_per_app_day", 5_000, DAY, "provider", "export"),
    }
    assert {"brandtemplate:meta:read", "brandtemplate:content:read"} <= set(canva.OAUTH.scopes)
