"""The console in the local cloud (docs/console.md): the banner's one-time token logs in over
HTTP, the page is served, and the JSON API answers with the demo org's data; an integration
disabled and enabled from the console is on the audit trail under the operator's name."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from localcloud import LocalCloud
from localcloud.sandboxes.evolution import DEMO_WEBHOOK_TOKEN
from tests.conftest import register_test_orgs
from tests.e2e.conftest import booted
from tests.helpers import aws_client, console_session, sample_event, wait_until

pytestmark = pytest.mark.e2e

OPERATOR = "ana@agency.test"


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with booted() as running:
        orgs_table = running.template.env_value("ORGS_TABLE") if running.template else None
        assert orgs_table
        register_test_orgs(running.aws_url, orgs_table)
        yield running


@pytest.fixture(scope="module")
def session(cloud: LocalCloud) -> httpx.Client:
    return console_session(cloud, OPERATOR)


def get(session: httpx.Client, path: str, **params: str) -> Any:
    answer = session.get(path, params=params)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Cache-Control"] == "no-store"
    return answer.json()


def test_the_banner_prints_the_token_and_it_logs_in_once(cloud: LocalCloud, session: httpx.Client) -> None:
    assert f"Console       {cloud.api_url}/console   one-time login token: {cloud.console_token}" in cloud.banner()
    again = httpx.post(f"{cloud.api_url}/console/api/session", json={"token": cloud.console_token}, timeout=30)
    assert again.status_code == 401 and again.json()["error"] == "invalid_token"
    assert httpx.get(f"{cloud.api_url}/console/api/me", timeout=30).status_code == 401
    assert get(session, "/me") == {"operator": OPERATOR}
    assert get(session, "/config")["auth"] == "local"


def test_the_page_is_served_with_its_security_headers(cloud: LocalCloud) -> None:
    page = httpx.get(f"{cloud.api_url}/console", timeout=30)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert page.headers["Content-Security-Policy"] == "default-src 'self'"
    script = httpx.get(f"{cloud.api_url}/console/static/console.js", timeout=30)
    assert script.status_code == 200 and script.headers["Content-Type"].startswith("text/javascript")


def test_the_demo_org_its_integrations_and_the_queues_are_listed(session: httpx.Client) -> None:
    assert "demo" in {o["org_id"] for o in get(session, "/orgs")["orgs"]}
    integrations = get(session, "/integrations", org_id="demo")["integrations"]
    assert any(i["status"] == "connected" for i in integrations)
    queues = {q["name"]: q for q in get(session, "/dlqs")["queues"]}
    assert queues["InboundEventsDLQ"]["source"] and queues["FailedInvocationsDLQ"]["source"] is None


def test_disable_and_enable_from_the_console_are_on_the_audit_trail(session: httpx.Client) -> None:
    integrations = get(session, "/integrations", org_id="demo")["integrations"]
    provider = next(i["provider"] for i in integrations if i["status"] == "connected" and i["managed"])

    disabled = session.post(f"/integrations/demo/{provider}/disable", json={"reason": "console e2e"})
    enabled = session.post(f"/integrations/demo/{provider}/enable", json={})

    assert (disabled.status_code, disabled.json()["status"]) == (200, "disabled")
    assert (enabled.status_code, enabled.json()["status"]) == (200, "connected")
    records = get(session, "/audit", org_id="demo")["records"]
    mine = [(r["action"], r["integration"]) for r in records if r["actor"] == OPERATOR]
    assert ("integration_disabled", provider) in mine and ("integration_enabled", provider) in mine


def test_an_archive_replay_job_runs_in_the_background_and_skips_what_was_delivered(
    cloud: LocalCloud, session: httpx.Client
) -> None:
    # Given a delivery posted to the API and processed by the consumer
    body = json.loads(sample_event("webhook_evolution")["body"])
    body["data"]["key"]["id"] = "CONSOLE-" + str(time.time_ns())
    posted = httpx.post(
        f"{cloud.api_url}/webhooks/evolution/demo",
        content=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {DEMO_WEBHOOK_TOKEN}", "Content-Type": "application/json"},
        timeout=30,
    )
    assert posted.status_code == 200, posted.text
    table = cloud.template.env_value("CONTACTS_TABLE") if cloud.template else None
    assert table

    def processed() -> bool:
        item = (
            aws_client(cloud, "dynamodb")
            .get_item(TableName=table, Key={"org_id": {"S": "demo"}, "contact": {"S": "whatsapp#+5511987654321"}})
            .get("Item")
        )
        return bool(item and item["last_inbound_message_id"]["S"] == body["data"]["key"]["id"])

    wait_until(processed, timeout=30, interval=0.2)

    # When the operator replays the window's archive
    now = datetime.now(UTC)
    window = {
        "org_id": "demo",
        "provider": "evolution",
        "from": (now - timedelta(hours=1)).isoformat(),
        "to": (now + timedelta(minutes=1)).isoformat(),
    }
    created = session.post("/replays", json={"archive": window})
    assert created.status_code == 202, created.text

    # Then ConsoleReplayJob (on ConsoleJobsQueue) finishes it: the delivered request is skipped
    def done() -> dict[str, Any] | None:
        job: dict[str, Any] = get(session, f"/replays/{created.json()['job_id']}")
        return job if job["state"] == "done" else None

    job = wait_until(done, timeout=60, interval=0.5)
    assert job["matched"] >= 1 and job["skipped"] >= 1 and job["failed"] == 0
    assert job["matched"] == job["replayed"] + job["skipped"] + job["failed"]
    assert job["operator"] == OPERATOR
