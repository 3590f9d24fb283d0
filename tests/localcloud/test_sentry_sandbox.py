"""The Sentry ingest sandbox keeps Sentry's contract: the DSN's key and project, the envelope
format, compressed bodies (localcloud/sandboxes/sentry.py)."""

from __future__ import annotations

import gzip
import json

from werkzeug.test import Client

from localcloud.sandboxes.base import SandboxServer
from localcloud.sandboxes.sentry import DEMO_PROJECT_ID, DEMO_PUBLIC_KEY, SentrySandbox, demo_secret

EVENT_ID = "9ec79c33ec9942ab8353589fcb2e04dc"


def envelope(event: dict[str, object], header_event_id: str | None = EVENT_ID) -> bytes:
    payload = json.dumps(event).encode()
    header = {"event_id": header_event_id} if header_event_id else {}
    return b"\n".join(
        [json.dumps(header).encode(), json.dumps({"type": "event", "length": len(payload)}).encode(), payload, b""]
    )


def post(
    client: Client, body: bytes, *, key: str | None = DEMO_PUBLIC_KEY, project: str = DEMO_PROJECT_ID, **headers: str
):  # type: ignore[no-untyped-def]
    if key is not None:
        headers["X-Sentry-Auth"] = f"Sentry sentry_version=7, sentry_key={key}, sentry_client=sentry.python/2.76.0"
    return client.post(f"/sentry/api/{project}/envelope/", data=body, headers=headers)


def setup() -> tuple[Client, SentrySandbox]:
    sandbox = SentrySandbox()
    return Client(SandboxServer([sandbox])), sandbox


def test_a_gzipped_envelope_with_the_dsn_key_is_recorded() -> None:
    client, sandbox = setup()

    response = post(
        client, gzip.compress(envelope({"event_id": EVENT_ID, "level": "error"})), **{"Content-Encoding": "gzip"}
    )

    assert response.status_code == 200
    assert response.get_json() == {"id": EVENT_ID}
    assert [e["event_id"] for e in sandbox.events] == [EVENT_ID]
    assert client.get("/sentry/events").get_json()["events"][0]["level"] == "error"


def test_the_key_may_come_in_the_query() -> None:
    client, sandbox = setup()

    response = client.post(
        f"/sentry/api/{DEMO_PROJECT_ID}/envelope/?sentry_key={DEMO_PUBLIC_KEY}&sentry_version=7",
        data=envelope({"event_id": EVENT_ID}),
    )

    assert response.status_code == 200
    assert len(sandbox.events) == 1


def test_without_the_key_or_with_another_the_envelope_is_refused() -> None:
    client, sandbox = setup()

    assert post(client, envelope({"event_id": EVENT_ID}), key=None).status_code == 401
    assert post(client, envelope({"event_id": EVENT_ID}), key="0" * 32).status_code == 401
    assert post(client, envelope({"event_id": EVENT_ID}), project="2").status_code == 403
    assert sandbox.events == []


def test_malformed_envelopes_are_refused() -> None:
    client, sandbox = setup()

    assert post(client, b"not json\n").status_code == 400
    assert post(client, envelope({"event_id": "short"}, header_event_id=None)).status_code == 400
    assert post(client, envelope({"event_id": "a" * 32})).status_code == 400  # differs from the header's
    body = b'{}\n{"type": "event", "length": 500}\n{}\n'  # length beyond the body
    assert post(client, body).status_code == 400
    assert sandbox.events == []


def test_the_demo_secret_is_a_dsn_at_the_sandbox() -> None:
    assert demo_secret("http://127.0.0.1:4010/sentry") == {
        "dsn": f"http://{DEMO_PUBLIC_KEY}@127.0.0.1:4010/sentry/{DEMO_PROJECT_ID}"
    }
