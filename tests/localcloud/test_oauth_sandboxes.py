"""The OAuth providers' sandboxes (localcloud/sandboxes/oauth_server.py) behave as the providers
document their authorization servers: what they check, what they issue, the switches."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from hub.integrations.oauth import code_challenge
from localcloud.sandboxes import canva, google, instagram
from tests.conftest import ServedSandboxes

CALLBACK = "https://hub.test/Prod/oauth/{provider}/callback"
VERIFIER = "v" * 64


@pytest.fixture
def url(sandboxes: ServedSandboxes) -> str:
    return sandboxes.url  # state, switches and requests are reset around every test


def authorize(url: str, provider: str, path: str, **params: str) -> httpx.Response:
    return httpx.get(f"{url}/{provider}{path}", params=params, follow_redirects=False, timeout=5)


def redirected(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}


def canva_code(url: str, **overrides: str) -> str:
    params = {
        "client_id": canva.DEMO_CLIENT_ID,
        "redirect_uri": CALLBACK.format(provider="canva"),
        "response_type": "code",
        "scope": "profile:read design:meta:read",
        "state": "s1",
        "code_challenge": code_challenge(VERIFIER),
        "code_challenge_method": "S256",
        **overrides,
    }
    return redirected(authorize(url, "canva", "/api/oauth/authorize", **params))["code"]


def canva_token(url: str, form: dict[str, str], *, secret: str = canva.DEMO_CLIENT_SECRET) -> httpx.Response:
    basic = base64.b64encode(f"{canva.DEMO_CLIENT_ID}:{secret}".encode()).decode()
    return httpx.post(
        f"{url}/canva/rest/v1/oauth/token", data=form, headers={"Authorization": f"Basic {basic}"}, timeout=5
    )


def exchange(url: str, code: str, verifier: str = VERIFIER) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK.format(provider="canva"),
        "code_verifier": verifier,
    }
    return canva_token(url, form)


def control(url: str, provider: str, **switches: Any) -> dict[str, Any]:
    answer: dict[str, Any] = httpx.post(f"{url}/{provider}/_sandbox/oauth", json=switches, timeout=5).json()
    return answer


# ----- authorization ---------------------------------------------------------------------------


def test_an_unknown_client_or_redirect_uri_is_never_redirected_to(url: str) -> None:
    base = {"redirect_uri": CALLBACK.format(provider="google"), "response_type": "code", "scope": "openid"}
    assert authorize(url, "google", "/o/oauth2/v2/auth", client_id="someone-else", **base).status_code == 400
    evil = {**base, "redirect_uri": "https://evil.test/steal"}
    assert authorize(url, "google", "/o/oauth2/v2/auth", client_id=google.DEMO_CLIENT_ID, **evil).status_code == 400


def test_canva_requires_an_s256_challenge_and_refuses_unknown_scopes(url: str) -> None:
    params = {
        "client_id": canva.DEMO_CLIENT_ID,
        "redirect_uri": CALLBACK.format(provider="canva"),
        "response_type": "code",
        "scope": "profile:read",
        "state": "s1",
    }
    assert redirected(authorize(url, "canva", "/api/oauth/authorize", **params))["error"] == "invalid_request"
    plain = {**params, "code_challenge": "abc", "code_challenge_method": "plain"}
    assert redirected(authorize(url, "canva", "/api/oauth/authorize", **plain))["error"] == "invalid_request"
    unknown = {**params, "scope": "everything", "code_challenge": "abc", "code_challenge_method": "S256"}
    assert redirected(authorize(url, "canva", "/api/oauth/authorize", **unknown)) == {
        "error": "invalid_scope",
        "state": "s1",
    }


def test_the_deny_switch_answers_access_denied_with_the_state(url: str) -> None:
    control(url, "canva", deny="access_denied")
    params = {
        "client_id": canva.DEMO_CLIENT_ID,
        "redirect_uri": CALLBACK.format(provider="canva"),
        "response_type": "code",
        "scope": "profile:read",
        "state": "s9",
        "code_challenge": code_challenge(VERIFIER),
        "code_challenge_method": "S256",
    }
    answer = redirected(authorize(url, "canva", "/api/oauth/authorize", **params))
    assert (answer["error"], answer["state"]) == ("access_denied", "s9")


# ----- the token endpoint ---------------------------------------------------------------------


def test_a_code_is_exchanged_once_and_only_with_its_verifier(url: str) -> None:
    code = canva_code(url)
    wrong = exchange(url, code, verifier="w" * 64)
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")

    code = canva_code(url)
    first = exchange(url, code)
    assert first.status_code == 200
    assert {"access_token", "refresh_token", "expires_in", "scope", "token_type"} <= set(first.json())
    again = exchange(url, code)
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")


def test_canva_client_auth_is_basic_only(url: str) -> None:
    code = canva_code(url)
    assert exchange(url, code).status_code == 200
    code = canva_code(url)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK.format(provider="canva"),
        "code_verifier": VERIFIER,
        "client_id": canva.DEMO_CLIENT_ID,
        "client_secret": canva.DEMO_CLIENT_SECRET,
    }
    in_body = httpx.post(f"{url}/canva/rest/v1/oauth/token", data=form, timeout=5)
    assert (in_body.status_code, in_body.json()["error"]) == (401, "invalid_client")


def test_canva_refresh_tokens_are_single_use_rotate_and_are_counted(url: str) -> None:
    issued = exchange(url, canva_code(url)).json()

    first = canva_token(url, {"grant_type": "refresh_token", "refresh_token": issued["refresh_token"]})
    reused = canva_token(url, {"grant_type": "refresh_token", "refresh_token": issued["refresh_token"]})

    assert first.status_code == 200 and first.json()["refresh_token"] != issued["refresh_token"]
    assert (reused.status_code, reused.json()["error"]) == (400, "invalid_grant")
    assert control(url, "canva")["refresh_uses"] == {issued["refresh_token"]: 2}


def test_short_lived_access_tokens_expire_at_the_api(url: str) -> None:
    control(url, "canva", access_token_lifetime=1)
    issued = exchange(url, canva_code(url)).json()
    assert issued["expires_in"] == 1
    control(url, "canva", access_token_lifetime=3600)
    fresh = exchange(url, canva_code(url)).json()

    ok = httpx.get(
        f"{url}/canva/rest/v1/users/me", headers={"Authorization": f"Bearer {fresh['access_token']}"}, timeout=5
    )
    unknown = httpx.get(f"{url}/canva/rest/v1/users/me", headers={"Authorization": "Bearer nope"}, timeout=5)

    assert ok.status_code == 200 and "team_user" in ok.json()
    assert (unknown.status_code, unknown.json()["code"]) == (401, "invalid_access_token")


def test_the_invalid_grant_and_5xx_switches(url: str) -> None:
    issued = exchange(url, canva_code(url)).json()
    control(url, "canva", fail_5xx=1)
    unavailable = canva_token(url, {"grant_type": "refresh_token", "refresh_token": issued["refresh_token"]})
    control(url, "canva", invalid_grant=True)
    revoked = canva_token(url, {"grant_type": "refresh_token", "refresh_token": issued["refresh_token"]})

    assert unavailable.status_code == 503
    assert (revoked.status_code, revoked.json()["error"]) == (400, "invalid_grant")


def test_instagram_answers_the_code_in_data_and_exchanges_for_a_long_lived_token(url: str) -> None:
    params = {
        "client_id": instagram.DEMO_CLIENT_ID,
        "redirect_uri": CALLBACK.format(provider="instagram"),
        "response_type": "code",
        "scope": "instagram_business_basic,instagram_business_content_publish",
    }
    code = redirected(authorize(url, "instagram", "/oauth/authorize", **params))["code"]
    form = {
        "client_id": instagram.DEMO_CLIENT_ID,
        "client_secret": instagram.DEMO_CLIENT_SECRET,
        "grant_type": "authorization_code",
        "redirect_uri": CALLBACK.format(provider="instagram"),
        "code": code,
    }
    [short] = httpx.post(f"{url}/instagram/oauth/access_token", data=form, timeout=5).json()["data"]
    assert short["permissions"] == "instagram_business_basic,instagram_business_content_publish"

    long = httpx.get(
        f"{url}/instagram/access_token",
        params={
            "grant_type": "ig_exchange_token",
            "client_secret": instagram.DEMO_CLIENT_SECRET,
            "access_token": short["access_token"],
        },
        timeout=5,
    ).json()
    refreshed = httpx.get(
        f"{url}/instagram/refresh_access_token",
        params={"grant_type": "ig_refresh_token", "access_token": long["access_token"]},
        timeout=5,
    ).json()

    assert long["expires_in"] == 60 * 24 * 3600 and "refresh_token" not in long
    assert refreshed["access_token"] != long["access_token"]
    assert control(url, "instagram")["long_lived_exchanges"] == 1
