"""StorageDeferredDrain — every 5 minutes: write ObjectPut's deferred objects to a backend that is
back (primary, else secondary), verified by SHA-256 (docs/storage.md "Write fallback").

Result: {"written", "still_deferred", "bytes"}
"""

from typing import Any

from hub.observability import lambda_handler
from hub.storage.objects import drain_deferred


@lambda_handler
def handler(event: Any, context: Any) -> dict[str, Any]:
    return drain_deferred().model_dump(mode="json")
