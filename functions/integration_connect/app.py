"""IntegrationConnect — connect an org's provider with credentials checked live (docs/integrations.md).

Payload: {"org_id", "provider", "credentials": {...}, "actor", "idempotency_key"?}
Result:  the integration (status, test_result, webhook state…), never a secret; bad credentials are
         InvalidRequestError(invalid_credentials) and nothing is stored.
"""

from hub.integrations.models import IntegrationConnectRequest
from hub.integrations.operations import integration_connect
from hub.invocation import operation_handler

handler = operation_handler("integration.connect", IntegrationConnectRequest, integration_connect)
