"""Health of every integration configured for an organisation (seed §10 contract).

Checks run concurrently, each capped at ``HEALTH_CHECK_TIMEOUT`` (5 s): the answer
never takes much longer than the slowest allowed check, however many integrations.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Literal

from pydantic import BaseModel

from hub.config import get_settings
from hub.credentials import configured_providers, validate_org_id
from hub.errors import HubError
from hub.observability import logger
from hub.providers import ADAPTERS
from hub.providers.base import ProviderClient
from hub.storage import ObjectStorage


class ServiceHealth(BaseModel):
    status: Literal["healthy", "unhealthy"]
    latency_ms: float | None = None
    error: str | None = None


class HealthReport(BaseModel):
    status: Literal["healthy", "degraded"]
    org_id: str
    services: dict[str, ServiceHealth]


def _storage_check() -> None:
    ObjectStorage().head_bucket(get_settings().require("webhook_archive_bucket"))


def _adapter_check(adapter: type[ProviderClient], org_id: str) -> None:
    adapter.for_org(org_id).health_check()


def _checks_for(org_id: str) -> dict[str, Callable[[], None]]:
    checks: dict[str, Callable[[], None]] = {"storage": _storage_check}
    for provider in configured_providers(org_id):
        adapter = ADAPTERS.get(provider)
        if adapter is None:
            logger.info("health_no_adapter", extra={"provider": provider, "org_id": org_id})
            continue
        checks[provider] = functools.partial(_adapter_check, adapter, org_id)
    return checks


def _run(check: Callable[[], None]) -> ServiceHealth:
    started = time.perf_counter()
    try:
        check()
    except HubError as exc:
        return ServiceHealth(status="unhealthy", error=f"{type(exc).__name__}: {exc.message}")
    except Exception as exc:  # noqa: BLE001 - a health check reports any failure, never crashes the endpoint
        return ServiceHealth(status="unhealthy", error=type(exc).__name__)
    return ServiceHealth(status="healthy", latency_ms=round((time.perf_counter() - started) * 1000, 1))


def check_integrations(org_id: str) -> HealthReport:
    validate_org_id(org_id)
    timeout = get_settings().health_check_timeout
    checks = _checks_for(org_id)
    pool = ThreadPoolExecutor(max_workers=max(1, len(checks)))
    futures = {name: pool.submit(_run, fn) for name, fn in checks.items()}
    wait(futures.values(), timeout=timeout)
    pool.shutdown(wait=False, cancel_futures=True)
    services: dict[str, ServiceHealth] = {}
    for name, future in futures.items():
        if future.done():
            services[name] = future.result()
        else:
            services[name] = ServiceHealth(status="unhealthy", error=f"timed out after {timeout:g} s")
    overall: Literal["healthy", "degraded"] = (
        "healthy" if all(s.status == "healthy" for s in services.values()) else "degraded"
    )
    return HealthReport(status=overall, org_id=org_id, services=services)
