"""LinkedIn: OAuth2 3-legged flow (Sign In with LinkedIn using OpenID Connect, Share on LinkedIn),
posts and organic statistics (SocialPublisher, SocialInsights).

The API facts this adapter relies on, with their doc links, are in README.md.
"""

from hub.providers.base.descriptor import OAuthSpec, ProviderDescriptor

# https://learn.microsoft.com/en-us/linkedin/shared/authentication/authorization-code-flow
OAUTH = OAuthSpec(
    authorize_url="https://www.linkedin.com/oauth/v2/authorization",
    token_url="https://www.linkedin.com/oauth/v2/accessToken",  # noqa: S106 - an endpoint URL, not a secret
    scopes=("openid", "profile", "email", "w_member_social"),
    # PKCE is documented for native clients only, enabled per app on request
    # (https://learn.microsoft.com/en-us/linkedin/shared/authentication/authorization-code-flow-native):
    # web apps use the confidential-client flow with the client secret.
    pkce=False,
    client_auth="body",
    # Refresh tokens only for approved partners
    # (https://learn.microsoft.com/en-us/linkedin/shared/authentication/programmatic-refresh-tokens):
    # an approved app sets "refresh": "refresh_token" in its app secret.
    refresh="none",
    access_token_lifetime=60 * 24 * 3600,
    refresh_token_lifetime=365 * 24 * 3600,
)

DESCRIPTOR = ProviderDescriptor(
    auth="oauth2",
    default_base_url="https://api.linkedin.com",
    oauth=OAUTH,
    # Posts, images/videos and organic statistics (client.py; docs/social.md, "LinkedIn").
    capabilities=frozenset({"SocialPublisher", "SocialInsights"}),
    docs="https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api",
)
