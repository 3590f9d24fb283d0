"""The messaging rules that need no AWS: opt-out words, the 24-hour window, request models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from hub.emails import normalise_email, normalise_sender
from hub.errors import InvalidRequestError
from hub.messaging.contacts import ChannelState, consent_keyword, refusal
from hub.messaging.email import EmailSendRequest
from hub.messaging.notify import NotifyContactRequest
from hub.messaging.whatsapp import SendMediaRequest


@pytest.mark.parametrize(
    ("text", "decision"),
    [
        ("SAIR", "opted_out"),
        ("sair", "opted_out"),
        ("  Sair.  ", "opted_out"),
        ("PARAR!", "opted_out"),
        ("Descadastrar", "opted_out"),
        ("STOP", "opted_out"),
        ("não", None),
        ("Quero sair do grupo", None),  # a sentence is a conversation, not an opt-out
        ("VOLTAR", "opted_in"),
        ("start", "opted_in"),
        ("", None),
        (None, None),
    ],
)
def test_only_a_bare_opt_out_word_is_a_decision(text: str | None, decision: str | None) -> None:
    assert consent_keyword(text) == decision


def test_the_window_is_24_hours_from_the_last_inbound_message() -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    state = ChannelState(channel="whatsapp", address="+5511987654321", last_inbound_at=now - timedelta(hours=23))
    assert state.within_service_window(now)
    assert not state.model_copy(update={"last_inbound_at": now - timedelta(hours=24)}).within_service_window(now)
    assert not ChannelState(channel="whatsapp", address="+5511987654321").within_service_window(now)


def test_refusals_name_the_reason_in_order_of_severity() -> None:
    base = ChannelState(channel="email", address="a@example.com")
    assert refusal(base, require_opt_in=False) is None
    assert (error := refusal(base, require_opt_in=True)) is not None and error.code == "no_opt_in"
    opted_out = base.model_copy(update={"consent_status": "opted_out", "consent_source": "site"})
    assert (error := refusal(opted_out, require_opt_in=False)) is not None and error.code == "opted_out"
    suppressed = opted_out.model_copy(update={"suppressed_reason": "hard bounce"})
    assert (error := refusal(suppressed, require_opt_in=False)) is not None and error.code == "suppressed"


def test_email_addresses_are_validated_and_the_domain_normalised() -> None:
    assert normalise_email("Maria.Silva@Example.COM.br") == "Maria.Silva@example.com.br"
    assert normalise_sender("Somos <contato@SomosProdutora.com.br>") == "Somos <contato@somosprodutora.com.br>"
    for bad in ("maria", "maria@", "maria@@example.com", "maria silva@example.com"):
        with pytest.raises(InvalidRequestError, match="to is not a valid email address"):
            normalise_email(bad, field="to")


def test_an_email_needs_a_body_and_a_single_recipient_may_be_a_string() -> None:
    request = EmailSendRequest.model_validate({"org_id": "demo", "to": "a@example.com", "subject": "x", "text": "y"})
    assert request.to == ["a@example.com"]
    with pytest.raises(ValidationError, match="give html or text"):
        EmailSendRequest.model_validate({"org_id": "demo", "to": "a@example.com", "subject": "x"})


def test_media_comes_from_a_url_or_one_of_our_objects_not_both() -> None:
    base = {"org_id": "demo", "to": "+5511987654321", "media_type": "image"}
    SendMediaRequest.model_validate({**base, "media": {"url": "https://cdn.example.com/a.png"}})
    SendMediaRequest.model_validate({**base, "media": {"bucket": "b", "key": "demo/a.png"}})
    for media in ({}, {"url": "https://cdn.example.com/a.png", "bucket": "b", "key": "demo/a.png"}, {"bucket": "b"}):
        with pytest.raises(ValidationError, match="either url, or bucket and key"):
            SendMediaRequest.model_validate({**base, "media": media})


def test_a_notification_id_is_safe_for_an_execution_name_and_channels_do_not_repeat() -> None:
    base = {"org_id": "demo", "contact": {"phone": "11987654321"}, "message": {"text": "Oi"}}
    NotifyContactRequest.model_validate({**base, "notification_id": "meeting-4711_reminder"})
    with pytest.raises(ValidationError, match="notification_id"):
        NotifyContactRequest.model_validate({**base, "notification_id": "a b/c"})
    with pytest.raises(ValidationError, match="channels must not repeat"):
        NotifyContactRequest.model_validate({**base, "channels": ["sms", "sms"]})
