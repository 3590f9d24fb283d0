"""Meta Graph API errors map by code: throttling arrives as 400/403 with codes, not 429."""

from __future__ import annotations

import json

import httpx
import pytest

from hub.errors import AuthenticationError, InvalidRequestError, ProviderUnavailableError, RateLimitedError
from hub.providers.meta.graph import classify_graph_error


def graph(status: int, code: int, headers: dict[str, str] | None = None) -> httpx.Response:
    body = {"error": {"message": "m", "type": "OAuthException", "code": code, "fbtrace_id": "AbC"}}
    return httpx.Response(status, json=body, headers=headers)


@pytest.mark.parametrize("code", [4, 17, 32, 613, 80001, 80014, 130429, 131056])
def test_throttling_codes_are_rate_limited(code: int) -> None:
    error = classify_graph_error("instagram", graph(400, code))
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == 60
    assert error.request_id == "AbC"


def test_business_use_case_header_gives_the_wait() -> None:
    usage = {"123": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 7}]}
    error = classify_graph_error("facebook", graph(403, 80001, {"X-Business-Use-Case-Usage": json.dumps(usage)}))
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == 420


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (401, 190, AuthenticationError),
        (403, 200, AuthenticationError),
        (400, 100, InvalidRequestError),
        (500, 1, ProviderUnavailableError),
        (400, 131000, ProviderUnavailableError),
    ],
)
def test_other_codes(status: int, code: int, kind: type[Exception]) -> None:
    assert isinstance(classify_graph_error("whatsapp_cloud", graph(status, code)), kind)


def test_non_graph_bodies_are_left_to_the_default_mapping() -> None:
    assert classify_graph_error("facebook", httpx.Response(502, text="Bad Gateway")) is None
