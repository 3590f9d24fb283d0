"""IntegrationRotate — new credentials (given or issued by the provider's API) and a new webhook secret
(docs/integrations.md).

Payload: {"org_id", "provider", "credentials"?, "actor", "idempotency_key"?}
Result:  the integration, "rotated" (credentials | provider_api), "webhook_rotated", "previous_valid_until"?.
"""

from hub.integrations.models import IntegrationRotateRequest
from hub.integrations.operations import integration_rotate
from hub.invocation import operation_handler

handler = operation_handler("integration.rotate", IntegrationRotateRequest, integration_rotate)
