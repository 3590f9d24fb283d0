"""SubscriptionCreate — a recurring charge: Asaas for clients, Stripe for the platform product.

Payload (asaas): {"org_id", "customer": {...}, "billing_type"?, "value_cents" (≤ max_amount_cents), "cycle"?,
"next_due_date",
"description"?, "external_reference"?, "idempotency_key"}
Payload (stripe): {"org_id", "provider": "stripe", "email", "name"?, "price_id", "idempotency_key"}
Result:  {"provider", "subscription_id", "status", "customer_id"}
"""

from hub.invocation import operation_handler
from hub.payments.operations import SubscriptionRequest, create_subscription

handler = operation_handler("payments.subscription_create", SubscriptionRequest, create_subscription)
