"""The booted local cloud every e2e module drives, and the clients a user would hold."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest

from localcloud import LocalCloud
from tests.conftest import register_test_orgs
from tests.helpers import ROOT


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(
        ROOT / "template.yaml", api_port=0, lambda_port=0, aws_port=0, sandbox_port=0, schedules=False, retry_delay=1
    ) as running:
        orgs_table = running.template.env_value("ORGS_TABLE") if running.template else None
        assert orgs_table, "template.yaml declares no ORGS_TABLE"
        register_test_orgs(running.aws_url, orgs_table)
        yield running


def client(cloud: LocalCloud, service: str) -> Any:
    """boto3 as a caller holds it: Lambda at the invoke endpoint, everything else at moto."""
    return boto3.client(
        service,
        endpoint_url=cloud.lambda_url if service == "lambda" else cloud.aws_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def fault(cloud: LocalCloud, provider: str, **spec: Any) -> None:
    httpx.put(f"{cloud.sandbox_url}/__sandbox/faults/{provider}", json=spec, timeout=5).raise_for_status()
