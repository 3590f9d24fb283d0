"""The integration operations: connect, test, disable, enable, rotate, list and get an org's
integration with a provider (docs/integrations.md, "Operations").

Every operation resolves the provider through the registry (``hub.providers``) and refuses bad
input before any side effect. Connect and rotate check the new credentials LIVE with the
adapter's ``health_check()`` built from them (``credentials_check=True``: a 401 means "these
credentials are wrong", never "disable the integration that works today"); a refusal stores
nothing — no secret, no record, no webhook. Secrets go to Secrets Manager
(``{SECRETS_PREFIX}/{org}/{provider}``) encrypted with the stack's customer-managed KMS key
(``SECRETS_KMS_KEY_ID``), a new version each time; answers are built from the integration
records (``hub.integrations.records``) and never hold a secret.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Hashable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, cast

from botocore.exceptions import ClientError
from pydantic import ValidationError

from hub import audit
from hub.aws import aws_client
from hub.config import get_settings
from hub.credentials import configured_providers, forget_cached_secrets, get_provider_secret, secret_id
from hub.errors import AuthenticationError, ConfigurationError, HubError, InvalidRequestError
from hub.integrations import records
from hub.integrations.models import (
    MAX_CREDENTIAL_LENGTH,
    Integration,
    IntegrationChange,
    IntegrationConnectRequest,
    IntegrationDisableRequest,
    IntegrationEnableRequest,
    IntegrationGetRequest,
    IntegrationListRequest,
    IntegrationPage,
    IntegrationRotateRequest,
    IntegrationRotation,
    IntegrationSummary,
    IntegrationTestRequest,
)
from hub.integrations.records import IntegrationRecord, TestResult, WebhookState
from hub.observability import logger
from hub.providers import descriptor
from hub.providers import ports as provider_ports
from hub.providers.base.descriptor import ProviderDescriptor
from hub.resilience.integrations import disable_integration, enable_integration, notify
from hub.urls import check_public_https_url

if TYPE_CHECKING:  # the client module (and httpx) loads with the provider's class, not at init
    from hub.providers.base.client import ProviderClient, ProviderCredentials

# Fields a provider's webhook verifier reads beside the client's own (Stripe and Mercado Pago
# keep their signing secret in the same secret): accepted in credentials of providers with a
# webhook receiver.
WEBHOOK_SECRET_FIELDS = frozenset({"webhook_secret", "previous_webhook_secret"})


# ----- the provider ---------------------------------------------------------------------------


def _descriptor(provider: str) -> ProviderDescriptor:
    found = descriptor(provider)
    if found is None:
        raise InvalidRequestError(f"provider: unknown provider {provider!r}", code="unknown_provider")
    return found


def _with_client(provider: str) -> tuple[ProviderDescriptor, type[ProviderClient]]:
    """A registered provider the hub calls (not webhook-only), with its adapter class."""
    found = _descriptor(provider)
    if found.client is None:
        raise InvalidRequestError(
            f"provider: {found.key} only sends webhooks to the hub; there is nothing to connect or test",
            provider=found.key,
            code="unknown_provider",
        )
    return found, found.client_class()


def _refuse_oauth(found: ProviderDescriptor) -> None:
    if found.auth == "oauth2":
        raise InvalidRequestError(
            f"provider: {found.key} is connected through its OAuth consent screen, not with credentials: "
            f"send the org's user to GET /oauth/{found.key}/start?org_id=<org_id>",
            provider=found.key,
            code="oauth_required",
        )


def _implements(found: ProviderDescriptor, cls: type[Any], port: Any) -> bool:
    """Does the provider declare ``port`` and does its adapter have its members
    (``ports.supports`` on this descriptor)."""
    return port.__name__ in found.capabilities and not provider_ports.missing_members(port, cast(Hashable, cls))


# ----- credentials ----------------------------------------------------------------------------


def _invalid(provider: str, message: str) -> InvalidRequestError:
    return InvalidRequestError(f"credentials: {message}", provider=provider, code="invalid_credentials")


def _check_fields(found: ProviderDescriptor, cls: type[ProviderClient], raw: Mapping[str, Any]) -> None:
    """Strict: only fields the provider's secret has, each bounded (names, never values)."""
    allowed = set(cls.credentials_model.model_fields) | (WEBHOOK_SECRET_FIELDS if found.webhook else set())
    unknown = sorted(str(name)[:64] for name in raw if name not in allowed)
    if unknown:
        raise _invalid(
            found.key,
            f"unknown field(s) {', '.join(unknown)} for {found.key} (expected some of {', '.join(sorted(allowed))})",
        )
    too_long = sorted(
        name for name, value in raw.items() if len(json.dumps(value, default=str)) > MAX_CREDENTIAL_LENGTH
    )
    if too_long:
        raise _invalid(found.key, f"field(s) {', '.join(too_long)} longer than {MAX_CREDENTIAL_LENGTH} characters")


def _parse(found: ProviderDescriptor, cls: type[ProviderClient], raw: Mapping[str, Any]) -> ProviderCredentials:
    try:
        credentials = cls.credentials_model.model_validate(dict(raw))
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in err["loc"]) or "credentials" for err in exc.errors()})
        raise _invalid(found.key, f"missing or malformed field(s) {', '.join(fields)} for {found.key}") from None
    if credentials.base_url is not None:
        _check_base_url(found.key, credentials.base_url)
    return credentials


def _check_base_url(provider: str, base_url: str) -> None:
    """The hub will send the org's credentials to ``base_url`` (Evolution is self-hosted): a
    public https URL, or one under a prefix the deployment allows (``PROVIDER_PRIVATE_URL_PREFIXES``:
    a self-hosted gateway inside the VPC, the local cloud's sandboxes) — never the metadata
    endpoint or another internal service picked by whoever calls IntegrationConnect. Prefixes
    compare as strings: end one with ``/`` to allow exactly that origin."""
    allowed = [p.strip() for p in (get_settings().provider_private_url_prefixes or "").split(",") if p.strip()]
    if any(base_url.startswith(prefix) for prefix in allowed):
        return
    try:
        check_public_https_url(base_url)
    except ValueError as exc:
        raise _invalid(provider, f"base_url {exc}") from None


def _check_live(
    found: ProviderDescriptor, cls: type[ProviderClient], credentials: ProviderCredentials, org_id: str
) -> tuple[ProviderClient, TestResult]:
    """The adapter built from ``credentials`` (not from Secrets Manager) and its health check,
    timed. The provider refusing them is ``invalid_credentials``; the provider being down
    propagates (ProviderUnavailableError: try again later)."""
    adapter = cls(credentials, org_id=org_id, credentials_check=True)
    started = time.perf_counter()
    try:
        adapter.health_check()
    except (AuthenticationError, InvalidRequestError) as exc:
        if exc.http_status is None:
            raise
        raise _invalid(
            found.key, f"{found.key} refused them ({exc.http_status}{', ' + exc.code if exc.code else ''})"
        ) from None
    return adapter, TestResult(ok=True, latency_ms=round((time.perf_counter() - started) * 1000))


# ----- Secrets Manager ------------------------------------------------------------------------


def store_secret(org_id: str, provider: str, value: Mapping[str, Any]) -> None:
    """Create the org's secret, or store a new version of it, encrypted with the stack's KMS key."""
    name = secret_id(org_id, provider)
    kms = get_settings().secrets_kms_key_id
    key = {"KmsKeyId": kms} if kms else {}
    client = aws_client("secretsmanager")
    body = json.dumps(dict(value), ensure_ascii=False, default=str)
    try:
        client.create_secret(
            Name=name,
            SecretString=body,
            Description=f"{provider} credentials of org {org_id} (IntegrationConnect)",
            **key,
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceExistsException":
            raise
        client.update_secret(SecretId=name, SecretString=body, **key)
    forget_cached_secrets()


def _current_secret(org_id: str, provider: str) -> dict[str, Any]:
    forget_cached_secrets()
    try:
        return get_provider_secret(org_id, provider)
    except AuthenticationError:
        raise InvalidRequestError(
            f"provider: {provider} is not connected for org {org_id!r} (IntegrationConnect first)",
            provider=provider,
            code="not_connected",
        ) from None


# ----- webhooks -------------------------------------------------------------------------------


def _webhook_url(provider: str, org_id: str) -> str:
    base = get_settings().public_api_url
    if not base:
        raise ConfigurationError("environment variable PUBLIC_API_URL is not set: the provider's webhook needs it")
    return f"{base.rstrip('/')}/webhooks/{provider}/{org_id}"


def _registrar(found: ProviderDescriptor, cls: type[ProviderClient]) -> bool:
    return _implements(found, cls, provider_ports.WebhookRegistrar)


def _register(
    adapter: ProviderClient,
    url: str,
    secret: str,
    previous: WebhookState | None,
    *,
    rotating: bool = False,
) -> tuple[WebhookState, Mapping[str, str]]:
    """Point the provider's webhook at ``url`` (updating ``previous``'s webhook there when it has
    an id); (state, secret fields to store). A refusal is state ``failed`` with the error
    (scrubbed by the adapter), never an exception."""
    registrar: provider_ports.WebhookRegistrar = adapter  # type: ignore[assignment]
    existing = previous.provider_webhook_id if previous else None
    now = records.now()
    try:
        registration = registrar.register_webhook(url, secret, existing_id=existing)
    except HubError as exc:
        logger.warning("webhook_registration_failed", extra={"provider": adapter.provider, "code": exc.code})
        return WebhookState(state="failed", url=url, provider_webhook_id=existing, error=exc.message[:500]), {}
    state = WebhookState(
        state="registered",
        url=url,
        provider_webhook_id=registration.provider_webhook_id or existing,
        registered_at=(previous.registered_at if previous and previous.registered_at else now),
        secret_rotated_at=now if rotating else None,
    )
    return state, dict(registration.secret_fields)


def _unregistered_state(found: ProviderDescriptor, org_id: str) -> WebhookState:
    """No registration API: ``manual`` when the hub has a receiver (the org pastes the URL in the
    provider's panel), else ``not_supported``."""
    if not found.webhook:
        return WebhookState(state="not_supported")
    base = get_settings().public_api_url
    return WebhookState(state="manual", url=f"{base.rstrip('/')}/webhooks/{found.key}/{org_id}" if base else None)


# ----- operations -----------------------------------------------------------------------------


def _view(org_id: str, provider: str) -> Integration:
    record = records.get_record(org_id, provider)
    if record is None:
        return Integration(org_id=org_id, provider=provider, status="connected", managed=False)
    return Integration.of(record)


def integration_connect(
    request: IntegrationConnectRequest, *, webhook_secret: str | None = None, register_webhook: bool = True
) -> Integration:
    """IntegrationConnect. Layer callers only (the local cloud's demo seeding): ``webhook_secret``
    is the token handed to the provider's webhook registration instead of a fresh one;
    ``register_webhook=False`` leaves the webhook to be set up by hand (state ``manual``)."""
    org_id = request.org_id
    found, cls = _with_client(request.provider)
    _refuse_oauth(found)
    _check_fields(found, cls, request.credentials)
    credentials = _parse(found, cls, request.credentials)
    registrar = _registrar(found, cls) if register_webhook else None
    url = _webhook_url(found.key, org_id) if registrar else None
    adapter, test_result = _check_live(found, cls, credentials, org_id)

    # Valid: from here on the integration is connected, whatever its webhook does.
    secret_value = dict(request.credentials)
    if registrar and url is not None:
        webhook, fields = _register(adapter, url, webhook_secret or secrets.token_urlsafe(32), None)
        secret_value.update(fields)
    else:
        webhook = _unregistered_state(found, org_id)
    store_secret(org_id, found.key, secret_value)
    now = records.now()
    last_error = f"webhook registration failed: {webhook.error}" if webhook.state == "failed" else None
    records.put_record(
        IntegrationRecord(
            org_id=org_id,
            provider=found.key,
            status="connected",
            auth=found.auth,
            connected_at=now,
            connected_by=request.actor,
            last_tested_at=now,
            test_result=test_result,
            last_error=last_error,
            webhook=webhook,
        )
    )
    details = {"auth": found.auth, "latency_ms": test_result.latency_ms, "webhook": webhook.state}
    audit.record(org_id, "credentials_connected", actor=request.actor, integration=found.key, details=details)
    if webhook.state == "registered":
        audit.record(
            org_id,
            "webhook_created",
            actor=request.actor,
            integration=found.key,
            details={"url": webhook.url, "provider_webhook_id": webhook.provider_webhook_id},
        )
    notify(
        "integration.connected",
        {
            "org_id": org_id,
            "provider": found.key,
            "actor": request.actor,
            "auth": found.auth,
            "webhook": webhook.state,
            "connected_at": now.isoformat(),
        },
    )
    logger.info("integration_connected", extra={"org_id": org_id, "provider": found.key, "webhook": webhook.state})
    return _view(org_id, found.key)


def integration_test(request: IntegrationTestRequest) -> Integration:
    """IntegrationTest: the health check now, through the org's stored credentials."""
    org_id = request.org_id
    found, cls = _with_client(request.provider)
    actor = request.actor or audit.service_actor()
    started = time.perf_counter()
    try:
        adapter = cls.for_org(org_id)
    except AuthenticationError as exc:
        if exc.code == "credentials_missing":
            raise InvalidRequestError(
                f"provider: {found.key} is not connected for org {org_id!r} (IntegrationConnect first)",
                provider=found.key,
                code="not_connected",
            ) from None
        raise
    error: HubError | None = None
    try:
        adapter.health_check()
    except HubError as exc:  # the answer is the test result, whatever it is
        error = exc
    latency = round((time.perf_counter() - started) * 1000)
    now = records.now()
    creating = {"auth": found.auth}
    if error is None:
        result = TestResult(ok=True, latency_ms=latency)
        records.transition(org_id, found.key, "connected", allowed_from=frozenset({"absent", "error"}), **creating)
        records.update_record(org_id, found.key, last_tested_at=now, test_result=result, last_error=None)
    else:
        result = TestResult(ok=False, latency_ms=latency, error=error.message[:500])
        # A 401/403 already went through the disable strategy (the adapter's guarded path); a
        # failure that may pass (down, rate limited, a bad answer) marks the integration ``error``.
        if not isinstance(error, AuthenticationError):
            records.transition(
                org_id,
                found.key,
                "error",
                reason=error.message[:500],
                allowed_from=frozenset({"absent", "connected"}),
                **creating,
            )
        records.update_record(org_id, found.key, last_tested_at=now, test_result=result, last_error=result.error)
    audit.record(
        org_id,
        "integration_tested",
        actor=actor,
        integration=found.key,
        details=result.model_dump(mode="json", exclude_none=True),
    )
    return _view(org_id, found.key)


def integration_disable(request: IntegrationDisableRequest) -> IntegrationChange:
    """IntegrationDisable: calls for the org's integration are refused until it is enabled."""
    found = _descriptor(request.provider)
    changed = disable_integration(request.org_id, found.key, request.reason, actor=request.actor)
    return IntegrationChange(**_view(request.org_id, found.key).model_dump(), changed=changed)


def integration_enable(request: IntegrationEnableRequest) -> IntegrationChange:
    """IntegrationEnable: back to connected; an integration waiting for the org to authorise
    again (``needs_reauth``) is reconnected instead, never enabled."""
    found = _descriptor(request.provider)
    record = records.get_record(request.org_id, found.key)
    if record is not None and record.status == "needs_reauth":
        route = f"GET /oauth/{found.key}/start" if found.auth == "oauth2" else "IntegrationConnect"
        raise InvalidRequestError(
            f"provider: {found.key} needs the org to authorise again ({record.reason or 'grant revoked'}); "
            f"reconnect it ({route}) instead of enabling it",
            provider=found.key,
            code="needs_reauth",
        )
    changed = enable_integration(request.org_id, found.key, actor=request.actor)
    return IntegrationChange(**_view(request.org_id, found.key).model_dump(), changed=changed)


def integration_rotate(request: IntegrationRotateRequest) -> IntegrationRotation:
    """IntegrationRotate: new credentials (given, or issued through the provider's API) stored as
    a new secret version after a live check; the webhook secret renewed, the previous one valid
    for ``WEBHOOK_SECRET_GRACE_SECONDS``."""
    org_id = request.org_id
    found, cls = _with_client(request.provider)
    _refuse_oauth(found)
    if request.credentials is not None:
        _check_fields(found, cls, request.credentials)
    elif not _implements(found, cls, provider_ports.CredentialRotator):
        raise InvalidRequestError(
            f"provider: {found.key}'s API cannot issue credentials; send the new ones in `credentials`",
            provider=found.key,
            code="rotation_unsupported",
        )
    registrar = _registrar(found, cls)
    url = _webhook_url(found.key, org_id) if registrar else None
    old = _current_secret(org_id, found.key)
    record = records.get_record(org_id, found.key)
    revoke_error: str | None = None

    method: Literal["credentials", "provider_api"]
    if request.credentials is not None:
        method = "credentials"
        value = {**old, **request.credentials}
        adapter, test_result = _check_live(found, cls, _parse(found, cls, value), org_id)
    else:
        method = "provider_api"
        current = cls(cls.parse_credentials(old), org_id=org_id)
        rotator: provider_ports.CredentialRotator = current  # type: ignore[assignment]
        value = {**old, **rotator.issue_credentials()}
        store_secret(org_id, found.key, value)  # issued: stored before anything else can fail
        try:
            adapter, test_result = _check_live(found, cls, _parse(found, cls, value), org_id)
        except HubError:
            store_secret(org_id, found.key, old)  # the new key does not work: keep the old one
            raise
        try:
            new_rotator: provider_ports.CredentialRotator = adapter  # type: ignore[assignment]
            new_rotator.revoke_credentials(old)
        except HubError as exc:
            revoke_error = f"the previous key was not revoked: {exc.message[:300]}"
            logger.warning("credentials_revoke_failed", extra={"org_id": org_id, "provider": found.key})

    webhook = record.webhook if record else None
    webhook_rotated = False
    until: datetime | None = None
    if registrar and url is not None:
        webhook, fields = _register(adapter, url, secrets.token_urlsafe(32), webhook, rotating=True)
        if fields:
            webhook_rotated = True
            until = records.now() + timedelta(seconds=get_settings().webhook_secret_grace_seconds)
            for name, fresh in fields.items():
                if old.get(name):
                    value[f"previous_{name}"] = old[name]
                value[name] = fresh
            value["previous_valid_until"] = until.isoformat()
    store_secret(org_id, found.key, value)

    now = records.now()
    errors = [revoke_error] if revoke_error else []
    if webhook is not None and webhook.state == "failed":
        errors.append(f"webhook registration failed: {webhook.error}")
    records.transition(org_id, found.key, "connected", allowed_from=frozenset({"absent", "error"}), auth=found.auth)
    records.update_record(
        org_id,
        found.key,
        last_tested_at=now,
        test_result=test_result,
        last_error="; ".join(errors) or None,
        webhook=webhook,
    )
    audit.record(
        org_id,
        "credentials_rotated",
        actor=request.actor,
        integration=found.key,
        details={"method": method, "webhook_rotated": webhook_rotated, "old_key_revoked": revoke_error is None},
    )
    if webhook_rotated and webhook is not None:
        audit.record(
            org_id,
            "webhook_modified",
            actor=request.actor,
            integration=found.key,
            details={
                "provider_webhook_id": webhook.provider_webhook_id,
                "previous_valid_until": until.isoformat() if until else None,
            },
        )
    return IntegrationRotation(
        **_view(org_id, found.key).model_dump(),
        rotated=method,
        webhook_rotated=webhook_rotated,
        previous_valid_until=until,
    )


def list_integrations(org_id: str) -> list[Integration]:
    """Every integration of the org: its records, and the providers whose secret was created by
    hand before integrations had records (``managed: false``)."""
    found = {r.provider: Integration.of(r) for r in records.list_records(org_id)}
    for name in configured_providers(org_id):
        provider = descriptor(name)
        if provider is not None and provider.key not in found:
            found[provider.key] = Integration(org_id=org_id, provider=provider.key, status="connected", managed=False)
    return [found[k] for k in sorted(found)]


def org_integrations(org_id: str) -> list[IntegrationSummary]:
    """The org's integrations as the org registry lists them (OrgGet): provider and status."""
    return [
        IntegrationSummary(provider=i.provider, status=i.status, managed=i.managed) for i in list_integrations(org_id)
    ]


def integration_list(request: IntegrationListRequest) -> IntegrationPage:
    """IntegrationList."""
    return IntegrationPage(org_id=request.org_id, integrations=list_integrations(request.org_id))


def integration_get(request: IntegrationGetRequest) -> Integration:
    """IntegrationGet: one integration, or InvalidRequestError ``not_connected``."""
    found = _descriptor(request.provider)
    record = records.get_record(request.org_id, found.key)
    if record is not None:
        return Integration.of(record)
    for integration in list_integrations(request.org_id):
        if integration.provider == found.key:
            return integration
    raise InvalidRequestError(
        f"provider: {found.key} is not connected for org {request.org_id!r}", provider=found.key, code="not_connected"
    )
