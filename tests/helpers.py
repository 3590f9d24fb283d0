"""Builders for Lambda contexts, events and raw webhooks, a loader for function handlers, adapters
over httpx.MockTransport (``client_with``), and an in-memory secrets store (``FakeSecrets``)."""

from __future__ import annotations

import importlib.util
import json
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any, Generic, TypeVar

import boto3
import httpx
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import ClientError

from hub.providers.base.client import ProviderClient, ProviderCredentials
from hub.retry import RetryPolicy
from hub.webhooks.models import RawWebhook
from localcloud import LocalCloud

ROOT = Path(__file__).resolve().parents[1]


class FakeLambdaContext:
    def __init__(self, function_name: str = "test-function", timeout_ms: int = 15_000) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self.memory_limit_in_mb = 256
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "2026/11/22/[$LATEST]test"
        self._timeout_ms = timeout_ms

    def get_remaining_time_in_millis(self) -> int:
        return self._timeout_ms


def load_function(directory: str) -> ModuleType:
    """Import functions/<directory>/app.py under a unique module name (all are app.py)."""
    path = ROOT / "functions" / directory / "app.py"
    spec = importlib.util.spec_from_file_location(f"fn_{directory}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_function_module(directory: str, module: str) -> ModuleType:
    """A module beside a function's app.py, importable by its own name as in Lambda, where the
    function's directory (LAMBDA_TASK_ROOT) is on sys.path: ``from <module> import …`` works."""
    if module in sys.modules:
        return sys.modules[module]
    spec = importlib.util.spec_from_file_location(module, ROOT / "functions" / directory / f"{module}.py")
    assert spec and spec.loader
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[module] = loaded
    spec.loader.exec_module(loaded)
    return loaded


def aws_client(cloud: LocalCloud, service: str) -> Any:
    """boto3 as a caller of a booted local cloud holds it: Lambda at the invoke endpoint,
    everything else at moto."""
    return boto3.client(
        service,
        endpoint_url=cloud.lambda_url if service == "lambda" else cloud.aws_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def console_session(cloud: LocalCloud, operator: str | None = None) -> httpx.Client:
    """An httpx client of the console's JSON API, signed in with the local cloud's one-time token
    (it works once: one session per booted cloud)."""
    assert cloud.console_token, "the local cloud made no console login token"
    body = {"token": cloud.console_token, **({"operator": operator} if operator else {})}
    answer = httpx.post(f"{cloud.api_url}/console/api/session", json=body, timeout=30)
    assert answer.status_code == 200, answer.text
    return httpx.Client(
        base_url=f"{cloud.api_url}/console/api",
        headers={"Authorization": f"Bearer {answer.json()['session']}"},
        timeout=30,
    )


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.1) -> Any:
    """The first truthy value of ``predicate()``, asked every ``interval`` seconds; an
    AssertionError when none comes within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


def sample_event(name: str) -> dict[str, Any]:
    with open(ROOT / "events" / f"{name}.json", encoding="utf-8") as fh:
        event: dict[str, Any] = json.load(fh)
    return event


# The payer of the payment tests' charges, as PaymentCreateCharge takes it.
CUSTOMER = {"name": "Padaria Pão Quente Ltda", "cpf_cnpj": "12.345.678/0001-95", "email": "fin@paoquente.com.br"}


def charge_payload(charge_id: str, value_cents: int, due_date: date, **extra: Any) -> dict[str, Any]:
    """A PaymentCreateCharge payload: the demo org's PIX charge to :data:`CUSTOMER`."""
    return {
        "org_id": "demo",
        "charge_id": charge_id,
        "customer": CUSTOMER,
        "billing_type": "PIX",
        "value_cents": value_cents,
        "due_date": due_date.isoformat(),
        **extra,
    }


def api_event(
    method: str,
    path: str,
    *,
    resource: str,
    path_parameters: dict[str, str] | None = None,
    body: str | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    headers = headers or {}
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": path,
            "stage": "dev",
            "requestId": str(uuid.uuid4()),
            "accountId": "123456789012",
            "apiId": "test",
            "identity": {"sourceIp": "203.0.113.10"},
        },
        "body": body,
        "isBase64Encoded": False,
    }


def raw_webhook(
    provider: str,
    body: str | bytes = b"{}",
    headers: Mapping[str, str] | None = None,
    *,
    received_at: datetime,
    query: Mapping[str, str] | None = None,
    path: str | None = None,
    url: str = "",
    org_id: str = "demo",
) -> RawWebhook:
    """A POST to ``/webhooks/<provider>/<org_id>`` as the receiver hands it to a verifier: header
    names lower-cased, a str body UTF-8 encoded."""
    return RawWebhook(
        provider=provider,
        org_id=org_id,
        method="POST",
        path=path if path is not None else f"/webhooks/{provider}/{org_id}",
        headers={k.lower(): v for k, v in (headers or {}).items()},
        query=dict(query or {}),
        body=body.encode("utf-8") if isinstance(body, str) else body,
        received_at=received_at,
        url=url,
    )


def resent(
    sample: dict[str, Any],
    *,
    headers: dict[str, str],
    body: str | None = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A POST to a sample API Gateway event's route (path, resource, path parameters) with
    these headers, and its body and query unless others are given."""
    return api_event(
        "POST",
        sample["path"],
        resource=sample["resource"],
        path_parameters=sample["pathParameters"],
        body=sample["body"] if body is None else body,
        headers=headers,
        query=sample.get("queryStringParameters") if query is None else query,
    )


C = TypeVar("C", bound=ProviderClient)
Handler = Callable[[httpx.Request], httpx.Response]


def client_with(
    cls: type[C],
    credentials: ProviderCredentials,
    handler: Handler,
    *,
    attempts: int = 3,
    sleeps: list[float] | None = None,
    org_id: str | None = None,
) -> C:
    """An adapter whose HTTP goes to ``handler`` (httpx.MockTransport) and whose retries never
    sleep (each wait is appended to ``sleeps`` when given)."""
    http = httpx.Client(transport=httpx.MockTransport(handler))
    sleep: Callable[[float], None] = sleeps.append if sleeps is not None else (lambda _: None)
    return cls(credentials, http=http, retry_policy=RetryPolicy(max_attempts=attempts, sleep=sleep), org_id=org_id)


class AdapterFactory(Generic[C]):
    """``client_with`` bound to one adapter, its test credentials and its default attempts:
    ``client_with = AdapterFactory(ResendClient, CREDS, attempts=1)``, then
    ``client_with(handler)``, ``client_with(handler, attempts=2, creds=other, org_id="acme")``."""

    def __init__(self, cls: type[C], credentials: ProviderCredentials, *, attempts: int = 3) -> None:
        self.cls = cls
        self.credentials = credentials
        self.attempts = attempts

    def __call__(
        self,
        handler: Handler,
        *,
        attempts: int | None = None,
        creds: ProviderCredentials | None = None,
        sleeps: list[float] | None = None,
        org_id: str | None = None,
    ) -> C:
        return client_with(
            self.cls,
            creds if creds is not None else self.credentials,
            handler,
            attempts=self.attempts if attempts is None else attempts,
            sleeps=sleeps,
            org_id=org_id,
        )


def recording(*responses: httpx.Response) -> tuple[list[httpx.Request], Handler]:
    """A handler answering ``responses`` in order (the last one from then on), and the requests
    it saw."""
    seen: list[httpx.Request] = []
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return seen, handler


def recording_json(*responses: httpx.Response) -> tuple[list[Any], Handler]:
    """``recording``, keeping the JSON body of each request it saw."""
    bodies: list[Any] = []
    _, answer = recording(*responses)

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return answer(request)

    return bodies, handler


def timing_out() -> tuple[list[httpx.Request], Handler]:
    """A handler whose every request times out waiting for the answer (httpx.ReadTimeout, "timed
    out"), and the requests it saw."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        raise httpx.ReadTimeout("timed out", request=request)

    return seen, handler


class FakeSecrets:
    """Secrets Manager as ``hub.credentials`` reads it: ``stored`` by name, every name ``asked``
    recorded; a missing one fails as Powertools does (GetParameterError from ResourceNotFound)."""

    def __init__(self, stored: dict[str, dict[str, Any]]) -> None:
        self.stored = stored
        self.asked: list[str] = []

    def get(self, name: str, **_: Any) -> dict[str, Any]:
        self.asked.append(name)
        if name not in self.stored:
            missing = ClientError({"Error": {"Code": "ResourceNotFoundException"}}, "GetSecretValue")
            raise GetParameterError(str(missing)) from missing
        return self.stored[name]
