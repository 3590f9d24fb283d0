"""The console page against the real ConsoleApi in the local cloud (make dev's stack), every
check of issue 19's "Tests in a real browser": log in with the banner's one-time token (refused a
second time); the sandbox providers on the health screen, one turning red after a sandbox fault
and a health run; a signed webhook posted to the real receiver in the events list, its detail
showing the archived raw body with the provider's credential redacted; a filtered replay job's
counts and an archive replay that re-enqueues a request whose event never reached the bus; a
dead-lettered message redriven; an integration disabled and enabled with both on the audit trail
under the operator's name. A screenshot of every screen goes to $BROWSER_ARTIFACTS (default
.artifacts/console/); with CONSOLE_DOCS_SCREENSHOTS=1 the docs' screenshots (docs/console/*.png)
are refreshed from here, with the demo org's data."""

from __future__ import annotations

import io
import json
import os
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright

from localcloud import LocalCloud
from localcloud.sandboxes.evolution import DEMO_API_KEY as EVOLUTION_API_KEY
from localcloud.sandboxes.evolution import DEMO_WEBHOOK_TOKEN as EVOLUTION_WEBHOOK_TOKEN
from tests.browser.test_console import CHROMIUM, LAUNCH_ARGS, console_error, shot
from tests.conftest import register_test_orgs
from tests.e2e.conftest import booted, invoke
from tests.helpers import ROOT, sample_event, wait_until
from tests.helpers import aws_client as client
from tests.signing import signed_headers

if not (ROOT / "functions" / "console_api" / "app.py").exists():
    pytest.skip("the console API (lane consoleapi) is not in this tree yet", allow_module_level=True)

pytestmark = pytest.mark.e2e
OPERATOR = "ana@agency.test"
# The screens docs/console/README.md shows, taken here (the real hub, the demo org's data).
DOCS_SHOTS = {
    "login", "health", "health-latency", "events", "event-detail", "outbound-detail", "replays", "dlq",
    "integrations", "spend", "audit", "issues",
}  # fmt: skip


def screen(page: Page, name: str) -> None:
    """A screenshot of the screen (1280x800) to the test artifacts, and to docs/console/ when
    CONSOLE_DOCS_SCREENSHOTS is set: there reduced to a 256-colour palette to keep the repo small."""
    shot(page, f"localcloud-{name}")
    if os.environ.get("CONSOLE_DOCS_SCREENSHOTS") and name in DOCS_SHOTS:
        from PIL import Image  # the renderer's dependency (requirements-dev.txt); docs refreshes only

        docs = ROOT / "docs" / "console"
        docs.mkdir(exist_ok=True)
        with Image.open(io.BytesIO(page.screenshot())) as image:
            image.convert("RGB").quantize(colors=256).save(docs / f"{name}.png", optimize=True)


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    # make dev's demo activity on (signed webhooks, one refused, a health check, a WhatsApp send):
    # the screens show the demo org as an operator first sees it, and the tests hold beside it
    with booted(demo_data=True) as running:
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
        # UTC: the page's date inputs are local time, and the tests type UTC instants into them
        context = browser.new_context(
            viewport={"width": 1280, "height": 800}, service_workers="block", timezone_id="UTC"
        )
        opened = context.new_page()
        opened.set_default_timeout(30_000)
        opened.on("console", lambda msg: console_error(msg, errors))
        opened.on("pageerror", lambda exc: errors.append(str(exc)))
        opened.goto(f"{cloud.api_url}/console")
        expect(opened.get_by_test_id("login-token")).to_be_visible()
        screen(opened, "login")
        opened.get_by_test_id("login-token").fill(cloud.console_token)
        opened.get_by_test_id("login-operator").fill(OPERATOR)
        opened.get_by_test_id("login-submit").click()
        expect(opened.locator("#operator")).to_have_text(f"Signed in as {OPERATOR}")
        yield opened
        browser.close()
    assert errors == []


@pytest.fixture(scope="module")
def api(cloud: LocalCloud, page: Page) -> Iterator[httpx.Client]:
    """The console API with the page's own session (to wait on the hub, never to act for the page)."""
    bearer = page.evaluate("sessionStorage.getItem('console.bearer')")
    assert bearer
    with httpx.Client(
        base_url=f"{cloud.api_url}/console/api", headers={"Authorization": f"Bearer {bearer}"}, timeout=30
    ) as session:
        yield session


def go(page: Page, screen_name: str) -> None:
    page.get_by_test_id(f"nav-{screen_name}").click()
    expect(page.locator("#view-title")).to_be_visible()


def choose_org(page: Page, org_id: str) -> None:
    """Pick the screen's org, unless it already shows that one: choosing it again reloads the
    screen, which would wipe what the test types next (a reason) when its answer comes late."""
    picker = page.get_by_test_id("filter-org_id")
    expect(picker.locator(f'option[value="{org_id}"]')).to_be_attached()
    if picker.input_value() != org_id:
        picker.select_option(org_id)


def evolution_delivery(message_id: str) -> str:
    """A WhatsApp message delivery as Evolution posts it, with the instance's API key in the body."""
    body = json.loads(sample_event("webhook_evolution")["body"])
    body["data"]["key"]["id"] = message_id
    body["apikey"] = EVOLUTION_API_KEY
    return json.dumps(body)


def post_webhook(cloud: LocalCloud, provider: str, body: str) -> httpx.Response:
    return httpx.post(
        f"{cloud.api_url}/webhooks/{provider}/demo",
        content=body.encode(),
        headers=signed_headers(provider, body),
        timeout=30,
    )


def event_status(api: httpx.Client, record_id: str) -> str | None:
    items = api.get("/events", params={"org_id": "demo", "q": record_id}).json()["items"]
    return str(items[0]["status"]) if items else None


def test_the_one_time_token_logs_in_once(cloud: LocalCloud, page: Page) -> None:
    expect(page.get_by_test_id("login-submit")).to_be_hidden()
    again = httpx.post(f"{cloud.api_url}/console/api/session", json={"token": cloud.console_token}, timeout=30)
    assert again.status_code == 401 and again.json()["error"] == "invalid_token"
    # Nor does the login screen take it again, even submitted before the page knows how to sign in
    # (/config held back): never a native form GET that would put the token in the URL
    context = page.context.browser.new_context(service_workers="block") if page.context.browser else None
    assert context is not None
    other = context.new_page()
    held: list[Route] = []
    other.route("**/console/api/config", lambda route: held.append(route))
    other.goto(f"{cloud.api_url}/console")
    other.get_by_test_id("login-token").fill(cloud.console_token)
    other.get_by_test_id("login-submit").click()
    assert len(held) == 1
    held[0].continue_()
    expect(other.locator("#alert")).to_have_text("That token is wrong or was already used.")
    expect(other.get_by_test_id("login-submit")).to_be_visible()
    assert cloud.console_token not in other.url and "token=" not in other.url
    context.close()


def test_health_shows_the_sandbox_providers_and_turns_one_red_after_a_fault(cloud: LocalCloud, page: Page) -> None:
    sample = json.loads((ROOT / "events" / "health_check_scheduled.json").read_text())
    invoke(cloud, "HealthCheckScheduled", sample)
    go(page, "health")
    # Every provider of the demo org answers from its sandbox
    for provider in ("evolution", "asaas", "youtube"):
        row = page.locator(f"[data-testid=health-row][data-org=demo][data-provider={provider}]")
        expect(row).to_have_attribute("data-status", "healthy")
    expect(page.locator("[data-testid=health-row][data-status=unhealthy]")).to_have_count(0)
    evolution = page.locator("[data-testid=health-row][data-org=demo][data-provider=evolution]")

    httpx.put(f"{cloud.sandbox_url}/__sandbox/faults/evolution", json={"mode": "error", "status": 503}, timeout=5)
    try:
        invoke(cloud, "HealthCheckScheduled", sample)
    finally:
        httpx.delete(f"{cloud.sandbox_url}/__sandbox/faults/evolution", timeout=5)
    page.get_by_test_id("health-refresh").click()

    expect(evolution).to_have_attribute("data-status", "unhealthy")
    expect(page.get_by_test_id("health-row").first).to_have_attribute("data-status", "unhealthy")
    expect(evolution).to_contain_text("ProviderUnavailableError")
    assert "rgb(179, 20, 27)" == evolution.locator(".badge").first.evaluate("el => getComputedStyle(el).color")
    screen(page, "health")
    # Its latency history: every check (the demo activity's and this test's), the failed one as a red point
    evolution.get_by_role("button", name="Latency history of evolution for demo").click()
    chart = page.get_by_test_id("latency-chart")
    expect(chart.locator('circle[fill="#b3141b"]')).to_have_count(1)
    assert chart.locator("circle").count() >= 2
    chart.scroll_into_view_if_needed()
    screen(page, "health-latency")


def test_a_signed_webhook_appears_with_its_raw_body_redacted(cloud: LocalCloud, page: Page, api: httpx.Client) -> None:
    # Given Evolution delivers a message to the real receiver, its instance API key in the body
    message_id = "CONSOLE" + uuid.uuid4().hex[:12].upper()
    posted = post_webhook(cloud, "evolution", evolution_delivery(message_id))
    assert posted.status_code == 200, posted.text
    (record_id,) = posted.json()["event_ids"]
    wait_until(lambda: event_status(api, record_id) == "delivered", timeout=30, interval=0.2)

    # When the operator lists the demo org's evolution events
    go(page, "events")
    page.get_by_test_id("filter-org_id").select_option("demo")
    page.get_by_test_id("filter-provider").fill("evolution")
    page.get_by_test_id("apply-filters").click()
    row = page.locator(f'[data-testid=events-row][data-record-id="{record_id}"]')
    expect(row).to_contain_text("message.received")
    expect(row).to_contain_text("delivered")
    screen(page, "events-evolution")

    # Then its detail shows the archived request with the API key redacted, and the normalised event
    row.get_by_role("link").click()
    raw = page.get_by_test_id("event-raw")
    expect(raw).to_contain_text('"apikey": "[redacted]"')
    expect(raw).to_contain_text(message_id)
    expect(page.get_by_test_id("event-normalised")).to_contain_text(record_id)
    content = page.content()
    assert EVOLUTION_API_KEY not in content and EVOLUTION_WEBHOOK_TOKEN not in content
    raw.evaluate("el => { el.scrollIntoView({block: 'center'}); el.scrollTop = el.scrollHeight; }")  # the body's end
    screen(page, "event-detail")

    # Retrying a delivered event is skipped (it is on the bus), and the page says so
    page.get_by_test_id("event-retry").click()
    expect(page.get_by_test_id("retry-result")).to_contain_text("skipped")


def test_a_filtered_replay_job_reports_its_counts_and_an_archive_replay_enqueues_a_lost_event(
    cloud: LocalCloud, page: Page, api: httpx.Client
) -> None:
    # Given a delivered evolution event, and a request the receiver archived but refused (cut short)
    started = datetime.now(UTC).replace(second=0, microsecond=0)
    delivered = post_webhook(cloud, "evolution", evolution_delivery("CONSOLE" + uuid.uuid4().hex[:12].upper()))
    (delivered_id,) = delivered.json()["event_ids"]
    cut = evolution_delivery("CONSOLE" + uuid.uuid4().hex[:12].upper())[:-40]
    refused = post_webhook(cloud, "evolution", cut)
    assert refused.status_code == 400, refused.text
    wait_until(lambda: event_status(api, delivered_id) == "delivered", timeout=30, interval=0.2)
    events: list[dict[str, Any]] = api.get(
        "/events", params={"org_id": "demo", "provider": "evolution", "direction": "inbound", "limit": "200"}
    ).json()["items"]
    assert any(e["status"] == "rejected" for e in events)

    # When the operator replays everything matching org demo and provider evolution
    go(page, "events")
    page.get_by_test_id("filter-org_id").select_option("demo")
    page.get_by_test_id("filter-provider").fill("evolution")
    # (an outbound filter starts no job: operations are never replayed, and the job takes inbound only)
    jobs_before = len(api.get("/replays").json()["jobs"])
    page.get_by_test_id("filter-direction").select_option("outbound")
    page.get_by_test_id("replay-filter").click()
    expect(page.locator("#alert")).to_contain_text("Outbound operations are not replayed")
    assert len(api.get("/replays").json()["jobs"]) == jobs_before
    page.get_by_test_id("filter-direction").select_option("inbound")
    page.get_by_test_id("apply-filters").click()
    expect(page.get_by_test_id("events-row")).to_have_count(min(len(events), 50))  # a page; the job takes all
    page.get_by_test_id("replay-filter").click()

    # Then the background job counts every match: the delivered ones skipped, the refused one failed
    job = page.get_by_test_id("replay-job").first
    expect(job).to_contain_text('"provider":"evolution"')
    expect(job).to_have_attribute("data-state", "done")
    # (skipped: already on the bus; replayed: a failed one enqueued again; failed: refused again)
    on_bus = sum(e["status"] in ("delivered", "duplicate") for e in events)
    not_on_bus = sum(e["status"] == "failed" for e in events)
    rejected = sum(e["status"] == "rejected" for e in events)
    assert on_bus + not_on_bus + rejected == len(events) and on_bus >= 1 and rejected >= 1
    expect(job.get_by_test_id("replay-counts")).to_have_text(
        f"matched {len(events)}, replayed {not_on_bus}, skipped {on_bus}, failed {rejected}"
    )
    expect(job).to_contain_text("rej_")  # the refused request's error, named by its record id

    # Given a request archived whose event never reached the bus (the receiver's enqueue failed
    # after its claim-check archive): the delivered request's document, for another message
    bucket = cloud.template.env_value("WEBHOOK_ARCHIVE_BUCKET") if cloud.template else None
    assert bucket
    s3 = client(cloud, "s3")
    detail = api.get(f"/events/{delivered_id}").json()
    document = json.loads(s3.get_object(Bucket=bucket, Key=detail["raw_ref"])["Body"].read())
    lost_message = "CONSOLE" + uuid.uuid4().hex[:12].upper()
    body = json.loads(document["body"])
    body["data"]["key"]["id"] = lost_message
    document["body"] = json.dumps(body)
    lost_key = re.sub(r"/[^/]+\.json$", f"/{datetime.now(UTC):%H%M%S%f}-{uuid.uuid4().hex}.json", detail["raw_ref"])
    s3.put_object(Bucket=bucket, Key=lost_key, Body=json.dumps(document).encode())

    # When the operator replays the window's archived evolution requests from the Replays screen
    go(page, "replays")
    page.get_by_test_id("filter-org_id").select_option("demo")
    page.get_by_test_id("archive-provider").fill("evolution")
    page.get_by_test_id("archive-from").fill(f"{started:%Y-%m-%dT%H:%M}")
    page.get_by_test_id("archive-to").fill(f"{started + timedelta(minutes=10):%Y-%m-%dT%H:%M}")
    page.get_by_role("button", name="Replay archived requests").click()

    # Then the lost request is enqueued again (replayed), the delivered one skipped, the refused one failed
    archive_job = page.get_by_test_id("replay-job").first
    expect(archive_job).to_contain_text('"provider":"evolution"')
    expect(archive_job).to_have_attribute("data-state", "done")
    counts = archive_job.get_by_test_id("replay-counts")
    expect(counts).to_have_text(re.compile(r"^matched \d+, replayed 1, skipped [1-9]\d*, failed [1-9]\d*$"))
    numbers = [int(n) for n in re.findall(r"\d+", counts.inner_text())]
    assert numbers[0] == sum(numbers[1:])
    screen(page, "replays")

    # and its event reaches the bus: it is listed as delivered
    def lost_event_delivered() -> bool:
        items = api.get("/events", params={"org_id": "demo", "provider": "evolution", "limit": "200"}).json()["items"]
        return any(
            e["status"] == "delivered" and lost_message in json.dumps(api.get(f"/events/{e['record_id']}").json())
            for e in items
            if e["record_id"] not in {x["record_id"] for x in events}
        )

    wait_until(lost_event_delivered, timeout=30, interval=0.3)


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
    screen(page, "dlq")
    page.get_by_test_id("dlq-message").filter(has_text=marker).get_by_test_id("dlq-redrive-one").click()
    expect(page.locator("#status")).to_have_text("Redrove 1 message(s) from InboundEventsDLQ")
    expect(queue).to_have_attribute("data-depth", "0")


def test_disable_and_enable_from_the_page_are_on_the_audit_trail(page: Page) -> None:
    go(page, "integrations")
    choose_org(page, "demo")
    # The picker names each org with its id, once: "Acme (acme)", and the demo org's name already ends with it
    picker = page.get_by_test_id("filter-org_id")
    expect(picker.locator('option[value="demo"]')).to_have_text("Somos Produtora (demo)")
    expect(picker.locator('option[value="acme"]')).to_have_text("Acme (acme)")
    row = page.locator("[data-testid=integration-row][data-provider=evolution]")
    expect(row).to_have_attribute("data-status", "connected")
    row.get_by_test_id("integration-reason").fill("console browser test")
    row.get_by_test_id("integration-disable").click()
    expect(row).to_have_attribute("data-status", "disabled")
    expect(row).to_contain_text("console browser test")
    screen(page, "integrations")
    row.get_by_test_id("integration-enable").click()
    expect(row).to_have_attribute("data-status", "connected")

    go(page, "audit")
    disabled = page.locator("[data-testid=audit-row][data-action=integration_disabled]").filter(has_text=OPERATOR)
    enabled = page.locator("[data-testid=audit-row][data-action=integration_enabled]").filter(has_text=OPERATOR)
    expect(disabled).to_have_count(1)
    expect(enabled).to_have_count(1)
    expect(disabled).to_have_class("sensitive")
    screen(page, "audit")


def test_the_refused_request_is_an_open_issue(page: Page) -> None:
    go(page, "issues")
    issue = page.get_by_test_id("issues-row").filter(has_text="WebhookRejected")
    expect(issue).to_have_attribute("data-provider", "evolution")
    expect(issue).to_have_attribute("data-status", "open")
    screen(page, "issues")


def test_spend_shows_a_generation_of_the_month_by_provider_and_model(
    cloud: LocalCloud, page: Page, api: httpx.Client
) -> None:
    # Given the demo org generated a text through its LLM sandbox this month (make dev's demo
    # activity generated one too)
    generated = invoke(cloud, "LlmGenerate", json.loads((ROOT / "events" / "llm_generate.json").read_text()))
    [reported] = [
        line
        for line in api.get("/spend", params={"org_id": "demo"}).json()["lines"]
        if (line["provider"], line["model"]) == (generated["provider"], generated["model"])
    ]

    # Then the spend screen charts it and lists it under its provider and model
    go(page, "spend")
    page.get_by_test_id("filter-org_id").select_option("demo")
    chart = page.get_by_test_id("spend-chart")
    expect(chart).to_contain_text(generated["provider"])
    line = page.get_by_role("row").filter(has_text=generated["model"])
    expect(line).to_contain_text(generated["provider"])
    expect(line.get_by_role("cell").nth(1)).to_have_text(str(reported["calls"]))
    assert reported["calls"] >= 2
    # Against make dev's demo budget (USD 25), in USD and in BRL at the stack's rate
    spend = api.get("/spend", params={"org_id": "demo"}).json()
    budget = page.get_by_test_id("spend-budget")
    expect(budget).to_contain_text("US$ 25.00")
    expect(budget).to_contain_text(f"R$ {Decimal(spend['budget_brl']):.2f}")
    # A sandbox generation costs a fraction of a cent: shown as such, never as 0.00
    if Decimal(reported["cost_usd"]) < Decimal("0.005"):
        expect(line.get_by_role("cell").nth(2)).to_have_text("< 0.01")
    screen(page, "spend")


def test_an_outbound_operation_is_listed_with_its_provider_calls(page: Page) -> None:
    # The generation above (LlmGenerate) among the demo org's inbound and outbound events
    go(page, "events")
    page.get_by_test_id("filter-org_id").select_option("demo")
    page.get_by_test_id("filter-provider").fill("")
    page.get_by_test_id("filter-direction").select_option("")
    page.get_by_test_id("apply-filters").click()
    outbound = page.get_by_test_id("events-row").filter(has_text="llm.generate").filter(has_text="anthropic").first
    expect(outbound).to_contain_text("outbound")
    expect(outbound).to_contain_text("succeeded")
    expect(page.get_by_test_id("events-row").filter(has_text="inbound").first).to_be_visible()
    screen(page, "events")

    outbound.get_by_role("link").click()
    calls = page.get_by_role("row").filter(has_text="POST /v1/messages")
    expect(calls).to_contain_text("anthropic")
    expect(calls).to_contain_text("200")
    expect(page.get_by_test_id("event-request")).to_contain_text("sdr_whatsapp")
    # An operation's effects happen once: the page offers no retry (the API would refuse it)
    expect(page.get_by_test_id("event-retry")).to_have_count(0)
    screen(page, "outbound-detail")


def late_answer_for_demo(page: Page, path: str, shown: str) -> None:
    """On the screen showing org "other", pick demo (whose ``path`` answer is held back), then
    "other" again, wait until ``shown`` is on the page, and let demo's answer arrive after it."""
    picker = page.get_by_test_id("filter-org_id")
    held: list[Route] = []
    pattern = f"**/console/api/{path}?org_id=demo*"
    page.route(pattern, lambda route: held.append(route))
    with page.expect_request(pattern):
        picker.select_option("demo")
    with page.expect_request(f"**/console/api/{path}?org_id=other*"):
        picker.select_option("other")
    expect(page.locator("main")).to_contain_text(shown)
    assert len(held) == 1
    with page.expect_event("requestfinished", lambda request: "org_id=demo" in request.url):
        held[0].continue_()
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => done()))")  # the page handled it
    page.unroute(pattern)
    expect(picker).to_have_value("other")


def test_a_late_answer_for_an_org_left_behind_never_replaces_the_chosen_one(page: Page) -> None:
    # Integrations: demo's (28 rows) answering late never lands under the org without credentials
    go(page, "integrations")
    choose_org(page, "other")
    expect(page.locator("main")).to_contain_text("This org has no integrations.")
    late_answer_for_demo(page, "integrations", "This org has no integrations.")
    expect(page.get_by_test_id("integration-row")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("This org has no integrations.")

    # Spend: demo's month (an anthropic generation) answering late never shows as the other org's
    go(page, "spend")
    choose_org(page, "other")
    expect(page.locator("#status")).to_have_text(re.compile(r"^Spend of other for \d{4}-\d{2} loaded$"))
    late_answer_for_demo(page, "spend", "Total USD")
    expect(page.get_by_test_id("spend-chart")).not_to_contain_text("anthropic")
    expect(page.locator("#status")).to_have_text(re.compile(r"^Spend of other for "))
