"""TwilioClient and the Twilio webhook against Twilio's documented requests, responses,
errors and signature scheme."""

from __future__ import annotations

import base64
import hmac
from datetime import UTC, datetime
from hashlib import sha1
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx
import pytest
from pydantic import SecretStr

from hub.config import get_settings
from hub.errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidRequestError,
    ProviderUnavailableError,
    RateLimitedError,
)
from hub.providers.twilio.client import TWIML_EMPTY_RESPONSE, TwilioClient, TwilioCredentials
from hub.providers.twilio.webhook import (
    compute_twilio_signature,
    normalise_twilio_webhook,
    parse_twilio_form,
    verify_twilio_webhook,
)
from hub.webhooks.models import RawWebhook, WebhookAuthenticationError
from tests.helpers import AdapterFactory, api_event, recording
from tests.helpers import raw_webhook as webhook

ACCOUNT_SID = "AC" + "a" * 32
API_KEY_SID = "SK" + "b" * 32
SERVICE_SID = "MG" + "c" * 32
CREDS = TwilioCredentials(
    account_sid=ACCOUNT_SID, auth_token=SecretStr("auth-token-current"), from_number="+5511940000000"
)
SENT_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"

# The Message resource as the create call returns it (message-resource docs).
MESSAGE_CREATED: dict[str, Any] = {
    "account_sid": ACCOUNT_SID,
    "api_version": "2010-04-01",
    "body": "Seu pedido saiu para entrega",
    "date_created": "Thu, 24 Aug 2023 05:01:45 +0000",
    "date_sent": None,
    "date_updated": "Thu, 24 Aug 2023 05:01:45 +0000",
    "direction": "outbound-api",
    "error_code": None,
    "error_message": None,
    "from": "+5511940000000",
    "messaging_service_sid": None,
    "num_media": "0",
    "num_segments": "1",
    "price": None,
    "price_unit": "USD",
    "sid": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
    "status": "queued",
    "subresource_uris": {"media": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/SM1f0e/Media.json"},
    "to": "+5511987654321",
    "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/SM1f0e8ae6ade43cb3c0ce4525424e404f.json",
}


def twilio_error(code: int, status: int, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


client_with = AdapterFactory(TwilioClient, CREDS, attempts=3)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def form_of(request: httpx.Request) -> dict[str, list[str]]:
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    return parse_qs(request.content.decode(), keep_blank_values=True)


@pytest.fixture
def public_api_url(monkeypatch: pytest.MonkeyPatch) -> str:
    url = "https://abc123.execute-api.sa-east-1.amazonaws.com/Prod"
    monkeypatch.setenv("PUBLIC_API_URL", url)
    get_settings.cache_clear()
    return url


# ----- outbound ----------------------------------------------------------------------------


def test_send_sms_posts_a_form_with_basic_auth_and_the_status_callback() -> None:
    seen, handler = recording(httpx.Response(201, json=MESSAGE_CREATED))

    sent = client_with(handler).send_sms(
        "+5511987654321", "Seu pedido saiu para entrega", status_callback="https://hooks.example.com/twilio/demo"
    )

    [request] = seen
    assert request.method == "POST"
    assert str(request.url) == f"https://api.twilio.com{SENT_PATH}"
    assert request.headers["authorization"] == basic(ACCOUNT_SID, "auth-token-current")
    assert form_of(request) == {
        "To": ["+5511987654321"],
        "From": ["+5511940000000"],
        "Body": ["Seu pedido saiu para entrega"],
        "StatusCallback": ["https://hooks.example.com/twilio/demo"],
    }
    assert sent.provider == "twilio"
    assert sent.message_id == "SM1f0e8ae6ade43cb3c0ce4525424e404f"
    assert sent.to == "+5511987654321"
    assert sent.status == "queued"


def test_api_key_is_preferred_and_the_account_sid_stays_in_the_path() -> None:
    creds = CREDS.model_copy(update={"api_key_sid": API_KEY_SID, "api_key_secret": SecretStr("key-secret")})
    seen, handler = recording(httpx.Response(201, json=MESSAGE_CREATED))

    client_with(handler, creds=creds).send_sms("+5511987654321", "oi")
    assert seen[0].headers["authorization"] == basic(API_KEY_SID, "key-secret")
    assert seen[0].url.path == SENT_PATH


def test_a_messaging_service_replaces_from() -> None:
    creds = TwilioCredentials(account_sid=ACCOUNT_SID, auth_token=SecretStr("t"), messaging_service_sid=SERVICE_SID)
    seen, handler = recording(httpx.Response(201, json={**MESSAGE_CREATED, "status": "accepted", "from": None}))

    sent = client_with(handler, creds=creds).send_sms("+5511987654321", "oi")
    form = form_of(seen[0])
    assert form["MessagingServiceSid"] == [SERVICE_SID]
    assert "From" not in form
    assert sent.status == "accepted"


def test_status_callback_defaults_to_the_public_api_url(public_api_url: str) -> None:
    seen, handler = recording(httpx.Response(201, json=MESSAGE_CREATED))

    client_with(handler, org_id="demo").send_sms("+5511987654321", "oi")
    client_with(handler, org_id="demo").send_sms("+5511987654321", "oi", status_callback="https://other/cb")
    assert form_of(seen[0])["StatusCallback"] == [f"{public_api_url}/webhooks/twilio/demo"]
    assert form_of(seen[1])["StatusCallback"] == ["https://other/cb"]


def test_no_status_callback_without_a_public_api_url() -> None:
    seen, handler = recording(httpx.Response(201, json=MESSAGE_CREATED))

    client_with(handler, org_id="demo").send_sms("+5511987654321", "oi")
    assert "StatusCallback" not in form_of(seen[0])


@pytest.mark.parametrize(
    ("to", "body", "code"),
    [
        ("+5511987654321", "x" * 1601, "21617"),
        ("+5511987654321", "😀" * 801, "21617"),  # 1602 UTF-16 units
        ("+5511987654321", "   ", "21602"),
        ("11987654321", "oi", "invalid_phone"),
    ],
)
def test_invalid_messages_are_refused_before_calling_twilio(to: str, body: str, code: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("Twilio must not be called")

    with pytest.raises(InvalidRequestError) as info:
        client_with(handler).send_sms(to, body)
    assert info.value.code == code


def test_a_1600_character_body_is_sent() -> None:
    sent = client_with(lambda r: httpx.Response(201, json=MESSAGE_CREATED)).send_sms("+5511987654321", "x" * 1600)
    assert sent.message_id.startswith("SM")


@pytest.mark.parametrize(
    ("code", "twilio_message", "needle"),
    [
        (21211, "The 'To' number +5500000000000 is not a valid phone number.", "invalid 'To'"),
        (21610, "Attempt to send to unsubscribed recipient", "STOP"),
        (21408, "Permission to send an SMS has not been enabled for the region indicated by the 'To' number", "region"),
        (21614, "'To' number is not a valid mobile number", "mobile"),
        (21606, "The 'From' phone number provided is not a valid message-capable Twilio phone number", "From"),
    ],
)
def test_documented_400_errors_are_invalid_requests_with_their_code(
    code: int, twilio_message: str, needle: str
) -> None:
    body = twilio_error(code, 400, twilio_message)
    with pytest.raises(InvalidRequestError) as info:
        client_with(lambda r: httpx.Response(400, json=body)).send_sms("+5500000000000", "oi")
    assert info.value.code == str(code)
    assert info.value.http_status == 400
    assert needle in info.value.message
    # Twilio's own text echoes the recipient's number; ours does not.
    assert "+5500000000000" not in info.value.message


def test_unknown_error_codes_keep_twilios_message() -> None:
    body = twilio_error(21620, 400, "Invalid media URL(s)")
    with pytest.raises(InvalidRequestError) as info:
        client_with(lambda r: httpx.Response(400, json=body)).send_sms("+5511987654321", "oi")
    assert info.value.code == "21620"
    assert "Invalid media URL(s)" in info.value.message


def test_bad_credentials_are_an_authentication_error() -> None:
    body = twilio_error(20003, 401, "Authenticate")
    with pytest.raises(AuthenticationError) as info:
        client_with(lambda r: httpx.Response(401, json=body)).send_sms("+5511987654321", "oi")
    assert info.value.code == "20003"


def test_too_many_requests_is_rate_limited_with_retry_after() -> None:
    body = twilio_error(20429, 429, "Too Many Requests")
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(429, json=body, headers={"Retry-After": "7"})

    with pytest.raises(RateLimitedError) as info:
        client_with(handler).send_sms("+5511987654321", "oi")
    assert info.value.retry_after == 7
    assert info.value.code == "20429"


def test_a_full_sender_queue_is_rate_limited_not_invalid() -> None:
    body = twilio_error(21611, 400, "This 'From' number has exceeded the maximum number of queued messages")
    with pytest.raises(RateLimitedError) as info:
        client_with(lambda r: httpx.Response(400, json=body)).send_sms("+5511987654321", "oi")
    assert info.value.code == "21611"
    assert info.value.retry_after > 0


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_retried_then_unavailable(status: int) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(status, json=twilio_error(20500, status, "Internal Server Error"))

    with pytest.raises(ProviderUnavailableError):
        client_with(handler).send_sms("+5511987654321", "oi")
    assert len(calls) == 2  # one quick retry, then fail over (hub.retry)


def test_a_201_without_sid_is_not_reported_as_sent() -> None:
    with pytest.raises(ProviderUnavailableError):
        client_with(lambda r: httpx.Response(201, json={"status": "queued"})).send_sms("+5511987654321", "oi")


def test_health_check_fetches_the_account_and_requires_it_active() -> None:
    seen, active = recording(httpx.Response(200, json={"sid": ACCOUNT_SID, "status": "active"}))

    client_with(active).health_check()
    assert seen[0].method == "GET"
    assert seen[0].url.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}.json"
    suspended = {"sid": ACCOUNT_SID, "status": "suspended"}
    with pytest.raises(AuthenticationError, match="status=suspended"):
        client_with(lambda r: httpx.Response(200, json=suspended)).health_check()


BASE_SECRET = {"account_sid": ACCOUNT_SID, "auth_token": "super-secret-value", "from_number": "+5511940000000"}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"from_number": None}, "messaging_service_sid"),
        ({"account_sid": "not-a-sid"}, "account_sid"),
        ({"api_key_sid": API_KEY_SID}, "api_key_secret"),
        ({"from_number": "11 94000-0000"}, "from_number"),
    ],
)
def test_malformed_credentials_name_the_field_but_not_the_value(overrides: dict[str, Any], field: str) -> None:
    raw = {k: v for k, v in {**BASE_SECRET, **overrides}.items() if v is not None}
    with pytest.raises(ConfigurationError) as info:
        TwilioClient.parse_credentials(raw)
    assert field in info.value.message
    assert "super-secret-value" not in info.value.message


# ----- webhook signature ---------------------------------------------------------------------

# Twilio's worked example (https://www.twilio.com/docs/usage/security#validating-requests):
# auth token 12345, this URL and these POST parameters sign to RSOYDt4T1cUTdK1PDd93/VVr8B8=.
DOC_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
DOC_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}
DOC_SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_signature_matches_twilios_documented_example() -> None:
    assert compute_twilio_signature("12345", DOC_URL, DOC_PARAMS) == DOC_SIGNATURE
    # The order the parameters arrive in does not matter: they are sorted by name.
    assert compute_twilio_signature("12345", DOC_URL, list(reversed(DOC_PARAMS.items()))) == DOC_SIGNATURE


def test_the_documented_example_verifies_but_is_refused_without_this_orgs_account_sid() -> None:
    request = raw_webhook(DOC_PARAMS, signature=DOC_SIGNATURE, path="/myapp.php", url=DOC_URL)
    secret = {"account_sid": ACCOUNT_SID, "auth_token": "12345", "from_number": "+5511940000000"}
    with pytest.raises(WebhookAuthenticationError, match="AccountSid"):
        verify_twilio_webhook(request, secret)


WEBHOOK_BASE = "https://api.example.com/Prod"
SECRET: dict[str, Any] = {
    "account_sid": ACCOUNT_SID,
    "auth_token": "auth-token-current",
    "previous_auth_token": "auth-token-previous",
    "from_number": "+5511940000000",
    "webhook_base_url": WEBHOOK_BASE + "/",
}
PATH = "/webhooks/twilio/demo"

STATUS_CALLBACK = {
    "AccountSid": ACCOUNT_SID,
    "ApiVersion": "2010-04-01",
    "From": "+5511940000000",
    "MessageSid": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
    "MessageStatus": "delivered",
    "SmsSid": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
    "SmsStatus": "delivered",
    "To": "+5511987654321",
}


def raw_webhook(
    params: dict[str, str],
    *,
    signature: str | None,
    path: str = PATH,
    url: str = "",
    query: dict[str, str] | None = None,
    body: bytes | None = None,
) -> RawWebhook:
    headers = {"content-type": "application/x-www-form-urlencoded"}
    if signature is not None:
        headers["x-twilio-signature"] = signature
    encoded = urlencode(params).encode() if body is None else body
    return webhook("twilio", encoded, headers, path=path, url=url, query=query, received_at=datetime.now(UTC))


CURRENT_TOKEN = SECRET["auth_token"]


def signed(params: dict[str, str], token: str = CURRENT_TOKEN, url: str = WEBHOOK_BASE + PATH) -> RawWebhook:
    return raw_webhook(params, signature=compute_twilio_signature(token, url, params))


@pytest.mark.parametrize("token", ["auth-token-current", "auth-token-previous"])
def test_webhook_accepts_the_current_and_previous_auth_token(token: str) -> None:
    verify_twilio_webhook(signed(STATUS_CALLBACK, token), SECRET)


def test_api_key_credentials_do_not_change_webhook_signing() -> None:
    secret = {**SECRET, "api_key_sid": API_KEY_SID, "api_key_secret": "key-secret"}
    verify_twilio_webhook(signed(STATUS_CALLBACK), secret)
    with pytest.raises(WebhookAuthenticationError):
        verify_twilio_webhook(signed(STATUS_CALLBACK, token="key-secret"), secret)


def test_webhook_signed_with_another_token_is_rejected() -> None:
    with pytest.raises(WebhookAuthenticationError, match="invalid"):
        verify_twilio_webhook(signed(STATUS_CALLBACK, "someone-elses-token"), SECRET)


def test_tampered_parameter_is_rejected() -> None:
    request = signed(STATUS_CALLBACK)
    tampered = raw_webhook(
        {**STATUS_CALLBACK, "MessageStatus": "failed"}, signature=request.header("x-twilio-signature")
    )
    with pytest.raises(WebhookAuthenticationError):
        verify_twilio_webhook(tampered, SECRET)


def test_an_added_parameter_is_rejected() -> None:
    request = signed(STATUS_CALLBACK)
    extra = raw_webhook({**STATUS_CALLBACK, "ErrorCode": "30003"}, signature=request.header("x-twilio-signature"))
    with pytest.raises(WebhookAuthenticationError):
        verify_twilio_webhook(extra, SECRET)


def test_missing_signature_header_is_rejected() -> None:
    with pytest.raises(WebhookAuthenticationError, match="missing"):
        verify_twilio_webhook(raw_webhook(STATUS_CALLBACK, signature=None), SECRET)


def test_a_correctly_signed_callback_of_another_account_is_rejected() -> None:
    other = {**STATUS_CALLBACK, "AccountSid": "AC" + "f" * 32}
    with pytest.raises(WebhookAuthenticationError, match="AccountSid"):
        verify_twilio_webhook(signed(other), SECRET)


def test_a_body_that_is_not_a_form_is_rejected() -> None:
    request = raw_webhook({}, signature="x", body=b'{"MessageSid": "SM1"}')
    with pytest.raises(WebhookAuthenticationError):
        verify_twilio_webhook(request, SECRET)


def test_the_signed_url_includes_the_query_string() -> None:
    url = WEBHOOK_BASE + PATH + "?tenant=a"
    request = raw_webhook(
        STATUS_CALLBACK,
        signature=compute_twilio_signature("auth-token-current", url, STATUS_CALLBACK),
        query={"tenant": "a"},
    )
    verify_twilio_webhook(request, SECRET)
    stripped = raw_webhook(STATUS_CALLBACK, signature=request.header("x-twilio-signature"))
    with pytest.raises(WebhookAuthenticationError):
        verify_twilio_webhook(stripped, SECRET)


def test_a_signature_over_the_url_with_the_default_port_is_accepted() -> None:
    # Twilio's SDK validators accept the URL with and without :443.
    url = "https://api.example.com:443/Prod" + PATH
    request = raw_webhook(
        STATUS_CALLBACK, signature=compute_twilio_signature("auth-token-current", url, STATUS_CALLBACK)
    )
    verify_twilio_webhook(request, SECRET)


def test_without_webhook_base_url_the_public_api_url_is_signed(public_api_url: str) -> None:
    secret = {k: v for k, v in SECRET.items() if k != "webhook_base_url"}
    url = public_api_url + PATH
    request = raw_webhook(
        STATUS_CALLBACK,
        signature=compute_twilio_signature("auth-token-current", url, STATUS_CALLBACK),
        url="https://wrong.example.com" + PATH,
    )
    verify_twilio_webhook(request, secret)


def test_without_any_configured_url_the_rebuilt_request_url_is_signed() -> None:
    secret = {k: v for k, v in SECRET.items() if k != "webhook_base_url"}
    url = "https://abc.execute-api.us-east-1.amazonaws.com/Prod" + PATH
    good = raw_webhook(
        STATUS_CALLBACK, signature=compute_twilio_signature("auth-token-current", url, STATUS_CALLBACK), url=url
    )
    verify_twilio_webhook(good, secret)
    # The configured base URL wins over what API Gateway saw (a custom domain, a proxy).
    with pytest.raises(WebhookAuthenticationError):
        verify_twilio_webhook(good, SECRET)


# ----- twilio-python's RequestValidator as the reference ---------------------------------------
# Vendored from twilio/twilio-python, twilio/request_validator.py (commit 306691e7, Aug 2026):
# compute_signature sorts the parameter names and, for each, ``sorted(set(values))`` (Flask's
# MultiDict.getall / Django's QueryDict.getlist give every value); validate() checks the URL
# exactly as given, with add_port and remove_port.


class _MultiDict:
    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs

    def __iter__(self) -> Any:
        return iter([name for name, _ in self.pairs])

    def getall(self, name: str) -> list[str]:
        return [value for key, value in self.pairs if key == name]


def reference_signature(token: str, uri: str, params: _MultiDict) -> str:
    s = uri
    for param_name in sorted(set(params)):
        for value in sorted(set(params.getall(param_name))):
            s += param_name + value
    mac = hmac.new(token.encode("utf-8"), s.encode("utf-8"), sha1)
    return base64.b64encode(mac.digest()).decode("utf-8").strip()


def api_gateway_twilio_event(
    pairs: list[tuple[str, str]], *, signature: str, multi_query: dict[str, list[str]], raw_query: str | None = None
) -> dict[str, Any]:
    event = api_event(
        "POST",
        PATH,
        resource="/webhooks/twilio/{org_id}",
        path_parameters={"org_id": "demo"},
        body=urlencode(pairs),
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
        query={name: values[-1] for name, values in multi_query.items()},
    )
    # What API Gateway (REST) sends: every value of a repeated parameter, decoded.
    event["multiValueQueryStringParameters"] = multi_query
    if raw_query is not None:
        event["rawQueryString"] = raw_query
    return event


# An inbound MMS posts one MediaUrlN per item; a repeated name (with a repeated value) is legal
# in a form and Twilio signs each distinct value once.
REPEATED = [*STATUS_CALLBACK.items(), ("Tag", "b"), ("Tag", "a"), ("Tag", "b")]


def test_repeated_form_values_are_deduplicated_and_sorted_as_twilio_python_does() -> None:
    # Given a body with a repeated name and a repeated value, signed by twilio-python's algorithm
    url = WEBHOOK_BASE + PATH
    signature = reference_signature(CURRENT_TOKEN, url, _MultiDict(REPEATED))
    headers = {"x-twilio-signature": signature}
    request = webhook("twilio", urlencode(REPEATED), headers, path=PATH, received_at=datetime.now(UTC))
    # Then it verifies, and our signature is twilio-python's
    verify_twilio_webhook(request, SECRET)
    assert compute_twilio_signature(CURRENT_TOKEN, url, REPEATED) == signature


@pytest.mark.parametrize(
    ("query_string", "multi_query"),
    [
        # %20 (not +) for a space, a repeated parameter, an unescaped URL in a value
        (
            "tenant=a%20b&tag=x&tag=y&next=https://x.example/y",
            {"tenant": ["a b"], "tag": ["x", "y"], "next": ["https://x.example/y"]},
        ),
        # form encoding, with a value containing '+' and '&'
        ("q=a+b&sig=%2B55%261", {"q": ["a b"], "sig": ["+55&1"]}),
    ],
)
def test_the_query_string_twilio_called_is_verified_not_a_re_encoded_one(
    query_string: str, multi_query: dict[str, list[str]]
) -> None:
    # Given Twilio called a URL configured with an unusual query string
    url = WEBHOOK_BASE + PATH + "?" + query_string
    signature = reference_signature(CURRENT_TOKEN, url, _MultiDict(REPEATED))
    event = api_gateway_twilio_event(REPEATED, signature=signature, multi_query=multi_query)
    # When API Gateway hands it over (decoded, multi-value parameters)
    request = RawWebhook.from_api_gateway(event, provider="twilio", org_id="demo", received_at=datetime.now(UTC))
    # Then the signature verifies
    verify_twilio_webhook(request, SECRET)


def test_a_raw_query_string_is_checked_byte_for_byte() -> None:
    # An encoding no re-encoding would produce (%7e for '~', %41 for 'A'): only the raw string matches.
    query_string = "b=%7e&a=%41"
    url = WEBHOOK_BASE + PATH + "?" + query_string
    signature = reference_signature(CURRENT_TOKEN, url, _MultiDict(REPEATED))
    event = api_gateway_twilio_event(
        REPEATED, signature=signature, multi_query={"b": ["~"], "a": ["A"]}, raw_query=query_string
    )
    request = RawWebhook.from_api_gateway(event, provider="twilio", org_id="demo", received_at=datetime.now(UTC))
    verify_twilio_webhook(request, SECRET)
    # and a query Twilio did not call does not
    forged = api_gateway_twilio_event(
        REPEATED, signature=signature, multi_query={"b": ["~"], "a": ["B"]}, raw_query="b=%7e&a=B"
    )
    with pytest.raises(WebhookAuthenticationError):
        verify_twilio_webhook(
            RawWebhook.from_api_gateway(forged, provider="twilio", org_id="demo", received_at=datetime.now(UTC)),
            SECRET,
        )


@pytest.mark.parametrize("host", ["api.example.com", "api.example.com:443"])
def test_twilio_python_port_variants_verify(host: str) -> None:
    # validate() accepts the signature over the URL with or without the default port.
    url = f"https://{host}/Prod{PATH}?tenant=a"
    signature = reference_signature(CURRENT_TOKEN, url, _MultiDict(REPEATED))
    event = api_gateway_twilio_event(REPEATED, signature=signature, multi_query={"tenant": ["a"]})
    request = RawWebhook.from_api_gateway(event, provider="twilio", org_id="demo", received_at=datetime.now(UTC))
    verify_twilio_webhook(request, SECRET)


# ----- form parsing ----------------------------------------------------------------------------


def test_parse_twilio_form_decodes_and_keeps_the_first_of_repeated_keys() -> None:
    body = b"Body=Ol%C3%A1+mundo%21&To=%2B5511940000000&Body=second&Empty="
    assert parse_twilio_form(body) == {"Body": "Olá mundo!", "To": "+5511940000000", "Empty": ""}


@pytest.mark.parametrize("body", [b"\xff\xfe", b"Body=%FF", b"not a form", b"a=1&b"])
def test_parse_twilio_form_refuses_garbage(body: bytes) -> None:
    with pytest.raises(ValueError):
        parse_twilio_form(body)


def test_twiml_answer_is_an_empty_response() -> None:
    assert TWIML_EMPTY_RESPONSE == '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


# ----- normalisation ---------------------------------------------------------------------------

RECEIVED_AT = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def normalise(payload: dict[str, str]) -> list[Any]:
    return normalise_twilio_webhook(payload, org_id="demo", received_at=RECEIVED_AT, raw_ref="raw/t.json")


@pytest.mark.parametrize(
    ("twilio_status", "ours"),
    [
        ("accepted", "queued"),
        ("scheduled", "queued"),
        ("queued", "queued"),
        ("sending", "queued"),
        ("sent", "sent"),
        ("delivered", "delivered"),
        ("read", "read"),
        ("undelivered", "failed"),
        ("failed", "failed"),
        ("canceled", "failed"),
    ],
)
def test_status_callbacks_map_to_message_status(twilio_status: str, ours: str) -> None:
    [event] = normalise({**STATUS_CALLBACK, "MessageStatus": twilio_status, "SmsStatus": twilio_status})
    assert event.type == "message.status"
    assert event.provider == "twilio"
    assert event.data["status"] == ours
    assert event.data["channel"] == "sms"
    assert event.data["message_id"] == "SM1f0e8ae6ade43cb3c0ce4525424e404f"
    assert event.data["recipient"] == "+5511987654321"
    assert event.dedupe_key == f"SM1f0e8ae6ade43cb3c0ce4525424e404f:{twilio_status}"


def test_each_status_of_a_message_is_a_distinct_event_and_replays_are_stable() -> None:
    [sent] = normalise({**STATUS_CALLBACK, "MessageStatus": "sent"})
    [delivered] = normalise(STATUS_CALLBACK)
    [again] = normalise_twilio_webhook(STATUS_CALLBACK, org_id="demo", received_at=datetime.now(UTC), raw_ref="raw/x")
    assert sent.event_id != delivered.event_id
    assert again.event_id == delivered.event_id


def test_a_failed_delivery_carries_the_error_code_and_its_meaning() -> None:
    [event] = normalise({**STATUS_CALLBACK, "MessageStatus": "undelivered", "ErrorCode": "30003"})
    assert event.data["status"] == "failed"
    assert event.data["error_code"] == "30003"
    assert "unreachable" in event.data["error_message"]
    [unknown] = normalise({**STATUS_CALLBACK, "MessageStatus": "failed", "ErrorCode": "39999"})
    assert unknown.data["error_code"] == "39999"
    assert unknown.data["error_message"] is None


def test_other_statuses_produce_no_event() -> None:
    assert normalise({**STATUS_CALLBACK, "MessageStatus": "partially_delivered"}) == []
    assert normalise({**STATUS_CALLBACK, "MessageStatus": "receiving"}) == []


INBOUND_SMS = {
    "ToCountry": "BR",
    "ToState": "SP",
    "SmsMessageSid": "SM9a3c5d8f1e2b4c6d7e8f9a0b1c2d3e4f",
    "NumMedia": "0",
    "ToCity": "",
    "FromZip": "",
    "SmsSid": "SM9a3c5d8f1e2b4c6d7e8f9a0b1c2d3e4f",
    "FromState": "SP",
    "SmsStatus": "received",
    "FromCity": "SAO PAULO",
    "Body": "Quero remarcar minha consulta",
    "FromCountry": "BR",
    "To": "+5511940000000",
    "MessagingServiceSid": SERVICE_SID,
    "ToZip": "",
    "NumSegments": "1",
    "MessageSid": "SM9a3c5d8f1e2b4c6d7e8f9a0b1c2d3e4f",
    "AccountSid": ACCOUNT_SID,
    "From": "+5511987654321",
    "ApiVersion": "2010-04-01",
}


def test_an_inbound_sms_becomes_message_received() -> None:
    [event] = normalise(INBOUND_SMS)
    assert event.type == "message.received"
    assert event.provider == "twilio"
    assert event.dedupe_key == "SM9a3c5d8f1e2b4c6d7e8f9a0b1c2d3e4f"
    assert event.raw_ref == "raw/t.json"
    assert event.data == {
        "channel": "sms",
        "message_id": "SM9a3c5d8f1e2b4c6d7e8f9a0b1c2d3e4f",
        "from_address": "+5511987654321",
        "from_name": None,
        "message_type": "text",
        "text": "Quero remarcar minha consulta",
        "media_url": None,
        "instance": None,
    }


def test_an_inbound_mms_is_a_media_message() -> None:
    media = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/SM9a/Media/ME1"
    [event] = normalise(
        {**INBOUND_SMS, "NumMedia": "1", "Body": "", "MediaUrl0": media, "MediaContentType0": "image/jpeg"}
    )
    assert event.data["message_type"] == "media"
    assert event.data["media_url"] == media
    assert event.data["text"] is None


def test_a_whatsapp_message_through_twilio_keeps_its_channel() -> None:
    [event] = normalise({**INBOUND_SMS, "From": "whatsapp:+5511987654321", "To": "whatsapp:+5511940000000"})
    assert event.data["channel"] == "whatsapp"
    assert event.data["from_address"] == "+5511987654321"


def test_a_webhook_without_message_sid_is_invalid() -> None:
    payload = {k: v for k, v in STATUS_CALLBACK.items() if k != "MessageSid"}
    with pytest.raises(InvalidRequestError):
        normalise(payload)
