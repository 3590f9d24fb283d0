"""The org registry: OrgCreate/OrgGet, the check every operation and webhook makes, `ops org`."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from hub import orgs
from hub.errors import InvalidRequestError
from tests.aws.conftest import HubAws
from tests.conftest import TEST_ORGS
from tests.helpers import FakeLambdaContext, api_event, load_function, sample_event

EVO = {"base_url": "https://evo.test", "api_key": "k", "instance": "somos-principal", "webhook_token": "tok"}
CONSENT = {"channel": "whatsapp", "address": "(11) 98765-4321", "status": "opted_in", "source": "form"}


def ctx() -> FakeLambdaContext:
    return FakeLambdaContext()


def contacts(aws: HubAws, org_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = aws.client("dynamodb").query(
        TableName=aws.env["CONTACTS_TABLE"],
        KeyConditionExpression="org_id = :o",
        ExpressionAttributeValues={":o": {"S": org_id}},
    )["Items"]
    return items


def test_org_create_registers_once_and_the_same_id_again_answers_the_existing_org(hub_aws: HubAws) -> None:
    # Given a new org
    create, get = load_function("org_create"), load_function("org_get")
    # When it is created twice, the second time with another name
    first = create.handler({"org_id": "somos", "name": "Somos Produtora", "created_by": "ops@agency"}, ctx())
    second = create.handler({"org_id": "somos", "name": "Outro Nome"}, ctx())
    # Then the first answer registered it and the second answers it unchanged
    assert first["created"] is True and first["name"] == "Somos Produtora"
    assert second == {**first, "created": False}
    # (OrgGet also lists the org's integrations: none yet)
    expected = {**{k: v for k, v in first.items() if k != "created"}, "integrations": []}
    assert get.handler({"org_id": "somos"}, ctx()) == expected


def test_org_create_refuses_ids_that_are_not_exact(hub_aws: HubAws) -> None:
    create = load_function("org_create")
    for org_id in (" somos ", "somos\n", "Somos", "", None, 7):
        with pytest.raises(InvalidRequestError) as info:
            create.handler({"org_id": org_id, "name": "Somos"}, ctx())
        assert info.value.code == "invalid_org_id"
    assert [o.org_id for o in orgs.iter_orgs()] == sorted(TEST_ORGS)


def test_org_get_of_an_unknown_org_names_it(hub_aws: HubAws) -> None:
    with pytest.raises(InvalidRequestError, match="nobody") as info:
        load_function("org_get").handler({"org_id": "nobody"}, ctx())
    assert info.value.code == "unknown_org"


def test_consent_for_an_unknown_org_is_refused_and_writes_nothing(hub_aws: HubAws) -> None:
    consent = load_function("contact_consent_set")
    with pytest.raises(InvalidRequestError, match="nobody") as info:
        consent.handler({"org_id": "nobody", **CONSENT}, ctx())
    assert info.value.code == "unknown_org"
    assert contacts(hub_aws, "nobody") == []


@pytest.mark.parametrize("org_id", [" demo ", "demo\n", "DEMO", "demo/x", 1])
def test_an_org_id_is_never_normalised(hub_aws: HubAws, org_id: Any) -> None:
    # " demo " and "demo\n" are not demo: refused before anything is written
    with pytest.raises(InvalidRequestError) as info:
        load_function("contact_consent_set").handler({"org_id": org_id, **CONSENT}, ctx())
    assert info.value.code == "invalid_org_id"
    assert contacts(hub_aws, "demo") == []


def test_notify_contact_for_an_unknown_org_starts_no_execution(hub_aws: HubAws) -> None:
    notify = load_function("notify_contact")
    with pytest.raises(InvalidRequestError) as info:
        notify.handler({"org_id": "nobody", "contact": {"phone": "11987654321"}, "message": {"text": "Oi"}}, ctx())
    assert info.value.code == "unknown_org"
    executions = hub_aws.client("stepfunctions").list_executions(
        stateMachineArn=hub_aws.env["NOTIFY_STATE_MACHINE_ARN"]
    )
    assert executions["executions"] == []


def test_an_org_created_just_now_is_usable_at_once(hub_aws: HubAws) -> None:
    # Given a warm container that was just told the org does not exist
    consent = load_function("contact_consent_set")
    with pytest.raises(InvalidRequestError):
        consent.handler({"org_id": "fresh", **CONSENT}, ctx())
    # When the org is created (elsewhere), then the same container accepts it: "unknown" is not cached
    load_function("org_create").handler({"org_id": "fresh", "name": "Fresh"}, ctx())
    assert consent.handler({"org_id": "fresh", **CONSENT}, ctx())["consent_status"] == "opted_in"
    assert len(contacts(hub_aws, "fresh")) == 1


def test_a_known_org_is_remembered_by_a_warm_container(hub_aws: HubAws, monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[str] = []
    real_get_org = orgs.get_org
    monkeypatch.setattr(orgs, "get_org", lambda org_id: reads.append(org_id) or real_get_org(org_id))
    for _ in range(3):
        orgs.require_org("demo")
    assert reads == ["demo"]


def test_webhook_for_an_unregistered_org_is_404_and_archives_nothing(hub_aws: HubAws) -> None:
    # Given an org with valid webhook credentials that nobody registered
    hub_aws.put_secret("ghost", "evolution", EVO)
    receiver = load_function("webhook_evolution")
    event = api_event(
        "POST",
        "/webhooks/evolution/ghost",
        resource="/webhooks/evolution/{org_id}",
        path_parameters={"org_id": "ghost"},
        body=sample_event("webhook_evolution")["body"],
        headers={"Content-Type": "application/json", "Authorization": "Bearer tok"},
    )
    # When its provider posts a correctly authenticated webhook
    response = receiver.handler(event, ctx())
    # Then it is answered like a missing integration, and nothing is archived or enqueued
    assert response["statusCode"] == 404
    assert hub_aws.archived_keys() == []
    assert hub_aws.queue_messages("INBOUND_EVENTS_QUEUE_URL") == []
    # And once the org is registered the same delivery is accepted
    orgs.create_org("ghost", "Ghost")
    assert receiver.handler(event, ctx())["statusCode"] == 200


def test_usage_report_for_an_unknown_org_is_refused(hub_aws: HubAws) -> None:
    with pytest.raises(InvalidRequestError) as info:
        load_function("usage_report").handler({"org_id": "nobody", "start": "2026-11-01", "end": "2026-11-30"}, ctx())
    assert info.value.code == "unknown_org"


def test_health_of_an_unknown_org_is_404(hub_aws: HubAws) -> None:
    event = api_event(
        "GET", "/health/integrations", resource="/health/integrations", query={"org_id": "nobody", "live": "true"}
    )
    response = load_function("health_integrations").handler(event, ctx())
    assert response["statusCode"] == 404
    assert json.loads(response["body"])["code"] == "unknown_org"


def ops(hub_aws: HubAws, *args: str) -> subprocess.CompletedProcess[str]:
    return hub_aws.ops("org", *args)


def test_ops_org_create_list_and_show(hub_aws: HubAws) -> None:
    created = ops(hub_aws, "create", "--org", "somos", "--name", "Somos Produtora", "--actor", "ops@agency")
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["created"] is True
    again = ops(hub_aws, "create", "--org", "somos", "--name", "Outro")
    assert json.loads(again.stdout) == {**json.loads(created.stdout), "created": False}

    shown = ops(hub_aws, "show", "--org", "somos")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["name"] == "Somos Produtora"
    listed = ops(hub_aws, "list")
    assert [o["org_id"] for o in json.loads(listed.stdout)] == sorted([*TEST_ORGS, "somos"])

    unknown = ops(hub_aws, "show", "--org", "nobody")
    assert unknown.returncode == 2 and json.loads(unknown.stderr)["code"] == "unknown_org"
    padded = ops(hub_aws, "create", "--org", " somos ", "--name", "x")
    assert padded.returncode == 2 and "org_id" in padded.stderr


def test_list_orgs_pages_through_every_org(hub_aws: HubAws) -> None:
    seen: list[str] = []
    token: str | None = None
    while True:
        page = orgs.list_orgs(limit=2, next_token=token)
        assert len(page.orgs) <= 2
        seen += [o.org_id for o in page.orgs]
        if not page.next_token:
            break
        token = page.next_token
    assert sorted(seen) == sorted(TEST_ORGS)
