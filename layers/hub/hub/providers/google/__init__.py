"""Google (Calendar): OAuth2 authorization code with PKCE, offline access. YouTube is its own
provider (``youtube``): a channel often belongs to a brand account, another Google identity.

The API facts this adapter relies on, with their doc links, are in README.md.
"""

from hub.providers.base.descriptor import OAuthSpec, ProviderDescriptor
from hub.resilience.ratelimit import MINUTE, LimitRule

# https://developers.google.com/identity/protocols/oauth2/web-server
OAUTH = OAuthSpec(
    authorize_url="https://accounts.google.com/o/oauth2/v2/auth",
    token_url="https://oauth2.googleapis.com/token",  # noqa: S106 - an endpoint URL, not a secret
    scopes=(
        # https://developers.google.com/calendar/api/auth
        "https://www.googleapis.com/auth/calendar.events",
        "https://www.googleapis.com/auth/calendar.calendarlist.readonly",
        # freeBusy.query: calendar.events does not cover it; this one is "see the availability on
        # Google calendars you have access to" (the org's shared calendars too, not only its own).
        # https://developers.google.com/calendar/api/v3/reference/freebusy/query#auth
        "https://www.googleapis.com/auth/calendar.events.freebusy",
    ),
    pkce=True,
    client_auth="body",
    # offline: a refresh token; consent: Google issues it again on a reconnect.
    authorize_params=(("access_type", "offline"), ("prompt", "consent"), ("include_granted_scopes", "true")),
    refresh="refresh_token",
    access_token_lifetime=3600,
)

DESCRIPTOR = ProviderDescriptor(
    auth="oauth2",
    default_base_url="https://www.googleapis.com",
    oauth=OAUTH,
    capabilities=frozenset({"Calendar"}),
    docs="https://developers.google.com/identity/protocols/oauth2/web-server",
    # Calendar API quotas (https://developers.google.com/calendar/api/guides/quota): per minute
    # per user (one org connects one Google user) and per minute per project (every org).
    limits=(
        LimitRule("requests_per_minute_per_user", 600, MINUTE, "org", "Calendar: 600/min per user"),
        LimitRule("requests_per_minute", 10_000, MINUTE, "provider", "Calendar: 10,000/min per project"),
    ),
)
