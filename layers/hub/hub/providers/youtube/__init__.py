"""YouTube (Data API v3 and Analytics API v2): an org's channel, connected through Google's
OAuth2 authorization code with PKCE and offline access — separately from ``google`` (Calendar),
because a channel often belongs to a brand account, another Google identity than the one the org
uses for its calendar. The app credentials are ``_apps/youtube`` (they may hold the same Google
OAuth client as ``_apps/google``).

The API facts this adapter relies on, with their doc links, are in README.md.
"""

from hub.providers.base.descriptor import OAuthSpec, ProviderDescriptor
from hub.resilience.ratelimit import DAY, LimitRule

# YouTube's quota day: "Daily quotas reset at midnight Pacific Time (PT)."
# https://developers.google.com/youtube/v3/determine_quota_cost
QUOTA_TIMEZONE = "America/Los_Angeles"

# The operations (``request(..., operation=...)``) named after the API methods whose quota they
# draw on (https://developers.google.com/youtube/v3/determine_quota_cost).
VIDEOS_INSERT = "videos.insert"  # opening a resumable upload session: the videos.insert call
SEARCH_LIST = "search.list"
UPLOAD_CHUNK = "videos.insert.chunk"  # the bytes of a session already counted as videos.insert
UPLOAD_STATUS = "videos.insert.status"  # asking a session how far it got
ANALYTICS_QUERY = "reports.query"  # the YouTube Analytics API: its own quota, not the Data API's
# hub.providers.base.auth.TOKEN_REFRESH_OPERATION (Google's token endpoint draws on no YouTube
# quota); spelled here so the registry, which imports every descriptor, stays light.
TOKEN_REFRESH = "oauth_refresh"  # noqa: S105 - an operation name, not a secret

# https://developers.google.com/identity/protocols/oauth2/web-server (Google's web-server flow)
OAUTH = OAuthSpec(
    authorize_url="https://accounts.google.com/o/oauth2/v2/auth",
    token_url="https://oauth2.googleapis.com/token",  # noqa: S106 - an endpoint URL, not a secret
    scopes=(
        # videos.insert: https://developers.google.com/youtube/v3/docs/videos/insert
        "https://www.googleapis.com/auth/youtube.upload",
        # channels/videos/search/playlistItems.list, and required by Analytics reports.query too
        # (https://developers.google.com/youtube/analytics/reference/reports/query)
        "https://www.googleapis.com/auth/youtube.readonly",
        # Analytics reports (views, watch time, likes, subscribers)
        "https://www.googleapis.com/auth/yt-analytics.readonly",
    ),
    pkce=True,
    client_auth="body",
    # offline: a refresh token; consent: issued again on a reconnect. No include_granted_scopes:
    # a token for the channel carries the channel's scopes only, never a Calendar grant the same
    # Google identity gave the `google` integration.
    authorize_params=(("access_type", "offline"), ("prompt", "consent")),
    refresh="refresh_token",
    access_token_lifetime=3600,
)

DESCRIPTOR = ProviderDescriptor(
    auth="oauth2",
    default_base_url="https://www.googleapis.com",
    oauth=OAUTH,
    capabilities=frozenset({"SocialPublisher", "SocialInsights"}),
    # Quota is the API project's (the app's client id), shared by every org: scope "provider".
    # https://developers.google.com/youtube/v3/determine_quota_cost — "a default quota allocation
    # of 100 search.list calls, 100 videos.insert calls, and 10,000 units per day combined for all
    # other endpoints"; search.list and videos.insert "have their own quota buckets ... The quota
    # cost is 1 per call". Raised quotas: RATE_LIMIT_OVERRIDES (docs/resilience.md).
    limits=(
        LimitRule(
            "units_per_day",
            10_000,
            DAY,
            "provider",
            note="YouTube Data API units per project per Pacific day (every method but its own buckets)",
            excludes=(VIDEOS_INSERT, SEARCH_LIST, UPLOAD_CHUNK, UPLOAD_STATUS, ANALYTICS_QUERY, TOKEN_REFRESH),
            reset_timezone=QUOTA_TIMEZONE,
        ),
        LimitRule(
            "videos_insert_per_day",
            100,
            DAY,
            "provider",
            note="videos.insert calls per project per Pacific day (its own bucket)",
            applies_to=VIDEOS_INSERT,
            reset_timezone=QUOTA_TIMEZONE,
        ),
        LimitRule(
            "search_list_per_day",
            100,
            DAY,
            "provider",
            note="search.list calls per project per Pacific day (its own bucket)",
            applies_to=SEARCH_LIST,
            reset_timezone=QUOTA_TIMEZONE,
        ),
    ),
    docs="https://developers.google.com/youtube/v3",
)
