"""Static PIX BR Code against the Banco Central's "Manual de Padrões para Iniciação do Pix"."""

from __future__ import annotations

from typing import Any

import pytest

from hub.errors import InvalidRequestError
from hub.payments.pix import crc16_ccitt_false, format_amount, parse_brcode, parse_tlv, static_brcode

# The manual's example of a static BR Code (random key, no amount, no txid), CRC 1D3D.
MANUAL_EXAMPLE = (
    "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000"
    "5204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D"
)
KEY = "123e4567-e12b-12d1-a456-426655440000"


def test_crc16_ccitt_false_check_value() -> None:
    # The catalogued check value of CRC-16/CCITT-FALSE over "123456789".
    assert crc16_ccitt_false(b"123456789") == 0x29B1


def test_reproduces_the_manual_example_byte_for_byte() -> None:
    assert static_brcode(KEY, "Fulano de Tal", "BRASILIA", None, "***") == MANUAL_EXAMPLE
    assert f"{crc16_ccitt_false(MANUAL_EXAMPLE[:-4].encode()):04X}" == "1D3D"


def test_charge_brcode_fields_and_lengths() -> None:
    payload = static_brcode(
        "+5511943214321",
        "Agência São João Comunicação Ltda",
        "São José dos Campos",
        123456,
        "CHG2026ABC123",
        description="Cobrança — março",
    )
    fields = parse_brcode(payload)  # also checks the CRC
    assert list(fields) == ["00", "26", "52", "53", "54", "58", "59", "60", "62", "63"]
    assert fields["00"] == "01"
    assert parse_tlv(fields["26"]) == {"00": "br.gov.bcb.pix", "01": "+5511943214321", "02": "Cobranca marco"}
    assert (fields["52"], fields["53"], fields["54"], fields["58"]) == ("0000", "986", "1234.56", "BR")
    assert fields["59"] == "Agencia Sao Joao Comunica"  # folded to ASCII, 25 characters
    assert len(fields["59"]) == 25
    assert fields["60"] == "Sao Jose dos Ca"  # 15 characters
    assert parse_tlv(fields["62"]) == {"05": "CHG2026ABC123"}
    assert payload.isascii()
    assert payload.endswith("6304" + fields["63"]) and fields["63"] == fields["63"].upper() and len(fields["63"]) == 4


@pytest.mark.parametrize(
    ("cents", "text"),
    [(1, "0.01"), (10, "0.10"), (100, "1.00"), (123456, "1234.56"), (999_999_999_999, "9999999999.99")],
)
def test_amount_is_formatted_exactly_from_centavos(cents: int, text: str) -> None:
    assert format_amount(cents) == text
    assert parse_brcode(static_brcode(KEY, "Loja", "Recife", cents, "T1"))["54"] == text


@pytest.mark.parametrize("cents", [0, -1, True, 1_000_000_000_000])
def test_bad_amounts_are_refused(cents: Any) -> None:
    with pytest.raises(InvalidRequestError, match="amount_cents"):
        static_brcode(KEY, "Loja", "Recife", cents, "T1")


@pytest.mark.parametrize("txid", ["", "A" * 26, "CHG-1", "chg 1", "ção1", "**"])
def test_bad_txids_are_refused(txid: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        static_brcode(KEY, "Loja", "Recife", 100, txid)
    assert info.value.code == "invalid_txid"


def test_longest_txid_is_accepted() -> None:
    fields = parse_brcode(static_brcode(KEY, "Loja", "Recife", 100, "A" * 25))
    assert parse_tlv(fields["62"]) == {"05": "A" * 25}


@pytest.mark.parametrize(
    ("name", "city", "field"),
    [("", "Recife", "merchant_name"), ("Loja", "   ", "merchant_city"), ("☺★", "Recife", "merchant_name")],
)
def test_empty_name_or_city_is_refused(name: str, city: str, field: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        static_brcode(KEY, name, city, 100, "T1")
    assert info.value.message.startswith(field)


@pytest.mark.parametrize(
    "key",
    [
        "52998224725",  # CPF
        "11222333000181",  # CNPJ
        "12ABC34501DE35",  # alphanumeric CNPJ
        "+5548999990000",
        "financeiro@agencia.com.br",
        KEY,
    ],
)
def test_every_key_type_is_accepted(key: str) -> None:
    account = parse_tlv(parse_brcode(static_brcode(key, "Loja", "Recife", 100, "T1"))["26"])
    assert account["01"] == key


@pytest.mark.parametrize(
    "key",
    [
        "",
        "52998224724",
        "Financeiro@Agencia.com.br",
        "5548999990000",
        "not a key",
        "123E4567-E12B-12D1-A456-426655440000",
    ],
)
def test_bad_keys_are_refused(key: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        static_brcode(key, "Loja", "Recife", 100, "T1")
    assert "pix_key" in info.value.message


def test_long_description_is_cut_to_fit_the_merchant_account_template() -> None:
    payload = static_brcode("financeiro@agencia.com.br", "Loja", "Recife", 100, "T1", description="x" * 200)
    template = parse_brcode(payload)["26"]
    assert len(template) == 99
    assert parse_tlv(template)["02"] == "x" * (99 - 18 - 29 - 4)


def test_tampered_payload_fails_the_crc_check() -> None:
    tampered = MANUAL_EXAMPLE.replace("Fulano", "Fulana")
    with pytest.raises(InvalidRequestError, match="CRC"):
        parse_brcode(tampered)
