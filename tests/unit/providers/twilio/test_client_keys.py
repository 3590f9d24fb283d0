"""TwilioClient as CredentialRotator: API keys through the Key resource v2010.

https://www.twilio.com/docs/usage/api/keys: POST /2010-04-01/Accounts/{AccountSid}/Keys.json
(FriendlyName ≤ 64) → 201 ``{sid, friendly_name, date_created, date_updated, secret}``; DELETE
…/Keys/{Sid}.json → 204; a Standard key cannot call them (account SID + auth token only).
"""

from __future__ import annotations

import base64
from urllib.parse import parse_qs

import httpx
import pytest
from pydantic import SecretStr

from hub.errors import InvalidRequestError, ProviderUnavailableError
from hub.providers.twilio.client import KEY_FRIENDLY_NAME_MAX, TwilioClient, TwilioCredentials
from tests.helpers import AdapterFactory, recording

ACCOUNT_SID = "AC" + "a" * 32
OLD_KEY_SID = "SK" + "b" * 32
NEW_KEY_SID = "SK" + "d" * 32
CREDS = TwilioCredentials(
    account_sid=ACCOUNT_SID,
    auth_token=SecretStr("auth-token-current"),
    api_key_sid=OLD_KEY_SID,
    api_key_secret=SecretStr("old-key-secret"),
    from_number="+5511940000000",
)
KEYS_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Keys.json"
ACCOUNT_AUTH = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:auth-token-current".encode()).decode()
NEW_KEY = {
    "sid": NEW_KEY_SID,
    "friendly_name": "hub acme",
    "date_created": "Thu, 03 Dec 2026 13:00:00 +0000",
    "date_updated": "Thu, 03 Dec 2026 13:00:00 +0000",
    "secret": "new-key-secret-value",
}

client_with = AdapterFactory(TwilioClient, CREDS, attempts=3)


def test_issue_credentials_creates_a_standard_key_with_the_account_credentials() -> None:
    seen, handler = recording(httpx.Response(201, json=NEW_KEY))

    issued = client_with(handler, org_id="acme").issue_credentials()

    (request,) = seen
    assert (request.method, request.url.path) == ("POST", KEYS_PATH)
    # The Keys resource refuses Standard keys: the account SID and auth token authenticate it,
    # even though the adapter otherwise calls with its API key
    assert request.headers["authorization"] == ACCOUNT_AUTH
    name = parse_qs(request.content.decode())["FriendlyName"][0]
    assert name.startswith("hub acme ") and len(name) <= KEY_FRIENDLY_NAME_MAX
    assert issued == {"api_key_sid": NEW_KEY_SID, "api_key_secret": "new-key-secret-value"}


def test_the_issued_key_is_what_the_adapter_then_authenticates_with() -> None:
    issued = client_with(lambda r: httpx.Response(201, json=NEW_KEY)).issue_credentials()
    rotated = TwilioClient.parse_credentials(
        {**CREDS.model_dump(mode="json"), "auth_token": "auth-token-current", **issued}
    )
    header = TwilioClient(rotated).auth_headers()["Authorization"]
    assert base64.b64decode(header.split()[1]).decode() == f"{NEW_KEY_SID}:new-key-secret-value"


def test_a_failed_issue_is_not_retried_it_could_create_two_keys() -> None:
    seen, handler = recording(
        httpx.Response(503, json={"code": 20503, "message": "Service unavailable", "status": 503})
    )
    with pytest.raises(ProviderUnavailableError):
        client_with(handler).issue_credentials()
    assert len(seen) == 1


def test_revoke_credentials_deletes_the_previous_key_and_a_key_already_gone_is_done() -> None:
    rotated = CREDS.model_copy(update={"api_key_sid": NEW_KEY_SID, "api_key_secret": SecretStr("new-key-secret-value")})
    seen, handler = recording(httpx.Response(204))
    client_with(handler, creds=rotated).revoke_credentials({"api_key_sid": OLD_KEY_SID, "api_key_secret": "x"})
    (request,) = seen
    assert (request.method, request.url.path) == (
        "DELETE",
        f"/2010-04-01/Accounts/{ACCOUNT_SID}/Keys/{OLD_KEY_SID}.json",
    )
    assert request.headers["authorization"] == ACCOUNT_AUTH

    gone = httpx.Response(404, json={"code": 20404, "message": "not found", "status": 404})
    client_with(lambda r: gone, creds=rotated).revoke_credentials({"api_key_sid": OLD_KEY_SID})


def test_nothing_is_revoked_for_an_auth_token_only_secret_nor_the_key_in_use() -> None:
    seen, handler = recording(httpx.Response(204))
    client_with(handler).revoke_credentials({"account_sid": ACCOUNT_SID, "auth_token": "t"})
    with pytest.raises(InvalidRequestError) as info:
        client_with(handler).revoke_credentials({"api_key_sid": OLD_KEY_SID})
    assert info.value.code == "revoke_current_key"
    with pytest.raises(InvalidRequestError):
        client_with(handler).revoke_credentials({"api_key_sid": "../Messages"})
    assert seen == []
