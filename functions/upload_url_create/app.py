"""UploadUrlCreate — a presigned PUT URL for one object under the org's prefix (docs/storage.md).

Invoked directly (boto3 ``lambda.invoke``). Payload: {"org_id", "bucket": "media-uploads" |
"generated-content" | "contracts" | "invoices" | "exports" | "public-assets", "key": "{org_id}/...",
"content_type", "content_length", "expires_in"? (1 s - 7 days, default 900)}
Result: {"url", "method": "PUT", "headers": {"Content-Type", "Content-Length"}, "bucket", "key",
"backend", "expires_in", "expires_at"}
Errors: InvalidRequestError (naming the field), ConfigurationError.
"""

from hub.invocation import operation_handler
from hub.storage.objects import UploadUrlRequest, create_upload_url

handler = operation_handler("storage.upload_url", UploadUrlRequest, create_upload_url)
