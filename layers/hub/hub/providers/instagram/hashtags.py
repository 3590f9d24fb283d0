"""Instagram's hashtag search cap, counted in the hub across every Lambda instance.

"You can query a maximum of 30 unique hashtags on behalf of an Instagram Business or Creator
Account within a rolling, 7 day period. Once you query a hashtag, it will count against this
limit for 7 days. Subsequent queries on the same hashtag within this time frame will not count
against your limit, and will not reset its initial query 7 day timer."
(https://developers.facebook.com/docs/instagram-platform/instagram-api-with-facebook-login/hashtag-search)

One item per account in RESILIENCE_TABLE (``pk = ighashtags#{account}``) holds each hashtag
searched in the window with the time of its first search, and a version number. A new hashtag
is added with a conditional write on the version read (optimistic locking), so two instances
can never both take the 30th place; the 31st is refused with RateLimitedError until the oldest
leaves the window.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from botocore.exceptions import ClientError

from hub.aws import aws_client
from hub.errors import RateLimitedError

PROVIDER = "instagram"
MAX_UNIQUE_HASHTAGS = 30
WINDOW_SECONDS = 7 * 24 * 3600
_ATTEMPTS = 5


@dataclass(frozen=True)
class HashtagQuota:
    used: int
    limit: int
    # Hashtag -> unix time of its first search in the window.
    searched: dict[str, float]


class HashtagWindow:
    """The rolling 7-day set of hashtags an account searched (see the module docstring)."""

    def __init__(
        self,
        table: str,
        *,
        limit: int = MAX_UNIQUE_HASHTAGS,
        window_seconds: int = WINDOW_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.table = table
        self.limit = limit
        self.window_seconds = window_seconds
        self.clock = clock

    @staticmethod
    def _key(account: str) -> dict[str, dict[str, str]]:
        return {"pk": {"S": f"ighashtags#{account}"}}

    def _read(self, account: str) -> tuple[dict[str, float], int]:
        item = (
            aws_client("dynamodb")
            .get_item(TableName=self.table, Key=self._key(account), ConsistentRead=True)
            .get("Item", {})
        )
        tags = {name: float(value["N"]) for name, value in item.get("tags", {}).get("M", {}).items()}
        return tags, int(item.get("version", {}).get("N", "0"))

    def status(self, account: str) -> HashtagQuota:
        tags, _ = self._read(account)
        live = self._live(tags, self.clock())
        return HashtagQuota(used=len(live), limit=self.limit, searched=live)

    def _live(self, tags: dict[str, float], now: float) -> dict[str, float]:
        return {name: first for name, first in tags.items() if first + self.window_seconds > now}

    def take(self, account: str, hashtag: str) -> int:
        """Count ``hashtag`` for ``account`` (nothing when already searched in the window) and
        answer the places left; RateLimitedError (retry_after: until the oldest hashtag leaves
        the window) when it would be the 31st."""
        for _ in range(_ATTEMPTS):
            tags, version = self._read(account)
            now = self.clock()
            live = self._live(tags, now)
            if hashtag in live:
                return self.limit - len(live)
            if len(live) >= self.limit:
                oldest = min(live.values())
                raise RateLimitedError(
                    f"instagram hashtag search: {self.limit} unique hashtags in 7 days already searched for "
                    f"this account; {hashtag!r} can be searched when the oldest leaves the window",
                    provider=PROVIDER,
                    retry_after=max(1.0, oldest + self.window_seconds - now),
                    code="hashtag_quota",
                )
            live[hashtag] = now
            try:
                aws_client("dynamodb").put_item(
                    TableName=self.table,
                    Item={
                        **self._key(account),
                        "tags": {"M": {name: {"N": repr(first)} for name, first in live.items()}},
                        "version": {"N": str(version + 1)},
                        # The item outlives its newest hashtag's window, then TTL removes it.
                        "expires_at": {"N": str(int(max(live.values()) + self.window_seconds))},
                    },
                    ConditionExpression="attribute_not_exists(pk) OR version = :read",
                    ExpressionAttributeValues={":read": {"N": str(version)}},
                )
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
                continue  # another instance wrote in between: read again
            return self.limit - len(live)
        raise RateLimitedError(
            "instagram hashtag search: the account's hashtag count is busy; try again",
            provider=PROVIDER,
            retry_after=1.0,
            code="hashtag_quota_busy",
        )
