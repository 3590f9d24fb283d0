"""SMS sends through Twilio: E.164, consent, the provider, a record for MessageStatus.

Twilio's status callbacks (``/webhooks/twilio/{org}``) move the record forward; the
callback URL is set on every send when ``PUBLIC_API_URL`` is configured.
"""

from __future__ import annotations

from pydantic import ConfigDict, Field

from hub.credentials import validate_org_id
from hub.messaging import contacts, records
from hub.messaging.records import MessageSent, SendContext
from hub.messaging.settings import messaging_settings
from hub.phones import MAX_PHONE_INPUT, to_e164
from hub.providers import ports
from hub.requests import IdempotencyKey, OperationRequest, OrgId

# The one SMS provider today; a second one becomes a setting like whatsapp_provider.
SMS_PROVIDER = "twilio"


class SmsSendRequest(OperationRequest):
    model_config = ConfigDict(str_strip_whitespace=True)

    org_id: OrgId
    to: str = Field(
        min_length=3, max_length=MAX_PHONE_INPUT, description="phone number; national BR numbers are accepted"
    )
    # Twilio's maximum body (https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource).
    body: str = Field(min_length=1, max_length=1600)
    idempotency_key: IdempotencyKey | None = None


def send_sms(request: SmsSendRequest, context: SendContext | None = None) -> MessageSent:
    validate_org_id(request.org_id)
    to = to_e164(request.to, field="to")
    settings = messaging_settings(request.org_id)
    contacts.ensure_can_send(request.org_id, "sms", to, require_opt_in=settings.require_opt_in)
    client = ports.for_org(ports.SmsSender, request.org_id, SMS_PROVIDER)
    sent = client.send_sms(to, request.body)
    records.record_sent(
        request.org_id, sent.message_id, channel="sms", provider=sent.provider, to=sent.to, context=context
    )
    return MessageSent(
        channel="sms", provider=sent.provider, message_id=sent.message_id, to=sent.to, status=sent.status
    )
