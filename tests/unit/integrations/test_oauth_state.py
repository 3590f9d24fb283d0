"""The OAuth flow's pieces that need no AWS: the signed state and PKCE (RFC 7636)."""

from __future__ import annotations

import base64
import json
import re

import pytest

from hub.errors import InvalidRequestError
from hub.integrations.oauth import FlowState, code_challenge, new_code_verifier, sign_state, verify_state

KEY = b"k" * 32
ISSUED = 1_790_000_000  # a fixed instant: the tests never read today's clock
STATE = FlowState("demo", "google", "ana@somosprodutora.com.br", "nonce-1", ISSUED + 600)


def test_the_rfc_7636_appendix_b_vector() -> None:
    # https://datatracker.ietf.org/doc/html/rfc7636#appendix-B
    octets = bytes([116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186])
    octets += bytes([22, 212, 37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121])
    verifier = base64.urlsafe_b64encode(octets).rstrip(b"=").decode()
    assert verifier == "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert code_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_a_code_verifier_is_43_to_128_unreserved_characters_and_new_each_time() -> None:
    first, second = new_code_verifier(), new_code_verifier()
    assert re.fullmatch(r"[A-Za-z0-9\-._~]{43,128}", first)
    assert first != second


def test_a_signed_state_verifies_within_its_ten_minutes() -> None:
    token = sign_state(STATE, KEY)
    assert verify_state(token, KEY, provider="google", now=ISSUED + 599) == STATE


def test_an_expired_state_is_refused() -> None:
    token = sign_state(STATE, KEY)
    with pytest.raises(InvalidRequestError) as info:
        verify_state(token, KEY, provider="google", now=ISSUED + 601)
    assert info.value.code == "state_expired"


def _tampered(token: str, **changes: object) -> str:
    payload, mac = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data.update(changes)
    forged = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=").decode()
    return f"{forged}.{mac}"


@pytest.mark.parametrize(
    "token",
    [
        _tampered(sign_state(STATE, KEY), o="acme"),  # another org
        _tampered(sign_state(STATE, KEY), x=ISSUED + 99_999),  # a longer life
        sign_state(STATE, b"x" * 32),  # signed with another key
        sign_state(STATE, KEY)[:-4] + "AAAA",  # a broken signature
        "not-a-state",
        "",
    ],
)
def test_a_tampered_or_foreign_state_is_refused(token: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        verify_state(token, KEY, provider="google", now=ISSUED)
    assert info.value.code == "invalid_state"


def test_a_state_issued_for_one_provider_does_not_complete_another() -> None:
    with pytest.raises(InvalidRequestError) as info:
        verify_state(sign_state(STATE, KEY), KEY, provider="canva", now=ISSUED)
    assert info.value.code == "invalid_state"


def test_the_callback_page_never_echoes_markup_from_the_provider_error() -> None:
    from hub.integrations.oauth import callback

    page = callback("google", {"error": "<script>alert(1)</script>"})

    assert page.status == 400
    assert "<script>" not in page.html() and "alert(1)" not in page.html()
