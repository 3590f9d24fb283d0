"""Mixpanel Ingestion API sandbox, mounted at ``/mixpanel`` (the secret's base_url).

Keeps Mixpanel's documented /import contract (README.md of hub.providers.mixpanel), not the
adapter's habits:

* ``POST /import?strict=1&project_id=N``: HTTP Basic auth with the demo service account
  (Mixpanel accepts the pair base64-encoded or plain), else ``401``; without ``project_id``
  ``400``; another project ``403``. ``Content-Type`` ``application/json`` (an array) or
  ``application/x-ndjson``; ``Content-Encoding: gzip`` accepted. Over 2 MB of uncompressed body
  ``413``; more than 2000 events ``400``.
* ``strict=1`` validates each event: ``event`` a non-empty string; ``properties`` an object
  with ``time`` (seconds or milliseconds, not before 1971-01-01 nor over an hour ahead),
  ``distinct_id`` (a string, not a placeholder such as ``null`` or ``anonymous``),
  ``$insert_id`` (1-36 of ``[A-Za-z0-9-]``); under 1 MB and under 255 properties. Failures:
  ``400`` ``{"code": 400, "error": "some data points in the request failed validation",
  "status": "Bad Request", "num_records_imported": k, "failed_records": [{index, insert_id,
  field, message}]}``, the valid events imported all the same. All valid: ``200 {"code": 200,
  "num_records_imported": n, "status": "OK"}``. ``strict=0`` imports the valid ones silently.
* Dedupe: events equal in ``event``, ``distinct_id``, ``time`` and ``$insert_id`` are one
  event (Mixpanel's rule): a resend is counted as imported and recorded once.
* ``GET /api/app/me``: the service account (Basic auth), or ``401``.

Received events: ``MixpanelSandbox.received`` (deduped) for tests to query.
Faults (``/__sandbox/faults/mixpanel``) answer in Mixpanel's error body.
Not emulated: ``/track``, ``/engage``, project-secret and token auth, ``verbose``.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import time
from decimal import Decimal
from typing import Any

from werkzeug.wrappers import Request, Response

from localcloud.sandboxes.base import DemoSecret, Sandbox, json_response, reason

DEMO_PROJECT_ID = 3141592
DEMO_USERNAME = "hub-demo.6f2c1a.mp-service-account"
DEMO_SECRET = "demo-mixpanel-sa-secret-Vb82kQz"
BODY_LIMIT = 2 * 1024 * 1024
EVENTS_LIMIT = 2000
EVENT_LIMIT = 1024 * 1024
PROPERTIES_LIMIT = 255
EARLIEST_SECONDS = 31_536_000  # 1971-01-01T00:00:00Z
AHEAD_SECONDS = 3600
INSERT_ID = re.compile(r"^[A-Za-z0-9-]{1,36}$")
PLACEHOLDERS = frozenset(
    {"anon", "anonymous", "nil", "none", "null", "n/a", "undefined", "00000000-0000-0000-0000-000000000000"}
)


def _failure(index: int, event: dict[str, Any], field: str, message: str) -> dict[str, Any]:
    props = event.get("properties") if isinstance(event.get("properties"), dict) else {}
    return {"index": index, "insert_id": (props or {}).get("$insert_id"), "field": field, "message": message}


def check_event(index: int, event: Any, now: float) -> dict[str, Any] | None:
    """Strict mode's verdict on one event: its failed record, or None when valid."""
    if not isinstance(event, dict):
        return {"index": index, "insert_id": None, "field": "event", "message": "each record must be an object"}
    if not isinstance(event.get("event"), str) or not event["event"]:
        return _failure(index, event, "event", "'event' must be a non-empty string")
    props = event.get("properties")
    if not isinstance(props, dict):
        return _failure(index, event, "properties", "'properties' must be an object")
    stamp = props.get("time")
    if isinstance(stamp, bool) or not isinstance(stamp, int | Decimal):
        return _failure(index, event, "properties.time", "'properties.time' is invalid: must be a number")
    seconds = float(stamp) / 1000 if stamp > 10**11 else float(stamp)  # milliseconds or seconds
    if seconds < EARLIEST_SECONDS:
        return _failure(index, event, "properties.time", "'properties.time' is invalid: before 1971-01-01")
    if seconds > now + AHEAD_SECONDS:
        return _failure(index, event, "properties.time", "'properties.time' is invalid: more than 1 hour in the future")
    distinct = props.get("distinct_id")
    if not isinstance(distinct, str):
        return _failure(index, event, "properties.distinct_id", "'properties.distinct_id' must be a string")
    if distinct.strip().lower() in PLACEHOLDERS:
        return _failure(index, event, "properties.distinct_id", f"'properties.distinct_id' is invalid: {distinct!r}")
    insert = props.get("$insert_id")
    if not isinstance(insert, str) or not INSERT_ID.match(insert):
        return _failure(
            index,
            event,
            "properties.$insert_id",
            "'properties.$insert_id' is invalid: up to 36 alphanumeric characters or '-'",
        )
    if len(props) >= PROPERTIES_LIMIT:
        return _failure(index, event, "properties", f"events must have fewer than {PROPERTIES_LIMIT} properties")
    if len(json.dumps(event, default=str).encode()) >= EVENT_LIMIT:
        return _failure(index, event, "event", "events must be smaller than 1MB of uncompressed JSON")
    return None


class MixpanelSandbox(Sandbox):
    provider = "mixpanel"

    def __init__(
        self, project_id: int = DEMO_PROJECT_ID, username: str = DEMO_USERNAME, secret: str = DEMO_SECRET
    ) -> None:
        super().__init__()
        self.project_id = project_id
        self.username = username
        self.secret = secret
        self.received: list[dict[str, Any]] = []
        self._seen: set[tuple[str, str, str, str]] = set()
        self.route("/import", ["POST"], self.import_events)
        self.route("/api/app/me", ["GET"], self.me)

    def reset(self) -> None:
        with self.lock:
            self.received.clear()
            self._seen.clear()

    def error_response(self, status: int, message: str | None = None) -> Response:
        # https://docs.mixpanel.com/troubleshooting/errors/429-rate-limit-exceeded: {code, error, status}.
        texts = {429: "Project exceeded rate limits. Please retry the request with exponential backoff."}
        return json_response(
            {"code": status, "error": message or texts.get(status, reason(status)), "status": reason(status)}, status
        )

    def _authorised(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except ValueError:
            decoded = value  # Mixpanel also accepts the pair in plain text
        return decoded == f"{self.username}:{self.secret}"

    def me(self, request: Request) -> Response:
        if not self._authorised(request):
            return self.error_response(401, "Invalid credentials")
        return json_response(
            {
                "status": "ok",
                "results": {
                    "user_name": self.username,
                    "projects": {str(self.project_id): {"role": {"name": "Admin"}}},
                },
            }
        )

    def _events(self, request: Request) -> tuple[Any, Response | None]:
        raw = request.get_data()
        if request.headers.get("Content-Encoding", "").lower() == "gzip":
            try:
                raw = gzip.decompress(raw)
            except (OSError, EOFError):
                return None, self.error_response(400, "unable to decompress the gzip body")
        if len(raw) > BODY_LIMIT:
            return None, self.error_response(413, f"request body is {len(raw)} bytes; the limit is {BODY_LIMIT}")
        text = raw.decode("utf-8", errors="replace")
        try:
            if "ndjson" in request.headers.get("Content-Type", ""):
                return [json.loads(line, parse_float=Decimal) for line in text.splitlines() if line.strip()], None
            return json.loads(text or "null", parse_float=Decimal), None
        except ValueError:
            return None, self.error_response(400, "unable to parse the request body as JSON")

    def import_events(self, request: Request) -> Response:
        if not self._authorised(request):
            return self.error_response(401, "Invalid credentials")
        project = request.args.get("project_id")
        if not project:
            return self.error_response(400, "project_id is required when authenticating with a service account")
        if project != str(self.project_id):
            return self.error_response(403, "the service account has no access to this project")
        events, refused = self._events(request)
        if refused is not None:
            return refused
        if isinstance(events, dict):
            events = [events]
        if not isinstance(events, list):
            return self.error_response(400, "the body must be a JSON array of events")
        if len(events) > EVENTS_LIMIT:
            return self.error_response(400, f"a request may carry at most {EVENTS_LIMIT} events")
        now = time.time()
        failed = [f for index, event in enumerate(events) if (f := check_event(index, event, now)) is not None]
        failed_at = {f["index"] for f in failed}
        with self.lock:
            for index, event in enumerate(events):
                if index not in failed_at:
                    self._record(event)
        imported = len(events) - len(failed)
        if failed and request.args.get("strict") == "1":
            return json_response(
                {
                    "code": 400,
                    "error": "some data points in the request failed validation",
                    "status": "Bad Request",
                    "num_records_imported": imported,
                    "failed_records": failed,
                },
                400,
            )
        return json_response({"code": 200, "num_records_imported": imported, "status": "OK"})

    def _record(self, event: dict[str, Any]) -> None:
        props = event["properties"]
        key = (event["event"], props["distinct_id"], str(props["time"]), props["$insert_id"])
        if key in self._seen:
            return  # Mixpanel's dedupe: the same four fields are one event
        self._seen.add(key)
        self.received.append({"event": event["event"], "properties": props})


# Self-registration: the local cloud serves SANDBOX at /mixpanel and seeds DEMO_SECRETS.
SANDBOX = MixpanelSandbox
DEMO_SECRETS = (
    DemoSecret(
        "mixpanel",
        lambda base_url: {
            "base_url": base_url,
            "project_id": DEMO_PROJECT_ID,
            "service_account_username": DEMO_USERNAME,
            "service_account_secret": DEMO_SECRET,
        },
    ),
)
