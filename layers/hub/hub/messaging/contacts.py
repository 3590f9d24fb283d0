"""Contacts, consent (LGPD) and the email suppression list, in the contacts table.

One item per org, channel and address (``{channel}#{address}``: ``whatsapp#+5511…``,
``sms#+5511…``, ``email#fulano@…``), holding:

* ``consent_status`` (``opted_in`` | ``opted_out``), ``consent_source`` and ``consent_at``:
  the latest decision wins, by its timestamp, so a late-arriving older one never overrides it;
* ``suppressed_reason``/``suppressed_at`` (email): a hard bounce or a complaint; sends
  are refused until an operator clears it (a form opt-in does not);
* ``last_inbound_at`` (WhatsApp): when the contact last wrote to us, the start of Cloud
  API's 24-hour customer-service window.

After an LGPD erasure (:mod:`hub.lgpd`) a suppression or an opt-out is kept without the address:
an item ``{channel}#sha256:{digest}`` (:func:`address_hash`) holding only the decision, read
beside the address's own item, so an erased address that bounced stays refused.

Every send checks :func:`ensure_can_send` first. Without a recorded decision a send is
allowed unless the org requires explicit opt-in (``require_opt_in`` in its messaging settings).
"""

from __future__ import annotations

import hashlib
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field

from hub.aws import aws_client
from hub.config import get_settings
from hub.credentials import validate_org_id
from hub.emails import MAX_EMAIL_INPUT, contact_key_email, normalise_email
from hub.errors import InvalidRequestError, ProviderUnavailableError
from hub.phones import to_e164
from hub.providers.outbound import Channel
from hub.requests import OperationRequest, OrgId

ConsentStatus = Literal["opted_in", "opted_out"]

# A reply made only of one of these words opts the contact out of (or back into) the channel
# it came from. Portuguese first: the agency's contacts are Brazilian.
OPT_OUT_WORDS = frozenset(
    {"SAIR", "PARAR", "PARE", "CANCELAR", "DESCADASTRAR", "REMOVER", "STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT"}
)
OPT_IN_WORDS = frozenset({"VOLTAR", "START", "UNSTOP", "ASSINAR"})

CUSTOMER_SERVICE_WINDOW = timedelta(hours=24)


def contact_key(org_id: str, channel: str, address: str) -> dict[str, Any]:
    if channel == "email":
        address = contact_key_email(address)
    return {"org_id": {"S": org_id}, "contact": {"S": f"{channel}#{address}"}}


# Rounds of BatchGetItem for keys DynamoDB left unprocessed before giving up (retryable).
_BATCH_ROUNDS = 4


def address_hash(org_id: str, channel: str, address: str) -> str:
    """The hash an erased address's suppression/opt-out is kept under (the address as keyed)."""
    if channel == "email":
        address = contact_key_email(address)
    return hashlib.sha256(f"lgpd:v1:{org_id}:{channel}:{address}".encode()).hexdigest()


def hashed_contact(org_id: str, channel: str, digest: str) -> dict[str, Any]:
    return {"org_id": {"S": org_id}, "contact": {"S": f"{channel}#sha256:{digest}"}}


class ChannelState(BaseModel):
    """What the hub knows about one contact on one channel."""

    channel: Channel
    address: str
    consent_status: ConsentStatus | None = None
    consent_source: str | None = None
    consent_at: datetime | None = None
    suppressed_reason: str | None = None
    suppressed_at: datetime | None = None
    last_inbound_at: datetime | None = None

    def within_service_window(self, now: datetime | None = None) -> bool:
        """Inside WhatsApp's 24-hour customer-service window (free-form messages allowed)."""
        if self.last_inbound_at is None:
            return False
        return (now or datetime.now(UTC)) - self.last_inbound_at < CUSTOMER_SERVICE_WINDOW


def _table() -> str:
    return get_settings().require("contacts_table")


def iso(at: datetime) -> str:
    """UTC ISO 8601: one format, so stored timestamps compare correctly as strings."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).isoformat()


def _when(item: dict[str, Any], name: str) -> datetime | None:
    value = item.get(name, {}).get("S")
    return datetime.fromisoformat(value) if value else None


def get_channel_state(org_id: str, channel: Channel, address: str) -> ChannelState:
    key = contact_key(org_id, channel, address)
    hashed = hashed_contact(org_id, channel, address_hash(org_id, channel, address))
    found = _batch_get([key, hashed])
    item: dict[str, Any] = next((i for i in found if i["contact"] == key["contact"]), {})
    kept = next((i for i in found if i["contact"] == hashed["contact"]), None)
    if kept is not None:
        item = _with_kept_decisions(item, kept)
    status = item.get("consent_status", {}).get("S")
    return ChannelState(
        channel=channel,
        address=address,
        consent_status=status if status in ("opted_in", "opted_out") else None,
        consent_source=item.get("consent_source", {}).get("S"),
        consent_at=_when(item, "consent_at"),
        suppressed_reason=item.get("suppressed_reason", {}).get("S"),
        suppressed_at=_when(item, "suppressed_at"),
        last_inbound_at=_when(item, "last_inbound_at"),
    )


def mark_erased(org_id: str, channel: str, address: str, *, at: datetime) -> None:
    """An LGPD erasure of this address happened at ``at`` (kept beside its hashed decisions):
    sends queued before it are not sent (:func:`erased_after`)."""
    aws_client("dynamodb").update_item(
        TableName=_table(),
        Key=hashed_contact(org_id, channel, address_hash(org_id, channel, address)),
        UpdateExpression="SET erased_at = :at",
        ExpressionAttributeValues={":at": {"S": iso(at)}},
    )


def erased_after(org_id: str, recipients: list[tuple[str, str]], at: datetime) -> bool:
    """Whether any of ``(channel, address)`` was erased (LGPD) after ``at``."""
    keys = [hashed_contact(org_id, channel, address_hash(org_id, channel, address)) for channel, address in recipients]
    unique = list({k["contact"]["S"]: k for k in keys}.values())
    for start in range(0, len(unique), 100):  # BatchGetItem's limit
        found = _batch_get(unique[start : start + 100], projection="erased_at")
        if any(item.get("erased_at", {}).get("S", "") > iso(at) for item in found):
            return True
    return False


def _batch_get(keys: list[dict[str, Any]], *, projection: str | None = None) -> list[dict[str, Any]]:
    """Every item of ``keys`` that exists (consistent reads). DynamoDB may leave keys
    unprocessed under throttling: they are asked again, and still unprocessed after a few
    rounds is ProviderUnavailableError — never "no decision recorded", which would let a send
    to a suppressed or opted-out contact through."""
    request: dict[str, Any] = {"Keys": keys, "ConsistentRead": True}
    if projection:
        request["ProjectionExpression"] = f"#c, {projection}"
        request["ExpressionAttributeNames"] = {"#c": "contact"}
    items: list[dict[str, Any]] = []
    for _ in range(_BATCH_ROUNDS):
        answer = aws_client("dynamodb").batch_get_item(RequestItems={_table(): request})
        items.extend(answer.get("Responses", {}).get(_table(), []))
        left = answer.get("UnprocessedKeys", {}).get(_table(), {}).get("Keys")
        if not left:
            return items
        request = {**request, "Keys": left}
    raise ProviderUnavailableError("the contacts table is throttling consent reads; retry shortly", provider="dynamodb")


def _with_kept_decisions(item: dict[str, Any], kept: dict[str, Any]) -> dict[str, Any]:
    """The address's state with what an erasure kept as a hash: a suppression always; an opt-out
    unless a newer decision was recorded for the address since."""
    merged = dict(item)
    if "suppressed_reason" in kept and "suppressed_reason" not in merged:
        merged["suppressed_reason"] = kept["suppressed_reason"]
        merged["suppressed_at"] = kept.get("suppressed_at", {"S": ""})
    kept_at = kept.get("consent_at", {}).get("S", "")
    if "consent_status" in kept and merged.get("consent_at", {}).get("S", "") < kept_at:
        for name in ("consent_status", "consent_source", "consent_at"):
            if name in kept:
                merged[name] = kept[name]
    return merged


def refusal(state: ChannelState, *, require_opt_in: bool) -> InvalidRequestError | None:
    """Why a send to this contact on this channel must not happen, or None."""
    if state.suppressed_reason:
        return InvalidRequestError(
            f"{state.channel} address is on the org's suppression list ({state.suppressed_reason}); "
            "sends to it are refused",
            code="suppressed",
        )
    if state.consent_status == "opted_out":
        return InvalidRequestError(
            f"the contact opted out of {state.channel} (source: {state.consent_source or 'unknown'}); "
            "sends on this channel are refused",
            code="opted_out",
        )
    if require_opt_in and state.consent_status != "opted_in":
        return InvalidRequestError(
            f"the org requires an explicit opt-in and the contact has none for {state.channel}",
            code="no_opt_in",
        )
    return None


def ensure_can_send(org_id: str, channel: Channel, address: str, *, require_opt_in: bool) -> ChannelState:
    """The contact's state, or InvalidRequestError (opted_out / suppressed / no_opt_in)."""
    state = get_channel_state(org_id, channel, address)
    error = refusal(state, require_opt_in=require_opt_in)
    if error is not None:
        raise error
    return state


def set_consent(
    org_id: str, channel: Channel, address: str, status: ConsentStatus, *, source: str, at: datetime
) -> bool:
    """Record an opt-in/opt-out; False when a newer decision is already recorded."""
    try:
        aws_client("dynamodb").update_item(
            TableName=_table(),
            Key=contact_key(org_id, channel, address),
            UpdateExpression="SET consent_status = :s, consent_source = :src, consent_at = :at",
            ConditionExpression="attribute_not_exists(consent_at) OR consent_at <= :at",
            ExpressionAttributeValues={":s": {"S": status}, ":src": {"S": source[:200]}, ":at": {"S": iso(at)}},
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True


def suppress_email(org_id: str, address: str, *, reason: str, at: datetime) -> None:
    """Put an address on the org's suppression list (idempotent; the first reason is kept)."""
    aws_client("dynamodb").update_item(
        TableName=_table(),
        Key=contact_key(org_id, "email", address),
        UpdateExpression="SET suppressed_reason = if_not_exists(suppressed_reason, :r), "
        "suppressed_at = if_not_exists(suppressed_at, :at)",
        ExpressionAttributeValues={":r": {"S": reason[:300]}, ":at": {"S": iso(at)}},
    )


def clear_suppression(org_id: str, address: str) -> None:
    aws_client("dynamodb").update_item(
        TableName=_table(),
        Key=contact_key(org_id, "email", address),
        UpdateExpression="REMOVE suppressed_reason, suppressed_at",
    )
    try:  # and the suppression an erasure kept as a hash, if there is one
        aws_client("dynamodb").update_item(
            TableName=_table(),
            Key=hashed_contact(org_id, "email", address_hash(org_id, "email", address)),
            UpdateExpression="REMOVE suppressed_reason, suppressed_at",
            ConditionExpression="attribute_exists(contact)",
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise


def consent_keyword(text: str | None) -> ConsentStatus | None:
    """``"Sair"``, ``" STOP! "``, ``"Descadastrar."`` → opted_out; ``"VOLTAR"`` → opted_in."""
    if not text:
        return None
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    word = "".join(ch for ch in folded if ch.isalnum()).upper()
    if word in OPT_OUT_WORDS:
        return "opted_out"
    if word in OPT_IN_WORDS:
        return "opted_in"
    return None


def record_inbound(
    org_id: str, channel: Channel, address: str, *, at: datetime, message_id: str, provider: str, name: str | None
) -> None:
    """Remember when the contact last wrote (never moving the window backwards)."""
    try:
        aws_client("dynamodb").update_item(
            TableName=_table(),
            Key=contact_key(org_id, channel, address),
            UpdateExpression=(
                "SET last_inbound_at = :at, last_inbound_message_id = :id, "
                "last_inbound_provider = :provider, display_name = :name"
            ),
            ConditionExpression="attribute_not_exists(last_inbound_at) OR last_inbound_at < :at",
            ExpressionAttributeValues={
                ":at": {"S": iso(at)},
                ":id": {"S": message_id},
                ":provider": {"S": provider},
                ":name": {"S": name or ""},
            },
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise


# ----- ContactConsentSet --------------------------------------------------------------------------


class ConsentUpdateRequest(OperationRequest):
    """Record a consent decision from outside (a signup form, a CRM, the DPO)."""

    model_config = ConfigDict(str_strip_whitespace=True)

    org_id: OrgId
    channel: Channel
    address: str = Field(min_length=3, max_length=MAX_EMAIL_INPUT, description="phone (whatsapp/sms) or email address")
    status: ConsentStatus
    source: str = Field(min_length=1, max_length=200, description="where the decision was made, e.g. 'site form'")
    at: datetime | None = Field(None, description="when it was made (default: now)")
    clear_suppression: bool = Field(
        False, description="email only: also take the address off the suppression list (after a bounce was fixed)"
    )


def normalise_address(channel: Channel, address: str, *, field: str = "address") -> str:
    return normalise_email(address, field=field) if channel == "email" else to_e164(address, field=field)


def update_consent(request: ConsentUpdateRequest) -> ChannelState:
    validate_org_id(request.org_id)
    address = normalise_address(request.channel, request.address)
    if request.clear_suppression and request.channel != "email":
        raise InvalidRequestError("clear_suppression applies to the email channel only")
    at = request.at or datetime.now(UTC)
    if at.tzinfo is None:
        raise InvalidRequestError("at must carry a timezone (e.g. 2026-11-23T10:00:00-03:00)")
    set_consent(request.org_id, request.channel, address, request.status, source=request.source, at=at)
    if request.clear_suppression:
        clear_suppression(request.org_id, address)
    return get_channel_state(request.org_id, request.channel, address)
