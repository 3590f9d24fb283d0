"""PaymentRefund — refund a paid charge, fully or partly, at the provider that holds it.

Payload: {"org_id", "charge_id", "value_cents"? (partial, integer centavos), "description"?,
"idempotency_key" (required)}
The amount is reserved on the charge before the provider is called: concurrent refunds never pass the charge.
Result:  {"provider", "provider_charge_id", "refunded_cents", "status"}; the charge moves when the provider's
payment.refunded webhook arrives, which also cancels its NFS-e.
"""

from hub.invocation import operation_handler
from hub.payments.charges import RefundRequest, refund_charge

handler = operation_handler("payments.refund", RefundRequest, refund_charge)
