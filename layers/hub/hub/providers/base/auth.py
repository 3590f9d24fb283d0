"""One token layer for every provider that authenticates with a token it must obtain.

Three kinds behind one interface (:class:`TokenProvider`): client-credentials tokens
(:class:`ClientCredentialsTokens`: Nuvem Fiscal, Pluggy), OAuth2 access/refresh tokens
(:class:`OAuth2Tokens`: LinkedIn, Google, Canva) and long-lived tokens that are exchanged for a
new one before they expire (:class:`LongLivedTokens`: Facebook, Instagram). See
docs/resilience.md, "Tokens", and docs/integrations.md, "Token lifecycle".
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

from aws_lambda_powertools.shared.lazy_import import LazyLoader
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
    import httpx

    from hub.providers.base.client import ProviderClient
else:  # imported on first use, not at init (cold start): a webhook receiver never calls out
    httpx = LazyLoader("httpx", globals(), "httpx")

# A client-credentials token is refreshed this many seconds before it expires (or a tenth of
# its life, if shorter). OAuth tokens use OAUTH_REFRESH_MARGIN_SECONDS (hub.config, 10 min).
TOKEN_REFRESH_MARGIN = 60.0
# OAuth tokens shorter-lived than twice their margin are refreshed at half their life.
OAUTH_MARGIN_FRACTION = 0.5
# The ``operation`` of every refresh of an org's grant (OAuth2Tokens, LongLivedTokens) made
# through ``ProviderClient.guarded``: an AuthenticationError answered to it means the grant is
# gone and only the org can connect again (needs_reauth), not that credentials an operator
# holds were refused (disabled, as for a client-credentials token call: "oauth_token").
TOKEN_REFRESH_OPERATION = "oauth_refresh"  # noqa: S105 - an operation name, not a secret
# Instagram refreshes only long-lived tokens at least 24 h old
# (https://developers.facebook.com/documentation/instagram-platform/reference/refresh_access_token).
INSTAGRAM_MIN_TOKEN_AGE = 86400.0
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
    # When it was issued, if known (Instagram refreshes only tokens at least 24 h old).
    issued_at: float | None = None

    @classmethod
    def issued(
        cls,
        access_token: str,
        *,
        now: float,
        lifetime: float | None,
        margin: float = TOKEN_REFRESH_MARGIN,
        refresh_token: str | None = None,
        fraction: float = 0.1,
    ) -> Token:
        """A token issued ``now`` for ``lifetime`` seconds, refreshed ``margin`` seconds early
        (or at ``fraction`` of its life before the end, if that is shorter)."""
        seconds = lifetime if lifetime is not None and lifetime > 0 else DEFAULT_TOKEN_LIFETIME
        early = min(margin, seconds * fraction)
        return cls(access_token, now + seconds - early, now + seconds, refresh_token, now)

    def fresh(self, now: float) -> bool:
        return now < self.refresh_at

    def with_margin(self, margin: float, fraction: float = OAUTH_MARGIN_FRACTION) -> Token:
        """The same token refreshed at least ``margin`` seconds early, whatever its store said
        (a token read back from a secret carries only its expiry)."""
        lifetime = self.expires_at - self.issued_at if self.issued_at is not None else None
        early = margin if lifetime is None or lifetime <= 0 else min(margin, lifetime * fraction)
        refresh_at = min(self.refresh_at, self.expires_at - early)
        return self if refresh_at == self.refresh_at else dataclasses.replace(self, refresh_at=refresh_at)


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


def authenticate_client(
    client_id: str, client_secret: str, mode: Literal["body", "basic"], form: dict[str, str], headers: dict[str, str]
) -> None:
    """Add the client's credentials to a token request (RFC 6749 §2.3.1): HTTP Basic, or
    ``client_id``/``client_secret`` in the form."""
    if mode == "basic":
        pair = f"{client_id}:{client_secret}".encode()
        headers["Authorization"] = f"Basic {base64.b64encode(pair).decode('ascii')}"
    else:
        form.update({"client_id": client_id, "client_secret": client_secret})


def call_token_url(
    http: httpx.Client, method: str, url: str, *, provider: str, timeout: httpx.Timeout | None, **kwargs: Any
) -> httpx.Response:
    """One request to a token endpoint (never logged: forms and query strings carry secrets);
    no answer at all is ProviderUnavailableError (``token_endpoint_unreachable``), never a dead
    token. The answer is the caller's to classify."""
    if timeout is not None:
        kwargs["timeout"] = timeout
    try:
        return http.request(method, url, **kwargs)
    except httpx.TransportError as exc:
        raise ProviderUnavailableError(
            f"{provider} token endpoint unreachable ({type(exc).__name__})",
            provider=provider,
            code="token_endpoint_unreachable",
        ) from exc


def token_answer(response: httpx.Response, *, provider: str, what: str) -> tuple[dict[str, Any], str]:
    """(the body, its ``access_token``) of a successful token answer; one without an access
    token is the provider misbehaving (ProviderUnavailableError), never a dead grant."""
    try:
        body = response.json()
    except ValueError:
        body = None
    access = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(body, dict) or not isinstance(access, str) or not access:
        raise ProviderUnavailableError(f"{provider} answered the {what} without an access_token", provider=provider)
    return body, access


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
    """Where an org's OAuth2 tokens live between containers (the org's secret:
    ``hub.integrations.tokens.SecretsTokenStore``). ``save`` is called with every refreshed
    token; a store whose ``save`` also notes the refresh on the integration record says so with
    ``notes_refreshes`` (then the token kind does not write the record a second time)."""

    notes_refreshes: ClassVar[bool]

    def load(self, org_id: str, provider: str) -> Token | None: ...

    def save(self, org_id: str, provider: str, token: Token) -> None: ...


class MemoryTokenStore:
    """A :class:`TokenStore` in memory (tests, the local cloud)."""

    notes_refreshes: ClassVar[bool] = False

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

    def refreshed(self, token: Token) -> None:
        """Called once a token was refreshed and saved (OAuth kinds: the integration record)."""
        return None

    @property
    def refreshable(self) -> bool:
        """Whether a new token can be obtained without the org (False: an OAuth grant without a
        refresh token, such as LinkedIn's outside its partner programme)."""
        return True

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

    def refresh_if_due(self, horizon_seconds: float) -> bool:
        """Refresh now when the stored token expires within ``horizon_seconds`` (the sweep;
        True when this call refreshed it). Under the same locks and re-read as :meth:`token`:
        a token another caller refreshed meanwhile (or that is no longer due) is left alone, so
        the sweep and functions never spend a refresh token twice."""
        seen = self._current()
        if seen is not None and not self._due(seen, horizon_seconds):
            return False

        def ready() -> Token | None:
            current = self._current()
            if current is None or not current.fresh(self.clock()):
                return None
            replaced = seen is not None and current.access_token != seen.access_token
            return current if replaced or not self._due(current, horizon_seconds) else None

        with self.cache.lock(self.key):
            _, fetched = self._under_lock(ready)
        return fetched

    def _due(self, token: Token, horizon: float) -> bool:
        now = self.clock()
        return not token.fresh(now) or token.expires_at - now <= horizon

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
        return self._under_lock(self._reread)

    def _under_lock(self, ready: Callable[[], Token | None]) -> tuple[Token, bool]:
        """(token, whether this call fetched it): ``ready()`` (a token that needs no refresh)
        before the lock, while waiting for it and once it is held; else a refresh."""
        if (token := ready()) is not None:
            return token, False
        if self.lock is None:
            return self._refresh(self._current()), True
        name = f"{self.org_id}#{self.provider}"
        owner = self._wait_for_lock(name, ready)
        if owner is None:  # another instance refreshed while we waited
            token = ready()
            assert token is not None
            return token, False
        try:
            if (token := ready()) is not None:
                return token, False
            return self._refresh(self._current()), True
        finally:
            self.lock.release(name, owner)

    def _wait_for_lock(self, name: str, ready: Callable[[], Token | None]) -> str | None:
        """The lock's owner id, or None once another holder's refreshed token is readable.
        Waits at most one lease, and never into the Lambda's last ``retry_safety_margin``."""
        assert self.lock is not None
        waited = 0.0
        while (owner := self.lock.try_acquire(name)) is None:
            if ready() is not None:
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
        self.refreshed(token)
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


class OrgTokens(TokenProvider):
    """Base of the kinds whose tokens belong to an org's grant and live in a :class:`TokenStore`
    (the org's secret): read back with the OAuth refresh margin applied, and each refresh noted
    on the integration record (``token_expires_at``, ``token_refreshed_at``)."""

    def __init__(self, client: ProviderClient, *, store: TokenStore, margin: float | None = None, **kwargs: Any):
        kwargs.setdefault("provider", client.provider)
        kwargs.setdefault("org_id", client.org_id)
        super().__init__(**kwargs)
        self.client = client
        self.store = store
        self.margin = get_settings().oauth_refresh_margin_seconds if margin is None else margin

    def grant(self, held: str | None, initial: SecretStr | None, field: str) -> str:
        """What the refresh is made with: the value the current token holds, else the one the
        org's secret was created with; none is a ConfigurationError (connect again)."""
        value = held or (initial.get_secret_value() if initial is not None else None)
        if not value:
            raise ConfigurationError(
                f"{self.provider} credentials have no {field}: connect the integration again", provider=self.provider
            )
        return value

    def issue(self, access_token: str, lifetime: float | None, refresh_token: str | None = None) -> Token:
        return Token.issued(
            access_token,
            now=self.clock(),
            lifetime=lifetime,
            margin=self.margin,
            refresh_token=refresh_token,
            fraction=OAUTH_MARGIN_FRACTION,
        )

    def load_shared(self) -> Token | None:
        stored = self.store.load(self.org_id or "default", self.provider)
        return None if stored is None else stored.with_margin(self.margin)

    def save_shared(self, token: Token) -> None:
        self.store.save(self.org_id or "default", self.provider, token)

    def refreshed(self, token: Token) -> None:
        if self.org_id and not self.store.notes_refreshes:
            from hub.integrations.lifecycle import token_refreshed

            token_refreshed(self.org_id, self.provider, token)

    def invalidate(self) -> None:
        """Forget the access token here and in the store (its refresh token is kept), so the
        next call refreshes instead of reading the refused token back."""
        super().invalidate()
        stored = self.load_shared()
        if stored is not None and stored.refresh_at > 0:
            self.save_shared(dataclasses.replace(stored, refresh_at=0.0))

    def call_token_endpoint(self, call: Callable[[], Token]) -> Token:
        """One token call through the adapter's guarded path (breaker, limits, retries): a
        refused grant marks the integration ``needs_reauth`` there, once. The integration's
        status is read afresh first, so a grant another instance found dead is not tried again."""
        if self.org_id:
            from hub.integrations import records

            records.forget(self.org_id, self.provider)
        return self.client.guarded(call, operation=TOKEN_REFRESH_OPERATION)


class OAuth2Tokens(OrgTokens):
    """An access token refreshed with the org's refresh token (RFC 6749 §6:
    ``grant_type=refresh_token``), ``OAUTH_REFRESH_MARGIN_SECONDS`` before it expires. A rotated
    refresh token (a new one in the answer) is saved in ``store``; an answer without one keeps
    the current one (never overwritten with an empty value). ``invalid_grant`` and the other
    RFC 6749 §5.2 permanent errors are an AuthenticationError and the integration goes to
    ``needs_reauth`` (through the adapter's guarded path); a network error, 429 or 5xx is
    retried and never a dead token."""

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
        kwargs.setdefault("key", (client.org_id or "default", token_url, client_id))
        super().__init__(client, store=store, **kwargs)
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.initial_refresh_token = refresh_token
        self.client_auth = client_auth
        self.scope = scope

    @property
    def refreshable(self) -> bool:
        if self.initial_refresh_token is not None and self.initial_refresh_token.get_secret_value():
            return True
        stored = self.load_shared()
        return stored is not None and bool(stored.refresh_token)

    def fetch(self, current: Token | None) -> Token:
        held = current.refresh_token if current is not None else None
        refresh_token = self.grant(held, self.initial_refresh_token, "refresh_token")
        return self.call_token_endpoint(lambda: self._post(refresh_token))

    def _post(self, refresh_token: str) -> Token:
        # https://datatracker.ietf.org/doc/html/rfc6749#section-6 (client auth: §2.3.1)
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        if self.scope:
            form["scope"] = self.scope
        headers = {"Accept": "application/json"}
        authenticate_client(self.client_id, self.client_secret.get_secret_value(), self.client_auth, form, headers)
        timeout = self.client._effective_timeout(None)  # never past the Lambda's remaining time
        response = call_token_url(
            self.client.http,
            "POST",
            self.token_url,
            provider=self.provider,
            timeout=timeout,
            data=form,
            headers=headers,
        )
        if response.status_code >= 400:
            raise self._error(response)
        body, access = token_answer(response, provider=self.provider, what="token refresh")
        rotated = body.get("refresh_token")
        return self.issue(
            access, lifetime_of(body), refresh_token=rotated if isinstance(rotated, str) and rotated else refresh_token
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


# Meta's long-lived tokens last about 60 days; an exchange answer without expires_in gets this.
LONG_LIVED_LIFETIME = 60 * 86400.0
FACEBOOK_GRAPH_VERSION = "v21.0"
LONG_LIVED_EXCHANGES: dict[str, str] = {
    # https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived
    "facebook": f"https://graph.facebook.com/{FACEBOOK_GRAPH_VERSION}/oauth/access_token",
    # https://developers.facebook.com/documentation/instagram-platform/reference/refresh_access_token
    "instagram": "https://graph.instagram.com/refresh_access_token",
}


class LongLivedTokens(OrgTokens):
    """A long-lived token (about 60 days, no refresh token) exchanged for a new one while it is
    still valid: Facebook user tokens (``GET /oauth/access_token?grant_type=fb_exchange_token``
    with the app's id and secret and the current token) and Instagram Login tokens
    (``GET graph.instagram.com/refresh_access_token?grant_type=ig_refresh_token``; only tokens at
    least 24 h old, so a younger one is never due). Nango never refreshes these; the hub's
    sweep does, once fewer than ``LONG_LIVED_REFRESH_DAYS_LEFT`` days are left. An expired or
    revoked token (Graph code 190) is an AuthenticationError: ``needs_reauth``."""

    kind: ClassVar[str] = "long_lived"

    def __init__(
        self,
        client: ProviderClient,
        *,
        exchange: Literal["facebook", "instagram"],
        store: TokenStore,
        access_token: SecretStr | None = None,
        client_id: str | None = None,
        client_secret: SecretStr | None = None,
        token_url: str | None = None,
        min_age: float | None = None,
        **kwargs: Any,
    ) -> None:
        if exchange == "facebook" and (not client_id or client_secret is None):
            raise ConfigurationError("the facebook token exchange needs the app's client_id and client_secret")
        kwargs.setdefault("key", (client.org_id or "default", exchange))
        super().__init__(client, store=store, **kwargs)
        self.exchange = exchange
        self.token_url = token_url or LONG_LIVED_EXCHANGES[exchange]
        self.initial_access_token = access_token
        self.client_id = client_id
        self.client_secret = client_secret
        self.min_age = (INSTAGRAM_MIN_TOKEN_AGE if exchange == "instagram" else 0.0) if min_age is None else min_age

    def _due(self, token: Token, horizon: float) -> bool:
        now = self.clock()
        if token.issued_at is not None and now - token.issued_at < self.min_age and now < token.expires_at:
            return False  # Instagram refuses to refresh a token younger than 24 h
        return super()._due(token, horizon)

    def fetch(self, current: Token | None) -> Token:
        held = current.access_token if current is not None else None
        token = self.grant(held, self.initial_access_token, "access_token")
        return self.call_token_endpoint(lambda: self._get(token))

    def _params(self, token: str) -> dict[str, str]:
        if self.exchange == "instagram":
            return {"grant_type": "ig_refresh_token", "access_token": token}
        assert self.client_id is not None and self.client_secret is not None
        return {
            "grant_type": "fb_exchange_token",
            "client_id": self.client_id,
            "client_secret": self.client_secret.get_secret_value(),
            "fb_exchange_token": token,
        }

    def _get(self, token: str) -> Token:
        params = self._params(token)
        timeout = self.client._effective_timeout(None)  # never past the Lambda's remaining time
        # The token and the app secret travel in the query string (Meta's contract): the URL is
        # never logged or put in an error.
        response = call_token_url(
            self.client.http, "GET", self.token_url, provider=self.provider, timeout=timeout, params=params
        )
        if response.status_code >= 400:
            raise self._error(response, secrets=[v for k, v in params.items() if k != "grant_type"])
        body, access = token_answer(response, provider=self.provider, what="token exchange")
        return self.issue(access, lifetime_of(body) or LONG_LIVED_LIFETIME)

    def _error(self, response: httpx.Response, *, secrets: list[str]) -> HubError:
        from hub.providers.meta.graph import classify_graph_error

        error = classify_graph_error(self.provider, response)
        if error is None:
            status = response.status_code
            code = oauth_error_code(response)
            common: dict[str, Any] = {"provider": self.provider, "http_status": status, "code": code}
            text = f"{self.provider} refused the token exchange ({status} {response.reason_phrase})"
            if code in PERMANENT_OAUTH_ERRORS or status in (401, 403):
                error = AuthenticationError(text, **common)
            elif status == 429:
                error = RateLimitedError(text, retry_after=self.client.retry_after_of(response), **common)
            elif status >= 500:
                error = ProviderUnavailableError(text, **common)
            else:
                error = InvalidRequestError(text, **common)
        for secret in sorted(secrets, key=len, reverse=True):  # Graph messages are free text
            error.message = error.message.replace(secret, "[redacted]")
        error.args = (error.message,)
        return error
