"""PaymentStatus — a charge's state as the hub knows it (its calls and the providers' webhooks).

Payload: {"org_id", "charge_id"}
Result:  {"charge_id", "status" (PENDING|OVERDUE|FAILED|CONFIRMED|RECEIVED|PARTIALLY_REFUNDED|REFUNDED|CANCELLED),
"amount_cents", "provider", "provider_charge_id", "paid_at"?, "refunded_cents", "invoice_status"?, ...}
"""

from hub.invocation import operation_handler
from hub.payments.charges import ChargeStatusRequest, charge_status

handler = operation_handler("payments.status", ChargeStatusRequest, charge_status)
