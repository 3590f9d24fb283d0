"""`make dev`'s demo integrations, connected through the layer's IntegrationConnect code.

Run by ``localcloud.aws.connect_demo_integrations`` in a child process (the layer on its path,
the IntegrationConnect function's environment), so the local cloud's own process never imports
the layer. Reads ``[{"org_id", "provider", "credentials"}]`` on stdin; connects, concurrently,
those of providers the hub calls with a health check (not OAuth: those go through the consent
screen); prints ``[[org_id, provider], ...]`` connected on stdout and one line per failure on
stderr (the caller writes those secrets directly).
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def connectable(provider: str) -> bool:
    from hub.providers import descriptor

    # Stripe's demo org holds only its webhook secret (no key to check): written directly.
    found = descriptor(provider)
    return (
        found is not None
        and found.key == provider
        and found.client is not None
        and found.health_check
        and found.auth != "oauth2"
    )


def connect(item: dict[str, Any]) -> tuple[str, str] | None:
    from hub.integrations.models import IntegrationConnectRequest
    from hub.integrations.operations import integration_connect

    value = item["credentials"]
    request = IntegrationConnectRequest(
        org_id=item["org_id"], provider=item["provider"], credentials=value, actor="make dev"
    )
    # The demo's own webhook token, so a provider that registers its webhook with a token the hub
    # chooses (Evolution, Asaas) keeps today's value. A provider that issues its own signing secret
    # (Resend's ``webhook_secret``) would replace the documented demo value: its webhook is left
    # ``manual`` here (IntegrationRotate or a real connect registers it).
    token = value.get("webhook_token")
    try:
        integration_connect(
            request,
            webhook_secret=token if isinstance(token, str) else None,
            register_webhook=isinstance(token, str) or "webhook_secret" not in value,
        )
    except Exception as exc:  # noqa: BLE001 - reported; the caller writes the secret directly
        print(f"demo {item['org_id']}/{item['provider']} not connected ({exc}); written directly", file=sys.stderr)
        return None
    return (item["org_id"], item["provider"])


def main() -> int:
    import logging

    from hub.observability import logger

    # stdout carries the answer; the layer's log lines (a refused webhook registration) go to stderr.
    handler = logger.registered_handler
    if isinstance(handler, logging.StreamHandler):
        handler.setStream(sys.stderr)
    items = [i for i in json.load(sys.stdin) if connectable(i["provider"])]
    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="demo-connect") as pool:
        done = [pair for pair in pool.map(connect, items) if pair is not None]
    print(json.dumps(done))
    return 0


if __name__ == "__main__":
    sys.exit(main())
