"""SocialPublish, SocialPublishCancel, SocialPublicationStatus and the steps of SocialPublishWorkflow.

The workflow (statemachines/social_publish.py) is a loop around one Lambda step,
:func:`advance`: each call reads the publication, does the next thing at the network and
answers how long to wait before the next call (a Step Functions Wait state: nothing sleeps in a
Lambda) or that it is done. The phases:

    prepare ──ready──► publish ──► published
       │ pending                │ no answer (OutcomeUnknownError)
       ▼                        ▼
     poll ◄─┐ (every SOCIAL_POLL_SECONDS,   lookup (find_post, SOCIAL_LOOKUP_ATTEMPTS times)
       └────┘  at most max_poll_seconds)     ├─ found ──► published
                                             └─ not found ──► needs_manual "unconfirmed"

``publish_sent`` is written *before* the irreversible call, so a step that dies while
publishing is followed by a lookup, never by a second post. A refusal sends the post to the
manual queue (``needs_manual`` + one ``social.publication.needs_manual`` event): the seed's
"agendamento manual via buffer interno"; a spent quota delays it to the network's reset; a
network that is down is tried again SOCIAL_RETRY_ATTEMPTS times. docs/social.md has the table.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel

from hub import bus
from hub.aws import aws_client
from hub.config import get_settings
from hub.errors import (
    AuthenticationError,
    ConfigurationError,
    HubError,
    IdempotencyConflictError,
    InvalidRequestError,
    OutcomeUnknownError,
    ProviderUnavailableError,
    RateLimitedError,
)
from hub.observability import logger, metrics
from hub.providers import ports
from hub.social import media as social_media
from hub.social import publications as store
from hub.social.models import (
    FINAL_STATUSES,
    ManualReason,
    Network,
    PublicationListRequest,
    PublicationRef,
    PublicationStatus,
    PublishStep,
    SocialContent,
    SocialPost,
    SocialPublishRequest,
)
from hub.social.publications import Publication, StaleRecordError, now

# Answer of a step to the workflow: wait this long / until then, or stop.
StepAnswer = dict[str, Any]
STALE_RETRY_SECONDS = 5
CANCELLABLE_PHASES = frozenset({"prepare", "poll", "publish"})


class PublishAccepted(BaseModel):
    publication_id: str
    status: PublicationStatus
    publish_at: datetime | None = None


class CancelResult(BaseModel):
    publication_id: str
    status: PublicationStatus


class ManualInfo(BaseModel):
    reason: ManualReason
    message: str | None = None
    text: str
    media: list[dict[str, Any]]
    action: str


class PublicationView(BaseModel):
    """What SocialPublicationStatus answers."""

    publication_id: str
    org_id: str
    network: Network
    account: str
    status: PublicationStatus
    publish_at: datetime | None = None
    retry_at: datetime | None = None
    post_id: str | None = None
    post_url: str | None = None
    published_at: datetime | None = None
    visibility: str | None = None
    warnings: list[str] = []
    manual: ManualInfo | None = None
    attempts: list[store.Attempt] = []
    created_at: datetime
    updated_at: datetime


# ----- ports (patched in tests) -------------------------------------------------------------


def publisher_class(network: str) -> type[ports.SocialPublisher]:
    return ports.adapter_class(ports.SocialPublisher, network, field="network")


def publisher(org_id: str, network: str) -> ports.SocialPublisher:
    return ports.for_org(ports.SocialPublisher, org_id, network, field="network")


# ----- the operations services invoke --------------------------------------------------------


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def start_publish(request: SocialPublishRequest) -> PublishAccepted:
    """Validate, store and start the workflow (execution name = the publication id, so a repeated
    request never starts a second one). Answers at once."""
    settings = get_settings()
    publisher_class(request.network).check_post(request.content)
    social_media.resolve(request.org_id, request.content.media)  # objects exist, under the org
    moment = now()
    publish_at = _utc(request.publish_at) if request.publish_at else None
    if publish_at is not None and publish_at > moment + timedelta(days=settings.social_max_schedule_days):
        raise InvalidRequestError(
            f"publish_at: at most {settings.social_max_schedule_days} days ahead", code="validation_error"
        )
    if publish_at is not None and publish_at <= moment:
        publish_at = None  # a time already past: publish now
    payload = request.model_dump(mode="json", exclude={"idempotency_key"})
    pub = Publication(
        org_id=request.org_id,
        publication_id=store.publication_id_for(request.org_id, request.idempotency_key),
        network=request.network,
        account=request.account,
        content=request.content,
        request_hash=store.request_hash(payload),
        publish_at=publish_at,
        status="scheduled" if publish_at else "publishing",
        created_at=moment,
        updated_at=moment,
    )
    stored = store.create(pub)
    if stored.request_hash != pub.request_hash:
        raise IdempotencyConflictError(
            f"idempotency_key {request.idempotency_key!r} was already used for another post; use a new key",
            code="idempotency_key_reused",
        )
    if stored.execution_arn is None:
        _start_execution(stored)
    return PublishAccepted(publication_id=stored.publication_id, status=stored.status, publish_at=stored.publish_at)


def _timestamp(moment: datetime) -> str:
    """Step Functions' TimestampPath format (RFC 3339, UTC)."""
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def _start_execution(pub: Publication) -> None:
    machine = get_settings().require("social_publish_state_machine_arn")
    execution_input: dict[str, Any] = {"org_id": pub.org_id, "publication_id": pub.publication_id}
    if pub.publish_at is not None:
        execution_input["publish_at"] = _timestamp(pub.publish_at)
    client = aws_client("stepfunctions")
    try:
        arn = client.start_execution(
            stateMachineArn=machine, name=pub.publication_id, input=json.dumps(execution_input)
        )["executionArn"]
    except client.exceptions.ExecutionAlreadyExists:
        arn = f"{machine.replace(':stateMachine:', ':execution:')}:{pub.publication_id}"
    for _ in range(3):
        try:
            pub.execution_arn = arn
            store.save(pub)
            return
        except StaleRecordError:  # the workflow already moved it: keep its changes
            fresh = store.get(pub.org_id, pub.publication_id)
            if fresh is None or fresh.execution_arn:
                return
            pub = fresh


def cancel(ref: PublicationRef) -> CancelResult:
    """Cancel a post that has not started publishing (scheduled, or delayed before its publish
    call); InvalidRequestError ``not_cancellable`` once it is at the network."""
    for _ in range(5):
        pub = _require(ref)
        if pub.status == "cancelled":
            return CancelResult(publication_id=pub.publication_id, status="cancelled")
        if pub.status != "scheduled" or pub.phase not in CANCELLABLE_PHASES:
            raise InvalidRequestError(
                f"publication {pub.publication_id} is {pub.status}: only a scheduled post can be cancelled",
                code="not_cancellable",
            )
        pub.status = "cancelled"
        pub.phase = "done"
        pub.note("cancelled")
        try:
            store.save(pub)
        except StaleRecordError:
            continue
        _stop_execution(pub)
        metrics.add_metric(name="SocialPublicationCancelled", unit="Count", value=1)
        return CancelResult(publication_id=pub.publication_id, status="cancelled")
    raise ProviderUnavailableError("the publication kept changing; ask again", code="busy")


def _stop_execution(pub: Publication) -> None:
    if not pub.execution_arn:
        return
    try:
        aws_client("stepfunctions").stop_execution(executionArn=pub.execution_arn, cause="SocialPublishCancel")
    except Exception as exc:  # noqa: BLE001 - the record says cancelled: the next step ends the run anyway
        logger.warning("social_stop_execution_failed", extra={"error": type(exc).__name__})


def _require(ref: PublicationRef) -> Publication:
    pub = store.get(ref.org_id, ref.publication_id)
    if pub is None:
        raise InvalidRequestError(f"no publication {ref.publication_id} for this org", code="not_found")
    return pub


class PublicationList(BaseModel):
    publications: list[PublicationView]


def list_publications(request: PublicationListRequest) -> PublicationList:
    """An org's publications in one status, most recently changed first (default: the manual queue)."""
    found = store.list_by_status(request.org_id, request.status, limit=request.limit)
    return PublicationList(publications=[_view(pub) for pub in found])


def status(ref: PublicationRef) -> PublicationView:
    return _view(_require(ref))


def _view(pub: Publication) -> PublicationView:
    post = pub.post
    return PublicationView(
        publication_id=pub.publication_id,
        org_id=pub.org_id,
        network=pub.network,
        account=pub.account,
        status=pub.status,
        publish_at=pub.publish_at,
        retry_at=pub.retry_at if pub.status in ("scheduled", "unconfirmed") else None,
        post_id=post.post_id if post else None,
        post_url=post.url if post else None,
        published_at=post.published_at if post else None,
        visibility=post.visibility if post else None,
        warnings=post.warnings if post else [],
        manual=_manual_info(pub) if pub.status == "needs_manual" else None,
        attempts=pub.attempts,
        created_at=pub.created_at,
        updated_at=pub.updated_at,
    )


MANUAL_ACTIONS: dict[str, str] = {
    "reauth_required": "connect {network} again (GET /oauth/{network}/start?org_id={org}), then post it by hand "
    "or send a new SocialPublish",
    "content_rejected": "fix the content as the message says and post it by hand or send a new SocialPublish",
    "unconfirmed": "check the account on {network}: the post may be there; post it by hand only if it is not",
}
DEFAULT_ACTION = "post it by hand on {network} (text and media links below) or send a new SocialPublish later"


def _manual_info(pub: Publication) -> ManualInfo:
    links: list[dict[str, Any]] = []
    try:
        resolved = social_media.resolve(pub.org_id, pub.content.media)
    except HubError:
        resolved = ()
    for index, item in enumerate(pub.content.media):
        link = resolved[index].url if index < len(resolved) else item.url
        links.append({"type": item.type, "url": link, "s3_key": item.s3_key, "alt_text": item.alt_text})
    action = MANUAL_ACTIONS.get(pub.manual_reason or "", DEFAULT_ACTION)
    return ManualInfo(
        reason=pub.manual_reason or "internal_error",
        message=pub.manual_message,
        text=pub.content.text,
        media=links,
        action=action.format(network=pub.network, org=pub.org_id),
    )


# ----- the workflow's step ------------------------------------------------------------------


def _wait(seconds: float) -> StepAnswer:
    return {"wait_seconds": max(0, int(seconds))}


def _wait_until(moment: datetime) -> StepAnswer:
    return {"wait_until": _timestamp(moment)}


def _wait_more(until: datetime, moment: datetime) -> StepAnswer:
    left = (until - moment).total_seconds()
    return _wait(math.ceil(left)) if left < 60 else _wait_until(until)


def _done(pub: Publication) -> StepAnswer:
    return {"done": True, "status": pub.status}


def _post(pub: Publication) -> SocialPost:
    content: SocialContent = pub.content
    return SocialPost(
        org_id=pub.org_id,
        publication_id=pub.publication_id,
        account=pub.account,
        text=content.text,
        media=social_media.resolve(pub.org_id, content.media),
        link=content.link,
        title=content.title,
        format=content.format,
        visibility=content.visibility,
    )


def advance(org_id: str, publication_id: str) -> StepAnswer:
    """One step of the workflow (see the module docstring)."""
    pub = store.get(org_id, publication_id)
    if pub is None:
        raise InvalidRequestError(f"no publication {publication_id} for this org", code="not_found")
    try:
        return _advance(pub)
    except StaleRecordError:
        # Another invocation moved it (a retried step overlapping this one): look again shortly.
        return _wait(STALE_RETRY_SECONDS)


def _advance(pub: Publication) -> StepAnswer:
    if pub.status == "needs_manual" and not pub.notified:
        _notify_manual(pub)  # an earlier step stored the refusal but could not announce it
    if pub.status in FINAL_STATUSES:
        return _done(pub)
    moment = now()
    # Woken early (a clock a little ahead, a Wait rounded down): the wait goes on.
    if pub.retry_at is not None and moment < pub.retry_at:
        return _wait_more(pub.retry_at, moment)
    if pub.status == "scheduled" and pub.publish_at is not None and moment < pub.publish_at:
        return _wait_more(pub.publish_at, moment)
    if pub.status == "scheduled":
        pub.status = "publishing"
        pub.retry_at = None
        store.save(pub)  # from here on a cancel is refused (it may reach the network)
    try:
        network = publisher(pub.org_id, pub.network)
        post = _post(pub)
        if pub.phase == "prepare":
            return _after(pub, network, post, network.prepare_post(post))
        if pub.phase == "poll":
            return _after(pub, network, post, network.poll_post(post, pub.job))
        if pub.phase == "publish":
            return _publish(pub, network, post)
        if pub.phase == "publish_sent":
            # A step died during the publish call: its outcome is unknown.
            pub.status, pub.phase, pub.lookups = "unconfirmed", "lookup", 0
            pub.note("unconfirmed")
            store.save(pub)
        return _lookup(pub, network, post)
    except StaleRecordError:
        raise
    except HubError as exc:
        return _refused(pub, exc)


def _after(pub: Publication, network: ports.SocialPublisher, post: SocialPost, step: PublishStep) -> StepAnswer:
    pub.job = step.job
    pub.retries = 0
    if step.status == "ready":
        pub.phase = "publish"
        pub.note("ready")
        return _publish(pub, network, post)
    settings = get_settings()
    moment = now()
    if pub.phase != "poll" or pub.poll_started_at is None:
        pub.phase, pub.poll_started_at, pub.polls = "poll", moment, 0
    pub.max_poll_seconds = step.max_poll_seconds or pub.max_poll_seconds
    pub.polls += 1
    limit = pub.max_poll_seconds or settings.social_poll_max_seconds
    if (moment - pub.poll_started_at).total_seconds() >= limit:
        return _to_manual(pub, "processing_timeout", f"{pub.network} was still processing the media after {limit} s")
    pub.note("pending")
    store.save(pub)
    return _wait(step.poll_after_seconds if step.poll_after_seconds is not None else settings.social_poll_seconds)


def _publish(pub: Publication, network: ports.SocialPublisher, post: SocialPost) -> StepAnswer:
    pub.phase = "publish_sent"
    pub.publish_started_at = now()
    store.save(pub)  # before the call: a step that dies in it is followed by a lookup
    try:
        published = network.publish_post(post, pub.job)
    except OutcomeUnknownError as exc:
        pub.status, pub.phase, pub.lookups = "unconfirmed", "lookup", 0
        pub.note("unconfirmed", exc)
        store.save(pub)
        metrics.add_metric(name="SocialPublishUnconfirmed", unit="Count", value=1)
        return _wait(get_settings().social_lookup_seconds)
    except HubError:
        pub.phase = "publish"  # the network answered with a refusal: nothing was posted
        raise
    return _published(pub, published)


def _published(pub: Publication, published: Any) -> StepAnswer:
    pub.status, pub.phase, pub.post, pub.retry_at = "published", "done", published, None
    pub.note("published")
    store.save(pub)
    metrics.add_metric(name="SocialPostPublished", unit="Count", value=1)
    detail = {
        "org_id": pub.org_id,
        "publication_id": pub.publication_id,
        "network": pub.network,
        "account": pub.account,
        "post_id": published.post_id,
        "post_url": published.url,
        "warnings": published.warnings,
    }
    bus.put_event("social.post.published", detail)
    return _done(pub)


def _lookup(pub: Publication, network: ports.SocialPublisher, post: SocialPost) -> StepAnswer:
    settings = get_settings()
    since = pub.publish_started_at or pub.created_at
    found = network.find_post(post, pub.job, since=since)
    if found is not None:
        return _published(pub, found)
    pub.lookups += 1
    pub.note("not_found")
    if pub.lookups >= settings.social_lookup_attempts:
        return _to_manual(
            pub,
            "unconfirmed",
            f"{pub.network} did not answer the publish call and the post was not found after "
            f"{pub.lookups} lookups; it was not sent again",
        )
    store.save(pub)
    return _wait(settings.social_lookup_seconds)


def _refused(pub: Publication, exc: HubError) -> StepAnswer:
    """What a network's error does to the post (docs/social.md, "When a network refuses")."""
    settings = get_settings()
    if isinstance(exc, RateLimitedError):
        pub.delays += 1
        if pub.delays > settings.social_max_delays:
            return _to_manual(pub, "rate_limited", exc.message)
        retry_at = now() + timedelta(seconds=max(1.0, float(exc.retry_after or 60)))
        pub.retry_at = retry_at
        if pub.status == "publishing":
            pub.status = "scheduled"  # waiting for the reset: cancellable again
        pub.note("delayed", exc)
        store.save(pub)
        metrics.add_metric(name="SocialPublishDelayed", unit="Count", value=1)
        return _wait_until(retry_at)
    if isinstance(exc, (ProviderUnavailableError, OutcomeUnknownError)):
        # Down, or a lost answer to a step that creates nothing visible (containers, uploads).
        pub.retries += 1
        if pub.retries > settings.social_retry_attempts:
            return _to_manual(pub, "network_unavailable", exc.message)
        pub.note("retry", exc)
        store.save(pub)
        return _wait(settings.social_retry_seconds * 2 ** (pub.retries - 1))
    if isinstance(exc, AuthenticationError):
        return _to_manual(pub, "reauth_required", exc.message)
    if isinstance(exc, InvalidRequestError):
        reason: ManualReason = "processing_failed" if exc.code == "processing_failed" else "content_rejected"
        return _to_manual(pub, reason, exc.message)
    if isinstance(exc, ConfigurationError):
        return _to_manual(pub, "internal_error", exc.message)
    return _to_manual(pub, "internal_error", exc.message)


def _to_manual(pub: Publication, reason: ManualReason, message: str | None) -> StepAnswer:
    pub.status, pub.phase = "needs_manual", "done"
    pub.manual_reason, pub.manual_message = reason, (message or "")[: store.TEXT_IN_MESSAGES] or None
    pub.note("manual")
    store.save(pub)
    metrics.add_metric(name="SocialPublicationNeedsManual", unit="Count", value=1)
    logger.warning(
        "social_publication_needs_manual",
        extra={"org_id": pub.org_id, "publication_id": pub.publication_id, "network": pub.network, "reason": reason},
    )
    _notify_manual(pub)
    return _done(pub)


def _notify_manual(pub: Publication) -> None:
    """The org is told once: the event first, then ``notified`` (a failed event is sent again by
    the next step; a duplicate carries the same publication_id for subscribers to dedupe)."""
    info = _manual_info(pub)
    bus.put_event(
        "social.publication.needs_manual",
        {
            "org_id": pub.org_id,
            "publication_id": pub.publication_id,
            "network": pub.network,
            "account": pub.account,
            "severity": "medium",
            **info.model_dump(mode="json", exclude_none=True),
        },
    )
    pub.notified = True
    store.save(pub)


def park(org_id: str, publication_id: str, error: dict[str, Any] | None) -> StepAnswer:
    """The workflow's Catch: the step itself failed past its retries (a bug, AWS down)."""
    pub = store.get(org_id, publication_id)
    if pub is None or pub.status in FINAL_STATUSES:
        return {"done": True}
    cause = str((error or {}).get("Error") or "the step failed")
    if pub.phase in ("publish_sent", "lookup"):
        reason: ManualReason = "unconfirmed"
        message = f"the publish step failed ({cause}) after the post may have been sent; it was not sent again"
    else:
        reason, message = "internal_error", f"the publish step failed ({cause})"
    for _ in range(3):
        try:
            return _to_manual(pub, reason, message)
        except StaleRecordError:
            fresh = store.get(org_id, publication_id)
            if fresh is None or fresh.status in FINAL_STATUSES:
                return {"done": True}
            pub = fresh
    raise ProviderUnavailableError("the publication kept changing", code="busy")


StepOp = Literal["advance", "park"]


class StepRequest(BaseModel):
    op: StepOp = "advance"
    org_id: str
    publication_id: str
    error: dict[str, Any] | None = None


def run_step(request: StepRequest) -> StepAnswer:
    if request.op == "park":
        return park(request.org_id, request.publication_id, request.error)
    return advance(request.org_id, request.publication_id)
