"""IntegrationGet — one integration of an org, never a secret (docs/integrations.md).

Payload: {"org_id", "provider"}
Result:  the integration; InvalidRequestError(not_connected) when the org has none.
"""

from hub.integrations.models import IntegrationGetRequest
from hub.integrations.operations import integration_get
from hub.invocation import operation_handler

handler = operation_handler("integration.get", IntegrationGetRequest, integration_get)
