"""What every OAuth2 provider adapter shares: the hub's app credentials for the provider, the
org's stored tokens, the authorization-code exchange (and Meta's long-lived exchange right after
it), and a client that authenticates with ``Authorization: Bearer`` from its token provider.

The flow itself (state, PKCE, routes) is :mod:`hub.integrations.oauth`; the tokens' secret and
record are :mod:`hub.integrations.tokens`. Docs per provider: each package's README.md.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from hub.config import get_settings
from hub.credentials import get_app_secret, parse_secret
from hub.errors import (
    AuthenticationError,
    ConfigurationError,
    HubError,
    InvalidRequestError,
    ProviderUnavailableError,
    RateLimitedError,
)
from hub.providers.base.auth import (
    LongLivedTokens,
    OAuth2Tokens,
    Token,
    TokenProvider,
    authenticate_client,
    call_token_url,
    lifetime_of,
)
from hub.providers.base.client import OptionalSecret, ProviderClient, ProviderCredentials, parse_retry_after
from hub.providers.base.descriptor import OAuthRefresh, OAuthSpec


class OAuthApp(BaseModel):
    """The hub's app at the provider: secret ``{prefix}/_apps/{provider}``. Only ``client_id``
    and ``client_secret`` are required; the rest replaces the descriptor's facts for one
    deployment (a sandbox's URLs, a newer Graph version, the scopes the app was approved for,
    LinkedIn's ``refresh: "refresh_token"`` once the app is an approved partner)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    authorize_url: str | None = None
    token_url: str | None = None
    long_lived_url: str | None = None
    refresh_url: str | None = None
    api_base_url: str | None = None
    graph_version: str | None = Field(None, pattern=r"^v[0-9]+\.[0-9]+$")
    scopes: list[str] | None = None
    refresh: OAuthRefresh | None = None


def load_app(provider: str) -> OAuthApp:
    """The app credentials for ``provider``; ConfigurationError (naming the secret, never its
    values) when they are missing or malformed."""
    try:
        raw = get_app_secret(provider)
    except AuthenticationError:
        raise ConfigurationError(
            f"the hub has no {provider} OAuth app: create the secret _apps/{provider} with client_id and client_secret",
            provider=provider,
            code="oauth_app_missing",
        ) from None
    return parse_secret(OAuthApp, raw, what=f"{provider} OAuth app credentials", provider=provider)


class ResolvedOAuth(BaseModel):
    """A provider's OAuth facts with one deployment's app applied."""

    model_config = ConfigDict(frozen=True)

    provider: str
    app: OAuthApp
    authorize_url: str
    token_url: str
    long_lived_url: str | None
    refresh_url: str | None
    api_base_url: str | None
    scopes: tuple[str, ...]
    refresh: OAuthRefresh
    graph_version: str | None
    spec: Any  # the OAuthSpec (a frozen dataclass)

    @classmethod
    def of(cls, provider: str, spec: OAuthSpec, app: OAuthApp) -> ResolvedOAuth:
        version = app.graph_version or spec.graph_version

        def url(own: str | None, default: str | None) -> str | None:
            value = own or default
            return spec.url(value, version) if value else None

        return cls(
            provider=provider,
            app=app,
            authorize_url=url(app.authorize_url, spec.authorize_url) or "",
            token_url=url(app.token_url, spec.token_url) or "",
            long_lived_url=url(app.long_lived_url, spec.long_lived_url),
            refresh_url=url(app.refresh_url, spec.refresh_url),
            api_base_url=url(app.api_base_url, None),
            scopes=tuple(app.scopes) if app.scopes else spec.scopes,
            refresh=app.refresh or spec.refresh,
            graph_version=version,
            spec=spec,
        )

    @property
    def oauth_spec(self) -> OAuthSpec:
        spec: OAuthSpec = self.spec
        return spec


def resolve(provider: str) -> ResolvedOAuth:
    """The provider's OAuth facts and the hub's app for it; InvalidRequestError when the provider
    has no OAuth flow, ConfigurationError when the app secret is missing."""
    from hub.providers import descriptor

    found = descriptor(provider)
    if found is None or found.oauth is None:
        raise InvalidRequestError(f"provider {provider!r} has no OAuth flow", code="oauth_not_supported")
    return ResolvedOAuth.of(found.key, found.oauth, load_app(found.key))


class TokenSet(BaseModel):
    """What a token endpoint answered, normalised (never logged: values are secrets)."""

    model_config = ConfigDict(frozen=True)

    access_token: SecretStr
    refresh_token: SecretStr | None = None
    expires_at: datetime | None = None
    scopes: list[str] = Field(default_factory=list)
    token_type: str | None = None
    user_id: str | None = None

    def secret_fields(self) -> dict[str, Any]:
        """The org secret's token fields (the shared contract of docs/integrations.md, "OAuth")."""
        out: dict[str, Any] = {"access_token": self.access_token.get_secret_value(), "scopes": self.scopes}
        if self.refresh_token is not None:
            out["refresh_token"] = self.refresh_token.get_secret_value()
        if self.expires_at is not None:
            out["expires_at"] = self.expires_at.isoformat()
        if self.token_type:
            out["token_type"] = self.token_type
        if self.user_id:
            out["user_id"] = self.user_id
        return out


def split_scopes(value: Any) -> list[str]:
    """Scopes as the provider reported them: space- (RFC 6749 §3.3) or comma-separated (LinkedIn,
    Instagram), or a list."""
    if isinstance(value, list):
        return [str(v) for v in value if str(v)]
    if not isinstance(value, str):
        return []
    return [part for part in value.replace(",", " ").split() if part]


def _token_set(provider: str, body: Any, *, now: datetime, requested: tuple[str, ...]) -> TokenSet:
    # Instagram Login answers {"data": [{"access_token", "user_id", "permissions"}]}
    # (https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/business-login).
    if isinstance(body, dict) and isinstance(body.get("data"), list) and body["data"]:
        body = body["data"][0]
    access = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(body, dict) or not isinstance(access, str) or not access:
        raise ProviderUnavailableError(
            f"{provider} answered the token request without an access_token", provider=provider
        )
    lifetime = lifetime_of(body)
    refresh = body.get("refresh_token")
    granted = split_scopes(body.get("scope", body.get("permissions")))
    user_id = body.get("user_id")
    return TokenSet(
        access_token=SecretStr(access),
        refresh_token=SecretStr(refresh) if isinstance(refresh, str) and refresh else None,
        expires_at=now + timedelta(seconds=lifetime) if lifetime else None,
        # A provider that does not report what was granted (Facebook) granted what was asked.
        scopes=granted or list(requested),
        token_type=body.get("token_type") if isinstance(body.get("token_type"), str) else None,
        user_id=str(user_id) if isinstance(user_id, str | int) and not isinstance(user_id, bool) else None,
    )


class TokenEndpoint:
    """Calls to a provider's token endpoints outside any org's guarded path: the code exchange
    and the long-lived exchange happen while (re)connecting, so a disabled or needs_reauth
    integration must not refuse them. Errors: RFC 6749 §5.2 codes → InvalidRequestError with
    that code (the callback page names it), 5xx/network → ProviderUnavailableError."""

    def __init__(self, oauth: ResolvedOAuth, http: httpx.Client, timeout: httpx.Timeout | None = None) -> None:
        self.oauth = oauth
        self.http = http
        self.timeout = timeout

    @property
    def provider(self) -> str:
        return self.oauth.provider

    def exchange_code(self, code: str, *, redirect_uri: str, code_verifier: str | None) -> TokenSet:
        """RFC 6749 §4.1.3 (with RFC 7636 §4.5 ``code_verifier``)."""
        app = self.oauth.app
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        if code_verifier:
            form["code_verifier"] = code_verifier
        headers = {"Accept": "application/json"}
        secret = app.client_secret.get_secret_value()
        authenticate_client(app.client_id, secret, self.oauth.oauth_spec.client_auth, form, headers)
        if self.oauth.oauth_spec.exchange_method == "GET":
            # https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow#confirm
            form.pop("grant_type")
            response = self._send("GET", self.oauth.token_url, params=form, headers=headers)
        else:
            response = self._send("POST", self.oauth.token_url, data=form, headers=headers)
        return _token_set(self.provider, self._json(response), now=datetime.now(UTC), requested=self.oauth.scopes)

    def long_lived(self, short: TokenSet) -> TokenSet:
        """Meta: trade the short-lived token for a long-lived (~60 days) one. Facebook
        https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived ;
        Instagram https://developers.facebook.com/docs/instagram-platform/reference/access_token ."""
        url = self.oauth.long_lived_url
        if url is None:
            return short
        app = self.oauth.app
        token = short.access_token.get_secret_value()
        if self.oauth.refresh == "fb_exchange_token":
            params = {
                "grant_type": "fb_exchange_token",
                "client_id": app.client_id,
                "client_secret": app.client_secret.get_secret_value(),
                "fb_exchange_token": token,
            }
        else:
            params = {
                "grant_type": "ig_exchange_token",
                "client_secret": app.client_secret.get_secret_value(),
                "access_token": token,
            }
        response = self._send("GET", url, params=params, headers={"Accept": "application/json"})
        long = _token_set(self.provider, self._json(response), now=datetime.now(UTC), requested=tuple(short.scopes))
        return long.model_copy(update={"scopes": short.scopes, "user_id": long.user_id or short.user_id})

    # ----- plumbing --------------------------------------------------------------------------
    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = call_token_url(self.http, method, url, provider=self.provider, timeout=self.timeout, **kwargs)
        if response.status_code >= 400:
            raise self._error(response)
        return response

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise ProviderUnavailableError(
                f"{self.provider} token endpoint answered without JSON", provider=self.provider
            ) from None

    def _error(self, response: httpx.Response) -> HubError:
        status = response.status_code
        code = oauth_error(response)
        common: dict[str, Any] = {"provider": self.provider, "http_status": status, "code": code}
        # Only the error code: descriptions are free text and may echo what was sent.
        text = f"{self.provider} refused the token request ({status} {code or response.reason_phrase})"
        if status == 429:
            return RateLimitedError(text, retry_after=parse_retry_after(response.headers.get("retry-after")), **common)
        if status >= 500:
            return ProviderUnavailableError(text, **common)
        # invalid_grant (a used or expired code), invalid_client, redirect_uri_mismatch, ...:
        # connecting again is the only fix, never a retry.
        return InvalidRequestError(text, **common)


def oauth_error(response: httpx.Response) -> str | None:
    """The error code of a token endpoint's answer: RFC 6749 §5.2 ``{"error": "..."}``, Meta's
    ``{"error": {"type", "code"}}`` (Graph) or ``{"error_type"}`` (Instagram)."""
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, str):
        return error
    if isinstance(error, dict):
        kind = error.get("type") or error.get("code")
        return str(kind) if kind is not None else None
    kind = body.get("error_type")
    return kind if isinstance(kind, str) else None


# ----- the org's stored tokens and the client built on them -----------------------------------


class OAuthCredentials(ProviderCredentials):
    """The org's secret ``{prefix}/{org}/{provider}`` written by the OAuth callback."""

    access_token: SecretStr
    refresh_token: OptionalSecret = None
    expires_at: datetime | None = None
    scopes: list[str] = Field(default_factory=list)
    token_type: str | None = None
    user_id: str | None = None
    account_id: str | None = None


class StoredTokenOnly(TokenProvider):
    """The org's stored access token, never refreshed here: LinkedIn without partner refresh
    tokens (``refresh: "none"``). An expired one is a ConfigurationError: the org connects again."""

    kind: ClassVar[str] = "stored"

    def __init__(self, client: OAuthClient, **kwargs: Any) -> None:
        kwargs.setdefault("provider", client.provider)
        kwargs.setdefault("org_id", client.org_id)
        kwargs.setdefault("key", (client.org_id or "default", "stored"))
        kwargs.setdefault("lock", None)
        super().__init__(**kwargs)
        self.client = client

    def load_shared(self) -> Token | None:
        creds = self.client.oauth_credentials
        expires = creds.expires_at.timestamp() if creds.expires_at else float("inf")
        return Token(creds.access_token.get_secret_value(), expires, expires)

    def fetch(self, current: Token | None) -> Token:
        raise ConfigurationError(
            f"the {self.provider} access token expired and is not refreshed yet: connect the integration again",
            provider=self.provider,
            code="token_expired",
        )


class OAuthClient(ProviderClient):
    """Base of the OAuth2 adapters: Bearer auth from :meth:`token_provider`."""

    credentials_model: ClassVar[type[ProviderCredentials]] = OAuthCredentials
    # The descriptor's OAuthSpec (set by the subclass: one place per provider).
    oauth_spec: ClassVar[OAuthSpec]

    def __init__(self, credentials: ProviderCredentials, *, app: OAuthApp | None = None, **kwargs: Any) -> None:
        super().__init__(credentials, **kwargs)
        self._app = app
        self._tokens: TokenProvider | None = None

    @property
    def oauth_credentials(self) -> OAuthCredentials:
        assert isinstance(self.credentials, OAuthCredentials)
        return self.credentials

    @property
    def oauth(self) -> ResolvedOAuth:
        return ResolvedOAuth.of(self.provider, self.oauth_spec, self.app)

    @property
    def app(self) -> OAuthApp:
        if self._app is None:
            self._app = load_app(self.provider)
        return self._app

    def api_url(self, path: str) -> str:
        """``path`` on the app's API base URL when it sets one (a sandbox), else the client's."""
        base = self.oauth.api_base_url if self.credentials.base_url is None else None
        return f"{(base or self.base_url).rstrip('/')}{path}"

    def token_provider(self) -> TokenProvider:
        """How this org's access token is kept fresh (also what the scheduled sweep refreshes)."""
        if self._tokens is None:
            self._tokens = self._make_token_provider()
        return self._tokens

    def _make_token_provider(self) -> TokenProvider:
        oauth = self.oauth
        if oauth.refresh == "refresh_token":
            from hub.integrations.tokens import SecretsTokenStore

            return OAuth2Tokens(
                self,
                token_url=oauth.token_url,
                client_id=oauth.app.client_id,
                client_secret=oauth.app.client_secret,
                refresh_token=self.oauth_credentials.refresh_token,
                store=SecretsTokenStore(),
                client_auth=oauth.oauth_spec.client_auth,
            )
        if oauth.refresh in ("fb_exchange_token", "ig_refresh_token") and oauth.refresh_url:
            from hub.integrations.tokens import SecretsTokenStore

            # Meta's ~60-day tokens, exchanged for new ones before day 60 (the sweep does it).
            return LongLivedTokens(
                self,
                exchange="facebook" if oauth.refresh == "fb_exchange_token" else "instagram",
                store=SecretsTokenStore(),
                access_token=self.oauth_credentials.access_token,
                client_id=oauth.app.client_id,
                client_secret=oauth.app.client_secret,
                token_url=oauth.refresh_url,
            )
        return StoredTokenOnly(self)

    def auth_headers(self) -> dict[str, str]:
        # The token the org's secret holds while it is fresh (no app or store lookup on a warm
        # path); near its expiry, the token provider (refreshed once across instances).
        creds = self.oauth_credentials
        expires = creds.expires_at.timestamp() if creds.expires_at else None
        margin = get_settings().oauth_refresh_margin_seconds
        if self._tokens is None and (expires is None or time.time() < expires - margin):
            return {"Authorization": f"Bearer {creds.access_token.get_secret_value()}"}
        return {"Authorization": f"Bearer {self.token_provider().token()}"}
