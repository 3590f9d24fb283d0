"""End to end, as `make dev` runs it: with the stack parameter SentryDsnSecretName=sentry the
functions read the seeded hub/_apps/sentry secret in their own worker processes and a failing
invocation is reported to the Sentry sandbox (localcloud/sandboxes/sentry.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from localcloud import LocalCloud
from localcloud.__main__ import DEV_PARAMETERS
from tests.conftest import register_test_orgs
from tests.e2e.conftest import booted
from tests.helpers import aws_client, wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def dev_cloud() -> Iterator[LocalCloud]:
    with booted(parameter_overrides=DEV_PARAMETERS) as running:
        orgs_table = running.template.env_value("ORGS_TABLE") if running.template else None
        assert orgs_table
        register_test_orgs(running.aws_url, orgs_table)
        yield running


def reported(cloud: LocalCloud) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = httpx.get(f"{cloud.sandbox_url}/sentry/events", timeout=5).json()["events"]
    return events


def test_a_failing_invocation_is_reported_to_the_local_sentry(dev_cloud: LocalCloud) -> None:
    # When WhatsAppSendText is invoked for an org that has no WhatsApp credentials
    payload = {"org_id": "other", "to": "+55 11 91234-5678", "text": "Oi Ana"}
    response = aws_client(dev_cloud, "lambda").invoke(
        FunctionName="WhatsAppSendText", Payload=json.dumps(payload).encode()
    )
    body = json.loads(response["Payload"].read())

    # Then the caller gets the error by class name, and the sandbox has the report
    assert response.get("FunctionError"), body
    assert body["errorType"] == "AuthenticationError"
    [event] = wait_until(lambda: reported(dev_cloud), timeout=15)
    assert event["environment"] == "dev"
    assert event["tags"]["org_id"] == "other"
    assert event["tags"]["error_class"] == "AuthenticationError"
    assert event["tags"]["function"].endswith("WhatsAppSendText")
    assert "91234-5678" not in json.dumps(event) and "Oi Ana" not in json.dumps(event)
