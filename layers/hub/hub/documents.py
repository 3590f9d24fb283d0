"""Brazilian taxpayer ids: CPF (people) and CNPJ (legal entities), including the
alphanumeric CNPJ.

Since July 2026 the Receita Federal issues CNPJs whose first 12 characters (8 of root, 4 of
establishment order) may be uppercase letters or digits; the last 2 stay numeric check digits
(Instrução Normativa RFB nº 2.229/2024). The check digits are still modulo 11 with the weights
5,4,3,2,9,8,7,6,5,4,3,2 (first) and 6,5,4,3,2,9,8,7,6,5,4,3,2 (second), each character
counting as its ASCII code minus 48 ("0"→0 … "9"→9, "A"→17 … "Z"→42), a remainder of 0 or 1
giving 0, otherwise 11 - remainder (Receita Federal/SERPRO, "Cálculo do DV do CNPJ
alfanumérico"). Numeric CNPJs issued before keep their number and are still valid.

The check-digit arithmetic is the maintained ``validate-docbr`` library's (MIT,
https://github.com/alvarofpp/validate-docbr, alphanumeric CNPJ since 2.0). It is lenient
about the input (it pads short CPFs with zeros and its ``isdigit``/``\\d`` accept non-ASCII
digits), so this module normalises strictly first and hands it only exact shapes.

Errors name the field and never echo the value: a tax id is personal data.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, computed_field

from hub.errors import InvalidRequestError

TaxIdKind = Literal["CPF", "CNPJ"]

# What people type between the characters: dots, slash, hyphen, spaces.
_SEPARATORS = re.compile(r"[.\-/\s]")
_CPF_SHAPE = re.compile(r"[0-9]{11}")
_CNPJ_SHAPE = re.compile(r"[0-9A-Z]{12}[0-9]{2}")


@cache
def _validators() -> tuple[Any, Any]:
    # Imported on first use (cold start): most functions that import this module never check a tax id.
    from validate_docbr import CNPJ, CPF

    return CPF(), CNPJ()


class TaxId(BaseModel):
    """A validated CPF or CNPJ. ``value`` is what the hub stores and sends to providers:
    11 digits for a CPF, 14 uppercase characters for a CNPJ, no punctuation."""

    model_config = ConfigDict(frozen=True)

    kind: TaxIdKind
    value: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def formatted(self) -> str:
        """``529.982.247-25`` / ``12.ABC.345/01DE-35``."""
        v = self.value
        if self.kind == "CPF":
            return f"{v[:3]}.{v[3:6]}.{v[6:9]}-{v[9:]}"
        return f"{v[:2]}.{v[2:5]}.{v[5:8]}/{v[8:12]}-{v[12:]}"

    @property
    def is_legal_entity(self) -> bool:
        """A CNPJ: a pessoa jurídica (federal withholdings only apply between legal entities)."""
        return self.kind == "CNPJ"


def _invalid(field: str) -> InvalidRequestError:
    return InvalidRequestError(f"{field} is not a valid CPF or CNPJ", code="invalid_tax_id")


def normalise_tax_id(raw: str, *, field: str = "cpf_cnpj") -> TaxId:
    """Validate a CPF or CNPJ typed with or without punctuation (``529.982.247-25``,
    ``12.abc.345/01de-35``) and return it normalised, or raise InvalidRequestError naming
    ``field``. Repeated-character sequences (``111.111.111-11``, ``00000000000000``) are
    refused even though their check digits add up."""
    if not isinstance(raw, str):
        raise _invalid(field)
    compact = _SEPARATORS.sub("", raw).upper()
    if not compact.isascii():
        raise _invalid(field)
    if _CPF_SHAPE.fullmatch(compact):
        # validate-docbr refuses repeated digits unless built with repeated_digits=True.
        if _validators()[0].validate(compact):
            return TaxId(kind="CPF", value=compact)
        raise _invalid(field)
    if _CNPJ_SHAPE.fullmatch(compact):
        if _validators()[1].validate(compact):
            return TaxId(kind="CNPJ", value=compact)
        raise _invalid(field)
    raise _invalid(field)


def is_valid_tax_id(raw: str) -> bool:
    """True when ``raw`` is a valid CPF or CNPJ (with or without punctuation)."""
    try:
        normalise_tax_id(raw)
    except InvalidRequestError:
        return False
    return True
