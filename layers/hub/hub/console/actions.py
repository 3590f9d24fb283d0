"""Integration actions from the console, each the existing operation with the operator as actor
(the operations audit themselves; reconnect, which only starts the OAuth flow, is audited here)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hub import audit
from hub.console.auth import ConsoleNotFoundError
from hub.integrations import oauth
from hub.integrations.models import (
    IntegrationDisableRequest,
    IntegrationEnableRequest,
    IntegrationRotateRequest,
    IntegrationTestRequest,
)
from hub.integrations.operations import (
    integration_disable,
    integration_enable,
    integration_rotate,
    integration_test,
)
from hub.invocation import parse_request
from hub.orgs import require_org

ACTIONS = ("test", "disable", "enable", "reconnect", "rotate")


def integration_action(
    org_id: str, provider: str, action: str, body: Mapping[str, Any], *, operator: str
) -> dict[str, Any]:
    if action not in ACTIONS:
        raise ConsoleNotFoundError(f"action: must be one of {', '.join(ACTIONS)}", code="not_found")
    org = require_org(org_id)
    base = {"org_id": org, "provider": provider, "actor": operator}
    if action == "reconnect":
        url = oauth.start(org, provider, operator)
        audit.record(org, "integration_reconnect_started", actor=operator, integration=provider)
        return {"authorize_url": url}
    result: Any
    if action == "test":
        result = integration_test(parse_request(IntegrationTestRequest, base))
    elif action == "disable":
        result = integration_disable(parse_request(IntegrationDisableRequest, {**base, "reason": body.get("reason")}))
    elif action == "enable":
        result = integration_enable(parse_request(IntegrationEnableRequest, base))
    else:
        result = integration_rotate(parse_request(IntegrationRotateRequest, base))
    answer: dict[str, Any] = result.model_dump(mode="json")
    return answer
