"""PaymentLinkCreate — an Asaas payment link (fixed amount or typed by the payer).

Payload: {"org_id", "name", "billing_type"?, "value_cents"? (integer centavos ≤ max_amount_cents), "description"?,
"due_date_limit_days"?,
"external_reference"?, "idempotency_key"}
Result:  {"provider": "asaas", "link_id", "url", "active"}
"""

from hub.invocation import operation_handler
from hub.payments.operations import PaymentLinkRequest, create_payment_link

handler = operation_handler("payments.link_create", PaymentLinkRequest, create_payment_link)
