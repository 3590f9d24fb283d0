"""IntegrationList — every integration of an org, never a secret (docs/integrations.md).

Payload: {"org_id"}
Result:  {"org_id", "integrations": [...]}; secrets created by hand are listed with "managed": false.
"""

from hub.integrations.models import IntegrationListRequest
from hub.integrations.operations import integration_list
from hub.invocation import operation_handler

handler = operation_handler("integration.list", IntegrationListRequest, integration_list)
