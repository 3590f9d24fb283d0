"""Stripe: demo secrets only. Stripe has no local fake: the hub only receives its signed webhooks locally."""

from __future__ import annotations

from localcloud.sandboxes.base import DemoSecret

DEMO_WEBHOOK_SECRET = "whsec_demo_stripe_secret"

DEMO_SECRETS = (DemoSecret("stripe", lambda base_url: {"webhook_secret": DEMO_WEBHOOK_SECRET}),)
