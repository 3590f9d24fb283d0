"""PagBank's provider key is ``pagbank``; ``pagseguro`` (its old key) keeps working for secrets
already stored under it and for callers that name it."""

from __future__ import annotations

from datetime import date

import pytest

from hub import credentials
from hub.errors import AuthenticationError
from hub.payments.charges import ChargeRequest
from hub.providers import ADAPTERS
from hub.providers.pagbank.client import PagBankClient
from tests.helpers import FakeSecrets


def test_the_adapter_is_registered_as_pagbank() -> None:
    assert ADAPTERS["pagbank"] is PagBankClient and "pagseguro" not in ADAPTERS


def test_an_org_with_only_the_old_pagseguro_secret_keeps_working(secrets: FakeSecrets) -> None:
    secrets.stored["hub/acme/pagseguro"] = {"token": "old-name-token"}
    client = PagBankClient.for_org("acme")
    assert isinstance(client, PagBankClient)
    assert client.credentials.token.get_secret_value() == "old-name-token"
    assert secrets.asked == ["hub/acme/pagbank", "hub/acme/pagseguro"]  # the current name first


def test_the_pagbank_secret_wins_over_the_old_one(secrets: FakeSecrets) -> None:
    secrets.stored["hub/acme/pagbank"] = {"token": "new"}
    secrets.stored["hub/acme/pagseguro"] = {"token": "old"}
    client = PagBankClient.for_org("acme")
    assert isinstance(client, PagBankClient)
    assert client.credentials.token.get_secret_value() == "new"


def test_no_secret_under_either_name_is_credentials_missing_for_pagbank(secrets: FakeSecrets) -> None:
    with pytest.raises(AuthenticationError) as info:
        credentials.get_provider_secret("acme", "pagbank")
    assert info.value.code == "credentials_missing" and "pagbank" in info.value.message


def test_callers_naming_pagseguro_get_pagbank() -> None:
    request = ChargeRequest.model_validate(
        {
            "org_id": "acme",
            "charge_id": "C1",
            "customer": {"name": "Jose", "cpf_cnpj": "12345678909"},
            "billing_type": "PIX",
            "value_cents": 1999,
            "due_date": date(2026, 12, 1).isoformat(),
            "providers": ["pagseguro", "pagbank", "manual"],
        }
    )
    assert request.providers == ["pagbank", "manual"]
