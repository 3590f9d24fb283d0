"""Webhook ingress: authenticate, archive raw, validate, dedupe, enqueue, answer fast."""
