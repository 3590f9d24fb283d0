"""The registry of organisations: which ``org_id`` exists, in the orgs table (``ORGS_TABLE``).

Every operation a caller invokes with an ``org_id`` and every webhook for one asks
:func:`require_org` first (``hub.invocation.operation_handler``, ``hub.webhooks.ingress``), so
nothing is written, sent or started for an org nobody created. Ids are matched exactly as
sent (``hub.credentials.ORG_ID_PATTERN``): ``" demo "`` or ``"demo\\n"`` is refused, never
normalised to ``demo``.

One item per org: ``org_id`` (the key), ``name``, ``created_at`` (UTC ISO 8601) and
``created_by``. :func:`create_org` is idempotent: the same id again answers the org that
exists and never overwrites it (a conditional put). Orgs are created with ``OrgCreate`` or
``python -m ops org create`` (docs/orgs.md).

A warm container remembers that an org exists for ``ORG_CACHE_SECONDS`` (default 300), so
most invocations pay no DynamoDB read for the check; "unknown" is never remembered, so an
org created a moment ago is usable at once everywhere.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, Field

from hub.aws import aws_client
from hub.config import get_settings
from hub.credentials import ORG_ID_PATTERN
from hub.errors import InvalidRequestError, ProviderUnavailableError
from hub.integrations.models import IntegrationSummary
from hub.requests import OperationRequest, OrgId

MAX_NAME_LENGTH = 200

# (table, org_id) -> monotonic time until which the org is known to exist.
_known: dict[tuple[str, str], float] = {}


class Org(BaseModel):
    org_id: str
    name: str
    created_at: datetime
    created_by: str | None = None


class OrgCreateResult(Org):
    created: bool = Field(description="false when the org already existed (it is answered unchanged)")


class OrgDetails(Org):
    """OrgGet's answer: the org and its integrations (provider, status; ``managed`` false for a
    secret created by hand before integrations had records — docs/integrations.md)."""

    integrations: list[IntegrationSummary] = Field(default_factory=list)


class OrgPage(BaseModel):
    orgs: list[Org]
    next_token: str | None = None


class OrgCreateRequest(OperationRequest):
    """OrgCreate: ``{"org_id", "name", "created_by"?}``."""

    org_id: OrgId
    name: str = Field(min_length=1, max_length=MAX_NAME_LENGTH)
    created_by: str | None = Field(None, min_length=1, max_length=MAX_NAME_LENGTH)


class OrgGetRequest(OperationRequest):
    """OrgGet: ``{"org_id"}``."""

    org_id: OrgId


def _table() -> str:
    return get_settings().require("orgs_table")


def _unavailable(exc: Exception) -> ProviderUnavailableError:
    return ProviderUnavailableError("the org registry is unavailable; retry later", provider="dynamodb")


def check_org_id(org_id: Any) -> str:
    """``org_id`` if it matches ORG_ID_PATTERN exactly (no strip, no lowercasing)."""
    if org_id is None:
        raise InvalidRequestError("org_id is required", code="invalid_org_id")
    if not isinstance(org_id, str) or not ORG_ID_PATTERN.fullmatch(org_id):
        raise InvalidRequestError(
            "org_id must be 1-63 characters of lowercase letters, digits, '-' or '_', exactly as registered",
            code="invalid_org_id",
        )
    return org_id


def _from_item(item: dict[str, Any]) -> Org:
    return Org(
        org_id=item["org_id"]["S"],
        name=item.get("name", {}).get("S", ""),
        created_at=datetime.fromisoformat(item["created_at"]["S"]),
        created_by=item.get("created_by", {}).get("S"),
    )


def _remember(table: str, org_id: str) -> None:
    _known[(table, org_id)] = time.monotonic() + get_settings().org_cache_seconds


def get_org(org_id: str) -> Org | None:
    """The registered org, or None. Always reads the table (strongly consistent)."""
    table = _table()
    try:
        item = (
            aws_client("dynamodb")
            .get_item(TableName=table, Key={"org_id": {"S": check_org_id(org_id)}}, ConsistentRead=True)
            .get("Item")
        )
    except (ClientError, BotoCoreError) as exc:
        raise _unavailable(exc) from exc
    if not item:
        return None
    _remember(table, org_id)
    return _from_item(item)


def require_org(org_id: Any) -> str:
    """``org_id`` if it is well formed and registered; else InvalidRequestError naming it
    (``invalid_org_id`` / ``unknown_org``). ProviderUnavailableError if the table is down."""
    check_org_id(org_id)
    table = get_settings().orgs_table or ""
    expires = _known.get((table, org_id))
    if expires is not None and expires > time.monotonic():
        return str(org_id)
    if get_org(org_id) is None:
        _known.pop((table, org_id), None)
        raise InvalidRequestError(
            f"unknown org {org_id!r}: no organisation with this id is registered (OrgCreate)",
            code="unknown_org",
        )
    return str(org_id)


def create_org(org_id: str, name: str, created_by: str | None = None) -> OrgCreateResult:
    """Register an org. The same id again answers the existing org unchanged (``created``
    false): a conditional put never overwrites its name or creation time."""
    table = _table()
    item: dict[str, Any] = {
        "org_id": {"S": check_org_id(org_id)},
        "name": {"S": name},
        "created_at": {"S": datetime.now(UTC).isoformat()},
    }
    if created_by:
        item["created_by"] = {"S": created_by}
    client = aws_client("dynamodb")
    try:
        client.put_item(TableName=table, Item=item, ConditionExpression="attribute_not_exists(org_id)")
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise _unavailable(exc) from exc
        existing = get_org(org_id)
        if existing is None:  # pragma: no cover - orgs are never deleted
            raise _unavailable(exc) from exc
        return OrgCreateResult(**existing.model_dump(), created=False)
    except BotoCoreError as exc:
        raise _unavailable(exc) from exc
    _remember(table, org_id)
    return OrgCreateResult(**_from_item(item).model_dump(), created=True)


def list_orgs(*, limit: int = 100, next_token: str | None = None) -> OrgPage:
    """One page of registered orgs (a Scan: the registry is small), and the token of the next."""
    kwargs: dict[str, Any] = {"TableName": _table(), "Limit": max(1, min(limit, 1000))}
    if next_token:
        check_org_id(next_token)
        kwargs["ExclusiveStartKey"] = {"org_id": {"S": next_token}}
    try:
        page = aws_client("dynamodb").scan(**kwargs)
    except (ClientError, BotoCoreError) as exc:
        raise _unavailable(exc) from exc
    last = page.get("LastEvaluatedKey")
    orgs = sorted((_from_item(i) for i in page.get("Items", [])), key=lambda o: o.org_id)
    return OrgPage(orgs=orgs, next_token=last["org_id"]["S"] if last else None)


def iter_orgs() -> Iterator[Org]:
    """Every registered org, page after page."""
    token: str | None = None
    while True:
        page = list_orgs(next_token=token)
        yield from page.orgs
        if not page.next_token:
            return
        token = page.next_token


def org_create(request: OrgCreateRequest) -> OrgCreateResult:
    """OrgCreate's operation."""
    return create_org(request.org_id, request.name, request.created_by)


def org_get(request: OrgGetRequest) -> OrgDetails:
    """OrgGet's operation: the org with its integrations, or InvalidRequestError(unknown_org)."""
    org = get_org(request.org_id)
    if org is None:
        raise InvalidRequestError(f"unknown org {request.org_id!r}", code="unknown_org")
    from hub.integrations.operations import org_integrations  # the registry itself imports no provider

    return OrgDetails(**org.model_dump(), integrations=org_integrations(org.org_id))
