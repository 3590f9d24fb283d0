"""Meta Graph API base (WhatsApp Cloud API, Instagram, Facebook): its error taxonomy and the
usage-header back-off every Graph client shares.

Usage back-off (https://developers.facebook.com/docs/graph-api/overview/rate-limiting): Meta
reports how much of a limit is used on most answers, as percentages — ``X-App-Usage``
``{"call_count", "total_cputime", "total_time"}`` (platform limits, app and user tokens) and
``X-Business-Use-Case-Usage`` ``{"<business object id>": [{"type", "call_count",
"total_cputime", "total_time", "estimated_time_to_regain_access"}]}`` (BUC limits: page and
system-user tokens; the wait in minutes). Every answer is read; at or above
``META_USAGE_BACKOFF_PERCENT`` (90) a back-off is recorded until the estimated regain time (or
``META_USAGE_BACKOFF_SECONDS`` when Meta gives none or 0), shared by every Lambda instance in the
resilience table (one item per app scope, one attribute per business id), and every call of that
scope is refused with ``RateLimitedError(retry_after)`` before anything is sent while it lasts.
Without a resilience table (unit tests, scripts) the back-off is this container's only.

The provider's API facts this module relies on, with their doc links: README.md.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from aws_lambda_powertools.shared.lazy_import import LazyLoader
from botocore.exceptions import ClientError

from hub.aws import aws_client
from hub.config import get_settings
from hub.errors import (
    AuthenticationError,
    HubError,
    InvalidRequestError,
    ProviderUnavailableError,
    RateLimitedError,
)
from hub.observability import logger
from hub.providers.base.client import ProviderClient

if TYPE_CHECKING:
    import httpx
else:  # imported on first use, not at init (cold start): a webhook receiver never calls out
    httpx = LazyLoader("httpx", globals(), "httpx")

# 4 app, 17 user, 32 page, 613 custom-level throttling; 80001-80014 business use case
# limits; 130429 WhatsApp throughput; 131048 spam rate limit; 131056 pair rate limit.
THROTTLING_CODES = frozenset({4, 17, 32, 613, 130429, 131048, 131056, *range(80001, 80015)})
AUTH_CODES = frozenset({102, 190, 10, *range(200, 300)})
TRANSIENT_CODES = frozenset({1, 2, 131000, 131016})
DEFAULT_THROTTLE_SECONDS = 60.0


def _regain_seconds(response: httpx.Response) -> float:
    """``X-Business-Use-Case-Usage`` / ``X-App-Usage`` carry estimated_time_to_regain_access (minutes)."""
    for header in ("x-business-use-case-usage", "x-ad-account-usage"):
        raw = response.headers.get(header)
        if not raw:
            continue
        try:
            usage: Any = json.loads(raw)
        except ValueError:
            continue
        minutes = [
            entry.get("estimated_time_to_regain_access", 0)
            for entries in (usage.values() if isinstance(usage, dict) else [])
            for entry in (entries if isinstance(entries, list) else [entries])
            if isinstance(entry, dict)
        ]
        if minutes and max(minutes) > 0:
            return float(max(minutes)) * 60
    return DEFAULT_THROTTLE_SECONDS


def classify_graph_error(provider: str, response: httpx.Response) -> HubError | None:
    """Map a Graph API error response by its code; None when it carries no Graph error."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return None
    if not isinstance(error, dict) or not isinstance(error.get("code"), int):
        return None
    code: int = error["code"]
    message = f"{provider} answered {response.status_code} (code {code}): {str(error.get('message', ''))[:200]}"
    common: dict[str, Any] = {
        "provider": provider,
        "http_status": response.status_code,
        "code": str(code),
        "request_id": error.get("fbtrace_id"),
    }
    if code in THROTTLING_CODES:
        return RateLimitedError(message, retry_after=_regain_seconds(response), **common)
    if code in AUTH_CODES:
        return AuthenticationError(message, **common)
    if code in TRANSIENT_CODES or response.status_code >= 500:
        return ProviderUnavailableError(message, **common)
    return InvalidRequestError(message, **common)


# ----- usage back-off ------------------------------------------------------------------------

APP_KEY = "app"  # the attribute of the app-level back-off (X-App-Usage)
_USAGE_FIELDS = ("call_count", "total_cputime", "total_time")


def _clock() -> float:
    return time.time()


# What this container knows of each scope's back-offs: (table or "", pk) -> (read_at, {key: until}).
# Module level, so warm invocations share it; DynamoDB stays the one shared truth.
_SEEN: dict[tuple[str, str], tuple[float, dict[str, float]]] = {}


def forget_usage() -> None:
    """Drop every remembered back-off (a fresh container; tests)."""
    _SEEN.clear()


def _percent(entry: Mapping[str, Any]) -> float:
    values = [entry.get(name) for name in _USAGE_FIELDS]
    numbers = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    return max(numbers, default=0.0)


def _json_header(headers: Mapping[str, str], name: str) -> Any:
    raw = headers.get(name)
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def usage_backoffs(headers: Mapping[str, str], *, threshold: float, default_seconds: float) -> dict[str, float]:
    """The back-offs (key -> seconds) the usage headers of one answer call for: ``"app"`` from
    ``X-App-Usage`` and each business id from ``X-Business-Use-Case-Usage`` whose highest
    percentage is at or above ``threshold``. Malformed headers are ignored (never fail a call)."""
    out: dict[str, float] = {}
    app = _json_header(headers, "x-app-usage")
    if isinstance(app, dict) and _percent(app) >= threshold:
        out[APP_KEY] = float(default_seconds)
    business = _json_header(headers, "x-business-use-case-usage")
    if isinstance(business, dict):
        for business_id, entries in business.items():
            for entry in entries if isinstance(entries, list) else [entries]:
                if not isinstance(entry, dict) or _percent(entry) < threshold:
                    continue
                minutes = entry.get("estimated_time_to_regain_access")
                wait = float(minutes) * 60 if isinstance(minutes, int | float) and minutes > 0 else default_seconds
                key = f"b_{business_id}"
                out[key] = max(out.get(key, 0.0), wait)
    return out


class UsageBackoff:
    """One app scope's back-offs: item ``meta_usage#{scope}`` in the resilience table, one number
    attribute per key (``app``, ``b_{business id}``) holding the epoch second it ends. Without a
    table, this container's memory only. Reads are cached per container for
    ``BREAKER_CACHE_SECONDS`` like the breaker's; a back-off this container records is known at once."""

    def __init__(self, table: str | None, scope: str, *, cache_seconds: float = 0.0) -> None:
        self.table = table
        self.pk = f"meta_usage#{scope}"
        self.cache_seconds = cache_seconds

    @property
    def _memo_key(self) -> tuple[str, str]:
        return (self.table or "", self.pk)

    def current(self) -> dict[str, float]:
        """Every back-off of this scope (key -> until), from memory or DynamoDB."""
        now = _clock()
        seen = _SEEN.get(self._memo_key)
        if self.table is None:
            return seen[1] if seen else {}
        if seen is not None and 0 <= now - seen[0] < self.cache_seconds:
            return seen[1]
        item = (
            aws_client("dynamodb")
            .get_item(TableName=self.table, Key={"pk": {"S": self.pk}}, ConsistentRead=True)
            .get("Item", {})
        )
        untils = {k: float(v["N"]) for k, v in item.items() if k != "pk" and k != "expires_at" and "N" in v}
        _SEEN[self._memo_key] = (now, untils)
        return untils

    def refuse_if_backing_off(self, provider: str, keys: Iterable[str] | None) -> None:
        """RateLimitedError while a back-off of the app, or of one of ``keys`` (None: any
        business id), lasts."""
        now = _clock()
        untils = self.current()
        wanted = None if keys is None else {APP_KEY, *keys}
        active = {k: u for k, u in untils.items() if u > now and (wanted is None or k in wanted)}
        if not active:
            return
        key, until = max(active.items(), key=lambda kv: kv[1])
        what = "the app's usage" if key == APP_KEY else f"the usage of business object {key[2:]}"
        raise RateLimitedError(
            f"{provider}: {what} reached Meta's limit; the hub waits {round(until - now)} s before calling again",
            provider=provider,
            retry_after=max(1.0, until - now),
            code="meta_usage_backoff",
        )

    def record(self, provider: str, waits: Mapping[str, float]) -> None:
        """Extend the back-offs to now + each wait (never shortens one already longer)."""
        now = _clock()
        seen = _SEEN.get(self._memo_key)
        known = dict(seen[1]) if seen else {}
        for key, wait in waits.items():
            until = now + wait
            known[key] = max(known.get(key, 0.0), until)
            logger.warning("meta_usage_backoff", extra={"provider": provider, "key": key, "seconds": round(wait)})
            if self.table is not None:
                self._extend(key, until)
        _SEEN[self._memo_key] = (now, known)

    def _extend(self, key: str, until: float) -> None:
        try:
            aws_client("dynamodb").update_item(
                TableName=self.table,
                Key={"pk": {"S": self.pk}},
                UpdateExpression="SET #k = :until, expires_at = :expires",
                ConditionExpression="attribute_not_exists(#k) OR #k < :until",
                ExpressionAttributeNames={"#k": key},
                ExpressionAttributeValues={
                    ":until": {"N": str(until)},
                    # TTL removes the item a day after the (short) back-off it holds.
                    ":expires": {"N": str(int(until) + 86400)},
                },
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            # Another instance recorded a longer back-off: it stands.


class GraphApiClient(ProviderClient):
    """Base of the Graph API adapters: Bearer token, versioned base URL, Graph error codes, and
    the shared usage back-off (module docstring). Subclasses map errors in
    :meth:`classify_response`; :meth:`classify` reads the usage headers of every answer first."""

    graph_version: ClassVar[str] = "v21.0"

    # ----- usage back-off scope ------------------------------------------------------------
    def usage_scope(self) -> str:
        """The app whose usage Meta reports (the item the back-offs live in). Default: the org's
        own app (each org brings its own token, e.g. WhatsApp Cloud)."""
        return f"{self.provider}:{self.org_id or 'default'}"

    def usage_business_ids(self) -> Iterable[str] | None:
        """The business objects (pages, accounts) the next call uses; None = any of the scope."""
        return None

    def usage_backoff(self) -> UsageBackoff:
        settings = get_settings()
        return UsageBackoff(settings.resilience_table, self.usage_scope(), cache_seconds=settings.breaker_cache_seconds)

    def take_rate_limits(self, operation: str | None, cost: int = 1) -> None:
        # Before any call leaves: refuse while a back-off lasts, without calling Meta.
        keys = self.usage_business_ids()
        self.usage_backoff().refuse_if_backing_off(self.provider, None if keys is None else [f"b_{k}" for k in keys])
        super().take_rate_limits(operation, cost)

    def observe_usage(self, response: httpx.Response) -> None:
        """Record the back-offs this answer's usage headers call for (never fails the call)."""
        settings = get_settings()
        try:
            waits = usage_backoffs(
                response.headers,
                threshold=settings.meta_usage_backoff_percent,
                default_seconds=settings.meta_usage_backoff_seconds,
            )
            if waits:
                self.usage_backoff().record(self.provider, waits)
        except ClientError as exc:  # the shared store is down: this answer still stands
            logger.warning("meta_usage_unrecorded", extra={"provider": self.provider, "error": str(exc)[:200]})

    def classify(self, response: httpx.Response) -> HubError | None:
        self.observe_usage(response)
        return self.classify_response(response)

    def classify_response(self, response: httpx.Response) -> HubError | None:
        if response.status_code < 400:
            return None
        return classify_graph_error(self.provider, response) or super().classify(response)
