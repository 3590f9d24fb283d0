"""The audit trail: who did what to an org's integrations, money and data (docs/integrations.md,
"Audit").

Records are append-only: each one is a new item (org_id, ``{at}#{id}``) written with a condition
that it does not exist yet, and no function holds an update or delete permission on the table
(template.yaml); old records leave by the table's TTL (``AUDIT_RETENTION_DAYS``). Details never
carry a secret: callers pass ids, names and reasons, and :func:`record` drops any key that
looks like a credential before writing.

Sensitive actions (the seed's list: credentials rotated, integration disabled, webhook modified,
permissions changed; and a forged-webhook burst) also raise an alert: an ``audit.alert`` event on
the bus and a message on the alerts SNS topic, which operators subscribe email or Slack to.

Who and where: management actions take ``actor`` from their payload; automatic ones default to
``service:{function}``; calls through the API take the IAM principal, source IP and user agent
from API Gateway's request context (:func:`from_api_event`). :func:`query` pages through an
org's records, newest first (``AuditQuery``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import AwareDatetime, BaseModel, BeforeValidator, Field, model_validator

from hub.aws import aws_client
from hub.config import get_settings
from hub.errors import InvalidRequestError, ProviderUnavailableError
from hub.observability import logger
from hub.requests import OperationRequest, OrgId

SENSITIVE_ACTIONS = frozenset(
    {
        "credentials_rotated",
        "integration_disabled",
        "webhook_modified",
        "permissions_changed",
        # Someone is sending an org's webhook route deliveries that fail authentication, many
        # in a short window: probing for the secret, replaying stolen requests, or a provider
        # whose secret no longer matches ours (events are being lost). An operator must look.
        "webhook_forgery_burst",
    }
)
# Keys whose values are credentials: never written to the trail, whatever the caller passes.
_SECRET_KEY_PARTS = ("secret", "token", "password", "api_key", "apikey", "authorization", "credential")


@dataclass(frozen=True)
class AuditSource:
    """Where an action came from when it came through the API (API Gateway's request context)."""

    ip: str | None = None
    user_agent: str | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def service_actor() -> str:
    """The actor of an automatic action: the function that took it."""
    return f"service:{os.environ.get('AWS_LAMBDA_FUNCTION_NAME', 'hub')}"


def _clean(details: Mapping[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for key, value in details.items():
        if any(part in key.lower() for part in _SECRET_KEY_PARTS):
            cleaned[key] = "[redacted]"
        elif isinstance(value, Mapping):
            cleaned[key] = _clean(value)
        else:
            cleaned[key] = value
    return cleaned


def record(
    org_id: str,
    action: str,
    *,
    actor: str | None = None,
    integration: str | None = None,
    details: Mapping[str, Any] | None = None,
    source: AuditSource | None = None,
) -> dict[str, Any] | None:
    """Append one audit record (and alert when ``action`` is sensitive); the record as written,
    or None when the hub runs without an audit table (unit tests of unrelated code)."""
    settings = get_settings()
    table = settings.audit_table
    if not table:
        return None
    now = _now()
    at = now.isoformat()
    entry: dict[str, Any] = {
        "org_id": org_id,
        "at": at,
        "action": action,
        "actor": actor or service_actor(),
        "integration": integration,
        "details": _clean(details or {}),
        "sensitive": action in SENSITIVE_ACTIONS,
        "source_ip": source.ip if source else None,
        "user_agent": source.user_agent if source else None,
    }
    entry = {k: v for k, v in entry.items() if v is not None}
    item: dict[str, Any] = {
        "org_id": {"S": org_id},
        "sk": {"S": f"{at}#{uuid.uuid4().hex[:12]}"},
        "action": {"S": action},
        "at": {"S": at},
        "actor": {"S": entry["actor"]},
        "details": {"S": json.dumps(entry["details"], ensure_ascii=False, default=str)},
    }
    if integration:
        item["integration"] = {"S": integration}
    if source and source.ip:
        item["source_ip"] = {"S": source.ip[:64]}
    if source and source.user_agent:
        item["user_agent"] = {"S": source.user_agent[:256]}
    if entry["sensitive"]:
        item["sensitive"] = {"BOOL": True}
    if settings.audit_retention_days:
        item["expires_at"] = {"N": str(int(now.timestamp()) + settings.audit_retention_days * 86400)}
    aws_client("dynamodb").put_item(TableName=table, Item=item, ConditionExpression="attribute_not_exists(org_id)")
    logger.info("audit", extra={"org_id": org_id, "action": action, "integration": integration})
    if entry["sensitive"]:
        alert(entry)
    return entry


def alert(entry: Mapping[str, Any]) -> None:
    """A sensitive action: an ``audit.alert`` event on the bus and the alerts topic.

    The topic message has one body per kind of subscriber (SNS ``MessageStructure=json``): the
    record as JSON for SQS, Lambda and any other (``default``), a readable text for ``email``,
    and for ``https`` the custom-notification format AWS Chatbot (Amazon Q Developer in chat
    applications) requires to post it to Slack/Teams — it drops any other message.
    https://docs.aws.amazon.com/sns/latest/dg/sns-send-custom-platform-specific-payloads-mobile-devices.html
    https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html
    """
    settings = get_settings()
    if settings.event_bus_name:
        from hub.bus import put_event

        put_event("audit.alert", dict(entry))
    if settings.alerts_topic_arn:
        subject = f"[integrations-hub] {entry['action']} for {entry['org_id']}"
        record_json = json.dumps(entry, ensure_ascii=False, default=str, indent=2)
        bodies = {
            "default": record_json,
            "email": _alert_text(entry, record_json),
            "https": json.dumps(_chat_notification(entry), ensure_ascii=False, default=str),
        }
        aws_client("sns").publish(
            TopicArn=settings.alerts_topic_arn,
            Subject=subject[:100],
            MessageStructure="json",
            Message=json.dumps(bodies, ensure_ascii=False),
        )


def _alert_text(entry: Mapping[str, Any], record_json: str) -> str:
    lines = [f"A sensitive action was taken on the integrations hub: {entry['action']}.", ""]
    for label, key in (
        ("Organisation", "org_id"),
        ("Integration", "integration"),
        ("Actor", "actor"),
        ("At", "at"),
        ("Source IP", "source_ip"),
        ("User agent", "user_agent"),
    ):
        if entry.get(key):
            lines.append(f"{label}: {entry[key]}")
    lines += ["", "The audit record (AuditQuery finds it too):", record_json]
    return "\n".join(lines)


def _chat_notification(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The alert as an AWS Chatbot custom notification (version 1.0, source custom)."""
    title = f":rotating_light: {entry['action']} for {entry['org_id']}"
    facts = [f"*Actor:* {entry.get('actor')}", f"*At:* {entry.get('at')}"]
    if entry.get("integration"):
        facts.insert(0, f"*Integration:* {entry['integration']}")
    if entry.get("source_ip"):
        facts.append(f"*Source IP:* {entry['source_ip']}")
    details = json.dumps(entry.get("details") or {}, ensure_ascii=False, default=str)
    return {
        "version": "1.0",
        "source": "custom",
        "content": {
            "textType": "client-markdown",
            "title": title,
            "description": "\n".join([*facts, f"*Details:* `{details[:1500]}`"]),
            "keywords": [str(entry["action"]), str(entry["org_id"])],
        },
        "metadata": {
            "eventType": str(entry["action"]),
            "summary": title,
            "additionalContext": {
                key: str(entry[key]) for key in ("org_id", "action", "actor", "integration", "at") if entry.get(key)
            },
        },
    }


# ----------------------------------------------------------------------------- API callers


def _header(headers: Any, name: str) -> str | None:
    if not isinstance(headers, Mapping):
        return None
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == name and isinstance(value, str) and value:
            return value
    return None


def from_api_event(event: Mapping[str, Any]) -> tuple[str, AuditSource]:
    """The actor and source of a call that came through API Gateway (a proxy event).

    The actor is the IAM principal that signed the request on an ``AWS_IAM`` route
    (``requestContext.identity.userArn``, else ``caller``; HTTP API payload 2.0:
    ``requestContext.authorizer.iam.userArn``), ``"anonymous"`` when there is none. The source is
    ``requestContext.identity.sourceIp`` and the user agent (``identity.userAgent``, else the
    ``User-Agent`` header). Values are clipped as :func:`record` stores them; nothing here trusts a
    header for the principal or the IP: API Gateway fills the request context itself.
    https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
    """
    context = event.get("requestContext") if isinstance(event, Mapping) else None
    context = context if isinstance(context, Mapping) else {}
    identity = context.get("identity")
    identity = identity if isinstance(identity, Mapping) else {}
    http = context.get("http")  # HTTP API, payload format 2.0
    http = http if isinstance(http, Mapping) else {}
    authorizer = context.get("authorizer")
    iam = authorizer.get("iam") if isinstance(authorizer, Mapping) else None
    iam = iam if isinstance(iam, Mapping) else {}

    def first(*values: Any) -> str | None:
        return next((v for v in values if isinstance(v, str) and v), None)

    principal = first(identity.get("userArn"), identity.get("caller"), iam.get("userArn"), iam.get("callerId"))
    ip = first(identity.get("sourceIp"), http.get("sourceIp"))
    agent = first(identity.get("userAgent"), http.get("userAgent"), _header(event.get("headers"), "user-agent"))
    return (principal or "anonymous")[:256], AuditSource(ip=ip[:64] if ip else None, user_agent=agent)


# ----------------------------------------------------------------------------- AuditQuery

DEFAULT_QUERY_LIMIT = 50
MAX_QUERY_LIMIT = 200
# With an action filter DynamoDB reads records that do not match too: at most this many pages
# of _FILTERED_PAGE records per call, then the page answered is shorter, with a next_cursor.
_FILTERED_PAGE = 500
_MAX_PAGES = 10
_ACTION_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
_SK_PATTERN = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?\+00:00#[0-9a-f]{12}$")


def _iso_string(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date-time string with an offset, e.g. 2026-12-01T00:00:00-03:00")
    return value


IsoInstant = Annotated[AwareDatetime, BeforeValidator(_iso_string)]


class AuditQueryRequest(OperationRequest):
    """AuditQuery: ``{"org_id", "from", "to", "action"?, "limit"?, "cursor"?}``."""

    org_id: OrgId
    from_: IsoInstant = Field(alias="from", description="the oldest instant included (ISO 8601 with offset)")
    to: IsoInstant = Field(description="the newest instant included (ISO 8601 with offset)")
    action: str | None = Field(None, pattern=_ACTION_PATTERN, description="only this action")
    limit: int = Field(DEFAULT_QUERY_LIMIT, ge=1, le=MAX_QUERY_LIMIT, strict=True)
    cursor: str | None = Field(None, min_length=1, max_length=512, description="next_cursor of the previous page")

    @model_validator(mode="after")
    def _ordered(self) -> AuditQueryRequest:
        if self.from_ > self.to:
            raise ValueError("from must not be after to")
        return self


class AuditRecord(BaseModel):
    at: str
    action: str
    actor: str
    integration: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    source_ip: str | None = None
    user_agent: str | None = None
    sensitive: bool = False


class AuditPage(BaseModel):
    records: list[AuditRecord]
    next_cursor: str | None = None


def _stamp(instant: datetime) -> str:
    """An instant as the sort keys spell it (``record`` writes ``datetime.isoformat()`` in UTC;
    without microseconds that is ``…:59+00:00``, which sorts before ``…:59.000001+00:00``)."""
    return instant.astimezone(UTC).isoformat()


def _query_digest(request: AuditQueryRequest) -> str:
    scope = "|".join([request.org_id, _stamp(request.from_), _stamp(request.to), request.action or ""])
    return hashlib.sha256(scope.encode()).hexdigest()[:16]


def _encode_cursor(request: AuditQueryRequest, sk: str) -> str:
    raw = json.dumps({"sk": sk, "q": _query_digest(request)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(request: AuditQueryRequest, bounds: tuple[str, str]) -> str:
    """The sort key a cursor continues after; InvalidRequestError for anything this query did
    not hand out (garbled, edited, or another query's cursor)."""
    invalid = InvalidRequestError(
        "invalid request: cursor: not a next_cursor of this query (same org_id, from, to and action)",
        code="invalid_cursor",
    )
    cursor = request.cursor or ""
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise invalid from None
    if not isinstance(data, dict) or set(data) != {"sk", "q"} or data["q"] != _query_digest(request):
        raise invalid
    sk = data["sk"]
    if not isinstance(sk, str) or not _SK_PATTERN.fullmatch(sk) or not bounds[0] <= sk <= bounds[1]:
        raise invalid
    return sk


def _from_item(item: Mapping[str, Any]) -> AuditRecord:
    def text(name: str) -> str | None:
        value = item.get(name, {}).get("S")
        return value if isinstance(value, str) else None

    try:
        details = json.loads(text("details") or "{}")
    except ValueError:
        details = {"unparsed": text("details")}
    return AuditRecord(
        at=text("at") or item["sk"]["S"].partition("#")[0],
        action=text("action") or "",
        actor=text("actor") or "",
        integration=text("integration"),
        details=details if isinstance(details, dict) else {"value": details},
        source_ip=text("source_ip"),
        user_agent=text("user_agent"),
        sensitive=bool(item.get("sensitive", {}).get("BOOL", False)),
    )


def query(request: AuditQueryRequest) -> AuditPage:
    """AuditQuery's operation: the org's records between ``from`` and ``to`` (inclusive), newest
    first, ``limit`` at most, and ``next_cursor`` while more remain (a page can be shorter than
    ``limit`` with an action filter; keep following ``next_cursor`` until it is absent)."""
    table = get_settings().require("audit_table")
    bounds = (_stamp(request.from_), _stamp(request.to) + "#~")  # "~" sorts after every record id
    kwargs: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "org_id = :o AND sk BETWEEN :lo AND :hi",
        "ExpressionAttributeValues": {":o": {"S": request.org_id}, ":lo": {"S": bounds[0]}, ":hi": {"S": bounds[1]}},
        "ScanIndexForward": False,
        "Limit": request.limit + 1,  # one more than asked: whether another page exists
    }
    if request.action:
        kwargs["FilterExpression"] = "#action = :action"  # ACTION is a DynamoDB reserved word
        kwargs["ExpressionAttributeNames"] = {"#action": "action"}
        kwargs["ExpressionAttributeValues"][":action"] = {"S": request.action}
        kwargs["Limit"] = _FILTERED_PAGE
    if request.cursor:
        kwargs["ExclusiveStartKey"] = {"org_id": {"S": request.org_id}, "sk": {"S": _decode_cursor(request, bounds)}}
    client = aws_client("dynamodb")
    records: list[AuditRecord] = []
    last_sk = ""
    for _ in range(_MAX_PAGES):
        try:
            response = client.query(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            logger.error("audit_query_failed", extra={"org_id": request.org_id, "error": type(exc).__name__})
            raise ProviderUnavailableError("the audit trail is unavailable; retry later", provider="dynamodb") from exc
        for item in response.get("Items", []):
            if len(records) == request.limit:  # more records remain in this page
                return AuditPage(records=records, next_cursor=_encode_cursor(request, last_sk))
            records.append(_from_item(item))
            last_sk = item["sk"]["S"]
        evaluated = response.get("LastEvaluatedKey")
        if not evaluated:
            return AuditPage(records=records)
        kwargs["ExclusiveStartKey"] = evaluated
        last_sk = evaluated["sk"]["S"]
        if len(records) == request.limit:
            break
    return AuditPage(records=records, next_cursor=_encode_cursor(request, last_sk))
