"""Payments and fiscal: charges with provider failover, payment state, NFS-e, reconciliation."""
