"""WhatsApp sends, provider-agnostic at the edge (Evolution today, Cloud API later)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from hub.credentials import validate_org_id
from hub.phones import to_e164
from hub.providers.evolution import EvolutionClient
from hub.providers.outbound import SentMessage


class SendTextRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    org_id: str = Field(min_length=1)
    to: str = Field(min_length=3, description="phone number; national BR numbers are accepted")
    text: str = Field(min_length=1, max_length=4096)
    delay_ms: int | None = Field(None, ge=0, le=60_000)
    idempotency_key: str | None = Field(None, min_length=1, max_length=128)


def send_text(request: SendTextRequest) -> SentMessage:
    validate_org_id(request.org_id)
    to = to_e164(request.to, field="to")
    client = EvolutionClient.for_org(request.org_id)
    assert isinstance(client, EvolutionClient)
    return client.send_text(to, request.text, delay_ms=request.delay_ms)
