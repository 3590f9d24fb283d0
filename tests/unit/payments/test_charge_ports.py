"""The charge chain and refunds ask the registry what each gateway does, never a class."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from hub import credentials
from hub.errors import InvalidRequestError
from hub.payments import charges
from hub.payments.models import ChargeSpec, Customer


class NoSecrets:
    def __init__(self) -> None:
        self.asked: list[str] = []

    def get(self, name: str, **_: Any) -> dict[str, Any]:
        self.asked.append(name)
        raise AssertionError(f"no secret may be read ({name})")


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> NoSecrets:
    fake = NoSecrets()
    monkeypatch.setattr(credentials, "_secrets", lambda: fake)
    return fake


def spec(billing_type: Any) -> ChargeSpec:
    return ChargeSpec(
        charge_id="chg1",
        customer=Customer(name="Maria", tax_id="12345678909", email="maria@example.com"),
        billing_type=billing_type,
        amount_cents=10_000,
        due_date=date(2026, 3, 10),
    )


def test_a_boleto_at_mercadopago_is_refused_from_its_declaration_before_its_credentials(secrets: NoSecrets) -> None:
    # Given MercadoPago, declared as charging PIX only
    # When the chain reaches it with a boleto / Then it is refused as the caller's error, no secret read
    with pytest.raises(InvalidRequestError) as info:
        charges._create("acme", "mercadopago", spec("BOLETO"), False)
    assert info.value.code == "unsupported_billing_type"
    assert info.value.provider == "mercadopago"
    assert "PIX" in info.value.message
    assert secrets.asked == []
