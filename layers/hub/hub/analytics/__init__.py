"""Product analytics sinks: hub bus events forwarded to an org's GA4, PostHog or Mixpanel
(AnalyticsForward; docs/observability.md)."""
