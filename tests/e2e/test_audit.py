"""The audit trail in the local cloud: forged webhooks posted to the API and transfers invoked
as services invoke them, then read back with AuditQuery through the Lambda endpoint."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from localcloud import LocalCloud
from tests.conftest import register_test_orgs
from tests.e2e.conftest import booted, client, invoke
from tests.helpers import sample_event

pytestmark = pytest.mark.e2e

THRESHOLD = 3


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with booted(env={"WEBHOOK_FORGERY_THRESHOLD": str(THRESHOLD)}) as running:
        orgs_table = running.template.env_value("ORGS_TABLE") if running.template else None
        assert orgs_table
        register_test_orgs(running.aws_url, orgs_table)
        yield running


def audit_query(cloud: LocalCloud, **filters: Any) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    window = {"from": (now - timedelta(hours=1)).isoformat(), "to": (now + timedelta(hours=1)).isoformat()}
    records: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page = invoke(
            cloud, "AuditQuery", {"org_id": "demo", **window, **filters, **({"cursor": cursor} if cursor else {})}
        )
        records += page["records"]
        cursor = page.get("next_cursor")
        if not cursor:
            return records


def test_a_forged_webhook_burst_is_on_the_trail_once(cloud: LocalCloud) -> None:
    body = sample_event("webhook_evolution")["body"]
    # When deliveries with a guessed token keep arriving at the demo org's route
    posted = 0
    while not audit_query(cloud, action="webhook_forgery_burst") and posted < 2 * THRESHOLD:
        response = httpx.post(
            f"{cloud.api_url}/webhooks/evolution/demo",
            headers={"Authorization": "Bearer guessed-token", "Content-Type": "application/json"},
            content=body,
            timeout=15,
        )
        assert response.status_code == 401
        posted += 1
    # Then the threshold's delivery wrote one sensitive record, attributed to the receiver
    [record] = audit_query(cloud, action="webhook_forgery_burst")
    assert posted >= THRESHOLD
    assert record["sensitive"] is True and record["integration"] == "evolution"
    assert record["actor"] == "service:WebhookEvolution" and record["source_ip"]
    assert "guessed-token" not in json.dumps(record)


def test_transfers_are_audited_under_their_snake_case_names(cloud: LocalCloud) -> None:
    base = {"org_id": "demo", "value_cents": 50000, "requested_by": "financeiro@somosprodutora.com.br"}
    response = client(cloud, "lambda").invoke(
        FunctionName="TransferCreate",
        Payload=json.dumps({**base, "destination": "Conta do primo", "idempotency_key": uuid.uuid4().hex}).encode(),
    )
    assert response.get("FunctionError")
    invoke(cloud, "TransferCreate", {**base, "destination": "Conta PJ (PIX)", "idempotency_key": uuid.uuid4().hex})
    actions = [r["action"] for r in audit_query(cloud) if r["action"].startswith("transfer_")]
    assert actions == ["transfer_created", "transfer_requested", "transfer_refused"]  # newest first
    assert {r["actor"] for r in audit_query(cloud, action="transfer_created")} == {base["requested_by"]}
