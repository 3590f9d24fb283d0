"""Meta Graph API base (WhatsApp Cloud API, Instagram, Facebook): its error taxonomy.

The provider's API facts this module relies on, with their doc links: README.md.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, ClassVar

from aws_lambda_powertools.shared.lazy_import import LazyLoader

from hub.errors import (
    AuthenticationError,
    HubError,
    InvalidRequestError,
    ProviderUnavailableError,
    RateLimitedError,
)
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


class GraphApiClient(ProviderClient):
    """Base of the Graph API adapters: Bearer token, versioned base URL, Graph error codes."""

    graph_version: ClassVar[str] = "v21.0"

    def classify(self, response: httpx.Response) -> HubError | None:
        if response.status_code < 400:
            return None
        return classify_graph_error(self.provider, response) or super().classify(response)
