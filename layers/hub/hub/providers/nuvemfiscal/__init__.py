"""Nuvem Fiscal: NFS-e issuer (Padrão Nacional DPS), OAuth2 client credentials.

The API facts this adapter relies on, with their doc links, are in README.md.
"""

from hub.providers.base.descriptor import ProviderDescriptor

DESCRIPTOR = ProviderDescriptor(
    auth="client_credentials",
    default_base_url="https://api.nuvemfiscal.com.br",
    capabilities=frozenset({"NfseIssuer", "CnpjLookup"}),
    docs="https://dev.nuvemfiscal.com.br/docs/api",
)
