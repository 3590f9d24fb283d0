"""Fiscal documents: the provider-agnostic NFS-e model the emitters (Nuvem Fiscal, Focus NFe) take."""
