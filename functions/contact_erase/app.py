"""ContactErase — LGPD: erase a contact's personal data from every store the hub keeps.

Payload (direct invoke): {"org_id", "contact": {"phone"?, "email"?} (at least one), "actor", "idempotency_key"?}
Result:  {"org_id", "status": "completed"|"continuing", "erased": {store: count}, "kept": {...},
"retained": {...}, "contact_hash", "completed_at"?} — never the phone or email.
Work that does not fit continues on ContactErasureQueue (SQS records, consumed here too); the
audit record contact_erased and the bus event contact.erased are written when it completes.
"""

from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from hub.batch import process_sqs_batch
from hub.invocation import operation_handler
from hub.lgpd import ContactEraseRequest, continue_erasure, erase_contact
from hub.observability import lambda_handler

erase = operation_handler("contact.erase", ContactEraseRequest, erase_contact)


def record_handler(record: SQSRecord) -> None:
    continue_erasure(record.body)


@lambda_handler
def continue_from_queue(event: dict[str, Any], context: Any) -> Any:
    return process_sqs_batch(event, record_handler, context)


def handler(event: Any, context: Any) -> Any:
    if isinstance(event, dict) and "Records" in event:
        return continue_from_queue(event, context)
    return erase(event, context)
