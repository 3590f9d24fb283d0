"""Per-organisation provider credentials from AWS Secrets Manager.

Secret id: ``{SECRETS_PREFIX}/{org_id}/{provider}`` (prefix ``hub`` by default, set per
stage), a JSON object. Read through Powertools Parameters, cached for
``SECRETS_CACHE_SECONDS``, so a warm function does not call Secrets Manager per request.
Fields per provider are documented in docs/providers.md.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.exceptions import (
    GetParameterError,
    TransformParameterError,
)
from pydantic import BaseModel, ValidationError

from hub.aws import aws_client
from hub.config import get_settings
from hub.errors import AuthenticationError, ConfigurationError, InvalidRequestError, ProviderUnavailableError

ORG_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
PROVIDER_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")

_provider: parameters.SecretsProvider | None = None

# Providers renamed after orgs stored secrets under the old name: the old secret keeps
# working (looked up after the current name). PagBank's adapter was registered as
# ``pagseguro`` before it became ``pagbank``.
SECRET_ALIASES: dict[str, tuple[str, ...]] = {"pagbank": ("pagseguro",)}
# old name -> current name (ListSecrets answers the stored names)
LEGACY_PROVIDER_NAMES: dict[str, str] = {old: new for new, olds in SECRET_ALIASES.items() for old in olds}


def validate_org_id(org_id: str) -> str:
    if not ORG_ID_PATTERN.fullmatch(org_id or ""):
        raise InvalidRequestError(
            "org_id must be 1-63 characters of lowercase letters, digits, '-' or '_'",
            code="invalid_org_id",
        )
    return org_id


def secret_id(org_id: str, provider: str) -> str:
    validate_org_id(org_id)
    if not PROVIDER_PATTERN.fullmatch(provider):
        raise InvalidRequestError(f"unknown provider {provider!r}", code="invalid_provider")
    return f"{get_settings().secrets_prefix}/{org_id}/{provider}"


def _secrets() -> parameters.SecretsProvider:
    global _provider
    if _provider is None:
        _provider = parameters.SecretsProvider()
    return _provider


def forget_cached_secrets() -> None:
    """Drop this container's cached secrets (after IntegrationConnect/Rotate stored a new version)."""
    if _provider is not None:
        _provider.clear_cache()


def get_provider_secret(org_id: str, provider: str) -> dict[str, Any]:
    """The org's secret for one provider, as a dict; under the provider's current name
    first, then under its old names (:data:`SECRET_ALIASES`).

    Raises AuthenticationError when the org has no credentials for the provider (the
    taxonomy's "credentials missing"), ConfigurationError when the secret is not JSON.
    """
    try:
        return _read_secret(org_id, provider)
    except AuthenticationError as missing:
        for alias in SECRET_ALIASES.get(provider, ()):
            try:
                return _read_secret(org_id, alias, reported_as=provider)
            except AuthenticationError:
                continue
        raise missing from None


def _read_secret(org_id: str, provider: str, *, reported_as: str | None = None) -> dict[str, Any]:
    return _read_json(secret_id(org_id, provider), reported_as or provider, f"org {org_id!r}")


# The hub's own OAuth apps (``{prefix}/_apps/{provider}``: client id and secret) and keys
# (``_apps/oauth-state``); ``_apps`` can never be an org id (org ids start with [a-z0-9]).
APPS_SEGMENT = "_apps"


def app_secret_id(name: str) -> str:
    if not PROVIDER_PATTERN.fullmatch(name):
        raise InvalidRequestError(f"unknown provider {name!r}", code="invalid_provider")
    return f"{get_settings().secrets_prefix}/{APPS_SEGMENT}/{name}"


def get_app_secret(name: str, *, fresh: bool = False) -> dict[str, Any]:
    """The hub's app secret ``{prefix}/_apps/{name}`` (same cache as the orgs' secrets; ``fresh``
    skips it). AuthenticationError (``credentials_missing``) when there is none."""
    return _read_json(app_secret_id(name), name, "the hub", fresh=fresh)


def _read_json(name: str, provider: str, owner: str, *, fresh: bool = False) -> dict[str, Any]:
    try:
        value = _secrets().get(name, transform="json", max_age=get_settings().secrets_cache_seconds, force_fetch=fresh)
    except TransformParameterError:
        raise ConfigurationError(f"secret {name} is not a JSON object", provider=provider) from None
    except GetParameterError as exc:
        if "ResourceNotFoundException" in repr(exc.__cause__ or exc):
            raise AuthenticationError(
                f"no {provider} credentials configured for {owner}",
                provider=provider,
                code="credentials_missing",
            ) from None
        if "AccessDenied" in repr(exc.__cause__ or exc):
            raise ConfigurationError(f"not allowed to read secret {name}", provider=provider) from None
        # Throttling, timeouts, endpoint unreachable: retry later.
        raise ProviderUnavailableError(
            f"could not read secret {name}: Secrets Manager unavailable", provider="secretsmanager"
        ) from exc
    if not isinstance(value, dict):
        raise ConfigurationError(f"secret {name} is not a JSON object", provider=provider)
    return value


def configured_providers(org_id: str) -> list[str]:
    """Providers that have a secret for this org (one ListSecrets paginated by prefix)."""
    prefix = f"{get_settings().secrets_prefix}/{validate_org_id(org_id)}/"
    client = aws_client("secretsmanager")
    providers: list[str] = []
    paginator = client.get_paginator("list_secrets")
    for page in paginator.paginate(Filters=[{"Key": "name", "Values": [prefix]}]):
        for entry in page.get("SecretList", []):
            name = entry.get("Name", "")
            if name.startswith(prefix) and "/" not in name[len(prefix) :]:
                stored = name[len(prefix) :]
                providers.append(LEGACY_PROVIDER_NAMES.get(stored, stored))
    return sorted(set(providers))


ModelT = TypeVar("ModelT", bound=BaseModel)


def parse_secret(model: type[ModelT], raw: Any, *, what: str, provider: str | None) -> ModelT:
    """Validate an org secret (or a part of one) against its model; a bad one is a
    :class:`ConfigurationError` naming the bad fields, never echoing their values (secrets)."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in err["loc"]) for err in exc.errors()})
        raise ConfigurationError(
            f"{what} are malformed: check field(s) {', '.join(fields)}", provider=provider
        ) from None


def org_settings(org_id: str, name: str, model: type[ModelT]) -> ModelT:
    """The org's optional settings secret ``{prefix}/{org_id}/{name}`` as ``model``; the
    model's defaults when the org has none."""
    try:
        raw = get_provider_secret(org_id, name)
    except AuthenticationError:
        return model()
    return parse_secret(model, raw, what=f"{name} settings", provider=name)
