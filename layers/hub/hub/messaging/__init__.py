"""Outbound messaging operations (WhatsApp, later SMS and email)."""
