"""An org's OAuth tokens in Secrets Manager: ``{prefix}/{org}/{provider}`` =
``{"access_token", "refresh_token"?, "expires_at"?, "scopes", "token_type"?, "user_id"?}``
(docs/integrations.md, "OAuth").

:class:`SecretsTokenStore` is the :class:`~hub.providers.base.auth.TokenStore` every OAuth
adapter refreshes through: it reads the secret past the container's cache (another instance may
just have rotated a single-use refresh token), saves each refreshed token as a new secret version,
never replaces a refresh token with an empty one, and keeps the integration record's
``token_expires_at``/``token_refreshed_at`` in step. :func:`store_tokens` writes what the OAuth
callback obtained.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from hub.aws import aws_client
from hub.config import get_settings
from hub.credentials import secret_id
from hub.errors import AuthenticationError, ProviderUnavailableError
from hub.integrations.lifecycle import token_refreshed
from hub.providers.base.auth import TOKEN_REFRESH_MARGIN, Token
from hub.providers.base.oauth import TokenSet


def _epoch(value: Any) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def read_tokens(org_id: str, provider: str) -> dict[str, Any] | None:
    """The org's token secret as stored now (past the container's cache); None when absent."""
    try:
        return get_provider_secret_fresh(org_id, provider)
    except AuthenticationError:
        return None


def get_provider_secret_fresh(org_id: str, provider: str) -> dict[str, Any]:
    name = secret_id(org_id, provider)
    try:
        raw = aws_client("secretsmanager").get_secret_value(SecretId=name)["SecretString"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            raise AuthenticationError(
                f"no {provider} credentials configured for org {org_id!r}",
                provider=provider,
                code="credentials_missing",
            ) from None
        raise ProviderUnavailableError(
            f"could not read secret {name}: Secrets Manager unavailable", provider="secretsmanager"
        ) from exc
    value = json.loads(raw)
    return value if isinstance(value, dict) else {}


def write_secret(org_id: str, provider: str, value: dict[str, Any]) -> None:
    """A new version of the org's secret (created on first connection). The customer-managed KMS
    key (``SECRETS_KMS_KEY_ID``) is used when the deployment declares one; otherwise Secrets
    Manager's default key."""
    name = secret_id(org_id, provider)
    client = aws_client("secretsmanager")
    body = json.dumps(value, ensure_ascii=False)
    try:
        client.put_secret_value(SecretId=name, SecretString=body)
        return
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
    kwargs: dict[str, Any] = {"Name": name, "SecretString": body}
    kms_key = getattr(get_settings(), "secrets_kms_key_id", None)
    if kms_key:
        kwargs["KmsKeyId"] = kms_key
    try:
        client.create_secret(**kwargs)
    except ClientError as exc:  # created meanwhile by a concurrent callback: a new version then
        if exc.response.get("Error", {}).get("Code") != "ResourceExistsException":
            raise
        client.put_secret_value(SecretId=name, SecretString=body)


def store_tokens(
    org_id: str, provider: str, tokens: TokenSet, *, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Write what the OAuth callback obtained over the org's secret; a refresh token the new
    answer lacks is kept from the previous connection (never overwritten with nothing). Returns
    the previous secret's ``scopes`` under ``previous_scopes`` for the caller's audit (None when
    there was no secret)."""
    previous = read_tokens(org_id, provider)
    value = {**(extra or {}), **tokens.secret_fields()}
    if "refresh_token" not in value and previous and previous.get("refresh_token"):
        value["refresh_token"] = previous["refresh_token"]
    write_secret(org_id, provider, value)
    return {"previous_scopes": previous.get("scopes") if previous else None}


class SecretsTokenStore:
    """:class:`~hub.providers.base.auth.TokenStore` on the org's token secret; each save of a
    refreshed token is also noted on the integration record."""

    notes_refreshes: ClassVar[bool] = True

    def __init__(self, margin: float = TOKEN_REFRESH_MARGIN) -> None:
        self.margin = margin

    def load(self, org_id: str, provider: str) -> Token | None:
        stored = read_tokens(org_id, provider)
        if not stored or not isinstance(stored.get("access_token"), str):
            return None
        expires = _epoch(stored.get("expires_at"))
        refresh_token = stored.get("refresh_token") or None
        if expires is None:  # no expiry known: used until the provider refuses it
            return Token(stored["access_token"], float("inf"), float("inf"), refresh_token)
        return Token(stored["access_token"], expires - self.margin, expires, refresh_token)

    def save(self, org_id: str, provider: str, token: Token) -> None:
        stored = read_tokens(org_id, provider) or {}
        value = dict(stored)
        value["access_token"] = token.access_token
        if token.refresh_token:  # an answer without one keeps the current one
            value["refresh_token"] = token.refresh_token
        # An invalidated token (refresh_at 0: the provider refused it) is stored as expired, so
        # the next reader refreshes instead of reading it back.
        expires = token.expires_at if token.refresh_at > 0 else token.refresh_at
        if expires != float("inf"):
            value["expires_at"] = _iso(expires)
        write_secret(org_id, provider, value)
        # The refresh noted on the record, when there is one (one conditional write; a hand-made
        # secret has no record: its first management action makes it).
        if token.refresh_at > 0 and expires != float("inf"):
            token_refreshed(org_id, provider, token)
