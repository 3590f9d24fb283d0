"""IntegrationTest — run the integration's health check now and record the result (docs/integrations.md).

Payload: {"org_id", "provider", "actor"?}
Result:  the integration with last_tested_at and test_result {ok, latency_ms, error?}.
"""

from hub.integrations.models import IntegrationTestRequest
from hub.integrations.operations import integration_test
from hub.invocation import operation_handler

handler = operation_handler("integration.test", IntegrationTestRequest, integration_test)
