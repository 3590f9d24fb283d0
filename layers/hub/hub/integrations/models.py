"""Payloads and results of the integration operations (docs/integrations.md, "Operations").

Requests refuse unknown fields and bound every string (``OperationRequest``); credentials are a
bounded JSON object whose fields are checked against the provider's own model by the operation
(named when wrong, never echoed). Results are built from the integration records and never hold
a secret.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from hub.integrations.records import IntegrationRecord, IntegrationStatus
from hub.requests import IdempotencyKey, OperationRequest, OrgId

# A provider key or alias as the registry knows them (hub.providers): lowercase identifiers.
ProviderName = Annotated[str, StringConstraints(strict=True, pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Actor = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=200)]
# At most this many fields in a credentials object, each value at most this long.
MAX_CREDENTIAL_FIELDS = 40
MAX_CREDENTIAL_LENGTH = 8192
Credentials = Annotated[dict[str, Any], Field(min_length=1, max_length=MAX_CREDENTIAL_FIELDS)]


class IntegrationConnectRequest(OperationRequest):
    """IntegrationConnect: ``{org_id, provider, credentials, actor, idempotency_key?}``."""

    org_id: OrgId
    provider: ProviderName
    credentials: Credentials
    actor: Actor
    idempotency_key: IdempotencyKey | None = None


class IntegrationTestRequest(OperationRequest):
    """IntegrationTest: ``{org_id, provider, actor?}``."""

    org_id: OrgId
    provider: ProviderName
    actor: Actor | None = None


class IntegrationDisableRequest(OperationRequest):
    """IntegrationDisable: ``{org_id, provider, reason, actor}``."""

    org_id: OrgId
    provider: ProviderName
    reason: str = Field(min_length=1, max_length=500)
    actor: Actor


class IntegrationEnableRequest(OperationRequest):
    """IntegrationEnable: ``{org_id, provider, actor}``."""

    org_id: OrgId
    provider: ProviderName
    actor: Actor


class IntegrationRotateRequest(OperationRequest):
    """IntegrationRotate: ``{org_id, provider, credentials?, actor, idempotency_key?}``."""

    org_id: OrgId
    provider: ProviderName
    credentials: Credentials | None = None
    actor: Actor
    idempotency_key: IdempotencyKey | None = None


class IntegrationListRequest(OperationRequest):
    """IntegrationList: ``{org_id}``."""

    org_id: OrgId


class IntegrationGetRequest(OperationRequest):
    """IntegrationGet: ``{org_id, provider}``."""

    org_id: OrgId
    provider: ProviderName


class Integration(IntegrationRecord):
    """One integration as an operator or the console sees it: its record (never a secret).
    ``managed`` is false for a secret created by hand before integrations had records: its calls
    are not refused, and the first management action (test, disable, connect) creates its record."""

    managed: bool = True

    @classmethod
    def of(cls, record: IntegrationRecord) -> Integration:
        return cls(**record.model_dump())


class IntegrationChange(Integration):
    """What IntegrationDisable / IntegrationEnable answer: the integration and whether this call
    changed it (false: it was already so)."""

    changed: bool


class IntegrationRotation(Integration):
    """What IntegrationRotate answers: how the credentials were renewed and whether the webhook
    secret was too (the previous one stays valid until ``previous_valid_until``)."""

    rotated: Literal["credentials", "provider_api"]
    webhook_rotated: bool = False
    previous_valid_until: datetime | None = None


class IntegrationSummary(BaseModel):
    """An org's integration in the org registry's answer (OrgGet)."""

    provider: str
    status: IntegrationStatus
    managed: bool = True


class IntegrationPage(BaseModel):
    """IntegrationList's answer: every integration of the org, by provider."""

    org_id: str
    integrations: list[Integration]
