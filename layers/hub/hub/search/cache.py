"""The search cache (the seed's "cache de resultados"): one normalised result set per org and
normalised query, in ``SEARCH_CACHE_TABLE`` (DynamoDB, TTL on ``expires_at``).

* The key is the query as the engines would see it, normalised: lowercased, whitespace
  collapsed, Unicode NFC, and the parameters that change the answer sorted (kind, q, location,
  gl, hl, ll, start, num). ``"Padaria  em Pinheiros"`` and ``"padaria em pinheiros"`` share one
  entry; page 2 or another ``num`` does not.
* Entries are per org (``search#{org_id}#{sha256}``): an org's queries (people's names in
  SearchProfiles) are never answered to another org.
* An entry is kept ``SEARCH_CACHE_TTL_SECONDS`` (24 h). Age is computed from ``stored_at``, not
  from DynamoDB's TTL (which deletes up to days late): an entry past its TTL is never served.
* The result set is stored zlib-compressed (100 results stay far below DynamoDB's 400 KB item).

The cache never fails a search: a read or write the table refuses is logged and skipped.
"""

from __future__ import annotations

import hashlib
import json
import time
import unicodedata
import zlib
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from hub.aws import aws_client
from hub.config import get_settings
from hub.observability import logger
from hub.search.models import SearchResults

# Tests replace it (no sleeps: a cache entry's age is the clock's, not the wall's).
clock = time.time

KEY_FIELDS = ("kind", "q", "location", "gl", "hl", "ll", "start", "num")


def normalise_text(value: str) -> str:
    """NFC, lowercased (casefold), whitespace collapsed and trimmed."""
    return " ".join(unicodedata.normalize("NFC", value).casefold().split())


def cache_key(params: dict[str, Any]) -> str:
    """The normalised key of a query: sha256 of its sorted, normalised parameters."""
    normal: dict[str, Any] = {}
    for name in KEY_FIELDS:
        value = params.get(name)
        if value is None:
            continue
        normal[name] = normalise_text(value) if isinstance(value, str) else value
    canonical = json.dumps(normal, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CachedResults:
    results: SearchResults
    stored_at: float

    def age_seconds(self, now: float | None = None) -> int:
        return max(0, int((clock() if now is None else now) - self.stored_at))


class SearchCache:
    def __init__(self, table: str, ttl_seconds: int) -> None:
        self.table = table
        self.ttl_seconds = ttl_seconds

    @staticmethod
    def _pk(org_id: str, key: str) -> str:
        return f"search#{org_id}#{key}"

    def get(self, org_id: str, key: str) -> CachedResults | None:
        """The entry within its TTL, or None (none, expired, unreadable)."""
        try:
            item = (
                aws_client("dynamodb")
                .get_item(TableName=self.table, Key={"pk": {"S": self._pk(org_id, key)}})
                .get("Item")
            )
        except (ClientError, BotoCoreError) as exc:
            logger.warning("search_cache_unreadable", extra={"error": type(exc).__name__})
            return None
        if not item:
            return None
        try:
            stored_at = float(item["stored_at"]["N"])
            body = json.loads(zlib.decompress(item["body"]["B"]))
            results = SearchResults.model_validate(body)
        except (KeyError, ValueError, zlib.error) as exc:
            logger.warning("search_cache_entry_unreadable", extra={"error": type(exc).__name__})
            return None
        if clock() - stored_at > self.ttl_seconds:
            return None  # past its TTL (DynamoDB has not deleted it yet)
        return CachedResults(results, stored_at)

    def put(self, org_id: str, key: str, results: SearchResults) -> None:
        now = clock()
        body = zlib.compress(results.model_dump_json(exclude_none=True).encode("utf-8"))
        try:
            aws_client("dynamodb").put_item(
                TableName=self.table,
                Item={
                    "pk": {"S": self._pk(org_id, key)},
                    "org_id": {"S": org_id},
                    "provider": {"S": results.provider},
                    "stored_at": {"N": f"{now:.3f}"},
                    "expires_at": {"N": str(int(now + self.ttl_seconds))},
                    "body": {"B": body},
                },
            )
        except (ClientError, BotoCoreError) as exc:
            logger.warning("search_cache_unwritable", extra={"error": type(exc).__name__})


def search_cache() -> SearchCache | None:
    """The configured cache, or None when ``SEARCH_CACHE_TABLE`` is unset (no cache)."""
    settings = get_settings()
    if not settings.search_cache_table or settings.search_cache_ttl_seconds <= 0:
        return None
    return SearchCache(settings.search_cache_table, settings.search_cache_ttl_seconds)
