"""Insights syncs: SocialInsightsSync and SocialInsightsGet (docs/social.md, "Insights").

SocialInsightsSync runs every morning (and on demand) for every org with a connected social
integration and every account its adapter lists (``ports.SocialInsights``):

* **Incremental**: only the days after the account's cursor, up to yesterday in Brasília; an
  account's first sync reads ``SOCIAL_INSIGHTS_BACKFILL_DAYS`` back.
* **Resumable**: each day is written (history object, then item) and the cursor moves to it
  before the next day; everything is keyed by the day, so a retry rewrites the same day and a
  failure half-way leaves the cursor at the last complete day for the next run.
* **Within quotas**: a ``RateLimitedError`` stops that account for this run (recorded, deferred
  until the network's reset), other accounts go on; the run stops while one more network call
  still fits in the Lambda's remaining time and leaves the rest to the next run.
* A day the network has not reported yet is waited for ``SOCIAL_INSIGHTS_SETTLE_DAYS`` (the
  cursor stops before it); an older day it never reports is passed over.

Then the latest lifetime metrics of the hub's own publications of the last
``SOCIAL_INSIGHTS_POST_DAYS`` (once per account per Brasília day), and one
``social.insights.synced`` event per account that got new data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from hub import orgs
from hub.aws import aws_client
from hub.brasilia import brasilia_today
from hub.bus import put_event
from hub.config import get_settings
from hub.errors import AuthenticationError, HubError, InvalidRequestError, ProviderUnavailableError, RateLimitedError
from hub.observability import logger, metrics
from hub.providers import ports
from hub.requests import OperationRequest, OrgId
from hub.runtime import remaining_seconds
from hub.social import insights_store as store
from hub.social.models import NETWORKS, AccountId, Metrics, Network

EVENT_TYPE = "social.insights.synced"
MAX_RANGE_DAYS = 366
POST_BATCH = 50  # post ids per post_metrics call
# ports.for_org's refusals of a network that has no insights adapter.
UNSUPPORTED = frozenset({"capability_unsupported", "unknown_provider"})

# (org_id, network) -> the org's adapter for that network.
Resolver = Callable[[str, str], ports.SocialInsights]
AccountStatus = Literal["synced", "up_to_date", "waiting", "truncated", "rate_limited", "deferred", "failed"]
_deserializer = TypeDeserializer()


def utcnow() -> datetime:
    """The clock of syncs and reads (tests replace it)."""
    return datetime.now(UTC)


def insights_for(org_id: str, network: str) -> ports.SocialInsights:
    """The org's adapter for ``network`` (InvalidRequestError ``capability_unsupported`` when
    the network's adapter does not read insights)."""
    return ports.for_org(ports.SocialInsights, org_id, network, field="network")


def published_post_ids(org_id: str, network: str, account: str, since: datetime) -> list[str]:
    """The network's post ids of the hub's own publications to ``account`` since ``since``
    (the ByStatus index: the org's ``published`` publications, newest first)."""
    from hub.social import publications

    found = publications.list_by_status(org_id, "published", limit=200, changed_since=since)
    return [
        pub.post.post_id for pub in found if pub.network == network and pub.account == account and pub.post is not None
    ]


def _iso_day(value: Any) -> Any:
    """Dates as ``yyyy-mm-dd`` strings only (pydantic would take a number as a timestamp)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or len(value) != 10:
        raise ValueError("must be a date as yyyy-mm-dd")
    return value


IsoDay = Annotated[date, BeforeValidator(_iso_day)]


# ----- SocialInsightsSync ------------------------------------------------------------------


class InsightsSyncRequest(OperationRequest):
    """The schedule (no fields): every org. On demand: one org, one of its networks, one account."""

    org_id: OrgId | None = None
    network: Network | None = None
    account: AccountId | None = None
    until: IsoDay | None = Field(None, description="the last day to sync (default and latest: yesterday, Brasília)")
    now: datetime | None = Field(None, description="tests and replays: the time to act as (default: now)")

    @model_validator(mode="after")
    def _scoped(self) -> InsightsSyncRequest:
        if self.network is not None and self.org_id is None:
            raise ValueError("network needs org_id")
        if self.account is not None and self.network is None:
            raise ValueError("account needs network")
        if self.now is not None and self.now.tzinfo is None:
            raise ValueError("now must carry its time zone")
        return self


class AccountSync(BaseModel):
    org_id: str
    network: str
    account: str
    status: AccountStatus
    days: list[date] = Field(default_factory=list, description="days written by this run, in order")
    posts: int = Field(0, description="posts whose metrics this run stored")
    through: date | None = Field(None, description="the cursor after this run: the last complete day")
    error: str | None = Field(None, description="the error's class and code (never the network's message)")
    retry_after: float | None = None


class InsightsSyncResult(BaseModel):
    until: date
    accounts: list[AccountSync] = Field(default_factory=list)
    failed: dict[str, str] = Field(default_factory=dict, description="org_id/network -> error listing its accounts")
    not_supported: list[str] = Field(default_factory=list, description="org_id/network without an insights adapter")
    truncated: bool = Field(False, description="stopped for lack of time: the rest continues at the next run")


def _describe(exc: HubError) -> str:
    return f"{type(exc).__name__}: {exc.code}" if exc.code else type(exc).__name__


def _reserve_seconds() -> float:
    """Time one more network call may take: its read timeout, the retries' sleep, the margin,
    and as much again for the writes after it."""
    settings = get_settings()
    return 2 * (settings.http_read_timeout + settings.retry_max_total_sleep + settings.retry_safety_margin)


def _out_of_time() -> bool:
    remaining = remaining_seconds()
    return remaining is not None and remaining < _reserve_seconds()


def _connected(org_id: str | None) -> list[tuple[str, str]]:
    """(org_id, network) of every connected social integration (of one org, or all)."""
    kwargs: dict[str, Any] = {
        "TableName": get_settings().require("integrations_table"),
        # Every status is read: an org's instagram record, connected or not, decides below.
        "ProjectionExpression": "org_id, provider, #status",
        "ExpressionAttributeNames": {"#status": "status"},
    }
    if org_id is not None:
        kwargs["KeyConditionExpression"] = "org_id = :org"
        kwargs["ExpressionAttributeValues"] = {":org": {"S": org_id}}
    client = aws_client("dynamodb")
    found: list[tuple[str, str]] = []
    recorded: set[tuple[str, str]] = set()
    while True:
        try:
            page = client.query(**kwargs) if org_id is not None else client.scan(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise ProviderUnavailableError(
                "the integrations table is unavailable; retry later", provider="dynamodb"
            ) from exc
        for item in page.get("Items", []):
            provider = _deserializer.deserialize(item["provider"])
            org = _deserializer.deserialize(item["org_id"])
            if provider in NETWORKS:
                recorded.add((org, provider))
                if item.get("status", {}).get("S") == "connected":
                    found.append((org, provider))
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    # Instagram accounts connected through Facebook Login (linked to the org's pages) are read
    # with the facebook integration: an org with facebook and no instagram integration has them too.
    for org, network in list(found):
        if network == "facebook" and (org, "instagram") not in recorded:
            found.append((org, "instagram"))
    return sorted(found)


def _targets(request: InsightsSyncRequest) -> list[tuple[str, str]]:
    if request.network is not None and request.org_id is not None:
        return [(request.org_id, request.network)]
    return _connected(request.org_id)


def _days(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def sync_insights(request: InsightsSyncRequest, *, resolve: Resolver = insights_for) -> InsightsSyncResult:
    now = request.now or utcnow()
    yesterday = brasilia_today(now) - timedelta(days=1)
    until = request.until or yesterday
    if until > yesterday:  # before anything is read or written
        raise InvalidRequestError(
            f"until: must be yesterday ({yesterday.isoformat()}, Brasília) or earlier: today is not over",
            code="validation_error",
        )
    if request.org_id is not None:
        orgs.require_org(request.org_id)
    result = InsightsSyncResult(until=until)
    for org_id, network in _targets(request):
        if _out_of_time():
            result.truncated = True
            break
        name = f"{org_id}/{network}"
        try:
            adapter = resolve(org_id, network)
            if request.account is not None:
                accounts = [request.account]
            else:
                accounts = sorted({a.account for a in adapter.list_accounts()})
        except HubError as exc:  # one integration's outage or revoked grant never stops the others
            if isinstance(exc, InvalidRequestError) and exc.code in UNSUPPORTED:
                if request.network is not None:
                    raise  # asked for by name: the caller's mistake
                result.not_supported.append(name)
                continue
            result.failed[name] = _describe(exc)
            logger.warning(
                "insights_accounts_failed", extra={"org_id": org_id, "network": network, "error": _describe(exc)}
            )
            continue
        for account in accounts:
            if _out_of_time():
                result.truncated = True
                break
            outcome = _sync_account(
                adapter,
                org_id,
                network,
                account,
                until=until,
                yesterday=yesterday,
                now=now,
                explicit=request.account is not None,
            )
            result.accounts.append(outcome)
            if outcome.status == "truncated":
                result.truncated = True
                break
            if outcome.error is not None and outcome.error.startswith(AuthenticationError.__name__):
                break  # the org's token: every other account of this integration would fail too
        if result.truncated:
            break
    metrics.add_metric(name="SocialInsightsDaysSynced", unit="Count", value=sum(len(a.days) for a in result.accounts))
    metrics.add_metric(
        name="SocialInsightsAccountsStopped",
        unit="Count",
        value=sum(a.status in ("rate_limited", "failed") for a in result.accounts) + len(result.failed),
    )
    logger.info(
        "insights_sync",
        extra={
            "until": until.isoformat(),
            "accounts": len(result.accounts),
            "days": sum(len(a.days) for a in result.accounts),
            "failed": len(result.failed) + sum(a.status == "failed" for a in result.accounts),
            "truncated": result.truncated,
        },
    )
    return result


def _sync_account(
    adapter: ports.SocialInsights,
    org_id: str,
    network: str,
    account: str,
    *,
    until: date,
    yesterday: date,
    now: datetime,
    explicit: bool,
) -> AccountSync:
    settings = get_settings()
    outcome = AccountSync(org_id=org_id, network=network, account=account, status="up_to_date")
    try:
        cursor = store.get_cursor(org_id, network, account)
    except HubError as exc:
        outcome.status, outcome.error = "failed", _describe(exc)
        return outcome
    outcome.through = cursor.through
    if cursor.deferred_until is not None and cursor.deferred_until > now and not explicit:
        outcome.status, outcome.error = "deferred", cursor.last_error
        outcome.retry_after = (cursor.deferred_until - now).total_seconds()
        return outcome
    if cursor.through is not None:
        start = cursor.through + timedelta(days=1)
    else:
        start = until - timedelta(days=settings.social_insights_backfill_days - 1)
    settle_from = yesterday - timedelta(days=settings.social_insights_settle_days - 1)
    today = brasilia_today(now)
    try:
        outcome.status = _sync_days(adapter, outcome, start, until, settle_from, now)
        if outcome.status in ("synced", "up_to_date", "waiting") and cursor.posts_synced_on != today:
            if _sync_posts(adapter, outcome, now):
                store.record_run(org_id, network, account, now=now, posts_synced_on=today)
            else:
                outcome.status = "truncated"
        elif outcome.status != "truncated":
            store.record_run(org_id, network, account, now=now)
    except RateLimitedError as exc:
        outcome.status, outcome.error, outcome.retry_after = "rate_limited", _describe(exc), exc.retry_after
        deferred = now + timedelta(seconds=exc.retry_after) if exc.retry_after else None
        _record_failure(outcome, now, deferred)
    except HubError as exc:
        outcome.status, outcome.error = "failed", _describe(exc)
        _record_failure(outcome, now, None)
    if outcome.status in ("rate_limited", "failed"):
        logger.warning(
            "insights_account_stopped",
            extra={"org_id": org_id, "network": network, "account": account, "error": outcome.error},
        )
    if outcome.days or outcome.posts:
        _announce(outcome)
    return outcome


def _record_failure(outcome: AccountSync, now: datetime, deferred: datetime | None) -> None:
    try:
        store.record_run(
            outcome.org_id, outcome.network, outcome.account, now=now, error=outcome.error, deferred_until=deferred
        )
    except HubError as exc:  # the result still says what happened
        logger.warning("insights_record_failed", extra={"org_id": outcome.org_id, "error": _describe(exc)})


def _sync_days(
    adapter: ports.SocialInsights,
    outcome: AccountSync,
    start: date,
    until: date,
    settle_from: date,
    now: datetime,
) -> AccountStatus:
    """Days ``start``..``until`` a chunk at a time, each written and the cursor moved to it before
    the next; raises what the network or the store raised (days written so far stay)."""
    chunk = get_settings().social_insights_chunk_days
    day = start
    while day <= until:
        if _out_of_time():
            return "truncated"
        end = min(day + timedelta(days=chunk - 1), until)
        answered = {m.day: m for m in adapter.account_metrics(outcome.account, day, end) if day <= m.day <= end}
        for current in _days(day, end):
            metrics = answered.get(current)
            if metrics is None:
                if current >= settle_from:
                    return "waiting"  # not reported yet: the next run asks again
                # Never reported and past the settle window: the cursor passes it, nothing written.
            else:
                store.put_day(outcome.org_id, outcome.network, outcome.account, metrics, now=now)
                outcome.days.append(current)
            store.advance_cursor(outcome.org_id, outcome.network, outcome.account, current, now=now)
            outcome.through = current
        day = end + timedelta(days=1)
    return "synced" if outcome.days else "up_to_date"


def _sync_posts(adapter: ports.SocialInsights, outcome: AccountSync, now: datetime) -> bool:
    """The hub's recent publications' metrics; False when time ran out first."""
    days_back = get_settings().social_insights_post_days
    if days_back == 0:
        return True
    ids = published_post_ids(outcome.org_id, outcome.network, outcome.account, now - timedelta(days=days_back))
    ids = list(dict.fromkeys(ids))
    for i in range(0, len(ids), POST_BATCH):
        if _out_of_time():
            return False
        for post in adapter.post_metrics(outcome.account, ids[i : i + POST_BATCH]):
            store.put_post(outcome.org_id, outcome.network, outcome.account, post, now=now)
            outcome.posts += 1
    return True


def _announce(outcome: AccountSync) -> None:
    detail = {
        "org_id": outcome.org_id,
        "network": outcome.network,
        "account": outcome.account,
        "days": [d.isoformat() for d in outcome.days],
        "posts": outcome.posts,
        "through": outcome.through.isoformat() if outcome.through else None,
    }
    try:
        put_event(EVENT_TYPE, detail)
    except HubError as exc:  # the metrics are stored: the event is a notice, not the data
        logger.warning("insights_event_failed", extra={"org_id": outcome.org_id, "error": _describe(exc)})


# ----- SocialInsightsGet -------------------------------------------------------------------


class InsightsGetRequest(OperationRequest):
    org_id: OrgId
    network: Network
    account: AccountId
    from_: IsoDay = Field(alias="from")
    to: IsoDay


class StoredDayOut(BaseModel):
    day: date
    metrics: Metrics
    synced_at: datetime


class StoredPostOut(BaseModel):
    post_id: str
    metrics: Metrics
    synced_at: datetime


class InsightsGetResult(BaseModel):
    model_config = ConfigDict(serialize_by_alias=True, populate_by_name=True)

    org_id: str
    network: str
    account: str
    from_: date = Field(alias="from")
    to: date
    through: date | None = Field(None, description="the last day synced for this account (its cursor)")
    days: list[StoredDayOut]
    missing: list[date] = Field(description="days of the range with no stored metrics (not synced yet, or unreported)")
    posts: list[StoredPostOut]


def get_insights(request: InsightsGetRequest) -> InsightsGetResult:
    current = brasilia_today(utcnow())
    if request.from_ > request.to:
        raise InvalidRequestError("from: must be on or before to", code="validation_error")
    if request.to > current:
        raise InvalidRequestError(
            f"to: must not be in the future (today is {current.isoformat()}, Brasília)", code="validation_error"
        )
    if (request.to - request.from_).days + 1 > MAX_RANGE_DAYS:
        raise InvalidRequestError(f"from: the range covers at most {MAX_RANGE_DAYS} days", code="validation_error")
    stored = store.days(request.org_id, request.network, request.account, request.from_, request.to)
    have = {d.day for d in stored}
    cursor = store.get_cursor(request.org_id, request.network, request.account)
    return InsightsGetResult(
        org_id=request.org_id,
        network=request.network,
        account=request.account,
        from_=request.from_,
        to=request.to,
        through=cursor.through,
        days=[StoredDayOut(day=d.day, metrics=d.metrics, synced_at=d.synced_at) for d in stored],
        missing=[d for d in _days(request.from_, request.to) if d not in have],
        posts=[
            StoredPostOut(post_id=p.post_id, metrics=p.metrics, synced_at=p.synced_at)
            for p in store.posts(request.org_id, request.network, request.account)
        ],
    )
