"""Canva Connect: OAuth2 authorization code with PKCE (S256 required), rotating refresh tokens,
brand templates, autofill and export jobs, and the export throttles as hub-side quotas.

The API facts this adapter relies on, with their doc links, are in README.md.
"""

from hub.providers.base.descriptor import OAuthSpec, ProviderDescriptor
from hub.resilience.ratelimit import DAY, MINUTE, LimitRule

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
        # https://www.canva.dev/docs/connect/api-reference/brand-templates/ (list: meta, dataset: content)
        "brandtemplate:meta:read",
        "brandtemplate:content:read",
    ),
    pkce=True,
    # https://www.canva.dev/docs/connect/api-reference/authentication/generate-access-token/ (Basic recommended)
    client_auth="basic",
    refresh="refresh_token",
    # Access tokens live 4 hours; a refresh token is single-use: every refresh returns a new one.
    access_token_lifetime=4 * 3600,
    rotating_refresh_token=True,
)

# Export throttles (https://www.canva.dev/docs/connect/api-reference/exports/create-design-export-job/):
# per user 75 per 5 minutes and 500 per day, per integration 5,000 per day. Counted by the hub
# before the call (``operation="export"``) so a render over quota falls back without a 429.
EXPORTS_PER_USER_5_MIN = LimitRule("exports_per_user_5min", 75, 5 * MINUTE, "account", applies_to="export")
EXPORTS_PER_USER_DAY = LimitRule("exports_per_user_day", 500, DAY, "account", applies_to="export")
EXPORTS_PER_APP_DAY = LimitRule("exports_per_app_day", 5_000, DAY, "provider", applies_to="export")

DESCRIPTOR = ProviderDescriptor(
    auth="oauth2",
    default_base_url="https://api.canva.com/rest",
    oauth=OAUTH,
    limits=(EXPORTS_PER_USER_5_MIN, EXPORTS_PER_USER_DAY, EXPORTS_PER_APP_DAY),
    docs="https://www.canva.dev/docs/connect/",
)
