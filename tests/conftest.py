"""Shared fixtures: a clean hub configuration per test, AWS (moto) resources, and the provider
sandboxes served once per session (``sandboxes``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from hub import aws, backups, credentials, idempotency, orgs, runtime, storage
from hub.ai import spend
from hub.config import get_settings
from hub.integrations import records as integration_records
from hub.providers.base import auth as base_auth
from hub.providers.base import client as base
from hub.providers.meta import graph as meta_graph
from hub.resilience import breaker
from hub.usage import meter as usage_meter
from hub.usage import prices as usage_prices
from localcloud.aws import MotoServer
from localcloud.sandboxes import SandboxServer, all_sandboxes
from localcloud.servers import ServerThread, free_port

TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "IntegrationsHubTest",
    "POWERTOOLS_SERVICE_NAME": "integrations-hub-test",
    "SECRETS_CACHE_SECONDS": "0",
    # The session's sandboxes listen on 127.0.0.1 (any port): IntegrationConnect accepts them as
    # an org's base_url, as the local cloud does for its own sandbox port.
    "PROVIDER_PRIVATE_URL_PREFIXES": "http://127.0.0.1:",
}

# Every org id the suites invoke or post webhooks for: registered in the org registry by the
# fixtures that provide one (tests/aws, tests/e2e: register_test_orgs; tests/unit: a fake).
# An id not listed here (e.g. "nobody") is an unknown org, as it would be in production.
TEST_ORGS = {
    "demo": "Somos Produtora (demo)",
    "demo-cloud": "Somos Produtora (demo, WhatsApp Cloud API)",
    "acme": "Acme",
    "beta": "Beta",
    "cloudorg": "Cloud API org",
    "other": "An org without credentials",
    "noses": "An org without SES",
}


def register_test_orgs(endpoint: str, table: str) -> None:
    """Register :data:`TEST_ORGS` in the org registry at ``endpoint`` (moto)."""
    from localcloud.aws import seed_orgs

    seed_orgs(endpoint, table, TEST_ORGS, created_by="tests")


def reset_hub_caches() -> None:
    """Forget every per-container cache, as a fresh Lambda container would."""
    get_settings.cache_clear()
    runtime._deadline.set(None)
    integration_records.forget()
    spend._budget_cache.clear()
    spend._routes_cache.clear()
    orgs._known.clear()
    aws.aws_client.cache_clear()
    aws.aws_provider_client.cache_clear()
    usage_meter._counter_client.cache_clear()
    usage_prices.price_table.cache_clear()
    storage._client = None
    credentials._provider = None
    base._SHARED_HTTP = None
    base_auth.CONTAINER_TOKENS.clear()
    breaker.forget()
    meta_graph.forget_usage()
    backups.forget_clients()
    for fn in (
        idempotency.persistence_store,
        idempotency._config,
        idempotency._once,
    ):
        fn.cache_clear()


@pytest.fixture(autouse=True)
def hub_env(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    if request.node.get_closest_marker("e2e"):
        # The local cloud gives each function its own environment, in its worker processes.
        yield
        return
    for key in list(os.environ):
        if key.startswith("AWS_ENDPOINT_URL") or key == "AWS_PROFILE":
            monkeypatch.delenv(key)
    for key, value in TEST_ENV.items():
        monkeypatch.setenv(key, value)
    reset_hub_caches()
    yield
    reset_hub_caches()


# Names the tests use for media links, resolved to a public address (example.com's) without
# the network. Any other name does not resolve, as on a machine without DNS; a test that
# needs another answer (a name resolving to a private address) patches hub.urls.resolve_host.
PUBLIC_TEST_HOSTS = ("example.com", "example.com.br", "somosprodutora.com.br", "whatsapp.net")


def fake_resolve_host(host: str) -> list[str]:
    if any(host == name or host.endswith("." + name) for name in PUBLIC_TEST_HOSTS):
        return ["93.184.215.14"]
    raise OSError(f"fake DNS: {host} does not resolve")


@pytest.fixture(autouse=True)
def no_real_dns(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit and moto tests never resolve names: hub.urls sees the fake resolver above."""
    if request.node.get_closest_marker("e2e"):
        return
    from hub import urls

    monkeypatch.setattr(urls, "resolve_host", fake_resolve_host)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """One moto server for the session (tests/aws, tests/contract): AWS without AWS."""
    server = MotoServer(port=free_port())
    server.start()
    yield server
    server.stop()


@dataclass
class ServedSandboxes:
    """Every registered sandbox (``localcloud.sandboxes.all_sandboxes``) on one free port."""

    app: SandboxServer
    url: str

    def __getitem__(self, provider: str) -> Any:
        """The sandbox mounted at ``/<provider>`` (its state, for assertions)."""
        return self.app.sandboxes[provider]

    def reset(self) -> None:
        """Forget every request, every sandbox's state and every fault."""
        self.app.clear_faults()
        assert httpx.delete(f"{self.url}/__sandbox/requests").status_code == 204


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[ServedSandboxes]:
    """One sandbox server for the whole session (stopping one costs half a second)."""
    app = SandboxServer(all_sandboxes())
    server = ServerThread("sandboxes", app, "127.0.0.1", 0)
    server.start()
    try:
        yield ServedSandboxes(app, server.url)
    finally:
        server.stop()


@pytest.fixture
def sandboxes(sandbox_server: ServedSandboxes) -> Iterator[ServedSandboxes]:
    """The session's sandbox server, clean for this test (and left clean after it)."""
    sandbox_server.reset()
    yield sandbox_server
    sandbox_server.reset()
