"""The API Gateway side of every webhook receiver: one builder, so each receiver function
is three lines and they cannot drift apart."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types

from hub.credentials import get_provider_secret, validate_org_id
from hub.errors import HubError, WebhookAuthenticationError
from hub.observability import lambda_handler
from hub.orgs import require_org
from hub.webhooks.ingress import receive_webhook
from hub.webhooks.models import RawWebhook, WebhookSpec


def _json(status: int, body: Mapping[str, Any]) -> Response[str]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body))


def webhook_response(
    spec: WebhookSpec,
    event: Mapping[str, Any],
    org_id: str,
    context: Any = None,
    route_params: Mapping[str, str] | None = None,
) -> Response[str]:
    """Run the ingress pipeline on an API Gateway proxy event and build the HTTP answer."""
    request = RawWebhook.from_api_gateway(
        event,
        provider=spec.provider,
        org_id=org_id,
        received_at=datetime.now(UTC),
        route_params=route_params,
    )
    result = receive_webhook(spec, request)
    if result.status_code == 200 and spec.success_body is not None:
        return Response(status_code=200, content_type=spec.success_content_type, body=spec.success_body)
    return _json(result.status_code, result.body)


def challenge_response(spec: WebhookSpec, query: Mapping[str, str], org_id: str) -> Response[str]:
    """GET subscription check (Meta): echo the challenge as text/plain, 403 otherwise."""
    assert spec.challenge is not None
    try:
        validate_org_id(org_id)
        require_org(org_id)
        secret = get_provider_secret(org_id, spec.secret_provider or spec.provider)
        answer = spec.challenge(query, secret)
    except WebhookAuthenticationError as exc:
        return _json(403, {"error": "forbidden", "message": exc.message})
    except HubError:
        return _json(404, {"error": "not_found", "message": f"no {spec.provider} integration for this organisation"})
    return Response(status_code=200, content_type=content_types.TEXT_PLAIN, body=answer)


def webhook_app(spec: WebhookSpec) -> APIGatewayRestResolver:
    app = APIGatewayRestResolver()

    @app.post(spec.api_path)
    def receive(org_id: str, **route_params: str) -> Response[str]:
        return webhook_response(spec, app.current_event.raw_event, org_id, app.lambda_context, route_params)

    if spec.challenge is not None:

        @app.get(spec.api_path)
        def challenge(org_id: str, **route_params: str) -> Response[str]:
            return challenge_response(spec, app.current_event.query_string_parameters or {}, org_id)

    return app


def webhook_handler(spec: WebhookSpec) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda handler of one provider's webhook receiver."""
    app = webhook_app(spec)

    @lambda_handler
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return app.resolve(event, context)

    return handler


def unknown_provider_handler() -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """Handler for /webhooks/{provider}/{org_id} when no receiver exists for the provider."""
    app = APIGatewayRestResolver()

    @app.route("/webhooks/<provider>/<org_id>", method=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def unknown(provider: str, org_id: str) -> Response[str]:
        return _json(404, {"error": "not_found", "message": f"no webhook receiver for provider {provider[:40]!r}"})

    @lambda_handler
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return app.resolve(event, context)

    return handler
