"""Demo activity for ``make dev`` (``LocalCloud(demo_data=True)``): once the demo org and its
secrets are seeded and the API and queue pollers run, the console gets something to show.

- Signed webhook requests for the demo org, through the local API like the providers send them:
  the receivers' samples in ``events/`` (Evolution, Resend, the custom CRM source, Stripe), each
  signed now with the sandbox's demo secret as the provider signs (Evolution's bearer token,
  Svix / Standard Webhooks, Stripe-Signature), and one authenticated Evolution request whose body
  is not JSON (archived, answered 400: a ``rejected`` event and an issue).
- One health check (``HealthCheckScheduled``), so the health page has rows.
- One outbound operation (``WhatsAppSendText`` to the Evolution sandbox), so an outbound record
  with its provider call exists, and one ``LlmGenerate`` (the AI sandboxes), so the spend screen has
  a provider and model line; and a monthly budget of USD 25 for the demo org (``python -m ops
  budget``, the operators' own command), so spend is drawn against it.

Tests leave it off (it costs a few seconds); a test that wants it passes ``demo_data=True``.
A step that fails is logged and reported, never fails the start.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from localcloud import demo
from localcloud.sandboxes import evolution as evolution_sandbox
from localcloud.sandboxes import resend as resend_sandbox
from localcloud.sandboxes import stripe as stripe_sandbox

if TYPE_CHECKING:
    from localcloud.cloud import LocalCloud

log = logging.getLogger("localcloud.demo")

# Receivers whose samples are delivered (events/<name>.json; their paths name the demo org).
WEBHOOK_SAMPLES = ("webhook_evolution", "webhook_resend", "webhook_custom", "webhook_stripe")
# The demo org's monthly budget (USD), so the spend screen draws spend against one.
DEMO_BUDGET_USD = "25"
# A second WhatsApp message (another Evolution message id), so the list has more than one.
SECOND_MESSAGE = ("3EB0C431C26A1916E2F1", "Vocês atendem aos sábados?")


@dataclass
class DemoActivity:
    """What the demo activity did: ``webhooks`` path -> HTTP status, and what failed."""

    webhooks: list[tuple[str, int]] = field(default_factory=list)
    health_checked: bool = False
    outbound: str | None = None  # the send's answer status ("sent", ...)
    generated: bool = False  # LlmGenerate answered
    budget_usd: str | None = None  # the demo org's monthly budget, once set
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0  # how long the activity took (the start waited that long)

    def summary(self) -> str:
        accepted = sum(1 for _, status in self.webhooks if status < 300)
        parts = [f"{accepted} webhooks accepted, {len(self.webhooks) - accepted} rejected"]
        parts.append("health checked" if self.health_checked else "no health check")
        parts.append(f"WhatsApp send {self.outbound}" if self.outbound else "no WhatsApp send")
        parts.append("LLM text generated" if self.generated else "no LLM text")
        parts.append(f"budget USD {self.budget_usd}" if self.budget_usd else "no budget")
        if self.errors:
            parts.append(f"{len(self.errors)} step(s) failed (see the log)")
        return ", ".join(parts) + f" ({self.seconds:.1f} s)"


# ----- signing, as each provider signs (the receivers verify exactly this) -------------------------


def standard_webhooks_headers(prefix: str, body: str, secret: str) -> dict[str, str]:
    """Standard Webhooks ("webhook-*") / Svix ("svix-*"): base64 HMAC-SHA256 of
    ``{id}.{timestamp}.{body}`` with the base64 key after ``whsec_``
    (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md)."""
    msg_id = f"msg_{uuid.uuid4().hex}"
    timestamp = str(int(time.time()))
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return {
        f"{prefix}-id": msg_id,
        f"{prefix}-timestamp": timestamp,
        f"{prefix}-signature": "v1," + base64.b64encode(digest).decode(),
    }


def stripe_headers(body: str, secret: str) -> dict[str, str]:
    """``Stripe-Signature: t=<ts>,v1=<hex HMAC-SHA256 of "{t}.{body}">``
    (https://docs.stripe.com/webhooks#verify-manually)."""
    timestamp = str(int(time.time()))
    v1 = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={timestamp},v1={v1}"}


def signed_headers(provider: str, body: str) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    if provider == "evolution":
        headers["Authorization"] = f"Bearer {evolution_sandbox.DEMO_WEBHOOK_TOKEN}"
    elif provider == "resend":
        headers.update(standard_webhooks_headers("svix", body, resend_sandbox.DEMO_WEBHOOK_SECRET))
    elif provider == "custom":
        headers.update(standard_webhooks_headers("webhook", body, demo.CUSTOM_WEBHOOK_SECRET))
    elif provider == "stripe":
        headers.update(stripe_headers(body, stripe_sandbox.DEMO_WEBHOOK_SECRET))
    else:
        raise ValueError(f"no demo signing for {provider!r}")
    return headers


# ----- the activity ----------------------------------------------------------------------------------


def _sample(events_dir: Path, name: str) -> dict[str, Any]:
    sample: dict[str, Any] = json.loads((events_dir / f"{name}.json").read_text(encoding="utf-8"))
    return sample


def _requests(events_dir: Path) -> list[tuple[str, str, str]]:
    """(provider, path, body) of every demo webhook request, in delivery order."""
    out: list[tuple[str, str, str]] = []
    for name in WEBHOOK_SAMPLES:
        sample = _sample(events_dir, name)
        provider = str(sample["resource"]).split("/")[2]
        path = str(sample["path"]).replace("/demo", f"/{demo.DEMO_ORG_ID}", 1)
        out.append((provider, path, str(sample["body"])))
        if name == "webhook_evolution":
            second = json.loads(sample["body"])
            second["data"]["key"]["id"], second["data"]["message"]["conversation"] = SECOND_MESSAGE
            out.append((provider, path, json.dumps(second, ensure_ascii=False)))
            out.append((provider, path, "{this is not JSON"))  # authenticated, unparseable: rejected
    return out


def deliver_webhooks(api_url: str, requests: list[tuple[str, str, str]], report: DemoActivity) -> None:
    """POST one receiver's requests in order (``report`` is shared: list appends only)."""
    with httpx.Client(base_url=api_url, timeout=60) as client:
        for provider, path, body in requests:
            try:
                answer = client.post(path, content=body.encode(), headers=signed_headers(provider, body))
            except httpx.HTTPError as exc:
                report.errors.append(f"POST {path}: {type(exc).__name__}")
                continue
            report.webhooks.append((path, answer.status_code))


def _invoke(cloud: LocalCloud, function: str, payload: dict[str, Any], report: DemoActivity) -> Any:
    """``function``'s answer, or None with the failure in ``report`` (demo data never fails the start)."""
    try:
        return cloud.invoke(function, payload)
    except Exception as exc:  # noqa: BLE001 - demo data never fails the start
        report.errors.append(f"{function}: {exc}")
        return None


def _health_check(cloud: LocalCloud, events_dir: Path, report: DemoActivity) -> None:
    if _invoke(cloud, "HealthCheckScheduled", _sample(events_dir, "health_check_scheduled"), report) is not None:
        report.health_checked = True


def _whatsapp_send(cloud: LocalCloud, events_dir: Path, report: DemoActivity) -> None:
    sent = _invoke(cloud, "WhatsAppSendText", _sample(events_dir, "whatsapp_send_text"), report)
    if sent is not None:
        report.outbound = f"answered {sent.get('status', 'ok')}" if isinstance(sent, dict) else "answered"


def _llm_generate(cloud: LocalCloud, events_dir: Path, report: DemoActivity) -> None:
    if _invoke(cloud, "LlmGenerate", _sample(events_dir, "llm_generate"), report) is not None:
        report.generated = True


def _budget(cloud: LocalCloud, report: DemoActivity, monthly_usd: str = DEMO_BUDGET_USD) -> None:
    assert cloud.template is not None
    command = [sys.executable, "-m", "ops", "--local", "--endpoint", cloud.aws_url, "budget"]
    command += ["--org", demo.DEMO_ORG_ID, "--monthly-usd", monthly_usd]
    done = subprocess.run(command, cwd=cloud.template.dir, capture_output=True, text=True, timeout=60, check=False)  # noqa: S603
    if done.returncode == 0:
        report.budget_usd = monthly_usd
    else:
        report.errors.append(f"ops budget: exit {done.returncode}: {done.stderr.strip()[-300:]}")


def run(cloud: LocalCloud) -> DemoActivity:
    """The demo activity against a started LocalCloud (API served, sandboxes and moto up). The
    receivers, the health check and the send run side by side (their workers' cold starts are
    most of the time); each receiver's requests in order."""
    assert cloud.template is not None
    events_dir = cloud.template.dir / "events"
    report = DemoActivity()
    started = time.monotonic()
    by_path: dict[str, list[tuple[str, str, str]]] = {}
    for request in _requests(events_dir):
        by_path.setdefault(request[1], []).append(request)
    with ThreadPoolExecutor(max_workers=6, thread_name_prefix="demo") as pool:
        futures = [pool.submit(deliver_webhooks, cloud.api_url, requests, report) for requests in by_path.values()]
        futures.append(pool.submit(_health_check, cloud, events_dir, report))
        futures.append(pool.submit(_whatsapp_send, cloud, events_dir, report))
        futures.append(pool.submit(_llm_generate, cloud, events_dir, report))
        futures.append(pool.submit(_budget, cloud, report))
        for future in futures:
            future.result()
    report.seconds = time.monotonic() - started
    for error in report.errors:
        log.warning("demo activity step failed: %s", error)
    log.info("demo activity: %s", report.summary())
    return report
