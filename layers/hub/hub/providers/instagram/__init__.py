"""Instagram API with Instagram Login (business/creator accounts): code flow, then the
long-lived (60 days) token obtained right after the callback. The same adapter publishes and
reads through the org's Facebook Login integration when the org has no Instagram one
(client.py, "Login paths").

The API facts this adapter relies on, with their doc links, are in README.md.
"""

from hub.providers.base.descriptor import OAuthSpec, ProviderDescriptor
from hub.providers.facebook import GRAPH_VERSION
from hub.resilience.ratelimit import DAY, LimitRule

# https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/business-login
OAUTH = OAuthSpec(
    authorize_url="https://www.instagram.com/oauth/authorize",
    token_url="https://api.instagram.com/oauth/access_token",  # noqa: S106 - an endpoint URL, not a secret
    scopes=(
        "instagram_business_basic",
        "instagram_business_content_publish",
        "instagram_business_manage_messages",
        "instagram_business_manage_comments",
        # https://developers.facebook.com/docs/instagram-platform/insights (account and media insights)
        "instagram_business_manage_insights",
    ),
    # Not documented for Instagram Login: the confidential-client flow with the app secret.
    pkce=False,
    scope_separator=",",
    refresh="ig_refresh_token",
    # https://developers.facebook.com/docs/instagram-platform/reference/access_token
    long_lived_url="https://graph.instagram.com/access_token",
    # https://developers.facebook.com/docs/instagram-platform/reference/refresh_access_token
    refresh_url="https://graph.instagram.com/refresh_access_token",
    # The Graph version of graph.instagram.com paths (the app secret's graph_version replaces
    # it; the callback stores it in the org's secret). No URL above holds it.
    graph_version=GRAPH_VERSION,
    access_token_lifetime=60 * 24 * 3600,
)

DESCRIPTOR = ProviderDescriptor(
    auth="oauth2",
    default_base_url="https://graph.instagram.com",
    oauth=OAUTH,
    capabilities=frozenset({"SocialPublisher", "SocialInsights"}),
    limits=(
        # https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media
        # ("An Instagram account can only create 400 containers within a rolling 24 hour period"):
        # counted per account in fixed 24 h windows (hub.resilience.ratelimit), a carousel's
        # children included. The publishing cap itself is read live (content_publishing_limit).
        LimitRule("containers_per_day", 400, DAY, "account", applies_to="ig_container"),
    ),
    docs="https://developers.facebook.com/docs/instagram-platform/content-publishing",
)
