"""StorageBackupRun — weekly (critical media) and daily (table exports) on EventBridge schedules,
and on demand: copies new and changed objects of the chosen buckets to the backup backend,
each copy verified (size + SHA-256 read back), incremental and resumable through the backup
manifest; exports the chosen tables as DynamoDB-JSON lines (hub.backups, docs/storage.md
"Backups and restore").

Payload: {"buckets"?: ["media-uploads", "generated-content", "contracts", "invoices", ...],
"tables"?: ["orgs", "payments", "integrations", "audit"] ([] = none), "org_id"?, "dry_run"?}.
Result: {"run_id", "copied", "skipped", "failed", "bytes", "truncated", "buckets": [...],
"tables": [...], "failures": [...]}.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from hub.backups import BackupRunRequest, run_backup
from hub.invocation import parse_request
from hub.observability import lambda_handler


@lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # A schedule without Input delivers EventBridge's envelope: it carries no request fields.
    payload = {} if isinstance(event, dict) and event.get("source") == "aws.events" else event
    return run_backup(parse_request(BackupRunRequest, payload)).model_dump(mode="json")
