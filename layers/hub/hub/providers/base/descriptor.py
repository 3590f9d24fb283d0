"""What shared code knows about a provider: one ``ProviderDescriptor`` in its package's ``__init__``.

A descriptor is plain data and imports nothing heavy: the registry imports every package's
``__init__`` to list providers, and a webhook receiver's cold start must not pay for the
adapters it never calls. The client class and the webhook spec load on first use.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from hub.resilience.ratelimit import LimitRule

if TYPE_CHECKING:
    from hub.providers.base.client import ProviderClient
    from hub.webhooks.models import WebhookSpec

AuthKind = Literal["api_key", "basic", "client_credentials", "oauth2", "aws_iam", "webhook_only"]

# How an OAuth provider's access token is renewed: RFC 6749 §6 ``refresh_token`` (Google, Canva,
# LinkedIn partners), Meta's long-lived exchanges (``fb_exchange_token``: Facebook Login;
# ``ig_refresh_token``: Instagram Login), or not at all (``none``: the org connects again).
OAuthRefresh = Literal["refresh_token", "fb_exchange_token", "ig_refresh_token", "none"]

# Capability names (the Protocols in hub.providers.ports): what domain code may ask an org for.
Capability = Literal[
    "WhatsAppSender",
    "SmsSender",
    "EmailSender",
    "TextGenerator",
    "ImageGenerator",
    "Embedder",
    "Charger",
    "CustomerRegistry",
    "Refunder",
    "PaymentLookup",
    "OrderLookup",
    "SubscriptionBiller",
    "PaymentLinks",
    "PixQrCodes",
    "PixTransfers",
    "PaymentLedger",
    "BankStatements",
    "NfseIssuer",
    "CnpjLookup",
    "WebSearch",
    "WebhookRegistrar",
    "CredentialRotator",
    "SocialPublisher",
    "SocialInsights",
    "AnalyticsSink",
    "Calendar",
]


@dataclass(frozen=True)
class OAuthSpec:
    """How an org connects a provider through the OAuth2 authorization-code flow (hub.integrations.oauth).

    URLs may hold ``{graph_version}`` (Meta's versioned hosts), filled from the app secret's
    ``graph_version`` or :attr:`graph_version`. Every URL can be replaced per deployment in the
    app secret ``{prefix}/_apps/{provider}`` (sandboxes, a newer version)."""

    authorize_url: str
    token_url: str
    scopes: tuple[str, ...]
    # PKCE with S256 (RFC 7636) where the provider documents it for server-side web apps.
    pkce: bool = True
    # Client authentication at the token endpoint (RFC 6749 §2.3.1): form fields or HTTP Basic.
    client_auth: Literal["body", "basic"] = "body"
    # Extra parameters of the authorization request (Google: access_type=offline, prompt=consent).
    authorize_params: tuple[tuple[str, str], ...] = ()
    # How scopes are joined in the authorization request (Meta documents commas).
    scope_separator: str = " "
    # Facebook's code exchange is a GET with query parameters; everyone else POSTs a form.
    exchange_method: Literal["POST", "GET"] = "POST"
    refresh: OAuthRefresh = "refresh_token"
    # Meta: the short-lived token of the code exchange is traded for a long-lived one right after
    # the callback (Facebook ``grant_type=fb_exchange_token``, Instagram ``ig_exchange_token``).
    long_lived_url: str | None = None
    # Where a long-lived token is refreshed (Instagram ``refresh_access_token``), if elsewhere.
    refresh_url: str | None = None
    graph_version: str | None = None
    # Documented token lifetimes, in seconds (None: the provider does not say / does not expire).
    access_token_lifetime: int | None = None
    refresh_token_lifetime: int | None = None
    # Refresh tokens are single-use and a new one comes with every refresh (Canva).
    rotating_refresh_token: bool = False

    def url(self, template: str, graph_version: str | None = None) -> str:
        return template.replace("{graph_version}", graph_version or self.graph_version or "")


@dataclass(frozen=True)
class ProviderDescriptor:
    """One provider: its key is the package name, the sandbox module, the secret id's suffix
    (``hub/{org_id}/{key}``) and the test folder."""

    auth: AuthKind
    # Clients without a base URL of their own (Evolution is self-hosted) read it from the secret.
    default_base_url: str = ""
    # The module of the package holding the client: the ``ProviderClient`` subclass there whose
    # ``provider`` is this key. None for webhook-only providers.
    client: str | None = "client"
    # The package has ``webhook.py`` with a ``WEBHOOK`` spec (route /webhooks/{key}/{org_id}).
    webhook: bool = False
    # The platform health check probes the org's credentials (False when most orgs hold only a
    # webhook secret for it: a probe would report a false failure).
    health_check: bool = True
    capabilities: frozenset[Capability] = frozenset()
    # Rate limits and quotas enforced across instances (hub.resilience.ratelimit); every number is
    # configuration: RATE_LIMIT_OVERRIDES replaces a provider's rules wholesale.
    limits: tuple[LimitRule, ...] = ()
    # Other names the provider is known by in secret ids and routes (PagSeguro → pagbank).
    aliases: tuple[str, ...] = ()
    # Providers an org connects through the OAuth2 flow (``auth="oauth2"``): /oauth/{key}/start.
    oauth: OAuthSpec | None = None
    docs: str = ""
    # Set by the registry: the package that declared it, and the key — the package's name unless
    # the package declares several providers (meta: ``meta`` and ``whatsapp_cloud``).
    package: str = ""
    key: str = ""

    def client_class(self) -> type[ProviderClient]:
        if self.client is None:
            raise LookupError(f"provider {self.key!r} has no outbound client")
        from hub.providers.base.client import ProviderClient

        module = importlib.import_module(f"{self.package}.{self.client}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, ProviderClient)
                and value.__module__ == module.__name__
                and getattr(value, "provider", None) == self.key
            ):
                return value
        raise LookupError(f"{module.__name__} defines no ProviderClient with provider = {self.key!r}")

    def webhook_spec(self) -> WebhookSpec:
        if not self.webhook:
            raise LookupError(f"provider {self.key!r} has no webhook receiver")
        spec: WebhookSpec = importlib.import_module(f"{self.package}.webhook").WEBHOOK
        return spec
