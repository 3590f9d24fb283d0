"""Operator commands (replay archived webhooks, redrive DLQs). See ``python -m ops --help``."""
