"""An org's payment settings: secret ``{prefix}/{org_id}/payments`` (optional).

```json
{"max_amount_cents": 100000000,
 "pix_key": "12345678000195", "merchant_name": "Somos Produtora", "merchant_city": "Sao Paulo",
 "transfer_allowlist": [{"name": "Conta PJ Itaú", "pix_key": "financeiro@somosprodutora.com.br"}],
 "fiscal": {...hub.fiscal.taxes.FiscalSettings...}}
```

``max_amount_cents`` is the org's ceiling for any amount it asks the hub to move (charges,
payment links, subscriptions, transfers; default R$ 1.000.000,00); ``pix_key``/``merchant_*``
feed the manual fallback (a static PIX BR Code); transfers go only to accounts on the
allowlist; ``fiscal`` drives invoicing.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hub.credentials import org_settings
from hub.errors import InvalidRequestError
from hub.requests import MAX_CENTAVOS

# R$ 1.000.000,00: the ceiling of an org that set none.
DEFAULT_MAX_AMOUNT_CENTS = 100_000_000


# An allowlisted account's name (TransferCreate.destination) is at most this long.
ALLOWLIST_NAME_MAX = 100


class AllowedAccount(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=ALLOWLIST_NAME_MAX)
    pix_key: str | None = None
    bank_account: dict[str, Any] | None = Field(None, description="Asaas bankAccount object")


class PaymentSettings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    max_amount_cents: int = Field(DEFAULT_MAX_AMOUNT_CENTS, gt=0, le=MAX_CENTAVOS, strict=True)
    pix_key: str | None = None
    merchant_name: str | None = Field(None, max_length=100)
    merchant_city: str | None = Field(None, max_length=100)
    transfer_allowlist: list[AllowedAccount] = Field(default_factory=list)
    fiscal: dict[str, Any] | None = None


def payment_settings(org_id: str) -> PaymentSettings:
    return org_settings(org_id, "payments", PaymentSettings)


def check_amount(org_id: str, amount_cents: int, *, field: str) -> None:
    """Refuse an amount over the org's ceiling (``max_amount_cents``). Called before any claim,
    lookup or provider call, so a refused request leaves nothing behind."""
    ceiling = payment_settings(org_id).max_amount_cents
    if amount_cents > ceiling:
        raise InvalidRequestError(
            f"{field} is over the org's limit of {ceiling} centavos per operation "
            "(payments settings, max_amount_cents)",
            code="amount_over_limit",
        )
