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


def retention_problem(code: Any, retained: Decimal, *, code_field: str, total_field: str) -> str | None:
    """NT 007's withholding rule, named with each provider's own fields: a code of 0 or 3 to 9 (1
    and 2 are legacy), and PIS + COFINS + CSLL withheld summed in one total that agrees with it."""
    if code not in RETENTION_CODES:
        return (
            f"{code_field} {code!r} inválido: use 0 ou 3 a 9 (NT 007); 1 e 2 são códigos legados, "
            f"e os valores retidos de PIS, COFINS e CSLL vão somados em {total_field}"
        )
    if code == 0 and retained:
        return f"{total_field} informado com {code_field} 0 (sem retenção)"
    if code != 0 and retained <= 0:
        return f"{code_field} indica retenção: informe em {total_field} a soma de PIS, COFINS e CSLL retidos"
    return None
