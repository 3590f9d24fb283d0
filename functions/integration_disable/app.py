"""IntegrationDisable — refuse every call for the org's integration until it is enabled (docs/integrations.md).

Payload: {"org_id", "provider", "reason", "actor"}
Result:  the integration and "changed" (false: it was already disabled).
"""

from hub.integrations.models import IntegrationDisableRequest
from hub.integrations.operations import integration_disable
from hub.invocation import operation_handler

handler = operation_handler("integration.disable", IntegrationDisableRequest, integration_disable)
