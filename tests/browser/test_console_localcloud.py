"""The console page against the real ConsoleApi in the local cloud (make dev's stack): log in with
the banner's one-time token, the sandbox providers on the health screen and one turning red after a
sandbox fault and a health run, a dead-lettered message redriven, an integration disabled and
enabled with both on the audit trail under the operator's name. (Events, replay jobs and issues
need the event log: tests/browser/test_console.py drives them against the API's contract.)"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from localcloud import LocalCloud
from tests.browser.test_console import CHROMIUM, LAUNCH_ARGS, console_error, shot
from tests.conftest import register_test_orgs
from tests.e2e.conftest import booted, invoke
from tests.helpers import ROOT
from tests.helpers import aws_client as client

if not (ROOT / "functions" / "console_api" / "app.py").exists():
    pytest.skip("the console API (lane consoleapi) is not in this tree yet", allow_module_level=True)

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
def page(cloud: LocalCloud) -> Iterator[Page]:
    assert CHROMIUM, "CI must have Debian's chromium (make browser installs it)"
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser: Browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 800}, service_workers="block")
        opened = context.new_page()
        opened.set_default_timeout(30_000)
        opened.on("console", lambda msg: console_error(msg, errors))
        opened.on("pageerror", lambda exc: errors.append(str(exc)))
        opened.goto(f"{cloud.api_url}/console")
        opened.get_by_test_id("login-token").fill(cloud.console_token)
        opened.get_by_test_id("login-operator").fill(OPERATOR)
        opened.get_by_test_id("login-submit").click()
        expect(opened.locator("#operator")).to_have_text(f"Signed in as {OPERATOR}")
        yield opened
        browser.close()
    assert errors == []


def go(page: Page, screen: str) -> None:
    page.get_by_test_id(f"nav-{screen}").click()
    expect(page.locator("#view-title")).to_be_visible()


def test_health_turns_a_sandbox_provider_red_after_a_fault_and_a_health_run(cloud: LocalCloud, page: Page) -> None:
    sample = json.loads((ROOT / "events" / "health_check_scheduled.json").read_text())
    invoke(cloud, "HealthCheckScheduled", sample)
    go(page, "health")
    evolution = page.locator("[data-testid=health-row][data-org=demo][data-provider=evolution]")
    expect(evolution).to_have_attribute("data-status", "healthy")

    httpx.put(f"{cloud.sandbox_url}/__sandbox/faults/evolution", json={"mode": "error", "status": 503}, timeout=5)
    try:
        invoke(cloud, "HealthCheckScheduled", sample)
    finally:
        httpx.delete(f"{cloud.sandbox_url}/__sandbox/faults/evolution", timeout=5)
    page.get_by_test_id("health-refresh").click()

    expect(evolution).to_have_attribute("data-status", "unhealthy")
    expect(page.get_by_test_id("health-row").first).to_have_attribute("data-status", "unhealthy")
    expect(evolution).to_contain_text("ProviderUnavailableError")
    evolution.get_by_role("button", name="Latency history of evolution for demo").click()
    expect(page.get_by_test_id("latency-chart").locator("circle")).to_have_count(2)
    shot(page, "localcloud-health")


def test_a_dead_lettered_message_is_redriven_to_its_queue(cloud: LocalCloud, page: Page) -> None:
    sqs = client(cloud, "sqs")
    assert cloud.template is not None
    dlq = str(cloud.template.resolve({"Ref": "InboundEventsDLQ"}))
    marker = f"console-{uuid.uuid4().hex[:8]}"
    sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps({"provider": "asaas", "org_id": "demo", "marker": marker}))
    go(page, "dlq")
    queue = page.locator("[data-testid=dlq-row][data-name=InboundEventsDLQ]")
    expect(queue).to_have_attribute("data-depth", "1")
    queue.get_by_test_id("dlq-browse").click()
    expect(page.get_by_test_id("dlq-message").filter(has_text=marker)).to_be_visible()
    shot(page, "localcloud-dlq")
    page.get_by_test_id("dlq-message").filter(has_text=marker).get_by_test_id("dlq-redrive-one").click()
    expect(page.locator("#status")).to_have_text("Redrove 1 message(s) from InboundEventsDLQ")
    expect(queue).to_have_attribute("data-depth", "0")


def test_disable_and_enable_from_the_page_are_on_the_audit_trail(page: Page) -> None:
    go(page, "integrations")
    page.get_by_test_id("filter-org_id").select_option("demo")
    row = page.locator("[data-testid=integration-row][data-provider=evolution]")
    expect(row).to_have_attribute("data-status", "connected")
    row.get_by_test_id("integration-reason").fill("console browser test")
    row.get_by_test_id("integration-disable").click()
    expect(row).to_have_attribute("data-status", "disabled")
    row.get_by_test_id("integration-enable").click()
    expect(row).to_have_attribute("data-status", "connected")

    go(page, "audit")
    disabled = page.locator("[data-testid=audit-row][data-action=integration_disabled]").filter(has_text=OPERATOR)
    enabled = page.locator("[data-testid=audit-row][data-action=integration_enabled]").filter(has_text=OPERATOR)
    expect(disabled).to_have_count(1)
    expect(enabled).to_have_count(1)
    expect(disabled).to_have_class("sensitive")
    shot(page, "localcloud-audit")
