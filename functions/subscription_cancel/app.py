"""SubscriptionCancel — cancel an Asaas or Stripe subscription.

Payload: {"org_id", "provider"? ("asaas"|"stripe"), "subscription_id"}
Result:  {"provider", "subscription_id", "cancelled"}
"""

from hub.invocation import operation_handler
from hub.payments.operations import SubscriptionCancelRequest, cancel_subscription

handler = operation_handler("payments.subscription_cancel", SubscriptionCancelRequest, cancel_subscription)
