"""IntegrationTokensSweep in the local cloud, invoked as its schedule invokes it: it pages through
the integrations table and reports, per OAuth integration, what it did (docs/integrations.md,
"Token lifecycle")."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from localcloud import LocalCloud
from tests.e2e.conftest import client, invoke
from tests.helpers import ROOT

pytestmark = pytest.mark.e2e


def test_the_scheduled_sweep_reports_what_it_could_not_refresh(cloud: LocalCloud) -> None:
    # Given an OAuth integration expiring within the hour whose adapter has no token provider
    assert cloud.template is not None
    table = cloud.template.env_value("INTEGRATIONS_TABLE")
    now = datetime.now(UTC)
    client(cloud, "dynamodb").put_item(
        TableName=table,
        Item={
            "org_id": {"S": "acme"},
            "provider": {"S": "evolution"},
            "status": {"S": "connected"},
            "auth": {"S": "oauth2"},
            "token_expires_at": {"S": (now + timedelta(hours=1)).isoformat()},
            "token_refreshed_at": {"S": (now - timedelta(days=2)).isoformat()},
        },
    )
    # When the hourly schedule fires
    event = json.loads((ROOT / "events" / "integration_tokens_sweep.json").read_text())
    result = invoke(cloud, "IntegrationTokensSweep", event)
    # Then the run reports the integration it could not refresh, and finished its scan
    assert result["checked"] == 1 and result["refreshed"] == []
    assert list(result["failed"]) == ["acme/evolution"]
    assert result["truncated"] is False
