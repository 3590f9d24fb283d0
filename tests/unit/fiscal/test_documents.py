"""CPF and CNPJ normalisation, including the alphanumeric CNPJ (IN RFB 2.229/2024)."""

from __future__ import annotations

import pytest

from hub.documents import TaxId, is_valid_tax_id, normalise_tax_id
from hub.errors import InvalidRequestError


@pytest.mark.parametrize(
    ("raw", "kind", "value", "formatted"),
    [
        # The Receita Federal's example of an alphanumeric CNPJ.
        ("12.ABC.345/01DE-35", "CNPJ", "12ABC34501DE35", "12.ABC.345/01DE-35"),
        ("12ABC34501DE35", "CNPJ", "12ABC34501DE35", "12.ABC.345/01DE-35"),
        ("12.abc.345/01de-35", "CNPJ", "12ABC34501DE35", "12.ABC.345/01DE-35"),
        (" 12 ABC 345 01DE 35 ", "CNPJ", "12ABC34501DE35", "12.ABC.345/01DE-35"),
        # Classic numeric CNPJ and CPF.
        ("11.222.333/0001-81", "CNPJ", "11222333000181", "11.222.333/0001-81"),
        ("11222333000181", "CNPJ", "11222333000181", "11.222.333/0001-81"),
        ("529.982.247-25", "CPF", "52998224725", "529.982.247-25"),
        ("52998224725", "CPF", "52998224725", "529.982.247-25"),
    ],
)
def test_valid_ids_are_normalised(raw: str, kind: str, value: str, formatted: str) -> None:
    tax_id = normalise_tax_id(raw)
    assert (tax_id.kind, tax_id.value, tax_id.formatted) == (kind, value, formatted)
    assert tax_id.is_legal_entity is (kind == "CNPJ")
    assert is_valid_tax_id(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "12.ABC.345/01DE-36",  # wrong second check digit
        "12.ABC.345/01DE-25",  # wrong first check digit
        "12.ABD.345/01DE-35",  # one letter changed
        "12.ABC.345/01DE-3A",  # check digits are always numeric
        "11.222.333/0001-82",
        "529.982.247-24",
        "5299822472",  # 10 digits: the library would pad it with a zero; we do not
        "111.111.111-11",  # repeated digits add up but are not CPFs
        "000.000.000-00",
        "00.000.000/0000-00",
        "AAAAAAAAAAAAAA",
        "٥٢٩٩٨٢٢٤٧٢٥",  # Arabic-Indic digits: str.isdigit() says yes, the Receita says no
        "12ABC34501DE35X",
        "529.982.247-25!",
        "",
    ],
)
def test_invalid_ids_are_refused_naming_the_field_without_echoing_it(raw: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        normalise_tax_id(raw, field="customer.cpf_cnpj")
    assert info.value.message == "customer.cpf_cnpj is not a valid CPF or CNPJ"
    assert info.value.code == "invalid_tax_id"
    compact = raw.replace(".", "").replace("/", "").replace("-", "")
    if compact:
        assert compact not in str(info.value.to_dict())
    assert not is_valid_tax_id(raw)


def test_non_string_is_refused() -> None:
    with pytest.raises(InvalidRequestError):
        normalise_tax_id(52998224725)  # type: ignore[arg-type]


def test_tax_id_serialises_with_its_formatted_form_and_is_immutable() -> None:
    tax_id = normalise_tax_id("12.ABC.345/01DE-35")
    assert tax_id.model_dump() == {"kind": "CNPJ", "value": "12ABC34501DE35", "formatted": "12.ABC.345/01DE-35"}
    with pytest.raises(ValueError):
        tax_id.value = "11222333000181"  # type: ignore[misc]
    assert isinstance(tax_id, TaxId)
