"""PostHog capture sandbox, mounted at ``/posthog`` (the secret's base_url).

Keeps PostHog's public capture contract as documented (README.md of hub.providers.posthog), not
the adapter's habits:

* ``POST /batch/`` with a JSON object ``{"api_key", "batch": [...]}`` (``historical_migration``
  optional): a missing key is ``401`` ``{"type": "authentication_error", "code":
  "missing_api_key", ...}``, an unknown one ``401`` ``invalid_api_key``; a body over 20 MB is
  ``413``; a batch that is not a list, or an item without a non-empty ``event`` or
  ``distinct_id`` (top level or in ``properties``), refuses the whole request with ``400``
  ``validation_error``. Otherwise ``200 {"status": "Ok"}``, and like PostHog's ingestion it
  records each event except those it discards with an ingestion warning: over 1 MB, or an
  invalid ``uuid``. A ``timestamp`` that is not ISO 8601 is ignored (the event gets the
  arrival time). Events equal in ``uuid``, ``event``, ``distinct_id`` and ``timestamp`` are
  one event (PostHog's dedupe): a resend records nothing new.
* ``POST /flags/?v=2`` ``{"api_key", "distinct_id"}``: the same key checks, then the (empty)
  flags of the project.

Received events: ``PostHogSandbox.received`` (deduped) for tests to query.
Faults (``/__sandbox/faults/posthog``) answer in PostHog's error body.
Not emulated: ``/i/v0/e``, ``/capture``, gzip/lz64 bodies, person and group processing.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from werkzeug.wrappers import Request, Response

from localcloud.sandboxes.base import DemoSecret, Sandbox, json_response, reason

DEMO_API_KEY = "phc_demoHubProjectKey7Qm2xV9sLr4T"
BODY_LIMIT = 20 * 1024 * 1024
EVENT_LIMIT = 1024 * 1024


def _error(status: int, kind: str, code: str, detail: str) -> Response:
    return json_response({"type": kind, "code": code, "detail": detail, "attr": None}, status)


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _timestamp(value: Any) -> str:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            if parsed.tzinfo is not None:
                return parsed.astimezone(UTC).isoformat()
    return datetime.now(UTC).isoformat()  # ignored: the arrival time (an ingestion warning)


class PostHogSandbox(Sandbox):
    provider = "posthog"

    def __init__(self, api_key: str = DEMO_API_KEY) -> None:
        super().__init__()
        self.api_key = api_key
        self.received: list[dict[str, Any]] = []
        self._seen: set[tuple[str, str, str, str]] = set()
        self.route("/batch/", ["POST"], self.batch)
        self.route("/flags/", ["POST"], self.flags)

    def reset(self) -> None:
        with self.lock:
            self.received.clear()
            self._seen.clear()

    def error_response(self, status: int, message: str | None = None) -> Response:
        kinds = {401: "authentication_error", 429: "throttled_error"}
        return _error(
            status,
            kinds.get(status, "server_error"),
            reason(status).lower().replace(" ", "_"),
            message or reason(status),
        )

    def _body(self, request: Request) -> tuple[dict[str, Any] | None, Response | None]:
        raw = request.get_data()
        if len(raw) > BODY_LIMIT:
            return None, _error(413, "validation_error", "payload_too_large", "Payload too large.")
        try:
            body = json.loads(raw or b"null", parse_float=Decimal)
        except ValueError:
            return None, _error(400, "validation_error", "invalid_payload", "Malformed request data: invalid JSON.")
        if not isinstance(body, dict):
            return None, _error(400, "validation_error", "invalid_payload", "Malformed request data: not an object.")
        key = body.get("api_key")
        if not isinstance(key, str) or not key:
            return None, _error(
                401,
                "authentication_error",
                "missing_api_key",
                "API key not provided. You can find your project API key in your PostHog project settings.",
            )
        if key != self.api_key:
            return None, _error(
                401,
                "authentication_error",
                "invalid_api_key",
                "Project API key invalid. You can find your project API key in your PostHog project settings.",
            )
        return body, None

    def flags(self, request: Request) -> Response:
        _, refused = self._body(request)
        if refused is not None:
            return refused
        return json_response({"flags": {}, "errorsWhileComputingFlags": False, "requestId": str(uuid.uuid4())})

    def batch(self, request: Request) -> Response:
        body, refused = self._body(request)
        if refused is not None or body is None:
            return refused or self.error_response(400)
        items = body.get("batch")
        if not isinstance(items, list):
            return _error(
                400, "validation_error", "invalid_payload", "Invalid payload: batch must be a list of events."
            )
        for index, item in enumerate(items):
            props = item.get("properties") if isinstance(item, dict) else None
            if not isinstance(item, dict) or not isinstance(item.get("event"), str) or not item["event"]:
                return _error(
                    400, "validation_error", "invalid_payload", f"Invalid payload: batch[{index}] has no event."
                )
            distinct = item.get("distinct_id") or (props.get("distinct_id") if isinstance(props, dict) else None)
            if not isinstance(distinct, str | int) or distinct == "":
                return _error(
                    400, "validation_error", "invalid_payload", f"Invalid payload: batch[{index}] has no distinct_id."
                )
        with self.lock:
            for item in items:
                self._ingest(item)
        return json_response({"status": "Ok"})

    def _ingest(self, item: dict[str, Any]) -> None:
        """One event as PostHog's ingestion treats it (the lock is held)."""
        if len(json.dumps(item, default=str).encode()) > EVENT_LIMIT:
            return  # "Discarded event exceeding 1MB limit"
        event_uuid = item.get("uuid")
        if event_uuid is not None and not _is_uuid(event_uuid):
            return  # "Refused to process event with invalid UUID"
        given = item.get("properties")
        props: dict[str, Any] = given if isinstance(given, dict) else {}
        distinct = str(item.get("distinct_id") or props.get("distinct_id"))
        stamp = _timestamp(item.get("timestamp"))
        event_uuid = str(event_uuid or uuid.uuid4())
        key = (event_uuid, item["event"], distinct, stamp)
        if key in self._seen:
            return  # the same event again: deduped
        self._seen.add(key)
        self.received.append(
            {
                "uuid": event_uuid,
                "event": item["event"],
                "distinct_id": distinct,
                "timestamp": stamp,
                "properties": props,
            }
        )


# Self-registration: the local cloud serves SANDBOX at /posthog and seeds DEMO_SECRETS.
SANDBOX = PostHogSandbox
DEMO_SECRETS = (DemoSecret("posthog", lambda base_url: {"base_url": base_url, "api_key": DEMO_API_KEY}),)
