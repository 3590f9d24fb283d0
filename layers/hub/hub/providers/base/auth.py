"""One token layer for every provider that authenticates with a token it must obtain.

Two kinds behind one interface (:class:`TokenProvider`): client-credentials tokens
(:class:`ClientCredentialsTokens`: Nuvem Fiscal, Pluggy) and OAuth2 access/refresh tokens
(:class:`OAuth2Tokens`: LinkedIn, Meta, Google, Canva). See docs/resilience.md, "Tokens".
"""

from __future__ import annotations

import base64
import dataclasses
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

import httpx
from botocore.exceptions import ClientError
from pydantic import SecretStr

from hub.aws import aws_client
from hub.config import get_settings
from hub.errors import (
    AuthenticationError,
    ConfigurationError,
    HubError,
    InvalidRequestError,
    ProviderUnavailableError,
    RateLimitedError,
)
from hub.observability import logger
from hub.runtime import remaining_seconds

if TYPE_CHECKING:
    from hub.providers.base.client import ProviderClient

# A token is refreshed this many seconds before it expires (or a tenth of its life, if shorter).
TOKEN_REFRESH_MARGIN = 60.0
# When a token answer has no expires_in (RFC 6749 §5.1 makes it RECOMMENDED, not required).
DEFAULT_TOKEN_LIFETIME = 3600.0
# RFC 6749 §5.2 errors that only a person can fix (a revoked grant, a wrong client or scope):
# AuthenticationError, the integration disabled, never retried.
# https://datatracker.ietf.org/doc/html/rfc6749#section-5.2
PERMANENT_OAUTH_ERRORS = frozenset({"invalid_grant", "invalid_client", "unauthorized_client", "invalid_scope"})
# The refresh lock: a lease long enough for one token call, short enough that a refresher that
# died holding it blocks the others only briefly (the item also expires by the table's TTL).
LOCK_LEASE_SECONDS = 15.0
LOCK_POLL_SECONDS = 0.1


@dataclass(frozen=True)
class Token:
    """An access token (never in repr/logs), when to refresh it and, for OAuth2, the refresh
    token. Times are on the provider's token clock (wall-clock seconds by default)."""

    access_token: str = field(repr=False)
    refresh_at: float
    expires_at: float
    refresh_token: str | None = field(default=None, repr=False)

    @classmethod
    def issued(
        cls,
        access_token: str,
        *,
        now: float,
        lifetime: float | None,
        margin: float = TOKEN_REFRESH_MARGIN,
        refresh_token: str | None = None,
    ) -> Token:
        seconds = lifetime if lifetime is not None and lifetime > 0 else DEFAULT_TOKEN_LIFETIME
        early = min(margin, seconds / 10)
        return cls(access_token, now + seconds - early, now + seconds, refresh_token)

    def fresh(self, now: float) -> bool:
        return now < self.refresh_at


def lifetime_of(body: dict[str, Any]) -> float | None:
    """``expires_in`` of a token answer (RFC 6749 §5.1), or None when absent or unusable."""
    value = body.get("expires_in")
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds > 0 else None


def oauth_error_code(response: httpx.Response) -> str | None:
    """The RFC 6749 §5.2 ``error`` of a token endpoint's answer, if it has one."""
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, str) else None


# ----- the per-container cache ---------------------------------------------------------------


class TokenCache:
    """Tokens of one Lambda container (shared by its warm invocations and threads), and a lock
    per key so that threads of the container refresh one at a time."""

    def __init__(self) -> None:
        self._tokens: dict[Hashable, Token] = {}
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: Hashable) -> Token | None:
        return self._tokens.get(key)

    def put(self, key: Hashable, token: Token) -> None:
        self._tokens[key] = token

    def drop(self, key: Hashable) -> None:
        self._tokens.pop(key, None)

    def lock(self, key: Hashable) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def clear(self, provider: str | None = None) -> None:
        """Forget every token (or one provider's: keys start with the provider's name)."""
        for key in list(self._tokens):
            if provider is None or (isinstance(key, tuple) and key[:1] == (provider,)):
                self._tokens.pop(key, None)


CONTAINER_TOKENS = TokenCache()


# ----- where refreshed OAuth2 tokens are kept ------------------------------------------------


class TokenStore(Protocol):
    """Where an org's OAuth2 tokens live between containers (the integration-management work
    puts them in Secrets Manager). ``save`` is called with every refreshed token."""

    def load(self, org_id: str, provider: str) -> Token | None: ...

    def save(self, org_id: str, provider: str, token: Token) -> None: ...


class MemoryTokenStore:
    """A :class:`TokenStore` in memory (tests, the local cloud)."""

    def __init__(self) -> None:
        self.tokens: dict[tuple[str, str], Token] = {}

    def load(self, org_id: str, provider: str) -> Token | None:
        return self.tokens.get((org_id, provider))

    def save(self, org_id: str, provider: str, token: Token) -> None:
        self.tokens[(org_id, provider)] = token


# ----- one refresher at a time across instances ----------------------------------------------


class RefreshLock:
    """A lease item ``tokenlock#{org}#{provider}`` in the resilience table: a conditional put
    takes it (absent, or its lease over), a conditional delete by its owner gives it back;
    ``expires_at`` is also the table's TTL attribute, so a lost item cleans itself up."""

    def __init__(self, table: str, *, lease: float = LOCK_LEASE_SECONDS, clock: Callable[[], float] = time.time):
        self.table = table
        self.lease = lease
        self.clock = clock

    @staticmethod
    def _key(name: str) -> dict[str, Any]:
        return {"pk": {"S": f"tokenlock#{name}"}}

    def try_acquire(self, name: str) -> str | None:
        """The owner id when taken, None when another holder's lease is running."""
        owner = uuid.uuid4().hex
        now = self.clock()
        try:
            aws_client("dynamodb").put_item(
                TableName=self.table,
                Item={
                    **self._key(name),
                    "owner": {"S": owner},
                    "expires_at": {"N": str(int(now + self.lease) + 1)},
                },
                ConditionExpression="attribute_not_exists(pk) OR expires_at < :now",
                ExpressionAttributeValues={":now": {"N": str(int(now))}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return None
            raise
        return owner

    def release(self, name: str, owner: str) -> None:
        try:
            aws_client("dynamodb").delete_item(
                TableName=self.table,
                Key=self._key(name),
                ConditionExpression="#o = :owner",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":owner": {"S": owner}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise  # a lease taken over after it ran out is the new holder's


# ----- the interface --------------------------------------------------------------------------


class TokenProvider(ABC):
    """A token for one (org, provider, credentials): from the container cache while fresh,
    else refreshed by one refresher at a time (a thread lock in the container, the
    :class:`RefreshLock` across instances), re-reading the cache/store once the lock is held
    since another instance may have refreshed meanwhile. Waiting for the lock never outlasts
    the Lambda's remaining time."""

    kind: ClassVar[str]

    def __init__(
        self,
        *,
        provider: str,
        org_id: str | None,
        key: tuple[Hashable, ...],
        cache: TokenCache | None = None,
        clock: Callable[[], float] = time.time,
        lock: RefreshLock | Literal["default"] | None = "default",
        sleep: Callable[[float], None] = time.sleep,
        poll: float = LOCK_POLL_SECONDS,
    ) -> None:
        self.provider = provider
        self.org_id = org_id
        self.key: tuple[Hashable, ...] = (provider, *key)
        self.cache = CONTAINER_TOKENS if cache is None else cache
        self.clock = clock
        if lock == "default":
            table = get_settings().resilience_table
            lock = RefreshLock(table) if table and org_id else None
        self.lock = lock
        self.sleep = sleep
        self.poll = poll

    # ----- what each kind declares -----------------------------------------------------------
    @abstractmethod
    def fetch(self, current: Token | None) -> Token:
        """A new token from the provider (``current``: the one being replaced, if any)."""

    def load_shared(self) -> Token | None:
        """The token another instance may have stored (OAuth2: the token store)."""
        return None

    def save_shared(self, token: Token) -> None:
        """Keep a refreshed token where other instances find it (default: nowhere)."""
        return None

    # ----- the interface ----------------------------------------------------------------------
    def token(self) -> str:
        """A fresh access token."""
        return self.token_and_origin()[0]

    def token_and_origin(self) -> tuple[str, bool]:
        """(access token, whether it was already there: cached or refreshed by another caller)."""
        cached = self.cache.get(self.key)
        if cached is not None and cached.fresh(self.clock()):
            return cached.access_token, True
        with self.cache.lock(self.key):
            token, fetched = self._refresh_once()
        return token.access_token, not fetched

    def invalidate(self) -> None:
        """Forget the cached token (the provider refused it: revoked or expired early)."""
        self.cache.drop(self.key)

    # ----- refresh, one at a time -------------------------------------------------------------
    def _reread(self) -> Token | None:
        now = self.clock()
        cached = self.cache.get(self.key)
        if cached is not None and cached.fresh(now):
            return cached
        shared = self.load_shared()
        if shared is not None and shared.fresh(now):
            self.cache.put(self.key, shared)
            return shared
        return None

    def _current(self) -> Token | None:
        return self.load_shared() or self.cache.get(self.key)

    def _refresh_once(self) -> tuple[Token, bool]:
        if (token := self._reread()) is not None:
            return token, False
        if self.lock is None:
            return self._refresh(self._current()), True
        name = f"{self.org_id}#{self.provider}"
        owner = self._wait_for_lock(name)
        if owner is None:  # another instance refreshed while we waited
            token = self._reread()
            assert token is not None
            return token, False
        try:
            if (token := self._reread()) is not None:
                return token, False
            return self._refresh(self._current()), True
        finally:
            self.lock.release(name, owner)

    def _wait_for_lock(self, name: str) -> str | None:
        """The lock's owner id, or None once another holder's refreshed token is readable.
        Waits at most one lease, and never into the Lambda's last ``retry_safety_margin``."""
        assert self.lock is not None
        waited = 0.0
        while (owner := self.lock.try_acquire(name)) is None:
            if self._reread() is not None:
                return None
            remaining = remaining_seconds()
            out_of_time = remaining is not None and remaining - get_settings().retry_safety_margin < self.poll
            if out_of_time or waited + self.poll > self.lock.lease:
                raise ProviderUnavailableError(
                    f"another instance is refreshing the {self.provider} token; try again shortly",
                    provider=self.provider,
                    code="token_refresh_busy",
                )
            self.sleep(self.poll)
            waited += self.poll
        return owner

    def _refresh(self, current: Token | None) -> Token:
        token = self.fetch(current)
        self.save_shared(token)
        self.cache.put(self.key, token)
        logger.info("token_refreshed", extra={"provider": self.provider, "kind": self.kind})
        return token


class ClientCredentialsTokens(TokenProvider):
    """A token the adapter obtains with its own client credentials (RFC 6749 §4.4, or the
    provider's own exchange such as Pluggy's ``POST /auth``): ``fetch`` performs it."""

    kind: ClassVar[str] = "client_credentials"

    def __init__(self, fetch: Callable[[], Token], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._fetch = fetch

    def fetch(self, current: Token | None) -> Token:
        return self._fetch()


class OAuth2Tokens(TokenProvider):
    """An access token refreshed with the org's refresh token (RFC 6749 §6:
    ``grant_type=refresh_token``). A rotated refresh token (a new one in the answer) is saved
    in ``store``; an answer without one keeps the current one (never overwritten with an
    empty value). ``invalid_grant``/``invalid_client`` is an AuthenticationError and the
    integration is disabled (through the adapter's guarded path); a network error or a 5xx is
    ProviderUnavailableError, never a dead token."""

    kind: ClassVar[str] = "oauth2"

    def __init__(
        self,
        client: ProviderClient,
        *,
        token_url: str,
        client_id: str,
        client_secret: SecretStr,
        refresh_token: SecretStr | None,
        store: TokenStore,
        client_auth: Literal["body", "basic"] = "body",
        scope: str | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("provider", client.provider)
        kwargs.setdefault("org_id", client.org_id)
        kwargs.setdefault("key", (client.org_id or "default", token_url, client_id))
        super().__init__(**kwargs)
        self.client = client
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.initial_refresh_token = refresh_token
        self.store = store
        self.client_auth = client_auth
        self.scope = scope

    def load_shared(self) -> Token | None:
        return self.store.load(self.org_id or "default", self.provider)

    def save_shared(self, token: Token) -> None:
        self.store.save(self.org_id or "default", self.provider, token)

    def invalidate(self) -> None:
        """Forget the access token here and in the store (its refresh token is kept), so the
        next call refreshes instead of reading the refused token back."""
        super().invalidate()
        stored = self.load_shared()
        if stored is not None and stored.refresh_at > 0:
            self.save_shared(dataclasses.replace(stored, refresh_at=0.0))

    def fetch(self, current: Token | None) -> Token:
        refresh_token = current.refresh_token if current is not None and current.refresh_token else None
        if refresh_token is None and self.initial_refresh_token is not None:
            refresh_token = self.initial_refresh_token.get_secret_value()
        if not refresh_token:
            raise ConfigurationError(
                f"{self.provider} credentials have no refresh_token: connect the integration again",
                provider=self.provider,
            )
        return self.client.guarded(lambda: self._post(refresh_token), operation="oauth_token")

    def _post(self, refresh_token: str) -> Token:
        # https://datatracker.ietf.org/doc/html/rfc6749#section-6 (client auth: §2.3.1)
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        if self.scope:
            form["scope"] = self.scope
        headers = {"Accept": "application/json"}
        secret = self.client_secret.get_secret_value()
        if self.client_auth == "basic":
            pair = f"{self.client_id}:{secret}".encode()
            headers["Authorization"] = f"Basic {base64.b64encode(pair).decode('ascii')}"
        else:
            form.update({"client_id": self.client_id, "client_secret": secret})
        timeout = self.client._effective_timeout(None)  # never past the Lambda's remaining time
        try:
            if timeout is None:
                response = self.client.http.post(self.token_url, data=form, headers=headers)
            else:
                response = self.client.http.post(self.token_url, data=form, headers=headers, timeout=timeout)
        except httpx.TransportError as exc:
            raise ProviderUnavailableError(
                f"{self.provider} token endpoint unreachable ({type(exc).__name__})",
                provider=self.provider,
                code="token_endpoint_unreachable",
            ) from exc
        if response.status_code >= 400:
            raise self._error(response)
        try:
            body = response.json()
        except ValueError:
            body = None
        access = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(body, dict) or not isinstance(access, str) or not access:
            raise ProviderUnavailableError(
                f"{self.provider} answered the token refresh without an access_token", provider=self.provider
            )
        rotated = body.get("refresh_token")
        return Token.issued(
            access,
            now=self.clock(),
            lifetime=lifetime_of(body),
            refresh_token=rotated if isinstance(rotated, str) and rotated else refresh_token,
        )

    def _error(self, response: httpx.Response) -> HubError:
        status = response.status_code
        code = oauth_error_code(response)
        common: dict[str, Any] = {"provider": self.provider, "http_status": status, "code": code}
        # Only the error code: a token endpoint's description is free text.
        text = f"{self.provider} refused the token refresh ({status} {code or response.reason_phrase})"
        if code in PERMANENT_OAUTH_ERRORS or status in (401, 403):
            return AuthenticationError(text, **common)
        if status == 429:
            return RateLimitedError(text, retry_after=self.client.retry_after_of(response), **common)
        if status >= 500:
            return ProviderUnavailableError(text, **common)
        return InvalidRequestError(text, **common)
