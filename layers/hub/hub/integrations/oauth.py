"""Connecting an org to an OAuth2 provider: the authorization-code flow with PKCE (RFC 6749 §4.1,
RFC 7636) behind ``GET /oauth/{provider}/start`` and ``GET /oauth/{provider}/callback``
(docs/integrations.md, "OAuth").

* ``state`` is ``base64url(payload).base64url(HMAC-SHA256(payload))``: the payload binds the org,
  the provider, the actor and a nonce, and expires after :data:`STATE_TTL_SECONDS`. The key is the
  secret ``{prefix}/_apps/oauth-state``, generated on first use (no KMS call per request:
  Secrets Manager already keeps the key encrypted at rest, and the Powertools cache keeps it warm).
* The PKCE ``code_verifier`` never reaches the browser: it is kept in the resilience table under
  ``oauthflow#{nonce}`` (TTL = the state's expiry) and consumed by a conditional delete, so a
  callback is honoured exactly once; a replayed one is refused.
* The callback exchanges the code, trades Meta's short-lived token for a long-lived one right
  away, stores the tokens (:mod:`hub.integrations.tokens`), marks the integration ``connected``
  with the granted scopes and the token's expiry, audits ``credentials_connected`` (and
  ``permissions_changed`` when the scopes changed) and publishes ``integration.connected``.
  Nothing is stored when any step fails. Codes, tokens and verifiers are never logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from botocore.exceptions import ClientError

from hub import audit
from hub.aws import aws_client
from hub.config import get_settings
from hub.credentials import app_secret_id, get_app_secret
from hub.errors import AuthenticationError, ConfigurationError, HubError, InvalidRequestError
from hub.integrations import records
from hub.integrations.tokens import store_tokens
from hub.observability import logger
from hub.orgs import require_org
from hub.providers.base.auth import CONTAINER_TOKENS
from hub.providers.base.client import shared_http_client
from hub.providers.base.oauth import ResolvedOAuth, TokenEndpoint, TokenSet, resolve

STATE_TTL_SECONDS = 600
STATE_KEY_NAME = "oauth-state"
# Long-lived exchanges right after the callback (Meta).
LONG_LIVED_REFRESH = frozenset({"fb_exchange_token", "ig_refresh_token"})
_ACTOR_MAX = 200
_ERROR_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


# ----- PKCE (RFC 7636) --------------------------------------------------------------------------


def new_code_verifier() -> str:
    """43-128 characters of the unreserved set (RFC 7636 §4.1): 64 random bytes, base64url."""
    return secrets.token_urlsafe(64)


def code_challenge(verifier: str) -> str:
    """``BASE64URL(SHA256(ASCII(code_verifier)))`` without padding (RFC 7636 §4.2, S256)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


# ----- the signed state ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FlowState:
    org_id: str
    provider: str
    actor: str
    nonce: str
    expires_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_state(state: FlowState, key: bytes) -> str:
    payload = json.dumps(
        {"o": state.org_id, "p": state.provider, "a": state.actor, "n": state.nonce, "x": state.expires_at},
        separators=(",", ":"),
    ).encode()
    mac = hmac.new(key, payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(mac)}"


def verify_state(token: str, key: bytes, *, provider: str, now: float | None = None) -> FlowState:
    """The state's contents when its signature holds, it has not expired and it was issued for
    ``provider``; else InvalidRequestError (``invalid_state`` / ``state_expired``)."""
    invalid = InvalidRequestError("state is invalid: start the connection again", code="invalid_state")
    try:
        payload_part, mac_part = token.split(".")
        payload, mac = _unb64(payload_part), _unb64(mac_part)
    except (ValueError, AttributeError):
        raise invalid from None
    if not hmac.compare_digest(mac, hmac.new(key, payload, hashlib.sha256).digest()):
        raise invalid
    try:
        data = json.loads(payload)
        state = FlowState(str(data["o"]), str(data["p"]), str(data["a"]), str(data["n"]), int(data["x"]))
    except (ValueError, KeyError, TypeError):
        raise invalid from None
    if (time.time() if now is None else now) > state.expires_at:
        raise InvalidRequestError("state expired: start the connection again", code="state_expired")
    if state.provider != provider:
        raise InvalidRequestError(f"state was issued for another provider than {provider!r}", code="invalid_state")
    return state


def state_key() -> bytes:
    """The HMAC key (secret ``_apps/oauth-state`` = ``{"key": base64}``), created on first use."""
    try:
        raw = get_app_secret(STATE_KEY_NAME)
    except AuthenticationError:
        raw = _create_state_key()
    key = raw.get("key")
    if not isinstance(key, str) or len(key) < 32:
        raise ConfigurationError(f"secret _apps/{STATE_KEY_NAME} has no usable 'key'", code="oauth_state_key")
    return base64.b64decode(key)


def _create_state_key() -> dict[str, Any]:
    value = {"key": base64.b64encode(secrets.token_bytes(32)).decode("ascii")}
    try:
        aws_client("secretsmanager").create_secret(
            Name=app_secret_id(STATE_KEY_NAME),
            SecretString=json.dumps(value),
            Description="HMAC key signing the OAuth state (hub.integrations.oauth)",
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceExistsException":
            raise
        return get_app_secret(STATE_KEY_NAME, fresh=True)  # another instance created it first
    return value


# ----- the server-side half of a flow (PKCE verifier, single use) --------------------------------


def _flow_key(nonce: str) -> dict[str, Any]:
    return {"pk": {"S": f"oauthflow#{nonce}"}}


def _save_flow(state: FlowState, verifier: str | None) -> None:
    item: dict[str, Any] = {
        **_flow_key(state.nonce),
        "org_id": {"S": state.org_id},
        "provider": {"S": state.provider},
        "expires_at": {"N": str(state.expires_at)},
    }
    if verifier:
        item["code_verifier"] = {"S": verifier}
    aws_client("dynamodb").put_item(
        TableName=get_settings().require("resilience_table"),
        Item=item,
        ConditionExpression="attribute_not_exists(pk)",
    )


def consume_flow(nonce: str) -> dict[str, Any] | None:
    """The flow's item, deleted in the same call (exactly one caller gets it); None when it was
    used already or never existed."""
    try:
        answer = aws_client("dynamodb").delete_item(
            TableName=get_settings().require("resilience_table"),
            Key=_flow_key(nonce),
            ConditionExpression="attribute_exists(pk)",
            ReturnValues="ALL_OLD",
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return None
        raise
    item = answer.get("Attributes") or {}
    return {k: next(iter(v.values())) for k, v in item.items()}


# ----- start ---------------------------------------------------------------------------------


def redirect_uri(provider: str) -> str:
    return f"{get_settings().require('public_api_url').rstrip('/')}/oauth/{provider}/callback"


def _resolve_for_start(provider: str) -> ResolvedOAuth:
    try:
        return resolve(provider)
    except ConfigurationError as exc:  # the app secret: a 4xx naming what is missing
        raise InvalidRequestError(exc.message, provider=provider, code=exc.code or "oauth_app_missing") from None


def start(org_id: Any, provider: str, actor: Any, *, now: float | None = None) -> str:
    """The provider's authorization URL for this org (the caller answers 302 to it). Everything
    is validated before anything is written."""
    if not isinstance(actor, str) or not actor.strip() or len(actor) > _ACTOR_MAX:
        raise InvalidRequestError(f"actor must be 1-{_ACTOR_MAX} characters: who connects", code="invalid_actor")
    org = require_org(org_id)
    oauth = _resolve_for_start(provider)
    callback = redirect_uri(oauth.provider)
    key = state_key()
    issued = time.time() if now is None else now
    state = FlowState(org, oauth.provider, actor.strip(), secrets.token_urlsafe(24), int(issued) + STATE_TTL_SECONDS)
    spec = oauth.oauth_spec
    verifier = new_code_verifier() if spec.pkce else None
    _save_flow(state, verifier)
    params: dict[str, str] = {
        "client_id": oauth.app.client_id,
        "redirect_uri": callback,
        "response_type": "code",
        "scope": spec.scope_separator.join(oauth.scopes),
        "state": sign_state(state, key),
        **dict(spec.authorize_params),
    }
    if verifier:
        params.update({"code_challenge": code_challenge(verifier), "code_challenge_method": "S256"})
    logger.info("oauth_started", extra={"org_id": org, "provider": oauth.provider})
    separator = "&" if "?" in oauth.authorize_url else "?"
    return f"{oauth.authorize_url}{separator}{urlencode(params)}"


# ----- callback ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallbackPage:
    status: int
    title: str
    message: str

    def html(self) -> str:
        title, message = html.escape(self.title), html.escape(self.message)
        return (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{title}</title></head><body><h1>{title}</h1><p>{message}</p></body></html>"
        )


def _refused(message: str, status: int = 400) -> CallbackPage:
    return CallbackPage(status, "Connection failed", message)


def callback(provider: str, query: dict[str, str], *, source: audit.AuditSource | None = None) -> CallbackPage:
    """Finish a flow: the page the browser shows. Every refusal names why and stores nothing."""
    state_token = query.get("state") or ""
    error = query.get("error")
    if error is not None:
        # The user (or the provider) refused: use up the flow so it cannot be completed later.
        if state_token:
            try:
                state = verify_state(state_token, state_key(), provider=provider)
                consume_flow(state.nonce)
            except InvalidRequestError:
                pass
        code = error if _ERROR_CODE.fullmatch(error) else "error"
        logger.info("oauth_refused_by_provider", extra={"provider": provider, "error": code})
        return _refused(f"{provider} answered {code}: the connection was not made. Start again to retry.")
    code_value = query.get("code")
    if not code_value or not state_token:
        return _refused("the callback needs code and state: start the connection again.")
    try:
        state = verify_state(state_token, state_key(), provider=provider)
    except InvalidRequestError as exc:
        return _refused(exc.message)
    flow = consume_flow(state.nonce)
    if flow is None or flow.get("org_id") != state.org_id or flow.get("provider") != provider:
        return _refused("this connection link was already used or is unknown: start the connection again.")
    try:
        require_org(state.org_id)
        oauth = resolve(provider)
        tokens = _obtain_tokens(oauth, code_value, flow.get("code_verifier"))
        _connect(state, oauth, tokens, source)
    except InvalidRequestError as exc:
        return _refused(f"{provider} refused the connection ({exc.code or 'invalid_request'}). Start again.")
    except HubError as exc:
        logger.warning("oauth_callback_failed", extra={"provider": provider, "error": type(exc).__name__})
        return _refused(f"{provider} could not be reached to finish the connection. Start again shortly.", 502)
    return CallbackPage(200, "Connected", f"{provider} is connected. You can close this tab.")


def _obtain_tokens(oauth: ResolvedOAuth, code: str, verifier: str | None) -> TokenSet:
    settings = get_settings()
    timeout = httpx.Timeout(settings.http_read_timeout, connect=settings.http_connect_timeout)
    endpoint = TokenEndpoint(oauth, shared_http_client(), timeout)
    tokens = endpoint.exchange_code(code, redirect_uri=redirect_uri(oauth.provider), code_verifier=verifier)
    if oauth.refresh in LONG_LIVED_REFRESH and oauth.long_lived_url:
        tokens = endpoint.long_lived(tokens)  # right after the callback: the short one lives ~1 h
    return tokens


def _connect(state: FlowState, oauth: ResolvedOAuth, tokens: TokenSet, source: audit.AuditSource | None) -> None:
    org_id, provider = state.org_id, state.provider
    previous = records.get_record(org_id, provider) if get_settings().integrations_table else None
    extra = {"graph_version": oauth.graph_version} if oauth.graph_version else {}
    store_tokens(org_id, provider, tokens, extra=extra)
    CONTAINER_TOKENS.clear(provider)
    now = records.now()
    if get_settings().integrations_table:
        records.update_record(
            org_id,
            provider,
            status="connected",
            reason=None,
            last_error=None,
            auth="oauth2",
            connected_at=now,
            connected_by=state.actor,
            token_expires_at=tokens.expires_at,
            token_refreshed_at=now,
            scopes=tokens.scopes,
        )
    expires = tokens.expires_at.isoformat() if tokens.expires_at else None
    details = {"via": "oauth", "scopes": tokens.scopes, "expires_at": expires}
    audit.record(
        org_id, "credentials_connected", actor=state.actor, integration=provider, details=details, source=source
    )
    if previous is not None and sorted(previous.scopes) != sorted(tokens.scopes):
        audit.record(
            org_id,
            "permissions_changed",
            actor=state.actor,
            integration=provider,
            details={"before": sorted(previous.scopes), "after": sorted(tokens.scopes)},
            source=source,
        )
    if get_settings().event_bus_name:
        from hub.bus import put_event

        put_event(
            "integration.connected",
            {
                "org_id": org_id,
                "provider": provider,
                "actor": state.actor,
                "auth": "oauth2",
                "scopes": tokens.scopes,
                "token_expires_at": tokens.expires_at.isoformat() if tokens.expires_at else None,
                "at": now.isoformat(),
            },
        )
    logger.info("oauth_connected", extra={"org_id": org_id, "provider": provider, "scopes": len(tokens.scopes)})
