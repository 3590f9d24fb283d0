"""A consent read never mistakes a throttled DynamoDB answer for "no decision recorded": keys
BatchGetItem leaves unprocessed are asked again, and still unprocessed is a retryable error,
never a send to a suppressed or opted-out contact."""

from __future__ import annotations

from typing import Any

import pytest

from hub.config import get_settings
from hub.errors import ProviderUnavailableError
from hub.messaging import contacts

ORG, ADDRESS = "acme", "ana@example.com"


class ThrottlingDynamo:
    """Answers ``batch_get_item`` with every key unprocessed for the first ``throttled`` calls."""

    def __init__(self, item: dict[str, Any], throttled: int) -> None:
        self.item = item
        self.throttled = throttled
        self.calls: list[list[dict[str, Any]]] = []

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        [(table, request)] = RequestItems.items()
        keys = request["Keys"]
        self.calls.append(keys)
        if len(self.calls) <= self.throttled:
            return {"Responses": {table: []}, "UnprocessedKeys": {table: {**request, "Keys": keys}}}
        found = [self.item for key in keys if key["contact"] == self.item["contact"]]
        return {"Responses": {table: found}, "UnprocessedKeys": {}}


@pytest.fixture
def dynamo(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("CONTACTS_TABLE", "contacts")
    get_settings.cache_clear()

    def install(fake: ThrottlingDynamo) -> ThrottlingDynamo:
        monkeypatch.setattr(contacts, "aws_client", lambda service: fake)
        return fake

    return install


def suppressed_item() -> dict[str, Any]:
    return {
        **contacts.contact_key(ORG, "email", ADDRESS),
        "suppressed_reason": {"S": "bounce"},
        "suppressed_at": {"S": "2026-11-30T12:00:00+00:00"},
    }


def test_unprocessed_keys_are_asked_again_and_the_suppression_holds(dynamo: Any) -> None:
    fake = dynamo(ThrottlingDynamo(suppressed_item(), throttled=2))
    state = contacts.get_channel_state(ORG, "email", ADDRESS)
    assert state.suppressed_reason == "bounce"
    assert len(fake.calls) == 3


def test_still_unprocessed_is_a_retryable_error_not_an_empty_state(dynamo: Any) -> None:
    dynamo(ThrottlingDynamo(suppressed_item(), throttled=99))
    with pytest.raises(ProviderUnavailableError):
        contacts.get_channel_state(ORG, "email", ADDRESS)
