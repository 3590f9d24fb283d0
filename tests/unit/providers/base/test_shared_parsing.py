"""The parsing rules adapters share: a provider's JSON body, a blank optional secret and the
``<timestamp>=…,v1=…`` signature header (Stripe, Mercado Pago)."""

from __future__ import annotations

import re

import httpx
import pytest

from hub.errors import ProviderUnavailableError, WebhookAuthenticationError
from hub.providers.base.client import ProviderCredentials
from hub.providers.base.webhook import WebhookSecretCredentials, timestamped_signatures
from tests.unit.providers.base.test_client import FakeClient

TIMESTAMP = re.compile(r"^[0-9]{1,12}$")


def _client() -> FakeClient:
    return FakeClient(ProviderCredentials())


def test_a_json_object_is_read_with_decimal_numbers() -> None:
    body = _client().json_object(httpx.Response(200, content=b'{"amount": 10.50}'))
    assert str(body["amount"]) == "10.50"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<html>oops</html>", "fake answered 200 with a body that is not JSON"),
        (b"", "fake answered 200 without a JSON object"),
        (b"[1, 2]", "fake answered 200 without a JSON object"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_the_provider_misbehaving(content: bytes, message: str) -> None:
    with pytest.raises(ProviderUnavailableError, match=message):
        _client().json_object(httpx.Response(200, content=content))


def test_a_blank_previous_secret_is_unset() -> None:
    creds = WebhookSecretCredentials.model_validate({"webhook_secret": "s1", "previous_webhook_secret": ""})
    assert creds.previous_webhook_secret is None
    assert creds.secrets() == ["s1"]


def _parse(value: str) -> tuple[str, list[str]]:
    return timestamped_signatures(value, header="X-Sig", timestamp_key="t", timestamp=TIMESTAMP, provider="acme")


def test_the_timestamp_and_every_v1_signature_are_read() -> None:
    assert _parse("t=1700000000, v1=abc,v0=old,v1=def") == ("1700000000", ["abc", "def"])


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("t=1700000000", "no v1 signature in the X-Sig header"),
        ("v1=abc", "malformed X-Sig header"),
        ("t=soon,v1=abc", "malformed X-Sig header"),
        ("t=1,t=2,v1=abc", "malformed X-Sig header"),
        ("t=1,v1=", "malformed X-Sig header"),
        ("t=1,v1=abc," + "v1=abc," * 600, "malformed X-Sig header"),
    ],
)
def test_a_malformed_header_is_refused(header: str, message: str) -> None:
    with pytest.raises(WebhookAuthenticationError, match=message):
        _parse(header)
