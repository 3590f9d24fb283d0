"""The OAuth2 authorization-code flow (hub.integrations.oauth) through the two functions' handlers,
with moto behind them and the providers' sandboxes as the authorization servers: the browser's
part (following the 302s) is played by httpx."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from hub.integrations import records
from hub.providers import descriptor
from hub.providers.base.auth import CONTAINER_TOKENS
from localcloud.sandboxes import canva as canva_sandbox
from localcloud.sandboxes import google as google_sandbox
from tests.aws.conftest import HubAws
from tests.conftest import ServedSandboxes, reset_hub_caches
from tests.helpers import FakeLambdaContext, api_event, load_function, sample_event

ORG = "acme"
ACTOR = "ana@somosprodutora.com.br"
PUBLIC_API = "https://hub.test/Prod"


@pytest.fixture
def flow(sandboxed: ServedSandboxes, hub_aws: HubAws, monkeypatch: pytest.MonkeyPatch) -> Flow:
    monkeypatch.setenv("PUBLIC_API_URL", PUBLIC_API)
    monkeypatch.setenv("SECRETS_CACHE_SECONDS", "0")
    reset_hub_caches()
    CONTAINER_TOKENS.clear()
    return Flow(hub_aws, sandboxed)


def header(answer: dict[str, Any], name: str) -> str:
    """A header of a REST proxy answer (Powertools answers them in ``multiValueHeaders``)."""
    single = answer.get("headers") or {}
    if name in single:
        return str(single[name])
    [value] = (answer.get("multiValueHeaders") or {})[name]
    return str(value)


class Flow:
    def __init__(self, aws: HubAws, sandboxes: ServedSandboxes) -> None:
        self.aws = aws
        self.sandboxes = sandboxes
        self.start_fn = load_function("oauth_start")
        self.callback_fn = load_function("oauth_callback")

    def start(self, provider: str, org_id: str = ORG, actor: str | None = ACTOR) -> dict[str, Any]:
        query = {"org_id": org_id, **({"actor": actor} if actor else {})}
        event = api_event(
            "GET",
            f"/oauth/{provider}/start",
            resource="/oauth/{provider}/start",
            path_parameters={"provider": provider},
            query=query,
        )
        answer: dict[str, Any] = self.start_fn.handler(event, FakeLambdaContext())
        return answer

    def authorize(self, location: str) -> dict[str, str]:
        """The browser at the provider: the consent page answers 302 back to the callback."""
        response = httpx.get(location, follow_redirects=False, timeout=5)
        assert response.status_code == 302, response.text
        back = response.headers["location"]
        assert back.startswith(PUBLIC_API)
        return {k: v[0] for k, v in parse_qs(urlsplit(back).query).items()}

    def callback(self, provider: str, query: dict[str, str]) -> dict[str, Any]:
        event = api_event(
            "GET",
            f"/oauth/{provider}/callback",
            resource="/oauth/{provider}/callback",
            path_parameters={"provider": provider},
            query=query,
            headers={"User-Agent": "Mozilla/5.0 (test)"},
        )
        answer: dict[str, Any] = self.callback_fn.handler(event, FakeLambdaContext())
        return answer

    def connect(self, provider: str, org_id: str = ORG) -> tuple[dict[str, str], dict[str, Any]]:
        started = self.start(provider, org_id)
        assert started["statusCode"] == 302, started
        query = self.authorize(header(started, "Location"))
        return query, self.callback(provider, query)

    def secret(self, provider: str, org_id: str = ORG) -> dict[str, Any] | None:
        sm = self.aws.client("secretsmanager")
        try:
            value: dict[str, Any] = json.loads(sm.get_secret_value(SecretId=f"hub/{org_id}/{provider}")["SecretString"])
        except sm.exceptions.ResourceNotFoundException:
            return None
        return value

    def audit(self, org_id: str = ORG) -> list[dict[str, Any]]:
        items = self.aws.client("dynamodb").scan(TableName=self.aws.env["AUDIT_TABLE"])["Items"]
        return [
            {**i, "action": i["action"]["S"], "actor": i["actor"]["S"], "details": json.loads(i["details"]["S"])}
            for i in items
            if i["org_id"]["S"] == org_id
        ]

    def counters(self, provider: str) -> dict[str, Any]:
        answer: dict[str, Any] = httpx.get(f"{self.sandboxes.url}/{provider}/_sandbox/oauth", timeout=5).json()
        return answer

    def switch(self, provider: str, **switches: Any) -> None:
        httpx.post(f"{self.sandboxes.url}/{provider}/_sandbox/oauth", json=switches, timeout=5).raise_for_status()

    def sent(self, provider: str) -> list[dict[str, Any]]:
        return self.sandboxes.app.requests_for(provider)


# ----- the whole flow ---------------------------------------------------------------------------


def test_google_connects_with_pkce_and_the_tokens_scopes_and_expiry_are_stored(flow: Flow) -> None:
    tap = flow.aws.bus_tap("oauth-tap", {"detail-type": ["integration.connected"]})
    before = datetime.now(UTC)

    started = flow.start("google")

    assert started["statusCode"] == 302
    location = header(started, "Location")
    params = parse_qs(urlsplit(location).query)
    assert location.startswith(f"{flow.sandboxes.url}/google/o/oauth2/v2/auth?")
    assert params["redirect_uri"] == [f"{PUBLIC_API}/oauth/google/callback"]
    assert params["client_id"] == [google_sandbox.DEMO_CLIENT_ID]
    assert (params["access_type"], params["prompt"], params["code_challenge_method"]) == (
        ["offline"],
        ["consent"],
        ["S256"],
    )
    assert set(params["scope"][0].split()) == set(descriptor("google").oauth.scopes)  # type: ignore[union-attr]
    assert "code_verifier" not in location  # the verifier stays server-side

    query = flow.authorize(location)
    page = flow.callback("google", query)

    assert page["statusCode"] == 200, page
    assert "connected" in page["body"] and header(page, "Content-Type").startswith("text/html")
    secret = flow.secret("google")
    assert secret is not None
    assert secret["access_token"].startswith("google-at-") and secret["refresh_token"].startswith("google-rt-")
    assert set(secret["scopes"]) == set(descriptor("google").oauth.scopes)  # type: ignore[union-attr]
    expires = datetime.fromisoformat(secret["expires_at"])
    assert before + timedelta(minutes=55) < expires < datetime.now(UTC) + timedelta(hours=1, minutes=1)
    # The code was exchanged with the verifier whose S256 challenge went to the consent page.
    [exchange] = [r for r in flow.sent("google") if r["path"] == "/token"]
    assert "code_verifier=" in exchange["body"]
    record = records.get_record(ORG, "google")
    assert record is not None
    assert (record.status, record.auth, record.connected_by) == ("connected", "oauth2", ACTOR)
    assert set(record.scopes) == set(secret["scopes"]) and record.token_expires_at is not None
    [connected] = [a for a in flow.audit() if a["action"] == "credentials_connected"]
    assert connected["actor"] == ACTOR and connected["integration"]["S"] == "google"
    assert connected["user_agent"]["S"] == "Mozilla/5.0 (test)"
    assert secret["access_token"] not in json.dumps(connected["details"])
    [message] = flow.aws.client("sqs").receive_message(QueueUrl=tap, MaxNumberOfMessages=10)["Messages"]
    detail = json.loads(message["Body"])["detail"]
    assert (detail["org_id"], detail["provider"], detail["actor"]) == (ORG, "google", ACTOR)


def test_the_connected_client_calls_google_with_the_stored_token(flow: Flow) -> None:
    flow.connect("google")
    cls = descriptor("google").client_class()  # type: ignore[union-attr]

    cls.for_org(ORG).health_check()

    [call] = [r for r in flow.sent("google") if r["path"].startswith("/calendar/")]
    assert call["headers"]["Authorization"] == f"Bearer {flow.secret('google')['access_token']}"  # type: ignore[index]


# ----- refusals: nothing stored -----------------------------------------------------------------


def test_a_replayed_callback_is_refused_and_the_code_is_exchanged_once(flow: Flow) -> None:
    query, first = flow.connect("google")
    assert first["statusCode"] == 200
    stored = flow.secret("google")

    again = flow.callback("google", query)

    assert again["statusCode"] == 400
    assert "already used" in again["body"]
    assert flow.counters("google")["codes_exchanged"] == 1
    assert flow.secret("google") == stored


def test_a_tampered_state_is_refused_and_nothing_is_stored(flow: Flow) -> None:
    started = flow.start("google")
    query = flow.authorize(header(started, "Location"))
    payload, mac = query["state"].split(".")
    forged = {**query, "state": f"{payload[:-2]}{'AA' if payload[-2:] != 'AA' else 'BB'}.{mac}"}

    page = flow.callback("google", forged)

    assert page["statusCode"] == 400 and "state is invalid" in page["body"]
    assert flow.secret("google") is None
    assert records.get_record(ORG, "google") is None
    assert flow.counters("google")["codes_exchanged"] == 0


def test_an_expired_state_is_refused_and_nothing_is_stored(flow: Flow, monkeypatch: pytest.MonkeyPatch) -> None:
    from hub.integrations import oauth

    real_time = oauth.time.time
    started = flow.start("google")
    query = flow.authorize(header(started, "Location"))
    monkeypatch.setattr(oauth.time, "time", lambda: real_time() + oauth.STATE_TTL_SECONDS + 1)

    page = flow.callback("google", query)

    assert page["statusCode"] == 400 and "expired" in page["body"]
    assert flow.secret("google") is None
    assert flow.counters("google")["codes_exchanged"] == 0


def test_a_state_for_another_provider_is_refused(flow: Flow) -> None:
    started = flow.start("google")
    query = flow.authorize(header(started, "Location"))

    page = flow.callback("canva", query)

    assert page["statusCode"] == 400
    assert flow.secret("canva") is None and flow.secret("google") is None


def test_the_user_refusing_consent_answers_a_page_naming_access_denied(flow: Flow) -> None:
    flow.switch("google", deny="access_denied")
    started = flow.start("google")

    query = flow.authorize(header(started, "Location"))
    page = flow.callback("google", query)

    assert query["error"] == "access_denied"
    assert page["statusCode"] == 400 and "access_denied" in page["body"]
    assert flow.secret("google") is None
    assert records.get_record(ORG, "google") is None
    # The flow is used up: its state cannot complete later.
    flow.switch("google", deny=None)
    assert flow.callback("google", {"code": "anything", "state": query["state"]})["statusCode"] == 400


def test_a_refused_code_exchange_stores_nothing(flow: Flow) -> None:
    flow.switch("google", invalid_grant=True)

    _, page = flow.connect("google")

    assert page["statusCode"] == 400 and "invalid_grant" in page["body"]
    assert flow.secret("google") is None
    assert records.get_record(ORG, "google") is None


@pytest.mark.parametrize(
    ("org_id", "provider", "actor", "status", "code"),
    [
        ("nobody", "google", ACTOR, 404, "unknown_org"),
        (ORG, "asaas", ACTOR, 400, "oauth_not_supported"),
        (ORG, "google", None, 400, "invalid_actor"),
    ],
)
def test_start_refuses_what_it_cannot_start_with_a_4xx_naming_it(
    flow: Flow, org_id: str, provider: str, actor: str | None, status: int, code: str
) -> None:
    answer = flow.start(provider, org_id, actor)

    assert answer["statusCode"] == status
    assert json.loads(answer["body"])["code"] == code


def test_start_without_the_providers_app_secret_names_it(flow: Flow) -> None:
    flow.aws.client("secretsmanager").delete_secret(SecretId="hub/_apps/linkedin", ForceDeleteWithoutRecovery=True)

    answer = flow.start("linkedin")

    assert answer["statusCode"] == 400
    body = json.loads(answer["body"])
    assert body["code"] == "oauth_app_missing" and "_apps/linkedin" in body["message"]


# ----- Meta: the long-lived exchange right after the callback -----------------------------------


def test_facebook_trades_the_short_token_for_a_long_lived_one_before_storing(flow: Flow) -> None:
    _, page = flow.connect("facebook")

    assert page["statusCode"] == 200, page
    assert flow.counters("facebook")["long_lived_exchanges"] == 1
    calls = [r for r in flow.sent("facebook") if r["path"].endswith("/oauth/access_token")]
    assert [c["query"].get("grant_type") for c in calls] == [None, "fb_exchange_token"]
    assert calls[0]["path"] == "/v26.0/oauth/access_token"
    secret = flow.secret("facebook")
    assert secret is not None and secret["graph_version"] == "v26.0"
    # The stored token is the long-lived one (~60 days), not the 1-2 hour one of the exchange.
    assert datetime.fromisoformat(secret["expires_at"]) > datetime.now(UTC) + timedelta(days=59)
    assert secret["access_token"] != calls[1]["query"]["fb_exchange_token"]
    cls = descriptor("facebook").client_class()  # type: ignore[union-attr]
    cls.for_org(ORG).health_check()


def test_instagram_trades_the_short_token_for_a_long_lived_one_and_keeps_the_user_id(flow: Flow) -> None:
    _, page = flow.connect("instagram")

    assert page["statusCode"] == 200, page
    assert flow.counters("instagram")["long_lived_exchanges"] == 1
    secret = flow.secret("instagram")
    assert secret is not None
    assert secret["user_id"] == "17841400000000001"
    assert "instagram_business_basic" in secret["scopes"]
    assert datetime.fromisoformat(secret["expires_at"]) > datetime.now(UTC) + timedelta(days=59)
    [exchange] = [r for r in flow.sent("instagram") if r["path"] == "/access_token"]
    assert exchange["query"]["grant_type"] == "ig_exchange_token"


# ----- refresh through the stored tokens ---------------------------------------------------------


def test_canva_connects_with_basic_auth_and_its_single_use_refresh_token_rotates(flow: Flow) -> None:
    flow.switch("canva", access_token_lifetime=30)  # inside the refresh margin: refreshed on use
    _, page = flow.connect("canva")
    assert page["statusCode"] == 200, page
    first = flow.secret("canva")
    assert first is not None
    [exchange] = [r for r in flow.sent("canva") if r["path"] == "/rest/v1/oauth/token"]
    assert exchange["headers"]["Authorization"].startswith("Basic ")
    assert "client_secret" not in exchange["body"]

    cls = descriptor("canva").client_class()  # type: ignore[union-attr]
    cls.for_org(ORG).health_check()

    second = flow.secret("canva")
    assert second is not None
    assert second["refresh_token"] != first["refresh_token"]
    assert flow.counters("canva")["refresh_uses"] == {first["refresh_token"]: 1}
    assert canva_sandbox.DEMO_REFRESH_TOKEN not in json.dumps(second)
    record = records.get_record(ORG, "canva")
    assert record is not None and record.token_refreshed_at is not None


def test_a_google_refresh_without_a_new_refresh_token_keeps_the_stored_one(flow: Flow) -> None:
    flow.switch("google", access_token_lifetime=30)
    flow.connect("google")
    first = flow.secret("google")
    assert first is not None

    cls = descriptor("google").client_class()  # type: ignore[union-attr]
    cls.for_org(ORG).health_check()

    second = flow.secret("google")
    assert second is not None
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] == first["refresh_token"]


def test_reconnecting_with_other_scopes_audits_permissions_changed(flow: Flow) -> None:
    flow.connect("google")
    app = json.loads(flow.aws.client("secretsmanager").get_secret_value(SecretId="hub/_apps/google")["SecretString"])
    narrower = ["https://www.googleapis.com/auth/calendar.events"]
    flow.aws.client("secretsmanager").put_secret_value(
        SecretId="hub/_apps/google", SecretString=json.dumps({**app, "scopes": narrower})
    )
    first_refresh = flow.secret("google")["refresh_token"]  # type: ignore[index]

    _, page = flow.connect("google")

    assert page["statusCode"] == 200
    [changed] = [a for a in flow.audit() if a["action"] == "permissions_changed"]
    # before: Google's default scopes, Calendar's three (events, calendar list, free/busy since
    # issue 18; YouTube is its own provider since issue 16)
    assert changed["details"]["after"] == narrower
    google_scopes = descriptor("google").oauth.scopes  # type: ignore[union-attr]
    assert sorted(changed["details"]["before"]) == sorted(google_scopes) and len(google_scopes) == 3
    assert changed["actor"] == ACTOR
    assert flow.secret("google")["scopes"] == narrower  # type: ignore[index]
    assert flow.secret("google")["refresh_token"] != first_refresh  # type: ignore[index]


def test_the_sample_events_answer_a_redirect_and_a_refusal_page(flow: Flow) -> None:
    started = flow.start_fn.handler(sample_event("oauth_start"), FakeLambdaContext())
    refused = flow.callback_fn.handler(sample_event("oauth_callback"), FakeLambdaContext())

    assert started["statusCode"] == 302
    assert header(started, "Location").startswith(f"{flow.sandboxes.url}/google/o/oauth2/v2/auth?")
    assert refused["statusCode"] == 400 and "access_denied" in refused["body"]
