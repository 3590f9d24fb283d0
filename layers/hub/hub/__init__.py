"""Integrations hub shared layer: provider adapters, webhook ingress and AWS plumbing."""

__version__ = "0.1.0"
