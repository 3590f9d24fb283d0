"""The token endpoint calls of the OAuth flow (hub.providers.base.oauth.TokenEndpoint), with no
network: what is sent per provider, and how each provider's answer is read."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs

import httpx
import pytest
from pydantic import SecretStr

from hub.errors import InvalidRequestError, ProviderUnavailableError
from hub.providers import descriptor
from hub.providers.base.oauth import OAuthApp, ResolvedOAuth, TokenEndpoint, TokenSet

APP = OAuthApp(client_id="cid", client_secret=SecretStr("csecret-123"))
REDIRECT = "https://hub.test/oauth/x/callback"


def endpoint(provider: str, *answers: httpx.Response) -> tuple[TokenEndpoint, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return queue.pop(0)

    spec = descriptor(provider).oauth  # type: ignore[union-attr]
    assert spec is not None
    oauth = ResolvedOAuth.of(provider, spec, APP)
    return TokenEndpoint(oauth, httpx.Client(transport=httpx.MockTransport(handler))), seen


def form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def test_canva_sends_the_verifier_and_authenticates_with_basic() -> None:
    answer = {"access_token": "at", "refresh_token": "rt", "expires_in": 14400, "scope": "profile:read asset:read"}
    ep, seen = endpoint("canva", httpx.Response(200, json=answer))

    tokens = ep.exchange_code("code-1", redirect_uri=REDIRECT, code_verifier="verifier-1")

    [request] = seen
    assert str(request.url) == "https://api.canva.com/rest/v1/oauth/token"
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"cid:csecret-123").decode()
    assert form(request) == {
        "grant_type": "authorization_code",
        "code": "code-1",
        "redirect_uri": REDIRECT,
        "code_verifier": "verifier-1",
    }
    assert tokens.scopes == ["profile:read", "asset:read"]
    assert tokens.refresh_token is not None and tokens.refresh_token.get_secret_value() == "rt"


def test_facebook_exchanges_with_a_get_on_the_configured_graph_version() -> None:
    ep, seen = endpoint("facebook", httpx.Response(200, json={"access_token": "short", "expires_in": 5400}))

    tokens = ep.exchange_code("code-1", redirect_uri=REDIRECT, code_verifier=None)

    [request] = seen
    assert request.method == "GET" and request.url.path == "/v26.0/oauth/access_token"
    assert dict(request.url.params) == {
        "code": "code-1",
        "redirect_uri": REDIRECT,
        "client_id": "cid",
        "client_secret": "csecret-123",
    }
    # Facebook reports no scopes in the answer: what was asked is what is recorded.
    assert tokens.scopes == list(descriptor("facebook").oauth.scopes)  # type: ignore[union-attr]


def test_instagrams_data_answer_and_comma_permissions_are_read() -> None:
    answer = {"data": [{"access_token": "ig", "user_id": 178414, "permissions": "instagram_business_basic,x"}]}
    ep, _ = endpoint("instagram", httpx.Response(200, json=answer))

    tokens = ep.exchange_code("c", redirect_uri=REDIRECT, code_verifier=None)

    assert tokens.access_token.get_secret_value() == "ig"
    assert (tokens.user_id, tokens.scopes) == ("178414", ["instagram_business_basic", "x"])


def test_the_long_lived_exchange_keeps_the_scopes_and_user_of_the_short_token() -> None:
    ep, seen = endpoint("instagram", httpx.Response(200, json={"access_token": "long", "expires_in": 5183944}))
    short = TokenSet(access_token=SecretStr("short"), scopes=["instagram_business_basic"], user_id="u1")

    long = ep.long_lived(short)

    [request] = seen
    assert str(request.url).startswith("https://graph.instagram.com/access_token?")
    assert dict(request.url.params) == {
        "grant_type": "ig_exchange_token",
        "client_secret": "csecret-123",
        "access_token": "short",
    }
    assert (long.access_token.get_secret_value(), long.scopes, long.user_id) == (
        "long",
        ["instagram_business_basic"],
        "u1",
    )
    assert long.expires_at is not None


@pytest.mark.parametrize(
    ("answer", "error", "code"),
    [
        (
            httpx.Response(400, json={"error": "invalid_grant", "error_description": "csecret-123 used"}),
            InvalidRequestError,
            "invalid_grant",
        ),
        (
            httpx.Response(400, json={"error": {"message": "bad", "type": "OAuthException", "code": 100}}),
            InvalidRequestError,
            "OAuthException",
        ),
        (httpx.Response(503, text="down"), ProviderUnavailableError, None),
        (httpx.Response(200, json={"token_type": "bearer"}), ProviderUnavailableError, None),
    ],
)
def test_refusals_carry_the_oauth_error_code_and_never_the_description(
    answer: httpx.Response, error: type[Exception], code: str | None
) -> None:
    ep, _ = endpoint("google", answer)

    with pytest.raises(error) as info:
        ep.exchange_code("c", redirect_uri=REDIRECT, code_verifier="v")

    assert getattr(info.value, "code", None) == code
    assert "csecret-123" not in json.dumps(info.value.to_dict())  # type: ignore[attr-defined]
