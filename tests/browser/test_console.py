"""The operator console in a real browser: Debian's Chromium driven by Playwright (never a
downloaded browser), against the console API's contract (tests/browser/fake_console.py until
ConsoleApi serves it from the local cloud). One page, logged in once, walks every screen like an
operator would; a screenshot of each screen goes to $BROWSER_ARTIFACTS (default
.artifacts/console/, ignored by git). The docs' screenshots come from the real local cloud
(tests/browser/test_console_localcloud.py), never from this fake.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Route, expect, sync_playwright

from tests.browser.fake_console import PROVIDERS, FakeHub, serving
from tests.helpers import ROOT

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
if CHROMIUM is None and not os.environ.get("CI"):
    pytest.skip("Debian's chromium is not installed (make test installs it; CI must have it)", allow_module_level=True)

LAUNCH_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
NOW = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
SECRET = "evo-secret-apikey-4242"


@pytest.fixture(scope="module")
def hub() -> FakeHub:
    return FakeHub(NOW)


@pytest.fixture(scope="module")
def base_url(hub: FakeHub) -> Iterator[str]:
    with serving(hub) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM, "CI must have Debian's chromium (make browser installs it)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def page_errors() -> list[str]:
    return []


@pytest.fixture(scope="module")
def page(browser: Browser, base_url: str, hub: FakeHub, page_errors: list[str]) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, service_workers="block", timezone_id="UTC")
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    opened.on("pageerror", lambda exc: page_errors.append(str(exc)))
    opened.on("console", lambda msg: console_error(msg, page_errors))
    opened.goto(f"{base_url}/console")
    opened.get_by_test_id("login-token").fill(hub.login_token)
    opened.get_by_test_id("login-operator").fill("ana.operator")
    opened.get_by_test_id("login-submit").click()
    yield opened
    context.close()


def console_error(message: ConsoleMessage, errors: list[str]) -> None:
    """Every error the page logs (a CSP violation, a failed API call), except the browser's own
    look for /favicon.ico (the console has none)."""
    if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
        errors.append(f"{message.text} ({message.location.get('url')})")


def shot(page: Page, name: str) -> None:
    folder = Path(os.environ.get("BROWSER_ARTIFACTS") or ROOT / ".artifacts" / "console")
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"))


def go(page: Page, screen: str) -> None:
    page.get_by_test_id(f"nav-{screen}").click()
    expect(page.locator("#view-title")).to_be_visible()


def test_login_with_the_one_time_token_shows_the_operator(page: Page, base_url: str, hub: FakeHub) -> None:
    expect(page.locator("#operator")).to_have_text("Signed in as ana.operator")
    expect(page.get_by_test_id("login-submit")).to_be_hidden()
    # The token was consumed: a second login with it is refused.
    again = httpx.post(f"{base_url}/console/api/session", json={"token": hub.login_token}, timeout=5)
    assert again.status_code == 401 and again.json()["error"] == "invalid_token"


def test_health_lists_the_sandbox_providers_and_turns_one_red_after_a_fault(page: Page, hub: FakeHub) -> None:
    go(page, "health")
    rows = page.get_by_test_id("health-row")
    expect(rows).to_have_count(4)
    expect(page.locator("[data-testid=health-row][data-provider=evolution]")).to_have_attribute(
        "data-status", "healthy"
    )
    shot(page, "health")

    # Given a sandbox fault on evolution, when the health schedule runs and the operator refreshes
    hub.faults.add("evolution")
    hub.run_health_check()
    page.get_by_test_id("health-refresh").click()

    # Then evolution is red, first, with the provider's error
    evolution = page.locator("[data-testid=health-row][data-provider=evolution]")
    expect(evolution).to_have_attribute("data-status", "unhealthy")
    expect(rows.first).to_have_attribute("data-provider", "evolution")
    expect(evolution).to_contain_text("ProviderUnavailableError")
    assert "rgb(179, 20, 27)" == evolution.locator(".badge").first.evaluate("el => getComputedStyle(el).color")

    # Its latency chart plots the 30-day history, the failed check in red
    evolution.get_by_role("button", name=re.compile("Latency history")).click()
    chart = page.get_by_test_id("latency-chart")
    expect(chart.locator("circle")).to_have_count(32)  # 30 daily checks, one 5 min ago, the one just run
    expect(chart.locator('circle[fill="#b3141b"]')).to_have_count(1)
    shot(page, "health-latency")
    hub.faults.discard("evolution")


def test_a_provider_that_passes_with_its_quota_spent_is_degraded_and_listed_first(page: Page, hub: FakeHub) -> None:
    # Given the last provider's quota is used up: its check passes, but it cannot take calls
    provider = PROVIDERS[-1]
    hub.spent_quotas.add(provider)
    hub.run_health_check()
    try:
        go(page, "health")
        page.get_by_test_id("health-refresh").click()
        # Then it is first (nothing is unhealthy), amber, marked degraded
        row = page.locator(f"[data-testid=health-row][data-provider={provider}]")
        expect(row).to_have_attribute("data-degraded", "true")
        expect(page.get_by_test_id("health-row").first).to_have_attribute("data-provider", provider)
        expect(row.locator(".badge").first).to_have_text("degraded")
        expect(row).to_contain_text(": 0/600")
        assert "rgb(122, 77, 0)" == row.locator(".badge").first.evaluate("el => getComputedStyle(el).color")
    finally:
        hub.spent_quotas.discard(provider)
        hub.run_health_check()


def test_a_posted_webhook_appears_with_its_raw_body_redacted(page: Page, base_url: str, hub: FakeHub) -> None:
    # Given a provider delivers a webhook whose body carries its API key
    body = {"event": "messages.upsert", "instance": "demo", "apikey": SECRET, "data": {"from": "5511999990000"}}
    headers = {"apikey": SECRET, "content-type": "application/json"}
    sent = httpx.post(f"{base_url}/webhooks/evolution/demo", content=json.dumps(body), headers=headers, timeout=5)
    record_id = sent.json()["record_id"]

    # When the operator lists the org's evolution events
    go(page, "events")
    page.get_by_test_id("filter-provider").fill("evolution")
    page.get_by_test_id("apply-filters").click()
    row = page.locator(f'[data-testid=events-row][data-record-id="{record_id}"]')
    expect(row).to_be_visible()
    expect(row).to_contain_text("message.received")
    shot(page, "events")

    # Then its detail shows the raw request, pretty-printed, with the secret redacted
    row.get_by_role("link").click()
    raw = page.get_by_test_id("event-raw")
    expect(raw).to_contain_text('"apikey": "[redacted]"')
    expect(raw).to_contain_text("5511999990000")
    expect(page.get_by_test_id("event-normalised")).to_contain_text(record_id)
    assert SECRET not in page.content()
    shot(page, "event-detail")

    # Retrying a delivered event is skipped, and the page says so
    page.get_by_test_id("event-retry").click()
    expect(page.get_by_test_id("retry-result")).to_have_text("Retry: skipped — already delivered")


def test_a_filtered_replay_job_reports_its_counts(page: Page, hub: FakeHub) -> None:
    # Given 60 failed stripe events (more than one page) and one delivered
    hub.seed_failed("stripe", 60)
    hub.receive_webhook("stripe", "demo", {}, b'{"event": "payment.updated", "data": {}}')

    # When the operator replays everything matching provider=stripe
    go(page, "events")
    page.get_by_test_id("filter-provider").fill("stripe")
    page.get_by_test_id("apply-filters").click()
    expect(page.get_by_test_id("events-row")).to_have_count(50)
    page.get_by_test_id("replay-filter").click()

    # Then the job runs in the background and reports every match, not only the rows on screen
    job = page.get_by_test_id("replay-job").first
    expect(job).to_have_attribute("data-state", "done")
    expect(job.get_by_test_id("replay-counts")).to_have_text("matched 61, replayed 60, skipped 1, failed 0")
    assert all(e["status"] == "delivered" for e in hub.events if e["provider"] == "stripe")
    shot(page, "replays")

    # An archive window replays too (requests whose events never reached the bus); the page
    # sends the window as UTC instants
    page.get_by_test_id("archive-provider").fill("evolution")
    page.get_by_test_id("archive-from").fill("2026-11-20T15:00")
    page.get_by_test_id("archive-to").fill("2026-11-20T16:00")
    page.get_by_role("button", name="Replay archived requests").click()
    archive_job = page.get_by_test_id("replay-job").first
    expect(archive_job).to_contain_text('"from":"2026-11-20T15:00:00.000Z"')
    expect(archive_job).to_have_attribute("data-state", "done")
    expect(archive_job.get_by_test_id("replay-counts")).to_have_text("matched 1, replayed 0, skipped 1, failed 0")


def test_a_dead_lettered_message_is_redriven(page: Page, hub: FakeHub) -> None:
    message_id = hub.dead_letter(
        "InboundEventsDLQ", {"provider": "asaas", "org_id": "demo", "type": "payment.received"}
    )
    go(page, "dlq")
    queue = page.locator("[data-testid=dlq-row][data-name=InboundEventsDLQ]")
    expect(queue).to_have_attribute("data-depth", "1")
    queue.get_by_test_id("dlq-browse").click()
    message = page.locator(f'[data-testid=dlq-message][data-message-id="{message_id}"]')
    expect(message).to_contain_text("payment.received")
    shot(page, "dlq")

    message.get_by_test_id("dlq-redrive-one").click()
    expect(queue).to_have_attribute("data-depth", "0")
    expect(page.locator("#status")).to_have_text("Redrove 1 message(s) from InboundEventsDLQ")
    assert [m["message_id"] for m in hub.redriven] == [message_id]

    # Redrive all: every message of the queue, not only those browsed
    for n in range(3):
        hub.dead_letter("OutboundOperationsDLQ", {"operation": "EmailSend", "n": n})
    page.get_by_test_id("nav-health").click()
    go(page, "dlq")
    outbound = page.locator("[data-testid=dlq-row][data-name=OutboundOperationsDLQ]")
    expect(outbound).to_have_attribute("data-depth", "3")
    outbound.get_by_test_id("dlq-redrive-all").click()
    expect(outbound).to_have_attribute("data-depth", "0")
    expect(page.locator("#status")).to_have_text("Redrove 3 message(s) from OutboundOperationsDLQ")
    assert len(hub.redriven) == 4


def test_an_integration_disabled_and_enabled_shows_both_in_the_audit_view(page: Page, hub: FakeHub) -> None:
    go(page, "integrations")
    resend = page.locator("[data-testid=integration-row][data-provider=resend]")
    expect(resend).to_have_attribute("data-status", "connected")

    # A reason is required before anything is sent
    resend.get_by_test_id("integration-disable").click()
    expect(page.locator("#alert")).to_have_text("Give a reason to disable resend")
    assert hub.integrations["resend"]["status"] == "connected"

    resend.get_by_test_id("integration-reason").fill("bounce storm under investigation")
    resend.get_by_test_id("integration-disable").click()
    expect(resend).to_have_attribute("data-status", "disabled")
    expect(resend).to_contain_text("bounce storm under investigation")
    shot(page, "integrations")
    resend.get_by_test_id("integration-enable").click()
    expect(resend).to_have_attribute("data-status", "connected")

    # Test now, reconnect (the OAuth consent link) and rotate, each answered on the page
    stripe = page.locator("[data-testid=integration-row][data-provider=stripe]")
    stripe.get_by_role("button", name="Test stripe now").click()
    expect(page.locator("#status")).to_have_text("stripe test: ok")
    expect(stripe).to_contain_text("ok (120 ms)")
    stripe.get_by_role("button", name="Reconnect stripe").click()
    consent = stripe.get_by_role("link", name="open the provider's consent page")
    expect(consent).to_have_attribute("href", re.compile(r"^https://auth\.stripe\.example/authorize\?state="))
    stripe.get_by_role("button", name="Rotate credentials of stripe").click()
    expect(page.locator("#status")).to_have_text("stripe rotated (provider_api, webhook secret too)")

    go(page, "audit")
    disabled = page.locator("[data-testid=audit-row][data-action=integration_disabled]")
    enabled = page.locator("[data-testid=audit-row][data-action=integration_enabled]")
    expect(disabled).to_contain_text("ana.operator")
    expect(enabled).to_contain_text("ana.operator")
    expect(disabled).to_have_attribute("data-sensitive", "true")
    expect(disabled).to_have_class("sensitive")
    expect(enabled).to_have_attribute("data-sensitive", "false")
    # Newest first: the enable came after the disable
    actions = page.get_by_test_id("audit-row").evaluate_all("rows => rows.map(r => r.dataset.action)")
    assert actions.index("integration_enabled") < actions.index("integration_disabled")
    assert {"integration_tested", "credentials_rotated"} <= set(actions)
    shot(page, "audit")

    # Filtered by action
    page.get_by_test_id("filter-action").fill("credentials_rotated")
    page.get_by_test_id("apply-filters").click()
    expect(page.get_by_test_id("audit-row")).to_have_count(1)
    expect(page.get_by_test_id("audit-row")).to_have_attribute("data-action", "credentials_rotated")


def test_spend_charts_the_month_against_the_budget_in_brl_and_usd(page: Page) -> None:
    go(page, "spend")
    chart = page.get_by_test_id("spend-chart")
    expect(chart.locator("line[data-budget='40.000000000']")).to_have_count(1)
    expect(chart.locator("rect")).to_have_count(4)  # total + anthropic, openai, gemini
    expect(chart).to_contain_text("US$ 7.27")  # openai's two models, added as decimals
    expect(page.locator("main")).to_contain_text("US$ 26.77")
    expect(page.locator("main")).to_contain_text("R$ 145.42")  # 145.417317 rounded for display
    zero = page.get_by_role("row").filter(has_text="gemini-embedding")
    expect(zero).to_contain_text("0.00")  # the API's "0E-9"
    shot(page, "spend")


def test_issues_group_failures_and_can_be_acknowledged(page: Page, hub: FakeHub) -> None:
    go(page, "issues")
    issue = page.get_by_test_id("issues-row").filter(has_text="ProviderTimeoutError")
    expect(issue).to_contain_text("60")
    shot(page, "issues")
    issue.get_by_test_id("issue-acknowledged").click()
    expect(page.get_by_test_id("issues-row")).to_have_count(0)  # the filter shows open ones
    assert hub.issues[("demo", "stripe", "ProviderTimeoutError")]["status"] == "acknowledged"


def test_the_keyboard_skips_to_the_content_and_opens_a_screen(page: Page) -> None:
    go(page, "issues")
    page.locator(".skip").focus()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    assert page.url.endswith("#/issues")
    page.get_by_test_id("nav-audit").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#view-title")).to_be_focused()
    expect(page.locator("#view-title")).to_have_text("Audit trail")


def test_the_console_fits_a_phone_and_ran_without_errors(page: Page, page_errors: list[str]) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    go(page, "health")
    expect(page.get_by_test_id("health-row")).to_have_count(4)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # Rows become cards that name each value's column
    first = page.get_by_test_id("health-row").first
    assert first.evaluate("el => getComputedStyle(el).display") == "block"
    expect(first.locator("td[data-label=Latency]")).to_be_visible()
    shot(page, "health-phone")
    # No CSP violation (inline script/style) nor script error anywhere in the session
    assert page_errors == []


def test_cognito_sign_in_goes_through_the_hosted_ui_with_pkce(browser: Browser) -> None:
    # Given the console API says operators sign in with Cognito
    hub = FakeHub(NOW, auth="cognito")
    hub.id_tokens["id-token-of-ops"] = "ops@agency.example"
    seen: dict[str, dict[str, str]] = {}
    with serving(hub) as base:
        hub.cognito["redirect_uri"] = f"{base}/console"
        context = browser.new_context(service_workers="block")
        page = context.new_page()
        page.set_default_timeout(10_000)

        def authorize(route: Route) -> None:  # the hosted UI: the operator signs in, it redirects back
            seen["authorize"] = {k: v[0] for k, v in parse_qs(urlsplit(route.request.url).query).items()}
            back = f"{base}/console?code=the-code&state={seen['authorize']['state']}"
            route.fulfill(status=302, headers={"Location": back})

        def token(route: Route) -> None:
            seen["token"] = {k: v[0] for k, v in parse_qs(route.request.post_data or "").items()}
            body = json.dumps({"id_token": "id-token-of-ops", "token_type": "Bearer", "expires_in": 3600})
            cors = {"Access-Control-Allow-Origin": base}
            route.fulfill(status=200, content_type="application/json", body=body, headers=cors)

        page.route("https://console-auth.example.com/oauth2/authorize?*", authorize)
        page.route("https://console-auth.example.com/oauth2/token", token)
        page.goto(f"{base}/console")

        # When the operator signs in (no token field: the hosted UI asks for the password)
        expect(page.get_by_test_id("login-token")).to_be_hidden()
        page.get_by_test_id("login-submit").click()

        # Then the console shows them signed in with the ID token's email, after a code flow with PKCE
        expect(page.locator("#operator")).to_have_text("Signed in as ops@agency.example")
        expect(page.get_by_test_id("health-row")).to_have_count(4)
        authorize_query, form = seen["authorize"], seen["token"]
        assert authorize_query["response_type"] == "code" and authorize_query["client_id"] == "console-client"
        assert authorize_query["code_challenge_method"] == "S256"
        digest = hashlib.sha256(form["code_verifier"].encode()).digest()
        assert authorize_query["code_challenge"] == base64.urlsafe_b64encode(digest).decode().rstrip("=")
        assert form["grant_type"] == "authorization_code" and form["code"] == "the-code"
        assert form["redirect_uri"] == authorize_query["redirect_uri"] == f"{base}/console"
        assert "code=" not in page.url
        context.close()
