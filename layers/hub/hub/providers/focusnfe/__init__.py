"""Focus NFe: NFS-e issuer (fallback of Nuvem Fiscal).

The API facts this adapter relies on, with their doc links, are in README.md.
"""

from hub.providers.base.descriptor import ProviderDescriptor

DESCRIPTOR = ProviderDescriptor(
    auth="basic",
    default_base_url="https://api.focusnfe.com.br",
    capabilities=frozenset({"NfseIssuer"}),
    docs="https://focusnfe.com.br/doc/#nfse-nacional",
)
