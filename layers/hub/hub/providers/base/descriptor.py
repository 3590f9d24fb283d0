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
]


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
