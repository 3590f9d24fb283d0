"""GA4 Measurement Protocol sandbox, mounted at ``/ga4`` (the secret's base_url).

Keeps Google's contract as it is documented (README.md of hub.providers.ga4), not the
adapter's habits:

* ``POST /mp/collect?measurement_id=…&api_secret=…``: always ``204`` (production "always
  returns a 2xx status code if the HTTP request was received"), whatever the body; it records an
  event only when the measurement id and api secret are the demo stream's and the event breaks
  none of the rules below — like GA4, which drops the rest without a word.
* ``POST /debug/mp/collect``: ``200 {"validationMessages": [...]}`` with Google's fields
  (``fieldPath``, ``description``, ``validationCode`` of ``VALUE_INVALID``, ``VALUE_REQUIRED``,
  ``NAME_INVALID``, ``NAME_RESERVED``, ``VALUE_OUT_OF_BOUNDS``, ``EXCEEDED_MAX_ENTITIES``),
  nothing recorded. Like Google's validation server it does not check ``api_secret``.
* Rules: ``measurement_id`` and ``client_id`` present; at most 25 events; event names up to 40
  characters of letters, digits and ``_`` starting with a letter, not a reserved name or prefix;
  at most 25 params an event, names by the same rules (reserved prefixes ``_``, ``firebase_``,
  ``ga_``, ``google_``, ``gtag.``), values strings of up to 100 characters or numbers;
  ``timestamp_micros`` an integer, not more than 72 hours old (older events are not recorded);
  the body under 130 kB. Stricter than Google on one point it does not document: a boolean or
  nested value is refused (``VALUE_INVALID``), so what passes here is what GA4 reports as a
  text dimension or a numeric metric. The descriptions follow the wording of Google's documented
  example ("Event at index: [0] has invalid name [_badEventName]. Names must start with an
  alphabetic character."); the other wordings are the sandbox's, the fields and codes Google's.

Received events: ``Ga4Sandbox.received`` (what /mp/collect recorded) for tests to query.
Faults (``/__sandbox/faults/ga4``) answer in Google's error body.
Not emulated: user properties, consent, items arrays, Firebase app streams.
"""

from __future__ import annotations

import json
import re
import time
from decimal import Decimal
from typing import Any

from werkzeug.wrappers import Request, Response

from localcloud.sandboxes.base import DemoSecret, Sandbox, json_response, reason

DEMO_MEASUREMENT_ID = "G-DEMO4HUB01"
DEMO_API_SECRET = "demo-ga4-api-secret-Xq7PzR2w"

LIMIT_EVENTS = 25
LIMIT_PARAMS = 25
LIMIT_NAME = 40
LIMIT_VALUE = 100
LIMIT_BODY = 130_000
BACKDATE_SECONDS = 72 * 3600
VALID_NAME = re.compile(r"^[A-Za-z0-9_]+$")
# https://support.google.com/analytics/answer/13316687 (web and app streams' reserved names).
RESERVED_NAMES = frozenset(
    """ad_activeview ad_click ad_exposure ad_impression ad_query ad_reward adunit_exposure
    app_clear_data app_exception app_install app_remove app_store_refund
    app_store_subscription_cancel app_store_subscription_convert app_store_subscription_renew
    app_update app_upgrade click dynamic_link_app_open dynamic_link_app_update
    dynamic_link_first_open error file_download firebase_campaign firebase_in_app_message_action
    firebase_in_app_message_dismiss firebase_in_app_message_impression first_open first_visit
    form_start form_submit in_app_purchase notification_dismiss notification_foreground
    notification_open notification_receive os_update page_view screen_view scroll session_start
    user_engagement video_complete video_progress video_start view_search_results""".split()
)
RESERVED_STARTS = ("_", "firebase_", "ga_", "google_", "gtag.")


def _message(path: str, description: str, code: str) -> dict[str, str]:
    return {"fieldPath": path, "description": description, "validationCode": code}


def _name_messages(what: str, name: Any, path: str) -> list[dict[str, str]]:
    if not isinstance(name, str) or not name:
        return [_message(path, f"{what} has no name.", "VALUE_REQUIRED")]
    if not name[0].isalpha():
        return [
            _message(
                path,
                f"{what} has invalid name [{name}]. Names must start with an alphabetic character.",
                "NAME_INVALID",
            )
        ]
    if not VALID_NAME.match(name):
        return [
            _message(
                path,
                f"{what} has invalid name [{name}]. Only alphanumeric characters and underscores are allowed.",
                "NAME_INVALID",
            )
        ]
    if len(name) > LIMIT_NAME:
        return [
            _message(
                path,
                f"{what} has name [{name}] longer than the limit of {LIMIT_NAME} characters.",
                "VALUE_OUT_OF_BOUNDS",
            )
        ]
    if name.startswith(RESERVED_STARTS):
        return [_message(path, f"{what} has name [{name}] with a reserved prefix.", "NAME_RESERVED")]
    return []


def validation_messages(body: Any, raw_size: int, now: float) -> list[dict[str, str]]:
    """What Google's validation server answers for ``body`` (empty: valid)."""
    found = request_messages(body, raw_size)
    if found or not isinstance(body, dict):
        return found
    for index, event in enumerate(body["events"]):
        found.extend(event_messages(index, event, now))
    return found


def request_messages(body: Any, raw_size: int) -> list[dict[str, str]]:
    """The request's own rules (size, client_id, user_id, the events array), events aside."""
    if raw_size >= LIMIT_BODY:
        return [
            _message("", f"Request body is {raw_size} bytes; it must be smaller than 130kB.", "VALUE_OUT_OF_BOUNDS")
        ]
    if not isinstance(body, dict):
        return [_message("", "Unable to parse the request body as a JSON object.", "VALUE_INVALID")]
    found: list[dict[str, str]] = []
    client_id = body.get("client_id")
    if not isinstance(client_id, str) or not client_id:
        found.append(
            _message("client_id", "Unable to find non-empty parameter [client_id] value in request.", "VALUE_REQUIRED")
        )
    if "user_id" in body and not isinstance(body["user_id"], str):
        found.append(_message("user_id", "Parameter [user_id] must be a string.", "VALUE_INVALID"))
    events = body.get("events")
    if not isinstance(events, list) or not events:
        found.append(
            _message("events", "Unable to find non-empty parameter [events] value in request.", "VALUE_REQUIRED")
        )
    elif len(events) > LIMIT_EVENTS:
        found.append(
            _message(
                "events",
                f"Request has [{len(events)}] events; at most [{LIMIT_EVENTS}] are allowed.",
                "EXCEEDED_MAX_ENTITIES",
            )
        )
    return found


def event_messages(index: int, event: Any, now: float) -> list[dict[str, str]]:
    where = f"Event at index: [{index}]"
    if not isinstance(event, dict):
        return [_message("events", f"{where} is not an object.", "VALUE_INVALID")]
    name = event.get("name")
    found = _name_messages(where, name, "events")
    if not found and name in RESERVED_NAMES:
        found.append(_message("events", f"{where} has name [{name}] which is reserved.", "NAME_RESERVED"))
    params = event.get("params", {})
    if not isinstance(params, dict):
        return [
            *found,
            _message(f"events[{index}].params", f"{where} has params that are not an object.", "VALUE_INVALID"),
        ]
    if len(params) > LIMIT_PARAMS:
        found.append(
            _message(
                f"events[{index}].params",
                f"{where} has [{len(params)}] params; at most [{LIMIT_PARAMS}] are allowed.",
                "EXCEEDED_MAX_ENTITIES",
            )
        )
    for key, value in params.items():
        path = f"events[{index}].params"
        found.extend(_name_messages(f"{where} param [{key}]", key, path))
        if isinstance(value, str):
            if len(value) > LIMIT_VALUE:
                found.append(
                    _message(
                        path,
                        f"{where} param [{key}] has a value longer than the limit of {LIMIT_VALUE} characters.",
                        "VALUE_OUT_OF_BOUNDS",
                    )
                )
        elif isinstance(value, bool) or not isinstance(value, int | Decimal):
            found.append(_message(path, f"{where} param [{key}] must be a string or a number.", "VALUE_INVALID"))
    stamp = event.get("timestamp_micros")
    if stamp is not None:
        if isinstance(stamp, bool) or not isinstance(stamp, int):
            found.append(
                _message(
                    f"events[{index}].timestamp_micros", f"{where} has an invalid timestamp_micros.", "VALUE_INVALID"
                )
            )
        elif now - stamp / 1_000_000 > BACKDATE_SECONDS:
            found.append(
                _message(
                    f"events[{index}].timestamp_micros",
                    f"{where} has a timestamp_micros more than 72 hours in the past.",
                    "VALUE_OUT_OF_BOUNDS",
                )
            )
    return found


class Ga4Sandbox(Sandbox):
    provider = "ga4"

    def __init__(self, measurement_id: str = DEMO_MEASUREMENT_ID, api_secret: str = DEMO_API_SECRET) -> None:
        super().__init__()
        self.measurement_id = measurement_id
        self.api_secret = api_secret
        self.received: list[dict[str, Any]] = []
        self.route("/mp/collect", ["POST"], self.collect)
        self.route("/debug/mp/collect", ["POST"], self.debug_collect)

    def reset(self) -> None:
        with self.lock:
            self.received.clear()

    def error_response(self, status: int, message: str | None = None) -> Response:
        # Google APIs' error body (https://cloud.google.com/apis/design/errors#http_mapping).
        text = message or reason(status)
        return json_response({"error": {"code": status, "message": text, "status": reason(status).upper()}}, status)

    @staticmethod
    def _parse(request: Request) -> tuple[Any, int]:
        raw = request.get_data()
        try:
            return json.loads(raw or b"null", parse_float=Decimal), len(raw)
        except ValueError:
            return None, len(raw)

    def debug_collect(self, request: Request) -> Response:
        body, size = self._parse(request)
        messages: list[dict[str, str]] = []
        if not request.args.get("measurement_id") and not request.args.get("firebase_app_id"):
            messages.append(
                _message(
                    "measurement_id",
                    "Unable to find non-empty parameter [measurement_id] value in request.",
                    "VALUE_REQUIRED",
                )
            )
        messages.extend(validation_messages(body, size, time.time()))
        return json_response({"validationMessages": messages})

    def collect(self, request: Request) -> Response:
        body, size = self._parse(request)
        ours = (
            request.args.get("measurement_id") == self.measurement_id
            and request.args.get("api_secret") == self.api_secret
        )
        now = time.time()
        if not ours or request_messages(body, size):
            return Response(status=204)  # GA4 drops it without a word
        with self.lock:
            for index, event in enumerate(body["events"]):
                if not event_messages(index, event, now):  # each invalid event dropped alone
                    self.received.append(
                        {
                            "measurement_id": self.measurement_id,
                            "client_id": body["client_id"],
                            "user_id": body.get("user_id"),
                            "name": event["name"],
                            "params": event.get("params", {}),
                            "timestamp_micros": event.get("timestamp_micros"),
                        }
                    )
        return Response(status=204)


# Self-registration: the local cloud serves SANDBOX at /ga4 and seeds DEMO_SECRETS.
SANDBOX = Ga4Sandbox
DEMO_SECRETS = (
    DemoSecret(
        "ga4",
        lambda base_url: {"base_url": base_url, "measurement_id": DEMO_MEASUREMENT_ID, "api_secret": DEMO_API_SECRET},
    ),
)
