"""TransferCreate — money out, only to an account on the org's allowlist; audited and announced
(security.sensitive_action) whether it is made or refused — refused by validation too.

Payload: {"org_id", "value_cents" (integer centavos, ≤ the org's max_amount_cents), "destination" (allowlist
name, ≤ 100 characters), "description"?, "requested_by", "idempotency_key"}
Result:  {"provider": "asaas", "transfer_id", "status", "amount_cents", "fee_cents"?, "operation_type"?}
"""

from hub.invocation import operation_handler
from hub.payments.operations import TransferRequest, audit_invalid_transfer, create_transfer

handler = operation_handler(
    "payments.transfer_create", TransferRequest, create_transfer, on_invalid=audit_invalid_transfer
)
