"""The inbound consumer (partial batch failures) and GET /health/integrations."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
import respx

from hub.events import event_id_for
from tests.aws.conftest import HubAws
from tests.helpers import FakeLambdaContext, api_event, load_function, sample_event


def sqs_event(*bodies: str) -> dict[str, Any]:
    # Events built here carry no archive of their own (the sample's attributes name its own request's).
    template = {**sample_event("inbound_events_process")["Records"][0], "messageAttributes": {}}
    return {"Records": [{**template, "messageId": f"msg-{i}", "body": body} for i, body in enumerate(bodies)]}


def hub_event(message_id: str, occurred_at: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(sample_event("inbound_events_process")["Records"][0]["body"])
    event["data"]["message_id"] = message_id
    event["occurred_at"] = occurred_at
    # A different message is a different event (the same id would be skipped as delivered)
    event["dedupe_key"] = message_id
    event["event_id"] = event_id_for(event["org_id"], event["provider"], message_id)
    return event


def contact(hub_aws: HubAws) -> dict[str, Any]:
    item: dict[str, Any] = hub_aws.client("dynamodb").get_item(
        TableName=hub_aws.env["CONTACTS_TABLE"],
        Key={"org_id": {"S": "demo"}, "contact": {"S": "whatsapp#+5511987654321"}},
    )["Item"]
    return item


def test_consumer_records_the_contact_and_reports_only_the_bad_record(hub_aws: HubAws) -> None:
    consumer = load_function("inbound_events_process")
    good = json.dumps(hub_event("M-1", "2025-11-22T12:00:00Z"))
    result = consumer.handler(sqs_event(good, "not json"), FakeLambdaContext("InboundEventsProcess"))
    assert result == {"batchItemFailures": [{"itemIdentifier": "msg-1"}]}
    item = contact(hub_aws)
    assert item["last_inbound_message_id"]["S"] == "M-1"
    assert item["display_name"]["S"] == "Maria Silva"


def test_out_of_order_delivery_never_moves_the_window_backwards(hub_aws: HubAws) -> None:
    consumer = load_function("inbound_events_process")
    newer = json.dumps(hub_event("NEW", "2025-11-22T13:00:00Z"))
    older = json.dumps(hub_event("OLD", "2025-11-22T11:00:00Z"))
    result = consumer.handler(sqs_event(newer, older), FakeLambdaContext("InboundEventsProcess"))
    assert result == {"batchItemFailures": []}
    assert contact(hub_aws)["last_inbound_message_id"]["S"] == "NEW"


EVO = {"base_url": "https://evo.test", "api_key": "k", "instance": "somos-principal", "webhook_token": "t"}


def health(org: str | None) -> dict[str, Any]:
    module = load_function("health_integrations")
    event = api_event(
        "GET", "/health/integrations", resource="/health/integrations", query={"org_id": org} if org else None
    )
    response: dict[str, Any] = module.handler(event, FakeLambdaContext("HealthIntegrations"))
    return response


def test_health_reports_each_configured_integration(hub_aws: HubAws) -> None:
    hub_aws.put_secret("demo", "evolution", EVO)
    with respx.mock(assert_all_called=True) as mock:
        mock.get("https://evo.test/instance/connectionState/somos-principal").respond(
            200, json={"instance": {"instanceName": "somos-principal", "state": "open"}}
        )
        response = health("demo")
    assert response["statusCode"] == 200
    body = json.loads(response["body"])
    assert body["status"] == "healthy"
    assert set(body["services"]) == {"storage", "evolution"}
    assert body["services"]["evolution"]["status"] == "healthy"
    assert body["services"]["evolution"]["latency_ms"] >= 0


def test_health_is_degraded_when_a_provider_fails_and_names_the_error(hub_aws: HubAws) -> None:
    hub_aws.put_secret("demo", "evolution", EVO)
    with respx.mock() as mock:
        mock.get("https://evo.test/instance/connectionState/somos-principal").respond(401, json={"status": 401})
        body = json.loads(health("demo")["body"])
    assert body["status"] == "degraded"
    assert body["services"]["evolution"]["status"] == "unhealthy"
    assert body["services"]["evolution"]["error"].startswith("AuthenticationError")
    assert body["services"]["storage"]["status"] == "healthy"


def test_health_caps_a_hanging_provider(hub_aws: HubAws, monkeypatch: pytest.MonkeyPatch) -> None:
    from hub.config import get_settings

    monkeypatch.setenv("HEALTH_CHECK_TIMEOUT", "0.5")
    get_settings.cache_clear()
    hub_aws.put_secret("demo", "evolution", EVO)

    def hang(request: httpx.Request) -> httpx.Response:
        time.sleep(2)
        return httpx.Response(200, json={"instance": {"state": "open"}})

    with respx.mock(assert_all_called=False) as mock:
        mock.get("https://evo.test/instance/connectionState/somos-principal").mock(side_effect=hang)
        body = json.loads(health("demo")["body"])
    assert body["services"]["evolution"] == {"status": "unhealthy", "error": "timed out after 0.5 s"}


def test_platform_health_without_org_answers_per_provider_from_the_schedules_reports(
    hub_aws: HubAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hub.config import get_settings

    # Given three orgs with Evolution: one healthy, one whose provider fails (its breaker opens
    # on the first failure here) and one healthy, checked by the schedule
    monkeypatch.setenv("BREAKER_FAILURE_THRESHOLD", "1")
    get_settings.cache_clear()
    for org in ("acme", "beta", "demo"):
        hub_aws.put_secret(org, "evolution", {**EVO, "base_url": f"https://evo-{org}.test"})
    scheduled = load_function("health_check_scheduled")
    with respx.mock() as mock:
        for org in ("beta", "demo"):
            mock.get(f"https://evo-{org}.test/instance/connectionState/somos-principal").respond(
                200, json={"instance": {"state": "open"}}
            )
        mock.get("https://evo-acme.test/instance/connectionState/somos-principal").respond(503)
        scheduled.handler(sample_event("health_check_scheduled"), FakeLambdaContext("HealthCheckScheduled"))

    # When the platform asks without org_id (no provider is called)
    with respx.mock(assert_all_called=False) as mock:
        route = mock.route().respond(500)
        response = health(None)
        assert route.call_count == 0

    # Then the seed's contract, for the platform: status, and per provider the orgs' states
    assert response["statusCode"] == 200, response["body"]
    body = json.loads(response["body"])
    assert body["status"] == "degraded"
    assert body["orgs"] == {"total": 3, "healthy": 2, "degraded": 1}
    evolution = body["services"]["evolution"]
    assert evolution["status"] == "degraded"
    assert evolution["orgs"] == {"healthy": 2, "degraded": 0, "down": 1}
    assert evolution["affected_orgs"] == ["acme"]
    assert sum(evolution["breakers"].values()) == 3 and evolution["breakers"].get("closed") == 2
    assert body["services"]["storage"] == {
        "status": "healthy",
        "orgs": {"healthy": 3, "degraded": 0, "down": 0},
        "breakers": {},
        "affected_orgs": [],
    }
    # And org_id still narrows the answer to one org
    narrowed = json.loads(health("demo")["body"])
    assert narrowed["org_id"] == "demo" and narrowed["status"] == "healthy"


def test_platform_health_before_any_check_and_live_without_org(hub_aws: HubAws) -> None:
    module = load_function("health_integrations")
    sample = module.handler(sample_event("health_integrations_platform"), FakeLambdaContext("HealthIntegrations"))
    assert sample["statusCode"] == 200
    body = json.loads(sample["body"])
    assert body == {"status": "healthy", "orgs": {"total": 0, "healthy": 0, "degraded": 0}, "services": {}}
    live = module.handler(
        api_event("GET", "/health/integrations", resource="/health/integrations", query={"live": "true"}),
        FakeLambdaContext("HealthIntegrations"),
    )
    assert live["statusCode"] == 400
    assert "org_id" in json.loads(live["body"])["message"]


def test_schedule_records_every_org_and_the_endpoint_reads_it(hub_aws: HubAws) -> None:
    hub_aws.put_secret("demo", "evolution", EVO)
    hub_aws.put_secret("acme", "evolution", {**EVO, "base_url": "https://evo-acme.test"})
    # The hub's own secrets ({prefix}/_apps/...: the Sentry DSN, OAuth apps) are no org to check
    hub_aws.put_secret("_apps", "sentry", {"dsn": "https://public@sentry.test/1"})
    scheduled = load_function("health_check_scheduled")
    with respx.mock() as mock:
        mock.get("https://evo.test/instance/connectionState/somos-principal").respond(
            200, json={"instance": {"state": "open"}}
        )
        mock.get("https://evo-acme.test/instance/connectionState/somos-principal").respond(503)
        result = scheduled.handler(sample_event("health_check_scheduled"), FakeLambdaContext("HealthCheckScheduled"))
    assert result == {"acme": "degraded", "demo": "healthy"}

    # The endpoint answers from the stored report without calling the provider again
    with respx.mock(assert_all_called=False) as mock:
        route = mock.get("https://evo.test/instance/connectionState/somos-principal").respond(200, json={})
        stored = json.loads(health("demo")["body"])
        assert route.call_count == 0
    assert stored["status"] == "healthy"
    assert stored["services"]["evolution"]["breaker"] == "closed"
    # Remaining quota is exposed (WhatsApp's daily messaging tier: nothing sent yet)
    [quota] = stored["services"]["evolution"]["quotas"]
    assert (quota["rule"], quota["limit"], quota["remaining"]) == ("messages_per_day", 1000, 1000)

    from hub.health import report_history

    assert [r.status for r in report_history("acme")] == ["degraded"]


def test_live_check_shows_an_open_breaker(hub_aws: HubAws, monkeypatch: pytest.MonkeyPatch) -> None:
    from hub.config import get_settings

    monkeypatch.setenv("BREAKER_FAILURE_THRESHOLD", "1")
    get_settings.cache_clear()
    hub_aws.put_secret("demo", "evolution", EVO)
    module = load_function("health_integrations")
    with respx.mock() as mock:
        mock.get("https://evo.test/instance/connectionState/somos-principal").respond(503)
        first = module.handler(
            api_event(
                "GET", "/health/integrations", resource="/health/integrations", query={"org_id": "demo", "live": "true"}
            ),
            FakeLambdaContext("HealthIntegrations"),
        )
        second = module.handler(
            api_event(
                "GET", "/health/integrations", resource="/health/integrations", query={"org_id": "demo", "live": "true"}
            ),
            FakeLambdaContext("HealthIntegrations"),
        )
    assert json.loads(first["body"])["services"]["evolution"]["breaker"] == "open"
    evolution = json.loads(second["body"])["services"]["evolution"]
    assert "circuit open" in evolution["error"]
