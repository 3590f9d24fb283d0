"""`make dev` serves the console with the demo org's data (docs/local-development.md, "Demo
data"): a local cloud started with ``demo_data=True`` delivered signed webhooks for the demo org
through its API, ran a health check and sent one WhatsApp message, and the console's JSON API
shows all of it — events in and out, health rows, the rejected request's issue."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from localcloud import LocalCloud
from localcloud.demo import DEMO_ORG_ID
from localcloud.sandboxes.evolution import DEMO_WEBHOOK_TOKEN
from tests.e2e.conftest import booted
from tests.helpers import console_session, wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with booted(demo_data=True) as running:
        yield running


@pytest.fixture(scope="module")
def session(cloud: LocalCloud) -> httpx.Client:
    return console_session(cloud)


def get(session: httpx.Client, path: str, **params: str) -> Any:
    answer = session.get(path, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_console_shows_the_demo_orgs_events_health_and_issues(cloud: LocalCloud, session: httpx.Client) -> None:
    # Given the local cloud started with the demo activity
    activity = cloud.demo_activity
    assert activity is not None and activity.errors == []
    statuses = sorted(status for _, status in activity.webhooks)
    assert statuses == [200, 200, 200, 200, 200, 400]
    assert activity.health_checked and activity.outbound
    assert f"Demo data     {activity.summary()}" in cloud.banner()

    # When the operator opens the events list (the consumer works the queue in the background)
    def listed() -> list[dict[str, Any]] | None:
        items: list[dict[str, Any]] = get(session, "/events", org_id=DEMO_ORG_ID, limit="50")["items"]
        inbound_done = [i for i in items if i["direction"] == "inbound" and i["status"] != "rejected"]
        return items if len(inbound_done) >= 5 else None

    items = wait_until(listed, timeout=60, interval=0.5)

    # Then every provider's webhook, the rejected request and the outbound send are there
    inbound = {(i["provider"], i["type"]) for i in items if i["direction"] == "inbound"}
    assert {p for p, _ in inbound} >= {"evolution", "resend", "custom", "stripe"}
    assert ("evolution", "webhook.rejected") in inbound
    assert sum(1 for i in items if (i["provider"], i["type"]) == ("evolution", "message.received")) == 2
    [sent] = [i for i in items if i["direction"] == "outbound"]
    assert (sent["provider"], sent["type"], sent["status"]) == ("evolution", "whatsapp.send_text", "succeeded")
    detail = get(session, f"/events/{sent['record_id']}")
    assert detail["calls"] and detail["calls"][0]["provider"] == "evolution"
    # And an Evolution message's detail shows its raw request without the webhook token
    message = next(i for i in items if i["type"] == "message.received")
    raw = get(session, f"/events/{message['record_id']}")
    assert raw["raw"] is not None and DEMO_WEBHOOK_TOKEN not in str(raw)

    # And the health page has the demo org's rows, the issues page the rejected request
    rows = [r for r in get(session, "/health")["rows"] if r["org_id"] == DEMO_ORG_ID]
    assert rows and {r["checked_at"] is not None for r in rows} == {True}
    issues = get(session, "/issues", org_id=DEMO_ORG_ID)["issues"]
    assert ("evolution", "WebhookRejected", 1) in {(i["provider"], i["error_class"], i["count"]) for i in issues}


def test_a_local_cloud_leaves_the_demo_activity_off_unless_asked() -> None:
    assert LocalCloud().demo_data is False
