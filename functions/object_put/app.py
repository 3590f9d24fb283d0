"""ObjectPut — store one object (≤ 4.5 MiB) with the write fallback primary → secondary → deferred
(docs/storage.md "Write fallback").

Invoked directly. Payload: {"org_id", "bucket", "key": "{org_id}/...", "content_base64",
"content_type", "idempotency_key"}
Result: {"receipt_id", "status": "written" | "deferred", "backend"?: "primary" | "secondary",
"bucket", "key", "size", "sha256"}. The same idempotency_key again answers the receipt's current
state (the caller's poll); with other content: IdempotencyConflictError.
Errors: InvalidRequestError (naming the field), IdempotencyConflictError, ProviderUnavailableError
(the storage table itself unavailable: nothing was accepted).
"""

from typing import Any

from hub import orgs
from hub.invocation import parse_request
from hub.observability import lambda_handler
from hub.storage.objects import ObjectPutRequest, put_object


@lambda_handler
def handler(event: Any, context: Any) -> dict[str, Any]:
    # The receipt is the idempotency record (its state changes from deferred to written), so this
    # handler does not cache its first answer as operation_handler would.
    orgs.require_org(event.get("org_id") if isinstance(event, dict) else None)
    return put_object(parse_request(ObjectPutRequest, event)).model_dump(mode="json", exclude_none=True)
