"""Error reports to Sentry (hub.errortracking): off without a DSN secret, on with one; which
errors are reported, with which tags, and that nothing sensitive is in what would be sent
(envelopes recorded by a Transport instead of the network)."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from moto import mock_aws
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from hub import credentials, errortracking, observability
from hub.api import register_error_handlers
from hub.config import get_settings
from hub.errors import (
    AuthenticationError,
    ConfigurationError,
    IdempotencyConflictError,
    InvalidRequestError,
    OutcomeUnknownError,
    ProviderUnavailableError,
    RateLimitedError,
    WebhookAuthenticationError,
)
from hub.masking import MASK, mask_text, mask_value
from tests.helpers import ROOT

DSN = "https://0123456789abcdef0123456789abcdef@o11.ingest.sentry.example/42"


class Recorder(Transport):
    """Keeps every envelope the client would send."""

    envelopes: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        Recorder.envelopes.append(envelope)


class Context:
    function_name = "hub-WhatsAppSendText"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:hub-WhatsAppSendText"
    memory_limit_in_mb = 256
    aws_request_id = "req-1"
    log_group_name = "/aws/lambda/hub-WhatsAppSendText"
    log_stream_name = "s"

    def get_remaining_time_in_millis(self) -> int:
        return 10000


def events() -> list[dict[str, Any]]:
    found = []
    for envelope in Recorder.envelopes:
        event = envelope.get_event()
        if event is not None:
            found.append(dict(event))
    return found


def wire() -> str:
    """Every byte the client would have sent."""
    return b"".join(e.serialize() for e in Recorder.envelopes).decode("utf-8", errors="replace")


@pytest.fixture
def sentry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Given the hub's Sentry secret configured for this stage
    monkeypatch.setenv("SENTRY_DSN_SECRET", "hub/_apps/sentry")
    monkeypatch.setenv("STAGE", "prod")
    monkeypatch.setenv("HUB_RELEASE", "2026.12.04-abc1234")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "hub-WhatsAppSendText")
    get_settings.cache_clear()
    read: list[str] = []

    def app_secret(name: str, *, fresh: bool = False) -> dict[str, Any]:
        read.append(name)
        return {"dsn": DSN}

    monkeypatch.setattr(credentials, "get_app_secret", app_secret)
    Recorder.envelopes = []
    assert errortracking.init(transport=Recorder) is True
    assert read == ["sentry"]
    yield
    errortracking.reset_for_tests()


def failing(exc: BaseException) -> Any:
    @observability.lambda_handler
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise exc

    return handler


# --- off ----------------------------------------------------------------------------------------


def _run(code: str, **env: str) -> dict[str, Any]:
    base = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT / "layers" / "hub"),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_METRICS_NAMESPACE": "IntegrationsHubTest",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "LAMBDA_TASK_ROOT": str(ROOT),
    }
    result = subprocess.run(
        [sys.executable, "-c", code], env={**base, **env}, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


_IMPORT_HANDLERS = """
import importlib.util, json, sys
import pathlib
imported = 0
for app in sorted(pathlib.Path("functions").glob("*/app.py")):  # every function, as Lambda imports it
    name = app.parent.name
    sys.path.insert(0, str(app.parent))  # LAMBDA_TASK_ROOT: a function's own modules beside app.py
    spec = importlib.util.spec_from_file_location("app_" + name, app)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    imported += 1
from hub import errortracking
print(json.dumps({
    "handlers": imported,
    "enabled": errortracking.enabled(),
    "sentry": sorted(m for m in sys.modules if m.startswith("sentry_sdk")),
    "xray": sorted(m for m in sys.modules if m.startswith("aws_xray_sdk")),
}))
"""


def test_without_a_dsn_secret_neither_sentry_nor_the_xray_sdk_is_imported() -> None:
    # Given every function's handler imported as Lambda does, no SENTRY_DSN_SECRET, tracing disabled
    out = subprocess.run(
        [sys.executable, "-c", _IMPORT_HANDLERS],
        env={
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(ROOT / "layers" / "hub"),
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "LAMBDA_TASK_ROOT": str(ROOT),
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    loaded = json.loads(out.stdout.strip().splitlines()[-1])

    # Then error reports are off and neither SDK was loaded, by any of them
    handlers = len(list((ROOT / "functions").glob("*/app.py")))
    assert loaded == {"handlers": handlers, "enabled": False, "sentry": [], "xray": []}


def test_a_secret_outside_the_hubs_apps_turns_reports_off_without_failing_the_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SENTRY_DSN_SECRET", "hub/acme/sentry")  # an org's secret, not the hub's
    get_settings.cache_clear()
    monkeypatch.setattr(credentials, "get_app_secret", lambda *a, **k: pytest.fail("must not be read"))

    assert errortracking.init(transport=Recorder) is False
    assert errortracking.enabled() is False


def test_a_missing_secret_turns_reports_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENTRY_DSN_SECRET", "hub/_apps/sentry")
    get_settings.cache_clear()

    def missing(name: str, *, fresh: bool = False) -> dict[str, Any]:
        raise AuthenticationError("no sentry credentials configured for the hub", code="credentials_missing")

    monkeypatch.setattr(credentials, "get_app_secret", missing)

    assert errortracking.init(transport=Recorder) is False


def test_a_malformed_dsn_turns_reports_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENTRY_DSN_SECRET", "hub/_apps/sentry")
    get_settings.cache_clear()
    monkeypatch.setattr(credentials, "get_app_secret", lambda *a, **k: {"dsn": "https://o11.ingest.sentry.example/"})

    assert errortracking.init(transport=Recorder) is False
    assert errortracking.enabled() is False


# --- capture and tags ---------------------------------------------------------------------------


def test_an_unhandled_error_is_reported_with_its_tags_environment_and_release(sentry: None) -> None:
    # When a handler fails with a bug
    handler = failing(KeyError("template_name"))
    with pytest.raises(KeyError):
        handler({"org_id": "acme", "to": "+5511912345678"}, Context())

    # Then one event, unhandled, tagged, for this stage and build
    [event] = events()
    assert event["level"] == "error"
    assert event["environment"] == "prod"
    assert event["release"] == "2026.12.04-abc1234"
    assert event["tags"] == {"function": "hub-WhatsAppSendText", "org_id": "acme", "error_class": "KeyError"}
    [value] = event["exception"]["values"]
    assert value["type"] == "KeyError"
    assert value["mechanism"]["handled"] is False


def test_a_contract_error_carries_provider_and_code(sentry: None) -> None:
    handler = failing(ProviderUnavailableError("Meta answered 503", provider="whatsapp_cloud", code="http_503"))
    with pytest.raises(ProviderUnavailableError):
        handler({"org_id": "acme"}, Context())

    [event] = events()
    assert event["tags"] == {
        "function": "hub-WhatsAppSendText",
        "org_id": "acme",
        "error_class": "ProviderUnavailableError",
        "provider": "whatsapp_cloud",
        "error_code": "http_503",
    }


def test_an_api_route_path_names_the_org(sentry: None) -> None:
    handler = failing(RuntimeError("boom"))
    with pytest.raises(RuntimeError):
        handler({"pathParameters": {"org_id": "beta"}, "requestContext": {}, "httpMethod": "POST"}, Context())

    [event] = events()
    assert event["tags"]["org_id"] == "beta"


def test_a_malformed_org_id_is_not_a_tag(sentry: None) -> None:
    handler = failing(RuntimeError("boom"))
    with pytest.raises(RuntimeError):
        handler({"org_id": "ana@example.com"}, Context())

    [event] = events()
    assert "org_id" not in event["tags"]


# --- threshold ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "reported", "level"),
    [
        (ProviderUnavailableError("down", provider="serpapi"), True, "error"),
        (AuthenticationError("401", provider="asaas"), True, "error"),
        (OutcomeUnknownError("read timeout after send", provider="stripe"), True, "error"),
        (ConfigurationError("environment variable X is not set"), True, "fatal"),
        (InvalidRequestError("q: field required"), False, "warning"),
        (RateLimitedError("429", provider="serper"), False, "warning"),
        (IdempotencyConflictError("key reused"), False, "warning"),
        (WebhookAuthenticationError("bad signature", provider="stripe"), False, "warning"),
    ],
)
def test_contract_errors_are_reported_from_the_threshold_up(
    sentry: None, error: Exception, reported: bool, level: str
) -> None:
    handler = failing(error)
    with pytest.raises(type(error)):
        handler({"org_id": "acme"}, Context())

    assert errortracking.level_of(error) == level
    assert len(events()) == (1 if reported else 0)
    if reported:
        assert events()[0]["level"] == level


def test_the_threshold_is_configurable(sentry: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given SENTRY_MIN_LEVEL=fatal: only the hub's own misconfiguration is reported
    monkeypatch.setenv("SENTRY_MIN_LEVEL", "fatal")
    get_settings.cache_clear()

    for error in (ProviderUnavailableError("down"), ConfigurationError("no table")):
        with pytest.raises(type(error)):
            failing(error)({"org_id": "acme"}, Context())

    assert [e["tags"]["error_class"] for e in events()] == ["ConfigurationError"]


def test_a_subclass_of_a_contract_error_has_its_parents_level() -> None:
    class CalendarGoneError(InvalidRequestError):
        pass

    assert errortracking.level_of(CalendarGoneError("410")) == "warning"


def test_the_api_reports_the_errors_it_answers_from_the_threshold_up(sentry: None) -> None:
    # Given an API resolver with the hub's error responses
    app = APIGatewayRestResolver()
    register_error_handlers(app)

    @app.get("/down")
    def down() -> dict[str, Any]:
        raise ProviderUnavailableError("PagBank answered 503", provider="pagbank", code="http_503")

    @app.get("/bad")
    def bad() -> dict[str, Any]:
        raise InvalidRequestError("amount: must be positive")

    def request(path: str) -> dict[str, Any]:
        event = {"httpMethod": "GET", "path": path, "resource": path, "requestContext": {"stage": "dev"}}
        answer: dict[str, Any] = app.resolve(event, Context())
        return answer

    # When one route fails on the provider and another on the caller's input
    assert request("/down")["statusCode"] == 503
    assert request("/bad")["statusCode"] == 400

    # Then only the provider's failure is reported, as handled
    [event] = events()
    assert event["tags"]["error_class"] == "ProviderUnavailableError"
    assert event["exception"]["values"][0]["mechanism"]["handled"] is True


# --- scrubbing ----------------------------------------------------------------------------------

SENSITIVE = {
    "phone": "+55 11 91234-5678",
    "whatsapp_id": "5511912345678",
    "email": "ana.souza@cliente.com.br",
    "cpf": "529.982.247-25",
    "bare_cpf": "52998224725",
    "cnpj": "11.222.333/0001-81",
    "bearer": "EAAGm0PX4ZCpsBAKZCZBtokenvalue123",
    "api_key": "sk-ant-api03-0123456789abcdefghij",
    "stripe": "sk_live_51Habcdefghijkl",
    "password": "hunter2-correct-horse",
    "prompt": "Write a birthday message for Ana, who lives at Rua das Flores 12",
    "body": '{"text": "meu pedido 4321 chegou quebrado"}',
    "signature": "t=1733320000,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd",
    "channel_token": "f1e2d3c4b5a6978812345",
}


def test_no_sensitive_value_reaches_sentry_from_any_part_of_an_event(sentry: None) -> None:
    import sentry_sdk

    # Given an API Gateway invocation carrying every kind of sensitive value (headers, query,
    # body, path) whose handler leaves breadcrumbs and fails with a message that quotes them
    event = {
        "httpMethod": "POST",
        "path": f"/webhooks/custom/acme?access_token={SENSITIVE['bearer']}",
        "requestContext": {"stage": "dev", "identity": {"sourceIp": "203.0.113.9"}},
        "pathParameters": {"org_id": "acme"},
        "headers": {
            "Authorization": f"Bearer {SENSITIVE['bearer']}",
            "X-Api-Key": SENSITIVE["api_key"],
            "Stripe-Signature": SENSITIVE["signature"],
            "X-Goog-Channel-Token": SENSITIVE["channel_token"],
            "Host": "api.example.com",
        },
        "queryStringParameters": {"access_token": SENSITIVE["bearer"], "email": SENSITIVE["email"]},
        "body": SENSITIVE["body"],
    }

    @observability.lambda_handler
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        secret_password = SENSITIVE["password"]  # a local: never sent
        prompt = SENSITIVE["prompt"]
        sentry_sdk.add_breadcrumb(
            category="provider_call",
            message=f"POST /messages to {SENSITIVE['phone']} for {SENSITIVE['email']}",
            data={"prompt": prompt, "authorization": f"Bearer {SENSITIVE['bearer']}", "password": secret_password},
        )
        sentry_sdk.set_context("payload", {"cpf": SENSITIVE["cpf"], "note": f"cnpj {SENSITIVE['cnpj']}"})
        sentry_sdk.set_extra("api_key", SENSITIVE["stripe"])
        raise RuntimeError(
            f"could not notify {SENSITIVE['whatsapp_id']} / {SENSITIVE['email']} "
            f"(CPF {SENSITIVE['bare_cpf']}, key {SENSITIVE['api_key']}, stripe {SENSITIVE['stripe']})"
        )

    # When it fails inside the Lambda runtime's wrapper (AwsLambdaIntegration: in Lambda it wraps
    # every handler, adding the request's URL, headers and query, and reports what escapes too)
    from sentry_sdk.integrations.aws_lambda import _wrap_handler

    with pytest.raises(RuntimeError):
        _wrap_handler(handler)(event, Context())

    # Then one event was sent (the two reports of one exception deduplicated), still useful:
    # the failure, its tags, the request's harmless parts, the masked places ...
    [sent] = events()
    assert sent["tags"]["org_id"] == "acme"
    assert sent["request"]["method"] == "POST"
    assert sent["request"]["headers"] == {}  # data_collection: no request headers at all
    assert "data" not in sent["request"] and "query_string" not in sent["request"]
    assert sent["exception"]["values"][0]["value"].startswith(f"could not notify {MASK}")
    assert MASK in sent["breadcrumbs"]["values"][0]["message"]
    # ... and no sensitive value appears anywhere in what would go on the wire
    sent_bytes = wire()
    for kind, value in SENSITIVE.items():
        assert value not in sent_bytes, kind
    for fragment in ("hunter2", "Rua das Flores", "91234-5678", "cliente.com.br", "pedido 4321"):
        assert fragment not in sent_bytes
    # nor any local variable of a frame
    for value in sent["exception"]["values"]:
        for frame in value.get("stacktrace", {}).get("frames", []):
            assert "vars" not in frame


def test_breadcrumbs_are_masked_on_the_way_in(sentry: None) -> None:
    crumb = errortracking.before_breadcrumb(
        {"message": f"sent to {SENSITIVE['phone']}", "data": {"token": "abc123456"}}, {}
    )

    assert crumb == {"message": f"sent to {MASK}", "data": {"token": MASK}}


def test_logs_are_masked_the_same_way() -> None:
    # Given the hub's log lines written where the test reads them
    stream = io.StringIO()
    output = logging.StreamHandler(stream)
    output.setFormatter(observability.logger.registered_formatter)
    observability.logger.addHandler(output)
    try:
        # When the hub logs a line that quotes a phone, an email and a credential
        observability.logger.info(
            f"message to {SENSITIVE['phone']} ({SENSITIVE['email']})",
            extra={"authorization": f"Bearer {SENSITIVE['bearer']}", "input_tokens": 812, "cpf": SENSITIVE["cpf"]},
        )
    finally:
        observability.logger.removeHandler(output)

    # Then the JSON log line has them masked, and counts kept
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert line["message"] == f"message to {MASK} ({MASK})"
    assert line["authorization"] == MASK
    assert line["cpf"] == MASK
    assert line["input_tokens"] == 812


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ligar para (11) 91234-5678 hoje", f"ligar para {MASK} hoje"),
        ("CNPJ 11222333000181 emitido", f"CNPJ {MASK} emitido"),
        ("https://user:pa55@db.example.com/x", f"https://{MASK}@db.example.com/x"),
        ("GET /v1/x?limit=10&api_key=abc123&q=casa", f"GET /v1/x?limit=10&api_key={MASK}&q=casa"),
        ("Basic dXNlcjpwYXNzd29yZA==", MASK),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc", f"jwt {MASK}"),
        # not personal data: stays readable
        ("charge ch_123 of 150000 centavos at 2026-12-04T13:55:00+00:00", None),
        ("request 1733320000000 took 12345678901 ns", None),  # not a valid CPF
        ("order 550e8400-e29b-41d4-a716-446655440000", None),
        ("arn:aws:lambda:sa-east-1:551234567890:function:hub-WebSearch", None),  # an account id
    ],
)
def test_masking_by_shape(text: str, expected: str | None) -> None:
    assert mask_text(text) == (text if expected is None else expected)


def test_masking_by_key_keeps_counts_and_structure() -> None:
    masked = mask_value(
        {
            "usage": {"input_tokens": 10, "output_tokens": 20},
            "access_token": "EAAB",
            "contact": {"phone": 5511912345678, "name": "org-visible"},
            "messages": [{"role": "user", "content": "segredo"}],
            "ok": True,
        }
    )

    assert masked == {
        "usage": {"input_tokens": 10, "output_tokens": 20},
        "access_token": MASK,
        "contact": {"phone": MASK, "name": "org-visible"},
        "messages": MASK,
        "ok": True,
    }


def test_a_report_imports_only_the_integrations_the_layer_keeps() -> None:
    # Given a fresh interpreter where the layer's Sentry is started and reports an error
    code = """
import json, sys
from hub import credentials
credentials.get_app_secret = lambda name, fresh=False: {"dsn": "https://k@o1.ingest.sentry.example/1"}
from sentry_sdk.transport import Transport

class Recorder(Transport):
    sent = []
    def capture_envelope(self, envelope):
        Recorder.sent.append(envelope)

from hub import errortracking
assert errortracking.init(transport=Recorder)
from hub.observability import lambda_handler

@lambda_handler
def handler(event, context):
    raise RuntimeError("boom")

class Context:
    function_name = "f"; function_version = "1"; memory_limit_in_mb = 128; aws_request_id = "r"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:f"
    def get_remaining_time_in_millis(self):
        return 10000

try:
    handler({"org_id": "acme"}, Context())
except RuntimeError:
    pass
print(json.dumps({
    "sent": len(Recorder.sent),
    "integrations": sorted(m.rsplit(".", 1)[1] for m in sys.modules if m.startswith("sentry_sdk.integrations.")),
    "ai": any(m.startswith("sentry_sdk.ai") for m in sys.modules),
}))
"""
    out = _run(code, SENTRY_DSN_SECRET="hub/_apps/sentry")

    # Then it was sent, and every integration module it loaded is one the layer keeps
    from build_layer import SENTRY_INTEGRATIONS_KEEP

    assert out["sent"] == 1
    assert set(out["integrations"]) <= set(SENTRY_INTEGRATIONS_KEEP)
    assert out["ai"] is False


# --- layer ------------------------------------------------------------------------------------


def test_the_sentry_layer_pins_the_sdk_the_tests_run_and_its_dependencies_are_provided() -> None:
    import importlib.metadata

    import sentry_sdk
    from build_layer import LAYERS, RUNTIME_PROVIDED, direct_pins

    # The layer ships exactly the sdk these tests exercise ...
    assert direct_pins(LAYERS["sentry"].requirements) == [f"sentry-sdk=={sentry_sdk.VERSION}"]
    # ... without its dependencies: each is the runtime's or comes with the hub layer's httpx
    needed = {
        r.split(";")[0].split(">")[0].split("=")[0].split("<")[0].strip().lower()
        for r in importlib.metadata.requires("sentry-sdk") or []
        if "extra ==" not in r
    }
    hub_layer = {
        r.split(";")[0].split(">")[0].split("=")[0].strip().lower() for r in importlib.metadata.requires("httpx") or []
    }
    assert needed == {"urllib3", "certifi"}
    assert "urllib3" in RUNTIME_PROVIDED and "certifi" in hub_layer


# --- template -----------------------------------------------------------------------------------


def test_every_function_may_read_the_sentry_secret_and_only_that_one() -> None:
    from localcloud.template import load_template

    template = load_template(ROOT / "template.yaml")
    resources = template["Resources"]
    functions = sorted(k for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function")
    policy = resources["SentryDsnReadPolicy"]
    roles = sorted(role["Ref"].removesuffix("Role") for role in policy["Properties"]["Roles"])

    # Every function's generated role (SAM: <Function>Role) holds the policy ...
    assert roles == functions
    # ... which reads one secret, the hub's Sentry secret of this stack's prefix
    [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "secretsmanager:GetSecretValue"
    assert statement["Resource"]["Fn::Sub"].endswith(":secret:${SecretsPrefix}/_apps/${SentryDsnSecretName}-*")
    # and only when a Sentry secret is configured; its id, not the DSN, is in the environment
    assert policy["Condition"] == resources["SentryLayer"]["Condition"] == "HasSentry"
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["SENTRY_DSN_SECRET"]["Fn::If"][1] == {"Fn::Sub": "${SecretsPrefix}/_apps/${SentryDsnSecretName}"}
    assert variables["HUB_RELEASE"] == {"Ref": "HubRelease"}


def test_a_failed_queue_record_is_reported_from_the_threshold_up(sentry: None) -> None:
    from hub.batch import process_sqs_batch

    # Given an SQS batch whose first record hits a provider outage and second a bad payload
    def sqs_record(message_id: str, body: str) -> dict[str, Any]:
        return {
            "messageId": message_id,
            "receiptHandle": f"rh-{message_id}",
            "body": body,
            "attributes": {"ApproximateReceiveCount": "1"},
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:hub-inbound",
        }

    def handle(record: Any) -> None:
        if record.body == "outage":
            raise ProviderUnavailableError("Evolution answered 502", provider="evolution", code="http_502")
        raise InvalidRequestError("event: unknown type")

    # When the consumer processes it (its queue in moto: failed records wait longer there)
    with mock_aws():
        boto3.client("sqs", region_name="us-east-1").create_queue(QueueName="hub-inbound")
        event = {"Records": [sqs_record("m1", "outage"), sqs_record("m2", "bad")]}
        answer = process_sqs_batch(event, handle, Context())

    # Then the outage goes back to the queue and is reported (handled: the batch answered SQS);
    # the bad payload is consumed (never retried) and not reported: under the threshold
    assert [f["itemIdentifier"] for f in answer["batchItemFailures"]] == ["m1"]
    [sent] = events()
    assert sent["tags"]["error_class"] == "ProviderUnavailableError"
    assert sent["tags"]["provider"] == "evolution"
    assert sent["exception"]["values"][0]["mechanism"]["handled"] is True


def test_importing_the_hub_without_a_dsn_leaves_no_settings_cached() -> None:
    # Given a process that imports the hub, then completes its environment (as ops does)
    code = """
import json, os
from hub import observability
os.environ["ORGS_TABLE"] = "hub-orgs-from-the-stack"
from hub.config import get_settings
print(json.dumps({"orgs_table": get_settings().orgs_table}))
"""
    # Then the settings read afterwards see it
    assert _run(code) == {"orgs_table": "hub-orgs-from-the-stack"}
