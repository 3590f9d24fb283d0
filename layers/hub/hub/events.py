"""The normalised event envelope every webhook becomes (documented in docs/events.md)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# Stable namespace so the same provider event always gets the same event_id (replays,
# duplicates): consumers can dedupe on it too.
_EVENT_NAMESPACE = uuid.UUID("6f1c1f0e-6a43-4b6e-9a70-3d1f0c2b7e51")


def event_id_for(org_id: str, provider: str, dedupe_key: str) -> str:
    return str(uuid.uuid5(_EVENT_NAMESPACE, f"{org_id}|{provider}|{dedupe_key}"))


class InboundMessage(BaseModel):
    """data of ``message.received``."""

    channel: Literal["whatsapp", "sms", "email"]
    message_id: str
    from_address: str = Field(description="E.164 phone for WhatsApp/SMS, email otherwise")
    from_name: str | None = None
    message_type: str
    text: str | None = None
    media_url: str | None = None
    instance: str | None = None


class HubEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    event_id: str
    org_id: str
    provider: str
    type: str
    dedupe_key: str
    occurred_at: datetime
    received_at: datetime
    data: dict[str, Any]
    raw_ref: str

    @classmethod
    def build(
        cls,
        *,
        org_id: str,
        provider: str,
        type: str,
        dedupe_key: str,
        occurred_at: datetime,
        received_at: datetime,
        data: BaseModel,
        raw_ref: str,
    ) -> HubEvent:
        return cls(
            event_id=event_id_for(org_id, provider, dedupe_key),
            org_id=org_id,
            provider=provider,
            type=type,
            dedupe_key=dedupe_key,
            occurred_at=occurred_at,
            received_at=received_at,
            data=data.model_dump(mode="json"),
            raw_ref=raw_ref,
        )
