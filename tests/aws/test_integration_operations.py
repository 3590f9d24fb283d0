"""The integration operations (docs/integrations.md): connect with credentials checked live,
test, disable, enable, rotate, list and get — against the sandboxes, through the handlers.

Until the provider adapters implement ``WebhookRegistrar`` / ``CredentialRotator``, a fake
Evolution adapter does (the real one's health check, plus a recorded registration)."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest

from hub.errors import InvalidRequestError, ProviderUnavailableError
from hub.integrations import operations, records
from hub.providers import descriptor as registry_descriptor
from hub.providers.base.descriptor import ProviderDescriptor
from hub.providers.base.webhook import WebhookRegistration
from hub.providers.evolution.client import EvolutionClient
from localcloud.sandboxes.base import Fault
from localcloud.sandboxes.evolution import DEMO_API_KEY, DEMO_INSTANCE
from tests.aws.conftest import HubAws
from tests.conftest import ServedSandboxes, reset_hub_caches
from tests.helpers import FakeLambdaContext, api_event, load_function, sample_event

ORG = "acme"
ACTOR = "ana@agency"


def evolution_credentials(sandboxes: ServedSandboxes, **fields: Any) -> dict[str, Any]:
    return {"base_url": f"{sandboxes.url}/evolution", "api_key": DEMO_API_KEY, "instance": DEMO_INSTANCE, **fields}


class RegisteringEvolution(EvolutionClient):
    """A test double of Evolution's webhook registration: records each call instead of calling
    the sandbox, and refuses on demand, so these tests see exactly what the operations hand to
    ``register_webhook`` (the real ``POST /webhook/set/{instance}`` is tested in
    tests/aws/test_webhook_registration.py and tests/unit/providers/evolution)."""

    calls: ClassVar[list[dict[str, Any]]] = []
    refuse: ClassVar[bool] = False

    def register_webhook(self, url: str, secret: str, *, existing_id: str | None = None) -> WebhookRegistration:
        self.calls.append({"url": url, "secret": secret, "existing_id": existing_id})
        if self.refuse:
            raise InvalidRequestError("evolution answered 400: webhook url not reachable", provider="evolution")
        return WebhookRegistration(provider_webhook_id=existing_id or "wh-1", secret_fields={"webhook_token": secret})


class RotatingEvolution(RegisteringEvolution):
    """... whose API also issues and revokes keys."""

    revoked: ClassVar[list[dict[str, Any]]] = []

    def issue_credentials(self) -> dict[str, str]:
        return {"api_key": DEMO_API_KEY}  # the sandbox accepts one key: the "new" one is it

    def revoke_credentials(self, previous: dict[str, Any]) -> None:
        self.revoked.append({"api_key": previous.get("api_key")})


@dataclass(frozen=True)
class FakeDescriptor(ProviderDescriptor):
    fake_client: type[Any] | None = None

    def client_class(self) -> Any:
        return self.fake_client


@pytest.fixture
def fake_provider(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``use(cls, **changes)``: the evolution provider answered by ``cls`` (and its capabilities)."""

    def use(cls: type[Any], **changes: Any) -> None:
        cls.calls.clear()
        cls.refuse = False
        real = registry_descriptor("evolution")
        assert real is not None
        capabilities = {"WebhookRegistrar"} | ({"CredentialRotator"} if hasattr(cls, "issue_credentials") else set())
        base = {f: getattr(real, f) for f in real.__dataclass_fields__}
        base["capabilities"] = real.capabilities | capabilities
        fake = FakeDescriptor(**{**base, **changes}, fake_client=cls)
        monkeypatch.setattr(operations, "descriptor", lambda name: fake if name == "evolution" else real_lookup(name))

    real_lookup = registry_descriptor
    return use


@pytest.fixture
def public_url(monkeypatch: pytest.MonkeyPatch, hub_aws: HubAws) -> str:
    monkeypatch.setenv("PUBLIC_API_URL", "https://hub.example.com/prod")
    reset_hub_caches()
    return "https://hub.example.com/prod"


@pytest.fixture
def bus(hub_aws: HubAws) -> str:
    return hub_aws.bus_tap("integration-tap", {"source": ["integrations-hub"]})


def invoke(name: str, payload: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = load_function(f"integration_{name}").handler(payload, FakeLambdaContext())
    return result


def stored_secret(hub_aws: HubAws, org: str = ORG, provider: str = "evolution") -> dict[str, Any] | None:
    sm = hub_aws.client("secretsmanager")
    try:
        value: dict[str, Any] = json.loads(sm.get_secret_value(SecretId=f"hub/{org}/{provider}")["SecretString"])
    except sm.exceptions.ResourceNotFoundException:
        return None
    return value


def audit_actions(hub_aws: HubAws, org: str = ORG) -> list[str]:
    items = hub_aws.client("dynamodb").query(
        TableName=hub_aws.env["AUDIT_TABLE"],
        KeyConditionExpression="org_id = :o",
        ExpressionAttributeValues={":o": {"S": org}},
    )["Items"]
    return [i["action"]["S"] for i in items]


def bus_events(hub_aws: HubAws, queue: str) -> list[dict[str, Any]]:
    """What subscribers of the bus saw (messages stay visible: each call sees them all)."""
    sqs = hub_aws.client("sqs")
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def assert_nothing_stored(hub_aws: HubAws, bus: str) -> None:
    assert stored_secret(hub_aws) is None
    assert records.get_record(ORG, "evolution") is None
    assert audit_actions(hub_aws) == []
    assert bus_events(hub_aws, bus) == []


# ----- connect ------------------------------------------------------------------------------


def test_connect_checks_live_stores_encrypted_and_records(
    hub_aws: HubAws, sandboxes: ServedSandboxes, public_url: str, bus: str
) -> None:
    # When an operator connects Evolution with working credentials
    result = invoke(
        "connect",
        {"org_id": ORG, "provider": "evolution", "credentials": evolution_credentials(sandboxes), "actor": ACTOR},
    )
    # Then it is connected, tested, and its webhook set through Evolution's API (POST
    # /webhook/set/{instance}) pointing at the hub with a freshly generated token
    assert result["status"] == "connected" and result["managed"] is True
    assert result["connected_by"] == ACTOR and result["auth"] == "api_key"
    assert result["test_result"]["ok"] is True and result["test_result"]["latency_ms"] >= 0
    webhook = result["webhook"]
    assert webhook["state"] == "registered" and webhook["url"] == f"{public_url}/webhooks/evolution/{ORG}"
    assert webhook["provider_webhook_id"]
    assert DEMO_API_KEY not in json.dumps(result)
    # the secret is stored (with the webhook token the verifier reads), encrypted with the
    # stack's customer-managed key (rotation on)
    stored = stored_secret(hub_aws)
    assert stored is not None
    token = stored.pop("webhook_token")
    assert len(token) >= 32 and token not in json.dumps(result)
    assert stored == evolution_credentials(sandboxes)
    described = hub_aws.client("secretsmanager").describe_secret(SecretId=f"hub/{ORG}/evolution")
    assert described["KmsKeyId"] == hub_aws.env["SECRETS_KMS_KEY_ID"]
    kms = hub_aws.client("kms")
    [alias] = [a for a in kms.list_aliases()["Aliases"] if a["AliasName"] == hub_aws.env["SECRETS_KMS_KEY_ID"]]
    assert kms.get_key_rotation_status(KeyId=alias["TargetKeyId"])["KeyRotationEnabled"] is True
    # audited and announced
    assert audit_actions(hub_aws) == ["credentials_connected", "webhook_created"]
    [event] = bus_events(hub_aws, bus)
    assert event["detail-type"] == "integration.connected"
    assert event["detail"]["actor"] == ACTOR and event["detail"]["provider"] == "evolution"


@pytest.mark.parametrize(
    ("credentials", "named"),
    [
        ({"api_key": "wrong-key-123456"}, "refused them (401"),
        ({"api_key": "sk-sneaky-value", "api_secret": "sk-other-value"}, "unknown field(s) api_secret"),
        ({"instance": None}, "field(s) instance"),
        ({"api_key": "x" * 9000}, "api_key longer than"),
        # The hub would send the org's key there: never the metadata endpoint or an internal host.
        ({"base_url": "http://169.254.169.254/latest"}, "base_url must be an https URL"),
        ({"base_url": "https://10.0.0.7"}, "base_url host must be a public address"),
    ],
    ids=["rejected-by-provider", "unknown-field", "malformed-field", "oversized", "metadata-url", "private-url"],
)
def test_connect_with_bad_credentials_stores_nothing(
    hub_aws: HubAws,
    sandboxes: ServedSandboxes,
    public_url: str,
    bus: str,
    fake_provider: Any,
    credentials: dict[str, Any],
    named: str,
) -> None:
    fake_provider(RegisteringEvolution)
    payload = {
        "org_id": ORG,
        "provider": "evolution",
        "credentials": evolution_credentials(sandboxes, **credentials),
        "actor": ACTOR,
    }
    with pytest.raises(InvalidRequestError) as info:
        invoke("connect", payload)
    assert info.value.code == "invalid_credentials"
    assert named in info.value.message
    for value in credentials.values():  # names, never values
        assert not value or str(value)[:12] not in info.value.message
    assert RegisteringEvolution.calls == []  # no webhook
    assert_nothing_stored(hub_aws, bus)


def test_connect_while_the_provider_is_down_propagates_and_stores_nothing(
    hub_aws: HubAws, sandboxes: ServedSandboxes, public_url: str, bus: str
) -> None:
    sandboxes.app.set_fault("evolution", Fault(mode="error", status=503))
    with pytest.raises(ProviderUnavailableError):
        invoke(
            "connect",
            {"org_id": ORG, "provider": "evolution", "credentials": evolution_credentials(sandboxes), "actor": ACTOR},
        )
    assert_nothing_stored(hub_aws, bus)


def test_connect_refuses_unknown_and_oauth_providers_before_anything(
    hub_aws: HubAws, sandboxes: ServedSandboxes, fake_provider: Any, bus: str
) -> None:
    with pytest.raises(InvalidRequestError) as info:
        invoke("connect", {"org_id": ORG, "provider": "nope", "credentials": {"a": "b"}, "actor": ACTOR})
    assert info.value.code == "unknown_provider"
    fake_provider(RegisteringEvolution, auth="oauth2")
    with pytest.raises(InvalidRequestError) as info:
        invoke(
            "connect",
            {"org_id": ORG, "provider": "evolution", "credentials": evolution_credentials(sandboxes), "actor": ACTOR},
        )
    assert info.value.code == "oauth_required"
    assert "GET /oauth/evolution/start" in info.value.message
    assert_nothing_stored(hub_aws, bus)


def test_connect_registers_the_webhook_with_a_fresh_secret(
    hub_aws: HubAws, sandboxes: ServedSandboxes, public_url: str, fake_provider: Any
) -> None:
    fake_provider(RegisteringEvolution)
    result = invoke(
        "connect",
        {"org_id": ORG, "provider": "evolution", "credentials": evolution_credentials(sandboxes), "actor": ACTOR},
    )
    [call] = RegisteringEvolution.calls
    assert call["url"] == f"{public_url}/webhooks/evolution/{ORG}" and call["existing_id"] is None
    assert len(call["secret"]) >= 40  # secrets.token_urlsafe(32)
    assert stored_secret(hub_aws) == {**evolution_credentials(sandboxes), "webhook_token": call["secret"]}
    assert result["webhook"]["state"] == "registered" and result["webhook"]["provider_webhook_id"] == "wh-1"
    assert "secret_rotated_at" not in result["webhook"]
    assert call["secret"] not in json.dumps(result)
    assert audit_actions(hub_aws) == ["credentials_connected", "webhook_created"]


def test_a_refused_webhook_registration_still_connects(
    hub_aws: HubAws, sandboxes: ServedSandboxes, public_url: str, fake_provider: Any
) -> None:
    fake_provider(RegisteringEvolution)
    RegisteringEvolution.refuse = True
    result = invoke(
        "connect",
        {"org_id": ORG, "provider": "evolution", "credentials": evolution_credentials(sandboxes), "actor": ACTOR},
    )
    assert result["status"] == "connected"
    assert result["webhook"]["state"] == "failed" and "not reachable" in result["webhook"]["error"]
    assert "webhook registration failed" in result["last_error"]
    assert "webhook_token" not in (stored_secret(hub_aws) or {})


def test_reconnecting_a_disabled_integration_is_not_refused_by_its_status(
    hub_aws: HubAws, sandboxes: ServedSandboxes, public_url: str
) -> None:
    # Given an integration disabled after its key was rejected
    invoke("disable", {"org_id": ORG, "provider": "evolution", "reason": "401 from evolution", "actor": ACTOR})
    # When the org connects new credentials
    result = invoke(
        "connect",
        {"org_id": ORG, "provider": "evolution", "credentials": evolution_credentials(sandboxes), "actor": ACTOR},
    )
    # Then they are checked live (not refused as "disabled") and the integration is connected
    assert result["status"] == "connected" and result["test_result"]["ok"] is True


def test_wrong_new_credentials_never_disable_the_working_integration(
    hub_aws: HubAws, sandboxes: ServedSandboxes, public_url: str
) -> None:
    invoke(
        "connect",
        {"org_id": ORG, "provider": "evolution", "credentials": evolution_credentials(sandboxes), "actor": ACTOR},
    )
    working = stored_secret(hub_aws)
    with pytest.raises(InvalidRequestError):
        invoke(
            "rotate",
            {"org_id": ORG, "provider": "evolution", "credentials": {"api_key": "wrong-key-123456"}, "actor": ACTOR},
        )
    assert records.get_record(ORG, "evolution").status == "connected"  # type: ignore[union-attr]
    assert stored_secret(hub_aws) == working  # the old version is current


# ----- test, disable, enable ----------------------------------------------------------------


def test_test_records_the_result_and_status(hub_aws: HubAws, sandboxes: ServedSandboxes, public_url: str) -> None:
    invoke(
        "connect",
        {"org_id": ORG, "provider": "evolution", "credentials": evolution_credentials(sandboxes), "actor": ACTOR},
    )
    # the provider is down: the test says so and the integration is in error (it may pass)
    sandboxes.app.set_fault("evolution", Fault(mode="error", status=503))
    failed = invoke("test", {"org_id": ORG, "provider": "evolution", "actor": ACTOR})
    assert failed["status"] == "error" and failed["test_result"]["ok"] is False
    assert "503" in failed["test_result"]["error"] and failed["last_error"]
    # back up: connected again
    sandboxes.app.clear_faults("evolution")
    passed = invoke("test", {"org_id": ORG, "provider": "evolution"})
    assert passed["status"] == "connected" and passed["test_result"]["ok"] is True
    assert "last_error" not in passed and passed["last_tested_at"] > failed["last_tested_at"]
    assert audit_actions(hub_aws).count("integration_tested") == 2


def test_test_of_rejected_credentials_goes_through_the_disable_strategy(
    hub_aws: HubAws, sandboxes: ServedSandboxes
) -> None:
    hub_aws.put_secret(ORG, "evolution", evolution_credentials(sandboxes, api_key="revoked-key-123"))
    result = invoke("test", {"org_id": ORG, "provider": "evolution"})
    assert result["status"] == "disabled" and result["test_result"]["ok"] is False
    assert "integration_disabled" in audit_actions(hub_aws)


def test_test_of_a_provider_never_connected_is_refused(hub_aws: HubAws) -> None:
    with pytest.raises(InvalidRequestError) as info:
        invoke("test", {"org_id": ORG, "provider": "evolution"})
    assert info.value.code == "not_connected"


def test_disable_and_enable(hub_aws: HubAws, sandboxes: ServedSandboxes, public_url: str, bus: str) -> None:
    invoke(
        "connect",
        {"org_id": ORG, "provider": "evolution", "credentials": evolution_credentials(sandboxes), "actor": ACTOR},
    )
    disabled = invoke(
        "disable", {"org_id": ORG, "provider": "evolution", "reason": "client paused", "actor": "ops@agency"}
    )
    assert disabled["status"] == "disabled" and disabled["reason"] == "client paused" and disabled["changed"] is True
    assert (
        invoke("disable", {"org_id": ORG, "provider": "evolution", "reason": "again", "actor": "ops@agency"})["changed"]
        is False
    )
    # calls are refused while disabled
    with pytest.raises(Exception, match="disabled"):
        EvolutionClient.for_org(ORG).health_check()
    enabled = invoke("enable", {"org_id": ORG, "provider": "evolution", "actor": "ops@agency"})
    assert enabled["status"] == "connected" and enabled["changed"] is True and "reason" not in enabled
    assert audit_actions(hub_aws) == [
        "credentials_connected",
        "webhook_created",
        "integration_disabled",
        "integration_enabled",
    ]
    events = bus_events(hub_aws, bus)
    kinds = sorted(e["detail-type"] for e in events)
    assert kinds == ["audit.alert", "integration.connected", "integration.disabled", "integration.enabled"]
    [alert] = [e for e in events if e["detail-type"] == "audit.alert"]
    assert alert["detail"]["actor"] == "ops@agency"  # the operator, not the service


def test_enable_refuses_needs_reauth(hub_aws: HubAws) -> None:
    records.transition(ORG, "evolution", "needs_reauth", reason="invalid_grant")
    with pytest.raises(InvalidRequestError) as info:
        invoke("enable", {"org_id": ORG, "provider": "evolution", "actor": "ops@agency"})
    assert info.value.code == "needs_reauth" and "reconnect" in info.value.message
    assert records.get_record(ORG, "evolution").status == "needs_reauth"  # type: ignore[union-attr]


# ----- rotate -------------------------------------------------------------------------------


def webhook_post(token: str) -> int:
    body = json.loads(sample_event("webhook_evolution")["body"])
    event = api_event(
        "POST",
        f"/webhooks/evolution/{ORG}",
        resource="/webhooks/evolution/{org_id}",
        path_parameters={"org_id": ORG},
        body=json.dumps(body),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    reset_hub_caches()  # a fresh container: the secret as stored now
    status: int = load_function("webhook_evolution").handler(event, FakeLambdaContext("WebhookEvolution"))["statusCode"]
    return status


def test_rotation_keeps_the_old_webhook_token_valid_for_the_grace_window(
    hub_aws: HubAws, sandboxes: ServedSandboxes, public_url: str, fake_provider: Any, bus: str
) -> None:
    fake_provider(RegisteringEvolution)
    invoke(
        "connect",
        {"org_id": ORG, "provider": "evolution", "credentials": evolution_credentials(sandboxes), "actor": ACTOR},
    )
    old_token = RegisteringEvolution.calls[0]["secret"]
    before = datetime.now(UTC)
    # When the credentials are rotated (new ones given)
    result = invoke(
        "rotate", {"org_id": ORG, "provider": "evolution", "credentials": {"api_key": DEMO_API_KEY}, "actor": ACTOR}
    )
    # Then the webhook got a new token, re-registered on the same webhook
    rotation = RegisteringEvolution.calls[1]
    assert rotation["existing_id"] == "wh-1" and rotation["secret"] != old_token
    assert result["rotated"] == "credentials" and result["webhook_rotated"] is True
    assert result["webhook"]["state"] == "registered" and result["webhook"]["secret_rotated_at"]
    until = datetime.fromisoformat(result["previous_valid_until"])
    assert before + timedelta(seconds=86400) <= until <= datetime.now(UTC) + timedelta(seconds=86400)
    secret = stored_secret(hub_aws)
    assert secret is not None
    assert secret["webhook_token"] == rotation["secret"] and secret["previous_webhook_token"] == old_token
    assert old_token not in json.dumps(result) and rotation["secret"] not in json.dumps(result)
    assert audit_actions(hub_aws)[-2:] == ["credentials_rotated", "webhook_modified"]
    alerts = [e for e in bus_events(hub_aws, bus) if e["detail-type"] == "audit.alert"]
    assert {a["detail"]["action"] for a in alerts} == {"credentials_rotated", "webhook_modified"}
    # a delivery with the old token is accepted during the grace window, the new one too
    assert webhook_post(old_token) == 200
    assert webhook_post(rotation["secret"]) == 200
    # and once the window has passed the old token is refused
    expired = {**secret, "previous_valid_until": (datetime.now(UTC) - timedelta(seconds=1)).isoformat()}
    hub_aws.client("secretsmanager").put_secret_value(SecretId=f"hub/{ORG}/evolution", SecretString=json.dumps(expired))
    assert webhook_post(old_token) == 401
    assert webhook_post(rotation["secret"]) == 200


def test_rotation_without_credentials_needs_a_provider_that_issues_them(
    hub_aws: HubAws, sandboxes: ServedSandboxes, public_url: str
) -> None:
    invoke(
        "connect",
        {"org_id": ORG, "provider": "evolution", "credentials": evolution_credentials(sandboxes), "actor": ACTOR},
    )
    with pytest.raises(InvalidRequestError) as info:
        invoke("rotate", {"org_id": ORG, "provider": "evolution", "actor": ACTOR})
    assert info.value.code == "rotation_unsupported"


def test_rotation_through_the_provider_api_issues_tests_and_revokes(
    hub_aws: HubAws, sandboxes: ServedSandboxes, public_url: str, fake_provider: Any
) -> None:
    fake_provider(RotatingEvolution)
    RotatingEvolution.revoked.clear()
    invoke(
        "connect",
        {
            "org_id": ORG,
            "provider": "evolution",
            "credentials": evolution_credentials(sandboxes, api_key=DEMO_API_KEY),
            "actor": ACTOR,
        },
    )
    result = invoke("rotate", {"org_id": ORG, "provider": "evolution", "actor": ACTOR})
    assert result["rotated"] == "provider_api" and result["test_result"]["ok"] is True
    assert RotatingEvolution.revoked == [{"api_key": DEMO_API_KEY}]
    assert "credentials_rotated" in audit_actions(hub_aws)


# ----- list, get, OrgGet --------------------------------------------------------------------


def test_list_and_get_never_hold_a_secret_and_show_hand_made_secrets(
    hub_aws: HubAws, sandboxes: ServedSandboxes, public_url: str, fake_provider: Any
) -> None:
    fake_provider(RegisteringEvolution)
    invoke(
        "connect",
        {"org_id": ORG, "provider": "evolution", "credentials": evolution_credentials(sandboxes), "actor": ACTOR},
    )
    # a secret created by hand before integrations had records, and an org setting (not a provider)
    hub_aws.put_secret(ORG, "serpapi", {"api_key": "serp-hand-made-key"})
    hub_aws.put_secret(ORG, "messaging", {"email_from": "x@example.com"})
    listed = invoke("list", {"org_id": ORG})
    assert [(i["provider"], i["status"], i["managed"]) for i in listed["integrations"]] == [
        ("evolution", "connected", True),
        ("serpapi", "connected", False),
    ]
    got = invoke("get", {"org_id": ORG, "provider": "evolution"})
    unmanaged = invoke("get", {"org_id": ORG, "provider": "serpapi"})
    assert unmanaged["managed"] is False
    org = load_function("org_get").handler({"org_id": ORG}, FakeLambdaContext())
    assert org["integrations"] == [
        {"provider": "evolution", "status": "connected", "managed": True},
        {"provider": "serpapi", "status": "connected", "managed": False},
    ]
    secrets = [
        v for s in (stored_secret(hub_aws), stored_secret(hub_aws, provider="serpapi")) for v in (s or {}).values()
    ]
    text = json.dumps([listed, got, unmanaged, org])
    for value in secrets:
        if isinstance(value, str) and len(value) >= 8 and not value.startswith("http"):
            assert value not in text
    with pytest.raises(InvalidRequestError) as info:
        invoke("get", {"org_id": ORG, "provider": "asaas"})
    assert info.value.code == "not_connected"


def test_requests_are_validated_before_anything(hub_aws: HubAws) -> None:
    with pytest.raises(InvalidRequestError) as info:
        invoke("disable", {"org_id": ORG, "provider": "evolution", "reason": "", "actor": ACTOR})
    assert "reason" in info.value.message
    with pytest.raises(InvalidRequestError) as info:
        invoke("connect", {"org_id": ORG, "provider": "evolution", "credentials": {}, "actor": ACTOR})
    assert "credentials" in info.value.message
    assert records.list_records(ORG) == []


def ops(hub_aws: HubAws, *args: str) -> subprocess.CompletedProcess[str]:
    return hub_aws.ops(*args)


def test_ops_integration_commands_and_enable_use_the_same_layer_code(hub_aws: HubAws) -> None:
    where = ("--org", ORG, "--provider", "evolution")
    disabled = ops(hub_aws, "integration", "disable", *where, "--reason", "paused", "--actor", "ops@agency")
    assert disabled.returncode == 0, disabled.stderr
    assert json.loads(disabled.stdout)["status"] == "disabled"
    listed = ops(hub_aws, "integration", "list", "--org", ORG)
    assert [i["status"] for i in json.loads(listed.stdout)["integrations"]] == ["disabled"]
    enabled = ops(hub_aws, "enable", *where, "--actor", "ops@agency")  # the old command, same flags
    assert enabled.returncode == 0, enabled.stderr
    answer = json.loads(enabled.stdout)
    assert answer["enabled"] == f"{ORG}/evolution" and answer["status"] == "connected"
    records.transition(ORG, "evolution", "needs_reauth", reason="invalid_grant")
    refused = ops(hub_aws, "integration", "enable", *where, "--actor", "ops@agency")
    assert refused.returncode == 2 and json.loads(refused.stderr)["code"] == "needs_reauth"
