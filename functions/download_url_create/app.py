"""DownloadUrlCreate — a presigned GET URL for one object under the org's prefix, signed against
the backend that holds it (docs/storage.md).

Invoked directly. Payload: {"org_id", "bucket", "key": "{org_id}/...", "expires_in"? (1 s - 7 days,
default 900)}
Result: {"url", "method": "GET", "bucket", "key", "backend", "expires_in", "expires_at"}
Errors: InvalidRequestError (naming the field), ConfigurationError, ProviderUnavailableError.
"""

from hub.invocation import operation_handler
from hub.storage.objects import DownloadUrlRequest, create_download_url

handler = operation_handler("storage.download_url", DownloadUrlRequest, create_download_url)
