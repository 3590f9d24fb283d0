"""The rotating-secret helpers every webhook verifier uses."""

from __future__ import annotations

import hmac

import pytest
from pydantic import BaseModel, SecretStr

from hub.providers.base import webhook
from hub.providers.base.webhook import matches_any, rotating_secrets


class Creds(BaseModel):
    webhook_secret: SecretStr | None = None
    previous_webhook_secret: SecretStr | None = None
    plain: str | None = None


def test_rotating_secrets_are_the_current_then_the_previous_value() -> None:
    creds = Creds(webhook_secret=SecretStr("now"), previous_webhook_secret=SecretStr("before"))
    assert rotating_secrets(creds, "webhook_secret", "previous_webhook_secret") == ["now", "before"]


@pytest.mark.parametrize("previous", [None, SecretStr("")])
def test_an_unset_or_blank_previous_value_is_left_out(previous: SecretStr | None) -> None:
    creds = Creds(webhook_secret=SecretStr("now"), previous_webhook_secret=previous)
    assert rotating_secrets(creds, "webhook_secret", "previous_webhook_secret") == ["now"]
    assert rotating_secrets(Creds(), "webhook_secret", "previous_webhook_secret") == []


def test_plain_strings_and_missing_fields_are_read_too() -> None:
    assert rotating_secrets(Creds(plain="tok"), "plain", "previous_plain") == ["tok"]


def test_matches_any_accepts_the_current_or_the_previous_value() -> None:
    assert matches_any("before", ["now", "before"])
    assert matches_any(b"now", ["now", b"before"])
    assert not matches_any("forged", ["now", "before"])
    assert not matches_any("now", [])


def test_matches_any_compares_every_value_even_after_a_match(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bytes] = []
    original = hmac.compare_digest

    def compare(a: bytes, b: bytes) -> bool:
        calls.append(b)
        return original(a, b)

    monkeypatch.setattr(webhook.hmac, "compare_digest", compare)
    assert matches_any("now", ["now", "before", "older"])
    assert calls == [b"now", b"before", b"older"]
