"""Facebook Login for Pages and Instagram business accounts: code flow, then the long-lived
(~60 days) user token obtained right after the callback; and the Pages API for publishing to
the org's pages and reading their insights (``client.FacebookClient``).

The API facts this adapter relies on, with their doc links, are in README.md. The ``meta``
package (Meta webhooks, WhatsApp Cloud API) is separate.
"""

from hub.providers.base.descriptor import OAuthSpec, ProviderDescriptor
from hub.resilience.ratelimit import HOUR, LimitRule

# Graph API version: configuration (the app secret's "graph_version" replaces it).
GRAPH_VERSION = "v26.0"

# https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow
OAUTH = OAuthSpec(
    authorize_url="https://www.facebook.com/{graph_version}/dialog/oauth",
    token_url="https://graph.facebook.com/{graph_version}/oauth/access_token",  # noqa: S106 - an endpoint URL, not a secret
    scopes=(
        "pages_show_list",
        "pages_read_engagement",
        "pages_manage_posts",
        "instagram_basic",
        "instagram_content_publish",
        "business_management",
    ),
    # PKCE exists only in the OIDC variant, documented as "still in testing"
    # (https://developers.facebook.com/docs/facebook-login/guides/advanced/oidc-token).
    pkce=False,
    scope_separator=",",
    exchange_method="GET",
    refresh="fb_exchange_token",
    # https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived
    long_lived_url="https://graph.facebook.com/{graph_version}/oauth/access_token",
    graph_version=GRAPH_VERSION,
    access_token_lifetime=60 * 24 * 3600,
)

# The seed's 2 posts per hour per page, a hub-side limit: counted on the publishing call only
# (operation "publish"), per page (FacebookClient.account_scope is the page being published
# to), in fixed clock hours (hub.resilience.ratelimit: hh:00-hh:59 UTC), so a spent hour answers
# RateLimitedError(retry_after=seconds to the next hour) and the workflow publishes then.
PUBLISH_OPERATION = "publish"
POSTS_PER_HOUR = LimitRule(
    "posts_per_hour",
    2,
    HOUR,
    "account",
    note="the seed's 2 posts per hour per page (hub policy; fixed clock hours)",
    applies_to=PUBLISH_OPERATION,
)

DESCRIPTOR = ProviderDescriptor(
    auth="oauth2",
    default_base_url="https://graph.facebook.com",
    oauth=OAUTH,
    capabilities=frozenset({"SocialPublisher", "SocialInsights"}),
    limits=(POSTS_PER_HOUR,),
    docs="https://developers.facebook.com/docs/pages-api",
)
