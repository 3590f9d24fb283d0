"""Twilio Programmable Messaging (SMS) sandbox, mounted at ``/twilio``; the secret's
base_url is ``<sandbox>/twilio`` (paths as on https://api.twilio.com).

Auth: HTTP Basic with the account SID and auth token, or the API key SID and secret
(https://www.twilio.com/docs/iam/api-keys). Anything else -> 401 ``20003``.

Implemented:

* ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` (form-encoded ``To``, ``From`` or
  ``MessagingServiceSid``, ``Body``, ``StatusCallback``) -> 201 with a Message resource
  (``sid`` ``SM`` + 32 hex, ``status`` ``queued``, or ``accepted`` with a Messaging Service as
  Twilio does, ``num_segments`` from GSM-7/UCS-2 segmentation, RFC 2822 dates, ``uri``).
  Validation errors use Twilio's codes: 21604 (no To), 21211 (To not E.164, or starting
  ``+5500``), 21610 (To starting ``+5501``: the recipient replied STOP), 21603 (no sender),
  21606 (From is not this account's number), 21602 (no Body), 21617 (Body over 1600).
* ``GET /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json`` -> a message sent here.
* ``GET /2010-04-01/Accounts/{AccountSid}/Messages.json?To=&From=&DateSent=&PageSize=`` -> the
  messages sent here, most recent first.
* ``GET /2010-04-01/Accounts/{AccountSid}.json`` -> the Account resource (``status: active``).
* ``POST /2010-04-01/Accounts/{AccountSid}/Keys.json`` (``FriendlyName`` ≤ 64) -> 201 a new
  Standard API key ``{sid SK…, friendly_name, date_created, date_updated, secret}``, which then
  authenticates like the demo key; ``GET …/Keys.json``; ``DELETE …/Keys/{Sid}.json`` -> 204 and
  the key stops working (https://www.twilio.com/docs/usage/api/keys). Only the account SID and
  auth token may call them: "If your API key requires access to the /Accounts or
  /Accounts/{SID}/Keys endpoints, then you'll need to use a Main key", which cannot be created
  through the API, so a Standard key is answered like a failed authentication (401 20003).

Errors: ``{"code", "message", "more_info", "status"}``
(https://www.twilio.com/docs/usage/twilios-response); faults answer 429 ``20429`` and 5xx
``20500``/``20503`` in the same shape.

Not emulated: the sandbox never calls ``StatusCallback`` or any other URL (no outbound
calls; status changes are simulated by posting signed webhooks to the hub yourself, see
``hub.providers.twilio.webhook.compute_twilio_signature``); messages stay ``queued``/``accepted``;
no MMS (``MediaUrl`` is accepted and ignored), scheduling, pricing or queue limits.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import re
import secrets
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from localcloud.sandboxes.base import DemoSecret, Sandbox, json_response, reason

API_VERSION = "2010-04-01"

DEMO_ACCOUNT_SID = "ACd0e1a2b3c4d5e6f708192a3b4c5d6e7f"
DEMO_AUTH_TOKEN = "demo-twilio-auth-token"
DEMO_API_KEY_SID = "SKd0e1a2b3c4d5e6f708192a3b4c5d6e7f"
DEMO_API_KEY_SECRET = "demo-twilio-api-key-secret"
DEMO_FROM_NUMBER = "+5511940000000"
DEMO_MESSAGING_SERVICE_SID = "MGd0e1a2b3c4d5e6f708192a3b4c5d6e7f"

INVALID_TO_PREFIX = "+5500"
UNSUBSCRIBED_TO_PREFIX = "+5501"
MAX_BODY_CHARS = 1600

_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_MESSAGING_SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")

# GSM 03.38 default alphabet, and its extension table (2 septets each).
_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

# HTTP status -> Twilio's generic error code (for faults and routing errors).
_STATUS_CODES = {401: 20003, 404: 20404, 405: 20004, 429: 20429, 500: 20500, 503: 20503}


def num_segments(body: str) -> int:
    """SMS segments: GSM-7 160 (153 per part when concatenated), otherwise UCS-2 70 (67)."""
    if all(c in _GSM7_BASIC or c in _GSM7_EXTENSION for c in body):
        units = sum(2 if c in _GSM7_EXTENSION else 1 for c in body)
        single, part = 160, 153
    else:
        units = len(body.encode("utf-16-le")) // 2
        single, part = 70, 67
    if units <= single:
        return 1
    return -(-units // part)


def _day(rfc2822: str) -> str:
    return email.utils.parsedate_to_datetime(rfc2822).strftime("%Y-%m-%d")


def _rfc2822(when: datetime) -> str:
    return email.utils.format_datetime(when)  # "Tue, 26 Jul 2016 12:50:07 +0000"


class TwilioSandbox(Sandbox):
    provider = "twilio"

    def __init__(
        self,
        account_sid: str = DEMO_ACCOUNT_SID,
        auth_token: str = DEMO_AUTH_TOKEN,
        api_key_sid: str | None = DEMO_API_KEY_SID,
        api_key_secret: str | None = DEMO_API_KEY_SECRET,
        from_numbers: tuple[str, ...] = (DEMO_FROM_NUMBER,),
    ) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.credentials = {account_sid: auth_token}
        if api_key_sid and api_key_secret:
            self.credentials[api_key_sid] = api_key_secret
        self._initial_credentials = dict(self.credentials)
        # API key sid -> its Key resource (without the secret).
        self.keys: dict[str, dict[str, Any]] = {}
        self.from_numbers = from_numbers
        self.created = datetime.now(UTC).replace(microsecond=0)
        self.sent: list[dict[str, Any]] = []
        self.route(f"/{API_VERSION}/Accounts/<account_sid>.json", ["GET"], self.fetch_account)
        self.route(f"/{API_VERSION}/Accounts/<account_sid>/Messages.json", ["POST"], self.create_message)
        self.route(f"/{API_VERSION}/Accounts/<account_sid>/Messages.json", ["GET"], self.list_messages)
        self.route(f"/{API_VERSION}/Accounts/<account_sid>/Messages/<sid>.json", ["GET"], self.fetch_message)
        self.route(f"/{API_VERSION}/Accounts/<account_sid>/Keys.json", ["POST"], self.create_key)
        self.route(f"/{API_VERSION}/Accounts/<account_sid>/Keys.json", ["GET"], self.list_keys)
        self.route(f"/{API_VERSION}/Accounts/<account_sid>/Keys/<sid>.json", ["DELETE"], self.delete_key)

    # -- error shapes ------------------------------------------------------ #

    def twilio_error(self, status: int, code: int, message: str) -> Response:
        return json_response(
            {
                "code": code,
                "message": message,
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status,
            },
            status,
        )

    def error_response(self, status: int, message: str | None = None) -> Response:
        code = _STATUS_CODES.get(status, 20500 if status >= 500 else 20001)
        text = message or ("Too Many Requests" if status == 429 else reason(status))
        return self.twilio_error(status, code, text)

    def not_found(self, request: Request, subpath: str) -> Response:
        return self.twilio_error(404, 20404, f"The requested resource {subpath} was not found")

    def reset(self) -> None:
        with self.lock:
            self.sent.clear()
            self.credentials = dict(self._initial_credentials)
            self.keys.clear()

    # -- guards ------------------------------------------------------------ #

    def _guard(self, request: Request, account_sid: str, path: str) -> Response | None:
        if not self._authenticated(request.headers.get("Authorization", "")):
            response = self.twilio_error(401, 20003, "Authenticate")
            response.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
            return response
        if account_sid != self.account_sid:
            return self.twilio_error(404, 20404, f"The requested resource {path} was not found")
        return None

    def _authenticated(self, header: str, *, account_only: bool = False) -> bool:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic" or not encoded:
            return False
        try:
            user, sep, password = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        if account_only and user != self.account_sid:
            return False
        with self.lock:
            expected = self.credentials.get(user)
        return bool(sep) and expected is not None and secrets.compare_digest(password, expected)

    def _account_guard(self, request: Request, account_sid: str, path: str) -> Response | None:
        """The Keys resource: the account SID and auth token only (no Standard key)."""
        if not self._authenticated(request.headers.get("Authorization", ""), account_only=True):
            response = self.twilio_error(401, 20003, "Authenticate")
            response.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
            return response
        return self._guard(request, account_sid, path)

    # -- API keys (https://www.twilio.com/docs/usage/api/keys) -------------- #

    def create_key(self, request: Request, account_sid: str) -> Response:
        path = f"/{API_VERSION}/Accounts/{account_sid}/Keys.json"
        denied = self._account_guard(request, account_sid, path)
        if denied is not None:
            return denied
        name = request.form.get("FriendlyName", "")
        if len(name) > 64:
            return self.twilio_error(400, 20001, "FriendlyName must be at most 64 characters long")
        now = _rfc2822(datetime.now(UTC).replace(microsecond=0))
        key = {"sid": "SK" + secrets.token_hex(16), "friendly_name": name, "date_created": now, "date_updated": now}
        secret = secrets.token_urlsafe(24)
        with self.lock:
            self.keys[key["sid"]] = key
            self.credentials[key["sid"]] = secret
        return json_response({**key, "secret": secret}, 201)

    def list_keys(self, request: Request, account_sid: str) -> Response:
        path = f"/{API_VERSION}/Accounts/{account_sid}/Keys.json"
        denied = self._account_guard(request, account_sid, path)
        if denied is not None:
            return denied
        with self.lock:
            keys = list(self.keys.values())
        return json_response({"keys": keys, "page": 0, "page_size": 50, "uri": path})

    def delete_key(self, request: Request, account_sid: str, sid: str) -> Response:
        path = f"/{API_VERSION}/Accounts/{account_sid}/Keys/{sid}.json"
        denied = self._account_guard(request, account_sid, path)
        if denied is not None:
            return denied
        with self.lock:
            if sid == account_sid or sid not in self.credentials:
                return self.twilio_error(404, 20404, f"The requested resource {path} was not found")
            del self.credentials[sid]
            self.keys.pop(sid, None)
        return Response(status=204)

    # -- endpoints --------------------------------------------------------- #

    def fetch_account(self, request: Request, account_sid: str) -> Response:
        path = f"/{API_VERSION}/Accounts/{account_sid}.json"
        denied = self._guard(request, account_sid, path)
        if denied is not None:
            return denied
        base = f"/{API_VERSION}/Accounts/{account_sid}"
        # The real resource also carries auth_token; a sandbox has no reason to echo secrets.
        return json_response(
            {
                "sid": account_sid,
                "owner_account_sid": account_sid,
                "friendly_name": "Demo Account",
                "status": "active",
                "type": "Full",
                "date_created": _rfc2822(self.created),
                "date_updated": _rfc2822(self.created),
                "uri": f"{base}.json",
                "subresource_uris": {
                    "messages": f"{base}/Messages.json",
                    "incoming_phone_numbers": f"{base}/IncomingPhoneNumbers.json",
                    "balance": f"{base}/Balance.json",
                },
            }
        )

    def fetch_message(self, request: Request, account_sid: str, sid: str) -> Response:
        path = f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}.json"
        denied = self._guard(request, account_sid, path)
        if denied is not None:
            return denied
        with self.lock:
            found = next((m["response"] for m in self.sent if m["response"]["sid"] == sid), None)
        if found is None:
            return self.twilio_error(404, 20404, f"The requested resource {path} was not found")
        return json_response(found)

    def list_messages(self, request: Request, account_sid: str) -> Response:
        """Read multiple Message resources: ``To``, ``From``, ``DateSent`` (``YYYY-MM-DD``, also
        ``DateSent<``/``DateSent>``) filters, ``PageSize`` (1-1000, default 50), most recent first;
        the list envelope of https://www.twilio.com/docs/usage/twilios-response#response-formats-list-resource-paging-information."""
        path = f"/{API_VERSION}/Accounts/{account_sid}/Messages.json"
        denied = self._guard(request, account_sid, path)
        if denied is not None:
            return denied
        args = request.args
        try:
            page_size = int(args.get("PageSize", "50"))
        except ValueError:
            return self.twilio_error(400, 20001, "Invalid PageSize")
        if not 1 <= page_size <= 1000:
            return self.twilio_error(400, 20001, "PageSize must be between 1 and 1000")
        with self.lock:
            messages = [entry["response"] for entry in self.sent]
        for field, key in (("To", "to"), ("From", "from")):
            if args.get(field):
                messages = [m for m in messages if m.get(key) == args[field]]
        for field, keep in (("DateSent", str.__eq__), ("DateSent<", str.__le__), ("DateSent>", str.__ge__)):
            if args.get(field):
                messages = [m for m in messages if m["date_sent"] and keep(_day(m["date_sent"]), args[field])]
        messages = list(reversed(messages))[:page_size]  # created in order: newest first
        return json_response(
            {
                "messages": messages,
                "end": max(0, len(messages) - 1),
                "first_page_uri": f"{path}?PageSize={page_size}&Page=0",
                "next_page_uri": None,
                "page": 0,
                "page_size": page_size,
                "previous_page_uri": None,
                "start": 0,
                "uri": f"{path}?PageSize={page_size}&Page=0",
            }
        )

    def create_message(self, request: Request, account_sid: str) -> Response:
        path = f"/{API_VERSION}/Accounts/{account_sid}/Messages.json"
        denied = self._guard(request, account_sid, path)
        if denied is not None:
            return denied
        form = request.form  # a repeated field keeps its first value, as here
        to = form.get("To", "").strip()
        sender = form.get("From", "").strip() or None
        service = form.get("MessagingServiceSid", "").strip() or None
        body = form.get("Body", "")
        error = self._validate(to, sender, service, body, bool(form.get("MediaUrl")))
        if error is not None:
            return error
        sid = "SM" + secrets.token_hex(16)
        now = _rfc2822(datetime.now(UTC))
        uri = f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}.json"
        message = {
            "account_sid": account_sid,
            "api_version": API_VERSION,
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            # With a Messaging Service the sender is picked later: from is null, num_segments
            # "0", status "accepted" (https://www.twilio.com/docs/messaging/guides/outbound-message-status-in-status-callbacks).
            "from": sender if service is None else None,
            "messaging_service_sid": service,
            "num_media": "0",
            "num_segments": "0" if service else str(num_segments(body)),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if service else "queued",
            "subresource_uris": {"media": f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}/Media.json"},
            "to": to,
            "uri": uri,
        }
        with self.lock:
            self.sent.append(
                {
                    "request": form.to_dict(flat=True),
                    "status_callback": form.get("StatusCallback"),  # recorded, never called
                    "response": message,
                }
            )
        return json_response(message, 201)

    def _validate(
        self, to: str, sender: str | None, service: str | None, body: str, has_media: bool
    ) -> Response | None:
        if not to:
            return self.twilio_error(400, 21604, "A 'To' phone number is required.")
        if not _E164.match(to) or to.startswith(INVALID_TO_PREFIX):
            return self.twilio_error(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if to.startswith(UNSUBSCRIBED_TO_PREFIX):
            return self.twilio_error(400, 21610, "Attempt to send to unsubscribed recipient")
        if sender is None and service is None:
            return self.twilio_error(400, 21603, "A 'From' phone number is required.")
        if service is not None and not _MESSAGING_SERVICE_SID.match(service):
            return self.twilio_error(400, 21701, f"The Messaging Service Sid {service} is invalid.")
        if service is None and sender not in self.from_numbers:
            return self.twilio_error(
                400,
                21606,
                f"The From phone number {sender} is not a valid, SMS-capable inbound phone number "
                "or short code for your account.",
            )
        if not body and not has_media:
            return self.twilio_error(400, 21602, "Message body is required.")
        if len(body.encode("utf-16-le")) // 2 > MAX_BODY_CHARS:
            return self.twilio_error(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        return None


# Self-registration: the local cloud serves SANDBOX at /twilio and seeds DEMO_SECRETS.
SANDBOX = TwilioSandbox
DEMO_SECRETS = (
    DemoSecret(
        "twilio",
        lambda base_url: {
            "base_url": base_url,
            "account_sid": DEMO_ACCOUNT_SID,
            "auth_token": DEMO_AUTH_TOKEN,
            "from_number": DEMO_FROM_NUMBER,
        },
    ),
)
