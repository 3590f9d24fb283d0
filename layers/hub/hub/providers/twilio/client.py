"""Twilio Programmable Messaging (SMS): outbound adapter, status callbacks and inbound SMS.

The provider's API facts this module relies on, with their doc links: README.md.
"""

from __future__ import annotations

import base64
import email.utils
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from aws_lambda_powertools.shared.lazy_import import LazyLoader
from pydantic import Field, SecretStr, ValidationInfo, field_validator

from hub.config import get_settings
from hub.errors import (
    AuthenticationError,
    HubError,
    InvalidRequestError,
    ProviderUnavailableError,
    RateLimitedError,
)
from hub.providers.base.client import ProviderClient, ProviderCredentials, parse_retry_after
from hub.providers.outbound import SentMessage
from hub.usage.meter import Billing

if TYPE_CHECKING:
    import httpx
else:  # imported on first use, not at init (cold start): a webhook receiver never calls out
    httpx = LazyLoader("httpx", globals(), "httpx")

API_VERSION = "2010-04-01"

# "Body: The text content of the outgoing message. Can be up to 1,600 characters in length."
# https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource
MAX_BODY_CHARS = 1600
# A lookup of a send whose answer was lost reads this many of the number's newest messages.
LOOKUP_PAGE_SIZE = 50
# date_created has a resolution of seconds; Twilio's clock may differ from ours a little.
CLOCK_SLACK_SECONDS = 5

# Twilio expects TwiML in answer to an incoming-message webhook; an empty <Response> sends
# no reply. https://www.twilio.com/docs/messaging/twiml
TWIML_EMPTY_RESPONSE = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
TWIML_CONTENT_TYPE = "text/xml"

SIGNATURE_HEADER = "x-twilio-signature"

ACCOUNT_SID_PATTERN = r"^AC[0-9a-fA-F]{32}$"
# https://www.twilio.com/docs/usage/api/keys: FriendlyName "can be up to 64 characters long".
KEY_FRIENDLY_NAME_MAX = 64
API_KEY_SID_PATTERN = r"^SK[0-9a-fA-F]{32}$"
MESSAGING_SERVICE_SID_PATTERN = r"^MG[0-9a-fA-F]{32}$"
E164_PATTERN = r"^\+[1-9][0-9]{6,14}$"
_E164 = re.compile(E164_PATTERN)

# Twilio error codes we act on or explain. Short texts (no phone numbers: Twilio's own
# messages echo the recipient) — https://www.twilio.com/docs/api/errors/{code}
TWILIO_ERRORS: dict[str, str] = {
    "20003": "authentication failed (check the account SID and auth token or API key)",
    "20404": "resource not found",
    "20429": "too many concurrent requests to the Twilio API",
    "21211": "invalid 'To' phone number",
    "21408": "SMS to this region is not enabled on the Twilio account (geo permissions)",
    "21602": "message body is required",
    "21606": "the 'From' number is not an SMS-capable Twilio number of this account",
    "21608": "trial accounts can only send to verified numbers",
    "21610": "the recipient unsubscribed (replied STOP) from this sender",
    "21611": "the sender's outbound queue is full; send again later",
    "21612": "the 'To' number cannot be reached from this 'From' number",
    "21614": "the 'To' number is not a mobile number that can receive SMS",
    "21617": "the message body exceeds 1600 characters",
    "21635": "the 'To' number is a landline",
    # Asynchronous delivery errors, reported in status callbacks (ErrorCode).
    "30001": "queue overflow: too many messages sent too quickly",
    "30002": "the Twilio account is suspended",
    "30003": "unreachable destination handset (off, no signal or cannot receive SMS)",
    "30004": "message blocked (the recipient blocked the sender or the carrier refused it)",
    "30005": "unknown destination handset (the number does not exist)",
    "30006": "landline or unreachable carrier",
    "30007": "message filtered by the carrier (spam/content rules)",
    "30008": "unknown delivery error",
    "30034": "US A2P 10DLC: the sender is not registered to a campaign",
}
_AUTH_CODES = frozenset({"20003"})
_RATE_LIMIT_CODES = frozenset({"20429"})
# 21611: the From number's queue holds ~10 hours of messages; new ones are refused until it
# drains (https://www.twilio.com/docs/api/errors/21611). Retryable later, not a bad request.
_QUEUE_FULL_CODE = "21611"
_QUEUE_FULL_RETRY_SECONDS = 300.0

# Twilio MessageStatus -> our message.status vocabulary.
# https://www.twilio.com/docs/messaging/api/message-resource#message-status-values
STATUS_MAP: dict[str, Literal["queued", "sent", "delivered", "read", "failed"]] = {
    "accepted": "queued",
    "scheduled": "queued",
    "queued": "queued",
    "sending": "queued",
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "undelivered": "failed",
    "failed": "failed",
    "canceled": "failed",
}


def twilio_error_text(code: str | None) -> str | None:
    """Our short, PII-free explanation of a Twilio error code (None when unknown)."""
    return TWILIO_ERRORS.get(code) if code else None


class TwilioCredentials(ProviderCredentials):
    account_sid: str = Field(pattern=ACCOUNT_SID_PATTERN)
    # Signs webhooks even when the API is called with an API key.
    auth_token: SecretStr = Field(min_length=1)
    api_key_sid: str | None = Field(None, pattern=API_KEY_SID_PATTERN)
    api_key_secret: SecretStr | None = Field(None, validate_default=True)
    from_number: str | None = Field(None, pattern=E164_PATTERN)
    messaging_service_sid: str | None = Field(None, pattern=MESSAGING_SERVICE_SID_PATTERN, validate_default=True)
    # Accepted too for webhook signatures while the auth token is being rotated.
    previous_auth_token: SecretStr | None = None
    # The public base URL Twilio calls (e.g. https://api.example.com/Prod): the signed URL is
    # this + the request path, so it must be exactly what Twilio was given.
    webhook_base_url: str | None = None

    @field_validator("api_key_secret")
    @classmethod
    def _key_pair(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if bool(info.data.get("api_key_sid")) != bool(value and value.get_secret_value()):
            raise ValueError("api_key_sid and api_key_secret go together")
        return value

    @field_validator("messaging_service_sid")
    @classmethod
    def _has_sender(cls, value: str | None, info: ValidationInfo) -> str | None:
        if not value and not info.data.get("from_number"):
            raise ValueError("set from_number or messaging_service_sid")
        return value

    @field_validator("webhook_base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("https://", "http://")):
            raise ValueError("webhook_base_url must be an absolute http(s) URL")
        return value.rstrip("/")


class TwilioClient(ProviderClient):
    provider: ClassVar[str] = "twilio"
    credentials_model: ClassVar[type[ProviderCredentials]] = TwilioCredentials
    # The Messages API takes no idempotency key: a POST retried after a 5xx may send twice, so a
    # send whose answer was lost is looked up in the account's messages before any re-send.
    idempotency_header: ClassVar[str | None] = None
    writes_have_effects: ClassVar[bool] = True

    credentials: TwilioCredentials

    def auth_headers(self) -> dict[str, str]:
        # API key preferred (revocable, no account-wide token on the wire).
        # https://www.twilio.com/docs/iam/api-keys
        creds = self.credentials
        if creds.api_key_sid and creds.api_key_secret:
            user, password = creds.api_key_sid, creds.api_key_secret.get_secret_value()
        else:
            user, password = creds.account_sid, creds.auth_token.get_secret_value()
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        return {"Authorization": f"Basic {token}"}

    def account_scope(self) -> str:
        # Twilio's limits (API concurrency, sender queues) are per Twilio account.
        return self.credentials.account_sid

    @property
    def _account_path(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.credentials.account_sid}"

    # ----- errors -----------------------------------------------------------------------
    def error_details(self, response: httpx.Response) -> tuple[str, str | None]:
        # {"code": 21211, "message": "...", "more_info": "https://www.twilio.com/docs/errors/21211",
        #  "status": 400} — https://www.twilio.com/docs/usage/twilios-response
        try:
            body = response.json()
        except ValueError:
            return super().error_details(response)
        if not isinstance(body, dict):
            return super().error_details(response)
        code = str(body["code"]) if body.get("code") is not None else None
        known = twilio_error_text(code)
        if known:
            # Our text, not Twilio's: theirs echoes phone numbers into logs and errors.
            return (f"{known} (Twilio error {code})", code)
        message = body.get("message")
        if isinstance(message, str) and message:
            return (message[:300], code)
        return super().error_details(response)

    def classify(self, response: httpx.Response) -> HubError | None:
        error = super().classify(response)
        if error is None or isinstance(error, ProviderUnavailableError):
            return error
        if error.code in _AUTH_CODES and not isinstance(error, AuthenticationError):
            return error.recast(AuthenticationError)
        if error.code in _RATE_LIMIT_CODES and not isinstance(error, RateLimitedError):
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            return error.recast(RateLimitedError, retry_after=retry_after)
        if error.code == _QUEUE_FULL_CODE:
            retry_after = parse_retry_after(response.headers.get("retry-after"), default=_QUEUE_FULL_RETRY_SECONDS)
            return error.recast(RateLimitedError, retry_after=retry_after)
        return error

    # ----- calls ------------------------------------------------------------------------
    def send_sms(self, to_e164: str, body: str, *, status_callback: str | None = None) -> SentMessage:
        """POST …/Messages.json (form-encoded); answers 201 with the Message resource.

        Sends from the Messaging Service when one is configured (sender pool, opt-out
        handling), else from ``from_number``. ``status_callback`` defaults to
        ``{PUBLIC_API_URL}/webhooks/twilio/{org_id}`` when both are known."""
        if not _E164.match(to_e164):
            raise InvalidRequestError("to is not an E.164 phone number", provider=self.provider, code="invalid_phone")
        if not body or not body.strip():
            raise InvalidRequestError("the SMS body is empty", provider=self.provider, code="21602")
        length = sms_length(body)
        if length > MAX_BODY_CHARS:
            raise InvalidRequestError(
                f"the SMS body has {length} characters; Twilio accepts at most {MAX_BODY_CHARS}",
                provider=self.provider,
                code="21617",
            )
        if status_callback is None:
            status_callback = self.default_status_callback()
        creds = self.credentials
        data: dict[str, str] = {"To": to_e164, "Body": body}
        if creds.messaging_service_sid:
            data["MessagingServiceSid"] = creds.messaging_service_sid
        else:
            assert creds.from_number is not None  # the credentials model guarantees one sender
            data["From"] = creds.from_number
        if status_callback:
            data["StatusCallback"] = status_callback

        def send() -> SentMessage:
            response = self.request("POST", f"{self._account_path}/Messages.json", data=data, operation="send")
            payload = response.json()
            sid = payload.get("sid") if isinstance(payload, dict) else None
            if not sid:
                raise ProviderUnavailableError(
                    "twilio accepted the message but returned no message sid", provider=self.provider
                )
            return SentMessage(provider=self.provider, message_id=str(sid), to=to_e164, status=payload.get("status"))

        return self.effect(send, find=lambda since: self.find_sent(to_e164, body, since))

    def find_sent(self, to_e164: str, body: str, since: datetime) -> SentMessage | None:
        """The message with this body we sent to ``to_e164`` since ``since``, from the account's
        newest messages to that number: ``GET …/Messages.json?To=&From=&PageSize=``
        (https://www.twilio.com/docs/messaging/api/message-resource#read-multiple-message-resources,
        most recent first). No ``DateSent`` filter: a message still queued has no date_sent yet."""
        creds = self.credentials
        params: dict[str, str | int] = {"To": to_e164, "PageSize": LOOKUP_PAGE_SIZE}
        if not creds.messaging_service_sid and creds.from_number:
            params["From"] = creds.from_number
        response = self.request("GET", f"{self._account_path}/Messages.json", params=params, operation="lookup")
        payload = response.json()
        messages = payload.get("messages") if isinstance(payload, dict) else None
        earliest = since - timedelta(seconds=CLOCK_SLACK_SECONDS)
        for message in messages if isinstance(messages, list) else []:
            if not isinstance(message, dict) or not message.get("sid") or message.get("body") != body:
                continue
            if message.get("direction") != "outbound-api" or message.get("to") != to_e164:
                continue
            if creds.messaging_service_sid and message.get("messaging_service_sid") != creds.messaging_service_sid:
                continue
            try:
                created = email.utils.parsedate_to_datetime(str(message.get("date_created")))
            except (TypeError, ValueError):
                continue
            if created >= earliest:
                return SentMessage(
                    provider=self.provider, message_id=str(message["sid"]), to=to_e164, status=message.get("status")
                )
        return None

    # ----- API keys (CredentialRotator) -------------------------------------------------------
    # https://www.twilio.com/docs/usage/api/keys (Key resource v2010): POST …/Keys.json
    # {FriendlyName ≤ 64} → 201 {sid SK…, friendly_name, date_created, date_updated, secret} (the
    # secret only in this answer); DELETE …/Keys/{Sid}.json → 204. "If your API key requires
    # access to the /Accounts or /Accounts/{SID}/Keys endpoints, then you'll need to use a Main
    # key": a Standard key (what this creates) cannot manage keys, so both calls authenticate
    # with the account SID and auth token, which the secret always holds.
    def _account_auth(self) -> dict[str, str]:
        creds = self.credentials
        token = base64.b64encode(f"{creds.account_sid}:{creds.auth_token.get_secret_value()}".encode()).decode("ascii")
        return {"Authorization": f"Basic {token}"}

    def issue_credentials(self) -> dict[str, str]:
        """A new Standard API key: ``{"api_key_sid", "api_key_secret"}`` to store (the adapter
        then authenticates with it). Sent once: a retry could create two keys."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        name = f"hub {self.org_id or 'default'} {stamp}"[:KEY_FRIENDLY_NAME_MAX]
        response = self.request(
            "POST",
            f"{self._account_path}/Keys.json",
            data={"FriendlyName": name},
            headers=self._account_auth(),
            operation="issue_credentials",
            effect=False,
            attempts=1,
        )
        payload = self.json_object(response)
        sid, secret = payload.get("sid"), payload.get("secret")
        if not isinstance(sid, str) or not re.fullmatch(API_KEY_SID_PATTERN, sid) or not isinstance(secret, str):
            raise ProviderUnavailableError(
                "twilio created the API key but returned no sid/secret", provider=self.provider
            )
        return {"api_key_sid": sid, "api_key_secret": secret}

    def revoke_credentials(self, previous: Mapping[str, Any]) -> None:
        """``DELETE …/Keys/{previous api_key_sid}.json``; already gone (404) counts as done. A
        previous secret without an API key (auth token only) has nothing to revoke; the auth
        token itself is rotated in the Console (it also signs webhooks)."""
        sid = previous.get("api_key_sid")
        if not sid:
            return
        if not isinstance(sid, str) or not re.fullmatch(API_KEY_SID_PATTERN, sid):
            raise InvalidRequestError("previous.api_key_sid: not a Twilio API key SID", provider=self.provider)
        if sid == self.credentials.api_key_sid:
            raise InvalidRequestError(
                "previous.api_key_sid: that is the key in use", provider=self.provider, code="revoke_current_key"
            )
        try:
            self.request(
                "DELETE",
                f"{self._account_path}/Keys/{sid}.json",
                headers=self._account_auth(),
                operation="revoke_credentials",
                effect=False,
            )
        except InvalidRequestError as exc:
            if exc.http_status != 404:
                raise

    def default_status_callback(self) -> str | None:
        base = get_settings().public_api_url
        if not base or not self.org_id:
            return None
        return f"{base.rstrip('/')}/webhooks/twilio/{self.org_id}"

    def billed(self, operation: str | None, result: Any) -> Billing | None:
        """A sent SMS bills per segment: the Message resource's ``num_segments``
        (https://www.twilio.com/docs/messaging/api/message-resource#message-properties)."""
        if operation != "send" or not isinstance(result, httpx.Response):
            return None
        payload = result.json()
        segments = payload.get("num_segments") if isinstance(payload, dict) else None
        try:
            units = max(1, int(segments)) if segments is not None else 1
        except (TypeError, ValueError):
            units = 1
        return Billing(units, "sms_segment")

    def health_check(self) -> None:
        """GET /2010-04-01/Accounts/{AccountSid}.json: healthy only when status is active
        (https://www.twilio.com/docs/iam/api/account: active | suspended | closed)."""
        response = self.request("GET", f"{self._account_path}.json", timeout=get_settings().health_check_timeout)
        payload = response.json()
        status = payload.get("status") if isinstance(payload, dict) else None
        if status != "active":
            raise AuthenticationError(
                f"the Twilio account is not active (status={status})",
                provider=self.provider,
                code=f"account_{status}",
            )


def sms_length(body: str) -> int:
    """Characters as Twilio counts them for the 1600 limit: UTF-16 code units (an emoji
    outside the BMP counts 2). Conservative: never lets through a body Twilio would refuse."""
    return len(body.encode("utf-16-le")) // 2
