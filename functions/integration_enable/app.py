"""IntegrationEnable — back to connected after a disable (docs/integrations.md).

Payload: {"org_id", "provider", "actor"}
Result:  the integration and "changed"; needs_reauth is refused (InvalidRequestError needs_reauth: reconnect instead).
"""

from hub.integrations.models import IntegrationEnableRequest
from hub.integrations.operations import integration_enable
from hub.invocation import operation_handler

handler = operation_handler("integration.enable", IntegrationEnableRequest, integration_enable)
