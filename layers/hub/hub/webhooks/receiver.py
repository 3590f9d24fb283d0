"""The API Gateway side of a webhook receiver, used by every receiver function."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types

from hub.webhooks.ingress import receive_webhook
from hub.webhooks.models import RawWebhook, WebhookSpec
from hub.webhooks.publish import register_lambda_context


def webhook_response(spec: WebhookSpec, event: dict[str, Any], org_id: str, context: Any = None) -> Response[str]:
    """Run the ingress pipeline on an API Gateway proxy event and build the HTTP answer."""
    if context is not None:
        register_lambda_context(context, spec.dedupe_ttl_seconds)
    request = RawWebhook.from_api_gateway(event, provider=spec.provider, org_id=org_id, received_at=datetime.now(UTC))
    result = receive_webhook(spec, request)
    return Response(
        status_code=result.status_code,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(result.body),
    )
