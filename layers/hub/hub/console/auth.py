"""Who is calling the console.

AWS: API Gateway's Cognito authorizer checked the ID token; the operator is its ``email`` claim
(``requestContext.authorizer.claims``). Local (``make dev``, ``CONSOLE_LOCAL_LOGIN=1`` set only by
localcloud): a one-time login token printed in the banner is exchanged once for a session bearer.
Tokens and sessions are stored as SHA-256 digests in ConsoleTable (TTL ``expires_at``), never as
themselves.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any

from pydantic import BaseModel

from hub.aws import aws_client
from hub.config import get_settings
from hub.errors import AuthenticationError, ConfigurationError, InvalidRequestError

LOGIN_TOKEN_SECONDS = 3600
SESSION_SECONDS = 12 * 3600
DEFAULT_OPERATOR = "local-operator"
MAX_OPERATOR = 120


class ConsoleNotFoundError(InvalidRequestError):
    """Something the console was asked about does not exist (answered 404)."""


class Session(BaseModel):
    session: str
    operator: str
    expires_at: datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _table() -> str:
    return get_settings().require("console_table")


def create_login_token(*, now: float | None = None) -> str:
    """A new one-time login token (local only), valid LOGIN_TOKEN_SECONDS; only its digest is stored."""
    token = secrets.token_urlsafe(32)
    expires = int(now if now is not None else time.time()) + LOGIN_TOKEN_SECONDS
    aws_client("dynamodb").put_item(
        TableName=_table(),
        Item={"pk": {"S": f"login#{_digest(token)}"}, "sk": {"S": "login"}, "expires_at": {"N": str(expires)}},
    )
    return token


def check_operator(value: Any) -> str:
    if value is None:
        return DEFAULT_OPERATOR
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= MAX_OPERATOR:
        raise InvalidRequestError(f"operator must be 1-{MAX_OPERATOR} characters", code="invalid_operator")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise InvalidRequestError("operator must not contain control characters", code="invalid_operator")
    return value.strip()


def open_session(body: Mapping[str, Any], *, now: float | None = None) -> Session:
    """POST /console/api/session: consume the one-time token (once: a conditional delete) and
    open a SESSION_SECONDS session. Answers 404 unless local login is on."""
    if not get_settings().console_local_login:
        raise ConsoleNotFoundError("sessions are opened through Cognito here", code="not_found")
    token = body.get("token")
    if not isinstance(token, str) or not 1 <= len(token) <= 200:
        raise InvalidRequestError(
            "token: the one-time login token printed by make dev is required", code="invalid_request"
        )
    operator = check_operator(body.get("operator"))
    at = int(now if now is not None else time.time())
    ddb = aws_client("dynamodb")
    try:
        ddb.delete_item(
            TableName=_table(),
            Key={"pk": {"S": f"login#{_digest(token)}"}, "sk": {"S": "login"}},
            ConditionExpression="attribute_exists(pk) AND expires_at > :now",
            ExpressionAttributeValues={":now": {"N": str(at)}},
        )
    except ddb.exceptions.ConditionalCheckFailedException:
        raise AuthenticationError("the login token is wrong, expired or already used", code="invalid_token") from None
    bearer = secrets.token_urlsafe(32)
    expires = at + SESSION_SECONDS
    ddb.put_item(
        TableName=_table(),
        Item={
            "pk": {"S": f"session#{_digest(bearer)}"},
            "sk": {"S": "session"},
            "operator": {"S": operator},
            "expires_at": {"N": str(expires)},
        },
    )
    return Session(session=bearer, operator=operator, expires_at=datetime.fromtimestamp(expires, tz=UTC))


def _bearer(headers: Mapping[str, Any] | None) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == "authorization" and isinstance(value, str) and value[:7].lower() == "bearer ":
            return value[7:].strip() or None
    return None


def close_session(headers: Mapping[str, Any] | None) -> None:
    """DELETE /console/api/session: the bearer no longer works (Cognito: the page forgets its token)."""
    bearer = _bearer(headers)
    if bearer and get_settings().console_local_login:
        aws_client("dynamodb").delete_item(
            TableName=_table(), Key={"pk": {"S": f"session#{_digest(bearer)}"}, "sk": {"S": "session"}}
        )


def operator_of(event: Mapping[str, Any], *, now: float | None = None) -> str:
    """The operator making this request, or AuthenticationError (401)."""
    if get_settings().console_local_login:
        bearer = _bearer(event.get("headers"))
        if bearer is None:
            raise AuthenticationError("Authorization: Bearer <session> is required", code="unauthenticated")
        item = (
            aws_client("dynamodb")
            .get_item(TableName=_table(), Key={"pk": {"S": f"session#{_digest(bearer)}"}, "sk": {"S": "session"}})
            .get("Item")
        )
        at = int(now if now is not None else time.time())
        if not item or int(item["expires_at"]["N"]) <= at:
            raise AuthenticationError("the session is unknown or expired: log in again", code="unauthenticated")
        return str(item["operator"]["S"])
    context = event.get("requestContext") or {}
    claims = (context.get("authorizer") or {}).get("claims") or {}
    email = claims.get("email") if isinstance(claims, Mapping) else None
    if not isinstance(email, str) or not email:
        raise AuthenticationError("no operator identity (Cognito ID token with an email claim)", code="unauthenticated")
    return email[:MAX_OPERATOR]


def cognito_domain() -> str | None:
    """The hosted UI's host name (``<prefix>.auth.<region>.amazoncognito.com``) in Cognito mode,
    else None. CONSOLE_COGNITO_DOMAIN may carry the scheme (template.yaml gives the full URL);
    the page builds ``https://<domain>/oauth2/...`` itself, so only the host is answered."""
    settings = get_settings()
    value = settings.console_cognito_domain
    if settings.console_local_login or not value:
        return None
    host = value.strip().removeprefix("https://").removeprefix("http://").split("/", 1)[0]
    return host or None


@cache
def _app_client_id(user_pool_id: str) -> str:
    """The console's app client: the pool's only one (template.yaml ConsoleUserPoolClient)."""
    clients = aws_client("cognito-idp").list_user_pool_clients(UserPoolId=user_pool_id, MaxResults=2)
    found = [c["ClientId"] for c in clients.get("UserPoolClients", [])]
    if len(found) != 1:
        raise ConfigurationError(f"the console's user pool must have exactly one app client, it has {len(found)}")
    return found[0]


def redirect_uri(event: Mapping[str, Any]) -> str:
    """Where the hosted UI sends the operator back: the console on PUBLIC_API_URL when the stack
    has one (the app client's callback URL is that too), else this API's execute-api URL."""
    public = get_settings().public_api_url
    if public:
        return f"{public.rstrip('/')}/console"
    context = event.get("requestContext") or {}
    domain, stage = context.get("domainName"), context.get("stage")
    if not isinstance(domain, str) or not isinstance(stage, str) or not domain or not stage:
        raise ConfigurationError("the request names no API domain and stage to send the operator back to")
    return f"https://{domain}/{stage}/console"


def config(event: Mapping[str, Any]) -> dict[str, Any]:
    """GET /console/api/config: how the page signs in."""
    settings = get_settings()
    if settings.console_local_login:
        return {"auth": "local", "cognito": None}
    pool = settings.require("console_user_pool_id")
    return {
        "auth": "cognito",
        "cognito": {"domain": cognito_domain(), "client_id": _app_client_id(pool), "redirect_uri": redirect_uri(event)},
    }
