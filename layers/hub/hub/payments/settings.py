"""An org's payment settings: secret ``{prefix}/{org_id}/payments`` (optional).

```json
{"pix_key": "12345678000195", "merchant_name": "Somos Produtora", "merchant_city": "Sao Paulo",
 "transfer_allowlist": [{"name": "Conta PJ Itaú", "pix_key": "financeiro@somosprodutora.com.br"}],
 "fiscal": {...hub.fiscal.taxes.FiscalSettings...}}
```

``pix_key``/``merchant_*`` feed the manual fallback (a static PIX BR Code); transfers go only to
accounts on the allowlist; ``fiscal`` drives invoicing.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hub.credentials import get_provider_secret
from hub.errors import AuthenticationError, ConfigurationError


class AllowedAccount(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100)
    pix_key: str | None = None
    bank_account: dict[str, Any] | None = Field(None, description="Asaas bankAccount object")


class PaymentSettings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    pix_key: str | None = None
    merchant_name: str | None = Field(None, max_length=100)
    merchant_city: str | None = Field(None, max_length=100)
    transfer_allowlist: list[AllowedAccount] = Field(default_factory=list)
    fiscal: dict[str, Any] | None = None


def payment_settings(org_id: str) -> PaymentSettings:
    try:
        raw = get_provider_secret(org_id, "payments")
    except AuthenticationError:
        return PaymentSettings()
    try:
        return PaymentSettings.model_validate(raw)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in err["loc"]) for err in exc.errors()})
        raise ConfigurationError(
            f"payments settings are malformed: check field(s) {', '.join(fields)}", provider="payments"
        ) from None
