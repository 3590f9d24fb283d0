"""Domain errors → HTTP responses, in one place, for every REST resolver of the hub."""

from __future__ import annotations

import json

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types

from hub import errortracking
from hub.errors import (
    AuthenticationError,
    ConfigurationError,
    HubError,
    IdempotencyConflictError,
    InvalidRequestError,
    OutcomeUnknownError,
    ProviderUnavailableError,
    RateLimitedError,
    RequestInProgressError,
)

_STATUS: list[tuple[type[HubError], int]] = [
    (InvalidRequestError, 400),
    (AuthenticationError, 401),
    (RateLimitedError, 429),
    (IdempotencyConflictError, 409),
    (RequestInProgressError, 409),
    (OutcomeUnknownError, 502),
    (ProviderUnavailableError, 503),
    (ConfigurationError, 503),
]


def status_for(exc: HubError) -> int:
    if isinstance(exc, InvalidRequestError) and exc.code == "unknown_org":
        return 404  # as the webhooks answer an org nobody registered
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def register_error_handlers(app: APIGatewayRestResolver) -> None:
    @app.exception_handler(HubError)
    def _handle(exc: HubError) -> Response[str]:
        errortracking.report_handled(exc)  # answered, yet reported from its level up (Sentry)
        headers: dict[str, str] = {}
        if isinstance(exc, RateLimitedError | RequestInProgressError):
            headers["Retry-After"] = str(int(exc.retry_after))
        return Response(
            status_code=status_for(exc),
            content_type=content_types.APPLICATION_JSON,
            body=json.dumps(exc.to_dict()),
            headers=headers,
        )
