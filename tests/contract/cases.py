"""What the contract suite needs to know per provider, beyond its descriptor.

Every entry says why it is there. A provider absent from these tables gets the default
contract: its demo secret as credentials, ``Retry-After`` as its wait header, every case run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hub.providers import all_descriptors
from hub.providers.base.descriptor import ProviderDescriptor
from localcloud.demo import demo_secrets


def with_client() -> list[ProviderDescriptor]:
    """Every registered provider that has an outbound client (the contract's subjects)."""
    return [d for d in all_descriptors().values() if d.client]


# Fields a test adds to a provider's demo secret, and why.
SECRET_ADDITIONS: dict[str, tuple[dict[str, Any], str]] = {
    "stripe": (
        {"api_key": "sk_test_contract51HxQzLk2eZvKYlo2C0aBcDeF"},
        "the demo org holds only Stripe's webhook secret (the platform's key lives with the platform "
        "product), so the test supplies a key of Stripe's documented shape",
    ),
}

# 429 answers where the adapter reads the provider's own wait header, first or instead of
# Retry-After: (headers of the answer, the wait the caller must be told in seconds).
OWN_RETRY_HEADERS: dict[str, tuple[dict[str, str], float]] = {
    # https://docs.asaas.com/docs/api-limits-1 : RateLimit-Reset, seconds until the limit resets.
    "asaas": ({"RateLimit-Reset": "9"}, 9.0),
    # https://docs.pluggy.ai/docs/rate-limits : RateLimit-Reset is the real wait.
    "pluggy": ({"RateLimit-Reset": "9"}, 9.0),
    # https://resend.com/docs/api-reference/rate-limit : retry-after, else ratelimit-reset.
    "resend": ({"ratelimit-reset": "9"}, 9.0),
    # The official SDKs read retry-after-ms first (src/anthropic/_base_client.py, src/openai/_base_client.py).
    "anthropic": ({"retry-after-ms": "1500"}, 1.5),
    "openai": ({"retry-after-ms": "1500"}, 1.5),
    # https://api-dashboard.search.brave.com/app/documentation/web-search/response-headers :
    # per-window lists; the wait is the reset of the window with nothing remaining.
    "brave": ({"X-RateLimit-Remaining": "0, 900", "X-RateLimit-Reset": "9, 1419704"}, 9.0),
}


@dataclass(frozen=True)
class Deviation:
    """A contract case a provider cannot take as written, and where its equivalent is tested."""

    cases: frozenset[str]
    reason: str


HTTP_CASES = frozenset({"auth", "rate_limit", "unavailable", "timeout", "write_outcome", "secrets"})

DEVIATIONS: dict[str, Deviation] = {
    "ses": Deviation(
        HTTP_CASES,
        "SES is called through boto3 (SigV4 with the function's role), not httpx: there is no transport "
        "to fail. The same contract runs through botocore instead (the test_ses_* cases of "
        "test_contract.py, with a fake sesv2 client); SES sends no Retry-After, so a throttled call "
        "waits the adapter's documented fixed time",
    ),
    "stripe": Deviation(
        frozenset({"sandbox_health"}),
        "no Stripe sandbox: the hub only verifies Stripe's webhooks and most orgs hold no API key "
        "(its descriptor has health_check=False)",
    ),
}


def deviates(key: str, case: str) -> str | None:
    deviation = DEVIATIONS.get(key)
    return deviation.reason if deviation and case in deviation.cases else None


def demo_secret(key: str, sandbox_url: str) -> tuple[str, dict[str, Any]]:
    """(org id, secret JSON) of the demo org that holds ``key``'s secret, pointing at
    ``sandbox_url``, plus the test's additions."""
    root = sandbox_url.rstrip("/")
    for secret in demo_secrets():
        if secret.provider == key:
            extra = SECRET_ADDITIONS.get(key, ({}, ""))[0]
            return secret.org_id, {**secret.build(f"{root}/{key}"), **extra}
    raise LookupError(f"{key} declares no demo secret (localcloud/sandboxes/{key}.py DEMO_SECRETS)")
