"""Instagram API with Instagram Login (business/creator accounts): code flow, then the
long-lived (60 days) token obtained right after the callback.

The API facts this adapter relies on, with their doc links, are in README.md.
"""

from hub.providers.base.descriptor import OAuthSpec, ProviderDescriptor

# https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/business-login
OAUTH = OAuthSpec(
    authorize_url="https://www.instagram.com/oauth/authorize",
    token_url="https://api.instagram.com/oauth/access_token",  # noqa: S106 - an endpoint URL, not a secret
    scopes=(
        "instagram_business_basic",
        "instagram_business_content_publish",
        "instagram_business_manage_messages",
        "instagram_business_manage_comments",
    ),
    # Not documented for Instagram Login: the confidential-client flow with the app secret.
    pkce=False,
    scope_separator=",",
    refresh="ig_refresh_token",
    # https://developers.facebook.com/docs/instagram-platform/reference/access_token
    long_lived_url="https://graph.instagram.com/access_token",
    # https://developers.facebook.com/docs/instagram-platform/reference/refresh_access_token
    refresh_url="https://graph.instagram.com/refresh_access_token",
    access_token_lifetime=60 * 24 * 3600,
)

DESCRIPTOR = ProviderDescriptor(
    auth="oauth2",
    default_base_url="https://graph.instagram.com",
    oauth=OAUTH,
    docs="https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login",
)
