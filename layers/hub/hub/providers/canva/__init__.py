"""Canva Connect: OAuth2 authorization code with PKCE (S256 required), rotating refresh tokens.

The API facts this adapter relies on, with their doc links, are in README.md.
"""

from hub.providers.base.descriptor import OAuthSpec, ProviderDescriptor

# https://www.canva.dev/docs/connect/authentication/
OAUTH = OAuthSpec(
    authorize_url="https://www.canva.com/api/oauth/authorize",
    token_url="https://api.canva.com/rest/v1/oauth/token",  # noqa: S106 - an endpoint URL, not a secret
    scopes=(
        "profile:read",
        "design:meta:read",
        "design:content:read",
        "design:content:write",
        "asset:read",
        "asset:write",
    ),
    pkce=True,
    # https://www.canva.dev/docs/connect/api-reference/authentication/generate-access-token/ (Basic recommended)
    client_auth="basic",
    refresh="refresh_token",
    # Access tokens live 4 hours; a refresh token is single-use: every refresh returns a new one.
    access_token_lifetime=4 * 3600,
    rotating_refresh_token=True,
)

DESCRIPTOR = ProviderDescriptor(
    auth="oauth2",
    default_base_url="https://api.canva.com/rest",
    oauth=OAUTH,
    docs="https://www.canva.dev/docs/connect/",
)
