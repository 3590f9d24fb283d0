"""LGPD: erase a contact (``ContactErase``) from every store the hub keeps (docs/integrations.md,
"LGPD: erasing a contact").

The contact is named by phone and/or email. Every form the hub may have stored them in is
searched: the phone as E.164 (``+5511987654321``), digits only, the national form with or
without punctuation (``(11) 98765-4321``), the WhatsApp JID (``5511987654321@s.whatsapp.net``,
also the legacy Brazilian JID without the mobile 9), URL-encoded (``%2B5511…``) and inside
WhatsApp Cloud message ids (a ``wamid`` is base64 of the number); the email in any case, and
URL-encoded (``%40``). Stores, in the order they are swept (:data:`STORES`):

* ``contacts`` (ContactsTable, the org's partition): consents, the 24 h contact window, display
  name — deleted. A suppression (bounce, complaint) or an opt-out is kept as a hash only: a
  ``{channel}#sha256:{digest}`` item (:func:`hub.messaging.contacts.address_hash`) with the
  decision and no address, so a suppressed address stays refused after the erasure;
* ``messages`` (MessagesTable, the org's partition): every record sent to the contact —
  deleted (a WhatsApp Cloud message id itself encodes the number);
* ``payments`` (PaymentsTable, the org's partition): a charge whose customer is the contact is
  anonymised, unless it was paid, refunded or invoiced: then it is retained (LGPD art. 16, I —
  fiscal records are a legal obligation) and counted under ``retained``;
* ``idempotency`` (IdempotencyTable, scanned: its keys are hashes): stored results of
  operations and unknown outcomes that hold the contact are masked (``[erased]``), the record
  itself stays so the same idempotency key never sends twice;
* ``webhook_archive`` (WebhookArchiveBucket, ``raw/{provider}/{org}/`` for every provider,
  every object version): an archived delivery that mentions the contact is deleted, every
  version of it — the archive exists to replay undelivered events, the contact's own messages
  and statuses are not worth keeping against their erasure;
* ``calendar`` (CalendarTable, the org's ``event#`` records, when the table is configured): the
  last version the sync saw of each Google Calendar event the contact attends — deleted (the
  event itself is the org's, in Google; a later change of it is then announced as new).

The audit trail is append-only (no function may update or delete it): records that mention the
contact are counted under ``retained`` and leave by the table's TTL.

Bounded work: tables are read a page at a time, the archive a listing page at a time, and the
deadline is checked after every page. A direct invoke works for at most
:data:`DIRECT_BUDGET_SECONDS` (a synchronous caller is waiting); whatever is left continues on
``ContactErasureQueue`` (the job, with its cursors and counts so far, as the message), consumed
by the same function until it is done. The ``contact_erased`` audit record and the
``contact.erased`` bus event are written once, when the last store is done.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hub import audit
from hub.aws import aws_client
from hub.bus import put_event
from hub.config import get_settings
from hub.credentials import validate_org_id
from hub.emails import MAX_EMAIL_INPUT, contact_key_email, normalise_email
from hub.errors import InvalidRequestError
from hub.messaging.contacts import address_hash, hashed_contact, iso, mark_erased
from hub.observability import logger
from hub.phones import MAX_PHONE_INPUT, to_e164
from hub.requests import IdempotencyKey, OperationRequest, OrgId
from hub.runtime import remaining_seconds
from hub.storage import ObjectStorage

ERASED = "[erased]"
STORES = ("contacts", "messages", "payments", "idempotency", "webhook_archive", "calendar")
# A direct invoke answers within this (boto3's default read timeout is 60 s); the rest continues
# on the queue.
DIRECT_BUDGET_SECONDS = 40.0
# Stop this long before the function's own timeout: time to save the job and enqueue it.
STOP_MARGIN_SECONDS = 15.0
# Items per DynamoDB page (a page is also at most 1 MB) and keys per S3 listing page.
PAGE_SIZE = 500
# A charge in one of these states (or with an invoice) is a fiscal record: retained.
FISCAL_STATES = frozenset({"CONFIRMED", "RECEIVED", "PARTIALLY_REFUNDED", "REFUNDED"})
_SEP = r"[\s.\-()]*"
_WAMID = re.compile(r"wamid\.[A-Za-z0-9+/=_-]{8,}")


# ----- the request ---------------------------------------------------------------------------------


class ContactToErase(OperationRequest):
    model_config = ConfigDict(str_strip_whitespace=True)

    phone: str | None = Field(None, min_length=1, max_length=MAX_PHONE_INPUT, description="any form; E.164 after")
    email: str | None = Field(None, min_length=3, max_length=MAX_EMAIL_INPUT)

    @model_validator(mode="after")
    def _one_at_least(self) -> ContactToErase:
        if not self.phone and not self.email:
            raise ValueError("give the contact's phone, email or both")
        return self


class ContactEraseRequest(OperationRequest):
    org_id: OrgId
    contact: ContactToErase
    actor: str = Field(min_length=1, max_length=200, description="who asked (the DPO, a user id, a service)")
    idempotency_key: IdempotencyKey | None = None


class ErasureReport(BaseModel):
    """What ``ContactErase`` answers (and ``contact.erased`` carries): counts, never the contact."""

    org_id: str
    status: Literal["completed", "continuing"]
    erased: dict[str, int]
    kept: dict[str, int] = Field(description="what stays as a hash only (suppressions, opt-outs)")
    retained: dict[str, int] = Field(description="what stays by legal obligation (fiscal records, audit trail)")
    contact_hash: str
    completed_at: datetime | None = None


# ----- finding the contact -------------------------------------------------------------------------


def _digits_pattern(digits: str) -> str:
    return _SEP.join(re.escape(d) for d in digits)


@dataclass(frozen=True)
class Identifiers:
    """The contact's phone (E.164) and email (lower-cased), and every stored form of them."""

    phone: str | None
    email: str | None

    def _phone_pattern(self) -> str | None:
        if not self.phone:
            return None
        import phonenumbers  # on first use, not at init (cold start): an erasure by email never needs it

        number = phonenumbers.parse(self.phone, None)
        country = str(number.country_code)
        national = phonenumbers.national_significant_number(number)
        forms = [_digits_pattern(national)]
        if country == "55" and len(national) == 11 and national[2] == "9":
            # Brazilian mobiles: WhatsApp JIDs of older accounts leave out the 9 after the DDD.
            forms.append(_digits_pattern(national[:2] + national[3:]))
        prefix = rf"(?:(?:\+|%2B|00)?{_SEP}{_digits_pattern(country)}{_SEP})?"
        return rf"(?<!\d)(?:{prefix}(?:{'|'.join(forms)}))(?!\d)"

    @property
    def pattern(self) -> re.Pattern[str]:
        parts = []
        phone = self._phone_pattern()
        if phone:
            parts.append(phone)
        if self.email:
            local, _, domain = self.email.partition("@")
            # Whole addresses only: not the tail of a longer local part nor a shorter domain.
            parts.append(
                rf"(?:(?<![\w.+%-])|(?<=%[0-9A-Fa-f]{{2}})){re.escape(local)}(?:@|%40){re.escape(domain)}(?![\w-]|\.[\w-])"
            )
        return re.compile("|".join(parts), re.IGNORECASE)

    def _wamid_holds_phone(self, token: str, pattern: re.Pattern[str]) -> bool:
        raw = token.removeprefix("wamid.")
        try:
            urlsafe = "-" in raw or "_" in raw
            decoded = base64.b64decode(raw + "=" * (-len(raw) % 4), altchars=b"-_" if urlsafe else None)
        except (binascii.Error, ValueError):
            return False
        return bool(pattern.search(decoded.decode("latin-1")))

    def found_in(self, text: str, pattern: re.Pattern[str] | None = None) -> bool:
        pattern = pattern or self.pattern
        if pattern.search(text):
            return True
        return bool(self.phone) and any(self._wamid_holds_phone(m.group(0), pattern) for m in _WAMID.finditer(text))

    def mask(self, text: str, pattern: re.Pattern[str] | None = None) -> str:
        pattern = pattern or self.pattern
        masked = pattern.sub(ERASED, text)
        if self.phone:
            masked = _WAMID.sub(
                lambda m: ERASED if self._wamid_holds_phone(m.group(0), pattern) else m.group(0), masked
            )
        return masked


def identifiers(phone: str | None, email: str | None) -> Identifiers:
    return Identifiers(
        phone=to_e164(phone, field="contact.phone") if phone else None,
        email=contact_key_email(normalise_email(email, field="contact.email")) if email else None,
    )


def contact_hash(org_id: str, ids: Identifiers) -> str:
    """The contact in the report, audit and event: a hash, never the phone or email."""
    return hashlib.sha256(f"lgpd:v1:{org_id}:{ids.phone or ''}|{ids.email or ''}".encode()).hexdigest()


class _Matcher:
    """Finds and masks the contact in stored values (strings, JSON documents, DynamoDB items)."""

    def __init__(self, ids: Identifiers) -> None:
        self.ids = ids
        self.pattern = ids.pattern

    def found(self, text: str) -> bool:
        return self.ids.found_in(text, self.pattern)

    def mask_text(self, text: str) -> str:
        """A string; a JSON document stays valid JSON (numbers that are the phone become strings)."""
        if text[:1] in ("{", "[") and self.found(text):
            try:
                return json.dumps(self._mask_json(json.loads(text)), ensure_ascii=False)
            except ValueError:
                pass
        return self.ids.mask(text, self.pattern)

    def _mask_json(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.mask_text(value)
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, int | float):
            return ERASED if self.found(str(value)) else value
        if isinstance(value, list):
            return [self._mask_json(v) for v in value]
        if isinstance(value, dict):
            return {self.ids.mask(str(k), self.pattern): self._mask_json(v) for k, v in value.items()}
        return value

    def item_found(self, item: dict[str, Any]) -> bool:
        return self.found(json.dumps(item, ensure_ascii=False))

    def mask_attribute(self, value: dict[str, Any]) -> dict[str, Any]:
        if "S" in value:
            return {"S": self.mask_text(value["S"])}
        if "N" in value:
            return {"S": ERASED} if self.found(value["N"]) else value
        if "SS" in value:
            return {"SS": sorted({self.mask_text(v) for v in value["SS"]})}
        if "L" in value:
            return {"L": [self.mask_attribute(v) for v in value["L"]]}
        if "M" in value:
            return {"M": {k: self.mask_attribute(v) for k, v in value["M"].items()}}
        return value


# ----- the job -------------------------------------------------------------------------------------


class ErasureJob(BaseModel):
    """The work in progress: also the body of a continuation message (SSE-encrypted queue,
    deleted once consumed). The only place the contact's phone/email travel after the request."""

    model_config = ConfigDict(extra="forbid")

    org_id: str
    phone: str | None = None
    email: str | None = None
    actor: str
    contact_hash: str
    stage: int = 0
    cursor: dict[str, Any] | None = None
    erased: dict[str, int] = Field(default_factory=lambda: dict.fromkeys(STORES, 0))
    kept: dict[str, int] = Field(default_factory=lambda: {"suppression_hashes": 0})
    retained: dict[str, int] = Field(default_factory=lambda: {"payments": 0, "audit": 0})
    rounds: int = 0
    started_at: datetime

    def report(self, completed_at: datetime | None) -> ErasureReport:
        return ErasureReport(
            org_id=self.org_id,
            status="completed" if completed_at else "continuing",
            erased=dict(self.erased),
            kept=dict(self.kept),
            retained=dict(self.retained),
            contact_hash=self.contact_hash,
            completed_at=completed_at,
        )


@dataclass
class _Clock:
    """When this invocation must stop sweeping: the budget or the Lambda's time, whichever is first."""

    budget_ends: float | None

    def out_of_time(self) -> bool:
        now = time.monotonic()
        if self.budget_ends is not None and now >= self.budget_ends:
            return True
        left = remaining_seconds()
        return left is not None and left < STOP_MARGIN_SECONDS


# A stage sweeps from a cursor and yields the next cursor after each page (None: done).
Stage = Callable[[ErasureJob, _Matcher, dict[str, Any] | None], Iterator[dict[str, Any] | None]]


def _pages(
    call: Callable[..., dict[str, Any]], kwargs: dict[str, Any], cursor: dict[str, Any] | None
) -> Iterator[tuple[list[dict[str, Any]], dict[str, Any] | None]]:
    """DynamoDB Query/Scan pages from ``cursor`` (an ExclusiveStartKey): (items, next cursor)."""
    start = cursor.get("key") if cursor else None
    while True:
        page = call(**kwargs, Limit=PAGE_SIZE, **({"ExclusiveStartKey": start} if start else {}))
        start = page.get("LastEvaluatedKey")
        yield page.get("Items", []), ({"key": start} if start else None)
        if not start:
            return


def _partition(table: str, org_id: str) -> dict[str, Any]:
    return {
        "TableName": table,
        "KeyConditionExpression": "org_id = :o",
        "ExpressionAttributeValues": {":o": {"S": org_id}},
        "ConsistentRead": True,
    }


def _sweep_contacts(job: ErasureJob, match: _Matcher, cursor: dict[str, Any] | None) -> Iterator[Any]:
    settings = get_settings()
    table = settings.require("contacts_table")
    db = aws_client("dynamodb")
    for items, after in _pages(db.query, _partition(table, job.org_id), cursor):
        for item in items:
            contact = item["contact"]["S"]
            channel, _, address = contact.partition("#")
            if address.startswith("sha256:") or not match.item_found(item):
                continue  # a hash already, or another contact
            if _keep_as_hash(job.org_id, channel, address, item):
                job.kept["suppression_hashes"] += 1
            db.delete_item(TableName=table, Key={"org_id": item["org_id"], "contact": item["contact"]})
            job.erased["contacts"] += 1
        yield after


def _keep_as_hash(org_id: str, channel: str, address: str, item: dict[str, Any]) -> bool:
    """A suppression or an opt-out outlives the erasure as a hash of the address (no address,
    no free text: the provider's bounce reason may quote the address)."""
    values: dict[str, Any] = {":erased": {"S": iso(datetime.now(UTC))}}
    sets = ["erased_at = :erased"]
    reason = item.get("suppressed_reason", {}).get("S")
    if reason:
        sets += ["suppressed_reason = :r", "suppressed_at = :rat"]
        values[":r"] = {"S": reason.split(":", 1)[0][:100]}
        values[":rat"] = item.get("suppressed_at", values[":erased"])
    if item.get("consent_status", {}).get("S") == "opted_out":
        sets += ["consent_status = :s", "consent_source = :src", "consent_at = :at"]
        values[":s"] = {"S": "opted_out"}
        values[":src"] = {"S": "kept as a hash after an LGPD erasure"}
        values[":at"] = item.get("consent_at", values[":erased"])
    if len(sets) == 1:
        return False
    aws_client("dynamodb").update_item(
        TableName=get_settings().require("contacts_table"),
        Key=hashed_contact(org_id, channel, address_hash(org_id, channel, address)),
        UpdateExpression="SET " + ", ".join(sets),
        ExpressionAttributeValues=values,
    )
    return True


def _sweep_messages(job: ErasureJob, match: _Matcher, cursor: dict[str, Any] | None) -> Iterator[Any]:
    table = get_settings().require("messages_table")
    db = aws_client("dynamodb")
    for items, after in _pages(db.query, _partition(table, job.org_id), cursor):
        for item in items:
            if match.item_found(item):
                db.delete_item(TableName=table, Key={"org_id": item["org_id"], "message_id": item["message_id"]})
                job.erased["messages"] += 1
        yield after


def _sweep_payments(job: ErasureJob, match: _Matcher, cursor: dict[str, Any] | None) -> Iterator[Any]:
    table = get_settings().payments_table
    if not table:
        yield None
        return
    db = aws_client("dynamodb")
    for items, after in _pages(db.query, _partition(table, job.org_id), cursor):
        for item in items:
            if not match.item_found(item):
                continue
            if item.get("status", {}).get("S") in FISCAL_STATES or "invoice_number" in item:
                job.retained["payments"] += 1
                continue
            db.update_item(
                TableName=table,
                Key={"org_id": item["org_id"], "charge_id": item["charge_id"]},
                UpdateExpression="SET customer = :c, description = :d",
                ExpressionAttributeValues={
                    ":c": {"S": json.dumps({"erased": True})},
                    ":d": match.mask_attribute(item.get("description", {"S": ""})),
                },
            )
            job.erased["payments"] += 1
        yield after


def _sweep_idempotency(job: ErasureJob, match: _Matcher, cursor: dict[str, Any] | None) -> Iterator[Any]:
    table = get_settings().require("idempotency_table")
    db = aws_client("dynamodb")
    for items, after in _pages(db.scan, {"TableName": table}, cursor):
        for item in items:
            item_id = item["id"]["S"]
            if item_id.startswith("outcome#") and f"#{job.org_id}#" not in item_id:
                continue  # another org's unknown outcome
            if not match.item_found(item):
                continue
            # Keep the record (its key must stay used: the same key never sends twice); mask
            # what it stored. Results are keyed by a hash of (operation, org, key): a result of
            # another org that holds the same phone/email is masked too (docs).
            masked = {k: v if k in ("id", "validation") else match.mask_attribute(v) for k, v in item.items()}
            db.put_item(TableName=table, Item=masked)
            job.erased["idempotency"] += 1
        yield after


def _sweep_archive(job: ErasureJob, match: _Matcher, cursor: dict[str, Any] | None) -> Iterator[Any]:
    """Every version of every object under ``raw/{provider}/{org}/``, a listing page at a time."""
    settings = get_settings()
    bucket = settings.webhook_archive_bucket
    if not bucket:
        yield None
        return
    s3 = ObjectStorage().client
    providers = cursor["providers"] if cursor else _archive_providers(s3, bucket)
    index = cursor["index"] if cursor else 0
    markers: dict[str, str] = cursor.get("markers", {}) if cursor else {}
    while index < len(providers):
        prefix = f"raw/{providers[index]}/{job.org_id}/"
        page = s3.list_object_versions(Bucket=bucket, Prefix=prefix, MaxKeys=PAGE_SIZE, **markers)
        for version in page.get("Versions", []):
            body = s3.get_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])["Body"].read()
            if match.found(body.decode("utf-8", errors="replace")):
                s3.delete_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])
                job.erased["webhook_archive"] += 1
        if page.get("IsTruncated"):
            markers = {"KeyMarker": page["NextKeyMarker"], "VersionIdMarker": page["NextVersionIdMarker"]}
        else:
            index, markers = index + 1, {}
        yield {"providers": providers, "index": index, "markers": markers} if index < len(providers) else None


def _sweep_calendar(job: ErasureJob, match: _Matcher, cursor: dict[str, Any] | None) -> Iterator[Any]:
    table = get_settings().calendar_table
    if not table:
        yield None  # no Google Calendar in this deployment
        return
    db = aws_client("dynamodb")
    query = {
        "TableName": table,
        "KeyConditionExpression": "pk = :o AND begins_with(sk, :e)",
        "ExpressionAttributeValues": {":o": {"S": f"org#{job.org_id}"}, ":e": {"S": "event#"}},
        "ConsistentRead": True,
    }
    for items, after in _pages(db.query, query, cursor):
        for item in items:
            if match.item_found(item):
                db.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})
                job.erased["calendar"] = job.erased.get("calendar", 0) + 1  # jobs queued before it existed
        yield after


def _archive_providers(s3: Any, bucket: str) -> list[str]:
    # Versions, not objects: a provider whose every object was deleted may still hold old versions.
    providers: list[str] = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix="raw/", Delimiter="/"):
        providers += [p["Prefix"].split("/")[1] for p in page.get("CommonPrefixes", [])]
    return sorted(set(providers))


def _count_audit(job: ErasureJob, match: _Matcher, cursor: dict[str, Any] | None) -> Iterator[Any]:
    """The audit trail is append-only: what mentions the contact stays (counted), until its TTL."""
    table = get_settings().audit_table
    if not table:
        yield None
        return
    db = aws_client("dynamodb")
    for items, after in _pages(db.query, _partition(table, job.org_id), cursor):
        job.retained["audit"] += sum(1 for item in items if match.item_found(item))
        yield after


SWEEPS: dict[str, Stage] = {
    "contacts": _sweep_contacts,
    "messages": _sweep_messages,
    "payments": _sweep_payments,
    "idempotency": _sweep_idempotency,
    "webhook_archive": _sweep_archive,
    "calendar": _sweep_calendar,
    "audit": _count_audit,  # read only: counted under ``retained``
}
STAGES = (*STORES, "audit")


def run(job: ErasureJob, clock: _Clock) -> bool:
    """Sweep from where the job stands until done (True) or out of time (False, job updated)."""
    match = _Matcher(Identifiers(phone=job.phone, email=job.email))
    job.rounds += 1
    while job.stage < len(STAGES):
        sweep = SWEEPS[STAGES[job.stage]]
        for after in sweep(job, match, job.cursor):
            job.cursor = after
            if after is None:
                break
            if clock.out_of_time():
                return False
        job.stage, job.cursor = job.stage + 1, None
        if job.stage < len(STAGES) and clock.out_of_time():
            return False
    return True


def _finish(job: ErasureJob) -> ErasureReport:
    report = job.report(datetime.now(UTC))
    details = {
        "contact_hash": job.contact_hash,
        "erased": report.erased,
        "kept": report.kept,
        "retained": report.retained,
        "rounds": job.rounds,
    }
    audit.record(job.org_id, "contact_erased", actor=job.actor, details=details)
    put_event("contact.erased", {"org_id": job.org_id, "actor": job.actor, **report.model_dump(mode="json")})
    logger.info("contact_erased", extra={"org_id": job.org_id, **details})
    return report


def _continue_later(job: ErasureJob) -> ErasureReport:
    aws_client("sqs").send_message(
        QueueUrl=get_settings().require("contact_erasure_queue_url"), MessageBody=job.model_dump_json()
    )
    logger.info(
        "contact_erasure_continues",
        extra={"org_id": job.org_id, "contact_hash": job.contact_hash, "store": STAGES[job.stage]},
    )
    return job.report(None)


def erase_contact(request: ContactEraseRequest) -> ErasureReport:
    """ContactErase: validated before anything is touched; then as much as fits, the rest queued."""
    validate_org_id(request.org_id)
    ids = identifiers(request.contact.phone, request.contact.email)
    job = ErasureJob(
        org_id=request.org_id,
        phone=ids.phone,
        email=ids.email,
        actor=request.actor,
        contact_hash=contact_hash(request.org_id, ids),
        started_at=datetime.now(UTC),
    )
    # First of all: sends queued before now (the outbox) are no longer sent to these addresses.
    channels = [("whatsapp", ids.phone), ("sms", ids.phone), ("email", ids.email)]
    for channel, address in channels:
        if address:
            mark_erased(request.org_id, channel, address, at=job.started_at)
    if run(job, _Clock(time.monotonic() + DIRECT_BUDGET_SECONDS)):
        return _finish(job)
    return _continue_later(job)


def continue_erasure(body: str) -> ErasureReport:
    """One continuation message: sweep on; finish, or queue the rest again."""
    try:
        job = ErasureJob.model_validate_json(body)
    except ValueError:
        raise InvalidRequestError("contact erasure message is not a job") from None
    if run(job, _Clock(None)):
        return _finish(job)
    return _continue_later(job)
