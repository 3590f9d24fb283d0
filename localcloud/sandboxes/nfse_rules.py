"""Rules the two NFS-e sandboxes (Nuvem Fiscal, Focus NFe) share: the national layout's limits and
NT 007's withholding codes, and how they read and round money."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

DESCRIPTION_MAX = 1000  # xDescServ / descricao_servico
CENT = Decimal("0.01")
RETENTION_CODES = frozenset({0, 3, 4, 5, 6, 7, 8, 9})  # NT 007; 1 and 2 are legacy


def money(value: Any) -> Decimal:
    if value is None:
        return Decimal(0)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError("not a number")
    return Decimal(str(value))


def rate_of(base: Decimal, rate: Decimal) -> Decimal:
    return (base * rate / 100).quantize(CENT, rounding=ROUND_HALF_EVEN)
