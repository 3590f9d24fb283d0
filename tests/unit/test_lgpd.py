"""Finding a contact in stored text: every form the phone and email are stored in (hub.lgpd)."""

from __future__ import annotations

import base64
import json

import pytest

from hub import lgpd
from hub.errors import InvalidRequestError

IDS = lgpd.identifiers("(11) 98765-4321", "Maria.Silva@Example.com.br")


@pytest.mark.parametrize(
    "text",
    [
        '{"to": "+5511987654321"}',
        "5511987654321@s.whatsapp.net",
        "551187654321@s.whatsapp.net",  # legacy JID without the mobile 9
        "ligue (11) 98765-4321",
        "11987654321",
        "+55 11 98765 4321",
        "To=%2B5511987654321&Body=Oi",
        '{"to": ["MARIA.SILVA@example.com.br"]}',
        "email=maria.silva%40example.com.br",
        "to=Maria%20%3Cmaria.silva%40example.com.br%3E",
        "wamid." + base64.b64encode(b"\x15\x02\x00\x115511987654321\x15\x02").decode(),
    ],
)
def test_every_stored_form_of_the_contact_is_found_and_masked(text: str) -> None:
    assert IDS.found_in(text)
    masked = IDS.mask(text)
    assert not IDS.found_in(masked) and lgpd.ERASED in masked


@pytest.mark.parametrize(
    "text",
    [
        "+5511987654320",
        "55119876543210",
        "11 98765-4320",
        "ana.silva@example.com.br",
        "maria.silva@example.com",
        "ana.maria.silva@example.com.br",
        "maria.silva@example.com.br.evil.com",
    ],
)
def test_other_numbers_and_addresses_are_not_the_contact(text: str) -> None:
    assert not IDS.found_in(text)


def test_json_stays_json_when_a_number_is_the_phone() -> None:
    masked = lgpd._Matcher(IDS).mask_text('{"wa_id": 5511987654321, "to": "+5511987654321", "n": 3}')
    assert json.loads(masked) == {"wa_id": lgpd.ERASED, "to": lgpd.ERASED, "n": 3}


def test_the_contact_hash_is_stable_and_names_neither_phone_nor_email() -> None:
    digest = lgpd.contact_hash("demo", IDS)
    assert digest == lgpd.contact_hash("demo", lgpd.identifiers("+5511987654321", "maria.silva@EXAMPLE.com.br"))
    assert digest != lgpd.contact_hash("acme", IDS) and "98765" not in digest


def test_the_request_needs_a_phone_or_an_email() -> None:
    with pytest.raises(ValueError, match="phone, email or both"):
        lgpd.ContactEraseRequest.model_validate({"org_id": "demo", "contact": {}, "actor": "dpo"})
    with pytest.raises(InvalidRequestError, match=r"contact\.phone"):
        lgpd.identifiers("123", None)
