"""Configuration, read from the environment once per cold start.

Logic never reads ``os.environ``: it asks :func:`get_settings`. Every value has a
sensible default or is validated lazily by :meth:`Settings.require`, so one function
does not need the environment of another.
"""

from __future__ import annotations

import os
from decimal import Decimal
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.errors import ConfigurationError


class Settings(BaseModel):
    model_config = ConfigDict(populate_by_name=True, frozen=True, extra="ignore")

    stage: str = Field("dev", alias="STAGE")
    secrets_prefix: str = Field("hub", alias="SECRETS_PREFIX")
    secrets_cache_seconds: int = Field(300, alias="SECRETS_CACHE_SECONDS", ge=0)

    # S3-compatible storage: unset = AWS S3; set to MinIO / Cloudflare R2 / moto.
    storage_endpoint_url: str | None = Field(None, alias="STORAGE_ENDPOINT_URL")
    storage_region: str | None = Field(None, alias="STORAGE_REGION")
    webhook_archive_bucket: str | None = Field(None, alias="WEBHOOK_ARCHIVE_BUCKET")
    media_uploads_bucket: str | None = Field(None, alias="MEDIA_UPLOADS_BUCKET")
    generated_content_bucket: str | None = Field(None, alias="GENERATED_CONTENT_BUCKET")
    invoices_bucket: str | None = Field(None, alias="INVOICES_BUCKET")
    exports_bucket: str | None = Field(None, alias="EXPORTS_BUCKET")
    public_assets_bucket: str | None = Field(None, alias="PUBLIC_ASSETS_BUCKET")

    # --- storage port (hub.storage, docs/storage.md): backends, R2 mode, presigned URLs, fallback.
    contracts_bucket: str | None = Field(None, alias="CONTRACTS_BUCKET")
    backups_bucket: str | None = Field(None, alias="BACKUPS_BUCKET")
    # Backends: primary (the hub's buckets; endpoint defaults to STORAGE_ENDPOINT_URL), secondary
    # (ObjectPut's fallback: R2 in production) and backup (StorageBackupRun's target). Mode: s3 |
    # r2 | s3-compatible; R2 mode refuses what R2 lacks. *_SECRET: a Secrets Manager secret
    # {"access_key_id", "secret_access_key"} (unset = the function's own AWS credentials).
    storage_primary_mode: Literal["s3", "r2", "s3-compatible"] = Field("s3", alias="STORAGE_PRIMARY_MODE")
    storage_primary_endpoint_url: str | None = Field(None, alias="STORAGE_PRIMARY_ENDPOINT_URL")
    storage_primary_secret: str | None = Field(None, alias="STORAGE_PRIMARY_SECRET")
    storage_secondary_mode: Literal["s3", "r2", "s3-compatible"] = Field("r2", alias="STORAGE_SECONDARY_MODE")
    storage_secondary_endpoint_url: str | None = Field(None, alias="STORAGE_SECONDARY_ENDPOINT_URL")
    storage_secondary_region: str | None = Field(None, alias="STORAGE_SECONDARY_REGION")
    storage_secondary_bucket: str | None = Field(None, alias="STORAGE_SECONDARY_BUCKET")
    storage_secondary_secret: str | None = Field(None, alias="STORAGE_SECONDARY_SECRET")
    # A backend that does not connect within this, or answers 5xx twice, is down for ObjectPut.
    storage_backend_connect_timeout: float = Field(2.0, alias="STORAGE_BACKEND_CONNECT_TIMEOUT", gt=0)
    storage_backend_read_timeout: float = Field(10.0, alias="STORAGE_BACKEND_READ_TIMEOUT", gt=0)
    storage_backend_max_attempts: int = Field(2, alias="STORAGE_BACKEND_MAX_ATTEMPTS", ge=1)
    # Presigned URLs: default and maximum lifetime (R2 and S3 SigV4 allow 1 s to 7 days).
    storage_url_default_seconds: int = Field(900, alias="STORAGE_URL_DEFAULT_SECONDS", ge=1, le=604800)
    storage_url_max_seconds: int = Field(604800, alias="STORAGE_URL_MAX_SECONDS", ge=1, le=604800)
    # Where objects written to the secondary live, ObjectPut receipts and deferred chunks.
    storage_table: str | None = Field(None, alias="STORAGE_TABLE")

    inbound_events_queue_url: str | None = Field(None, alias="INBOUND_EVENTS_QUEUE_URL")
    idempotency_table: str | None = Field(None, alias="IDEMPOTENCY_TABLE")
    contacts_table: str | None = Field(None, alias="CONTACTS_TABLE")
    messages_table: str | None = Field(None, alias="MESSAGES_TABLE")
    payments_table: str | None = Field(None, alias="PAYMENTS_TABLE")
    nfse_state_machine_arn: str | None = Field(None, alias="NFSE_STATE_MACHINE_ARN")
    notify_state_machine_arn: str | None = Field(None, alias="NOTIFY_STATE_MACHINE_ARN")
    # PagBank charges still pending this long are looked up (GET /orders/{id}) by
    # PaymentsPendingSync: a lost notification still confirms the payment. Charges pending
    # longer than the max age (an expired PIX, a boleto never paid) are no longer polled.
    pagbank_pending_after_seconds: int = Field(1800, alias="PAGBANK_PENDING_AFTER_SECONDS", ge=0)
    pagbank_pending_max_age_days: int = Field(35, alias="PAGBANK_PENDING_MAX_AGE_DAYS", gt=0)
    event_bus_name: str | None = Field(None, alias="EVENT_BUS_NAME")
    # LGPD erasures that did not fit one invocation continue here (hub.lgpd).
    contact_erasure_queue_url: str | None = Field(None, alias="CONTACT_ERASURE_QUEUE_URL")
    # Social publishing (hub.social, docs/social.md): publications, insights and their cursors.
    # Design renders (hub.design, docs/design.md "DesignRender"): the workflow, the template
    # fallback function it invokes, and how it polls Canva's jobs (Wait states, never a sleep).
    design_render_state_machine_arn: str | None = Field(None, alias="DESIGN_RENDER_STATE_MACHINE_ARN")
    design_template_render_function: str | None = Field(None, alias="DESIGN_TEMPLATE_RENDER_FUNCTION")
    design_poll_seconds: int = Field(3, alias="DESIGN_POLL_SECONDS", ge=1, le=300)
    design_max_polls: int = Field(100, alias="DESIGN_MAX_POLLS", ge=1, le=1000)
    design_url_seconds: int = Field(3600, alias="DESIGN_URL_SECONDS", ge=60, le=7 * 86400)
    social_table: str | None = Field(None, alias="SOCIAL_TABLE")
    social_publish_state_machine_arn: str | None = Field(None, alias="SOCIAL_PUBLISH_STATE_MACHINE_ARN")
    # Media still processing at a network is polled this often (Meta asks for at most once a
    # minute) for at most this long unless the adapter says otherwise (Instagram: 5 minutes).
    social_poll_seconds: int = Field(60, alias="SOCIAL_POLL_SECONDS", ge=1)
    social_poll_max_seconds: int = Field(1800, alias="SOCIAL_POLL_MAX_SECONDS", ge=1)
    # A publish whose answer was lost is looked up this often, this many times, before it goes
    # to the manual queue as "unconfirmed" (never posted a second time blindly).
    social_lookup_seconds: int = Field(60, alias="SOCIAL_LOOKUP_SECONDS", ge=1)
    social_lookup_attempts: int = Field(3, alias="SOCIAL_LOOKUP_ATTEMPTS", ge=1)
    # A network that is down is tried again after this (doubling), this many times.
    social_retry_seconds: int = Field(60, alias="SOCIAL_RETRY_SECONDS", ge=1)
    social_retry_attempts: int = Field(3, alias="SOCIAL_RETRY_ATTEMPTS", ge=0)
    # Quota delays (to the network's reset) allowed before the post goes to the manual queue.
    social_max_delays: int = Field(10, alias="SOCIAL_MAX_DELAYS", ge=0)
    social_max_schedule_days: int = Field(180, alias="SOCIAL_MAX_SCHEDULE_DAYS", ge=1, le=360)
    # Presigned media links (networks fetching our media; the manual queue's links).
    social_media_url_seconds: int = Field(6 * 3600, alias="SOCIAL_MEDIA_URL_SECONDS", ge=60, le=7 * 86400)
    # LinkedIn's Marketing API version (``LinkedIn-Version: YYYYMM``): configuration, not code. Each
    # version lives at least 12 months, then answers 426 NONEXISTENT_VERSION; 202607 is live until
    # mid-2027 (https://learn.microsoft.com/en-us/linkedin/marketing/versioning). An org's secret
    # or the app secret (``api_version``) overrides it (hub.providers.linkedin, docs/social.md).
    linkedin_api_version: str = Field("202607", alias="LINKEDIN_API_VERSION", pattern=r"^[0-9]{6}(\.[0-9]{2})?$")

    # Insights syncs (hub.social.insights, docs/social.md "Insights"): an account's first sync
    # reads this many days back; the network is asked this many days per call; a day the network
    # has not reported yet is waited for this long before the cursor passes it; post metrics are
    # read for the hub's publications of the last N days.
    social_insights_backfill_days: int = Field(28, alias="SOCIAL_INSIGHTS_BACKFILL_DAYS", ge=1, le=366)
    social_insights_chunk_days: int = Field(7, alias="SOCIAL_INSIGHTS_CHUNK_DAYS", ge=1, le=30)
    social_insights_settle_days: int = Field(3, alias="SOCIAL_INSIGHTS_SETTLE_DAYS", ge=0, le=30)
    social_insights_post_days: int = Field(28, alias="SOCIAL_INSIGHTS_POST_DAYS", ge=0, le=366)
    # The registry of orgs (hub.orgs); a warm container trusts "this org exists" this long.
    orgs_table: str | None = Field(None, alias="ORGS_TABLE")
    org_cache_seconds: int = Field(300, alias="ORG_CACHE_SECONDS", ge=0)

    # Outbound HTTP, sized for Lambda: connect fast, never wait longer than the function can.
    # A provider that does not accept a connection within 2 s is down for us: fail over
    # (docs/resilience.md). The read timeout is the default of calls that pass none; adapters
    # size it per operation (health checks 5 s, generation, search...).
    http_connect_timeout: float = Field(2.0, alias="HTTP_CONNECT_TIMEOUT", gt=0)
    http_read_timeout: float = Field(10.0, alias="HTTP_READ_TIMEOUT", gt=0)
    # Hung AI providers (docs/ai.md, "Streaming and time-to-first-byte"): text and image calls
    # stream and give up when the answer's first byte has not arrived within these seconds
    # (ProviderUnavailableError code first_byte_timeout: the chain moves to the next provider);
    # a started stream may go this long without a byte (never past the time left); embeddings
    # (not streamed) wait this long for their answer, plus 1 s per 100,000 characters sent.
    llm_first_byte_timeout: float = Field(5.0, alias="LLM_FIRST_BYTE_TIMEOUT", gt=0)
    image_first_byte_timeout: float = Field(5.0, alias="IMAGE_FIRST_BYTE_TIMEOUT", gt=0)
    ai_stream_idle_timeout: float = Field(60.0, alias="AI_STREAM_IDLE_TIMEOUT", gt=0)
    embeddings_read_timeout: float = Field(6.0, alias="EMBEDDINGS_READ_TIMEOUT", gt=0)
    # Retries inside one invocation: at most this much sleeping, then hand over to SQS/SFN.
    retry_max_attempts: int = Field(3, alias="RETRY_MAX_ATTEMPTS", ge=1)
    # A provider answering "unavailable" (5xx) gets one quick retry, if it asks for no longer a
    # wait than this, then the caller fails over (hub.retry).
    retry_unavailable_max_attempts: int = Field(2, alias="RETRY_UNAVAILABLE_MAX_ATTEMPTS", ge=1)
    retry_unavailable_max_wait: float = Field(0.5, alias="RETRY_UNAVAILABLE_MAX_WAIT", ge=0)
    retry_max_total_sleep: float = Field(2.0, alias="RETRY_MAX_TOTAL_SLEEP", ge=0)
    retry_safety_margin: float = Field(1.0, alias="RETRY_SAFETY_MARGIN", ge=0)
    # An unknown outcome looked up at the provider counts as "not sent" only once its first
    # attempt is this old: a provider may still be working on a request we stopped waiting for.
    outcome_settle_seconds: float = Field(60.0, alias="OUTCOME_SETTLE_SECONDS", ge=0)

    # Shared breaker and rate-limit state; unset = no breaker/limits (unit tests, scripts).
    resilience_table: str | None = Field(None, alias="RESILIENCE_TABLE")
    audit_table: str | None = Field(None, alias="AUDIT_TABLE")
    # Audit records expire (DynamoDB TTL) after this many days; 0 keeps them forever.
    audit_retention_days: int = Field(1825, alias="AUDIT_RETENTION_DAYS", ge=0)
    # Sensitive audit actions are published here (operators subscribe email/Slack).
    alerts_topic_arn: str | None = Field(None, alias="ALERTS_TOPIC_ARN")
    # The integration records (hub.integrations.records): status, tests, webhook, token expiry.
    integrations_table: str | None = Field(None, alias="INTEGRATIONS_TABLE")
    # IntegrationConnect / IntegrationRotate: the customer-managed KMS key (id, ARN or alias) org
    # secrets are encrypted with, and how long a rotated webhook secret/token stays valid.
    secrets_kms_key_id: str | None = Field(None, alias="SECRETS_KMS_KEY_ID")
    # Comma-separated URL prefixes an org's provider base_url may use although they are not public
    # https (a self-hosted Evolution inside the VPC; the local cloud's sandboxes). Empty = none.
    provider_private_url_prefixes: str | None = Field(None, alias="PROVIDER_PRIVATE_URL_PREFIXES")
    webhook_secret_grace_seconds: int = Field(86400, alias="WEBHOOK_SECRET_GRACE_SECONDS", ge=0)
    health_table: str | None = Field(None, alias="HEALTH_TABLE")
    # Token lifecycle (hub.providers.base.auth, hub.integrations.sweep; docs/integrations.md,
    # "Token lifecycle"). OAuth tokens are refreshed on read this long before they expire (or
    # at half their life, if shorter): Nango uses 15 min, n8n waits for a 401.
    oauth_refresh_margin_seconds: float = Field(600.0, alias="OAUTH_REFRESH_MARGIN_SECONDS", ge=0)
    # IntegrationTokensSweep refreshes refresh-token grants expiring within this horizon that
    # nobody refreshed for the idle time (a token functions keep fresh is left alone) ...
    token_sweep_horizon_seconds: int = Field(86400, alias="TOKEN_SWEEP_HORIZON_SECONDS", gt=0)
    token_sweep_idle_seconds: int = Field(86400, alias="TOKEN_SWEEP_IDLE_SECONDS", ge=0)
    # ... Meta's 60-day long-lived tokens once fewer than this many days are left ...
    long_lived_refresh_days_left: int = Field(45, alias="LONG_LIVED_REFRESH_DAYS_LEFT", gt=0)
    # ... and tells the org this many days ahead when a token cannot be refreshed (LinkedIn).
    reauth_notice_days: int = Field(7, alias="REAUTH_NOTICE_DAYS", ge=0)
    spend_table: str | None = Field(None, alias="SPEND_TABLE")
    breaker_failure_threshold: int = Field(5, alias="BREAKER_FAILURE_THRESHOLD", ge=1)
    breaker_window_seconds: int = Field(60, alias="BREAKER_WINDOW_SECONDS", ge=1)
    breaker_recovery_seconds: int = Field(60, alias="BREAKER_RECOVERY_SECONDS", ge=1)
    # A container reuses what it last read of a breaker for this long (0 = read every call):
    # one DynamoDB read per provider per second at most on a hot path; other instances' changes
    # are seen this much later (hub.resilience.breaker).
    breaker_cache_seconds: float = Field(1.0, alias="BREAKER_CACHE_SECONDS", ge=0)
    # JSON: {"asaas": [{"name": ..., "limit": ..., "window_seconds": ..., "scope": ...}]}
    rate_limit_overrides: str | None = Field(None, alias="RATE_LIMIT_OVERRIDES")
    # Meta Graph usage headers (hub.providers.meta.graph, docs/social.md "Meta rate limits"): at
    # or above this percentage every Graph client backs off (shared, in RESILIENCE_TABLE) until
    # Meta's estimated_time_to_regain_access, or this many seconds when Meta gives none.
    meta_usage_backoff_percent: float = Field(90.0, alias="META_USAGE_BACKOFF_PERCENT", gt=0, le=100)
    meta_usage_backoff_seconds: int = Field(300, alias="META_USAGE_BACKOFF_SECONDS", ge=1)

    # Converting provider costs (USD) for reports in BRL; set per deployment.
    usd_brl_rate: Decimal = Field(Decimal("5.40"), alias="USD_BRL_RATE", gt=0)
    # Per-unit prices of billed provider calls, replacing hub.usage.prices defaults (JSON):
    # {"serpapi": {"search": {"amount": "0.0133", "currency": "USD"}}}
    usage_prices: str | None = Field(None, alias="USAGE_PRICES")

    # The API's public base URL (e.g. https://{api}.execute-api.{region}.amazonaws.com/Prod):
    # status-callback URLs handed to providers, and the URL Twilio signs.
    public_api_url: str | None = Field(None, alias="PUBLIC_API_URL")
    webhook_max_body_bytes: int = Field(1_048_576, alias="WEBHOOK_MAX_BODY_BYTES", gt=0)
    # A forged-webhook burst: this many authentication failures for one (org, provider) within
    # one window (fixed windows, counted in RESILIENCE_TABLE) write one webhook_forgery_burst
    # audit record and alert (hub.webhooks.forgery).
    webhook_forgery_threshold: int = Field(10, alias="WEBHOOK_FORGERY_THRESHOLD", ge=1)
    webhook_forgery_window_seconds: int = Field(300, alias="WEBHOOK_FORGERY_WINDOW_SECONDS", ge=1)
    health_check_timeout: float = Field(5.0, alias="HEALTH_CHECK_TIMEOUT", gt=0)

    # Backups (hub.backups; docs/storage.md "Backups and restore"). The backup backend: endpoint
    # unset = AWS S3 (BACKUP_BUCKET, default the template's BackupsBucket); Cloudflare R2 =
    # https://<account>.r2.cloudflarestorage.com with BACKUP_R2_MODE=true (region "auto", checksums
    # only when required). hub.backups.backup_client() is the one place its client is built.
    backup_endpoint_url: str | None = Field(None, alias="BACKUP_ENDPOINT_URL")
    backup_bucket: str | None = Field(None, alias="BACKUP_BUCKET")
    backup_region: str | None = Field(None, alias="BACKUP_REGION")
    backup_r2_mode: bool = Field(False, alias="BACKUP_R2_MODE")
    # Secrets Manager id of {"access_key_id", "secret_access_key"} for a non-AWS backend (R2);
    # unset = the function's own AWS credentials.
    backup_credentials_secret: str | None = Field(None, alias="BACKUP_CREDENTIALS_SECRET")
    # The manifest (verified copies, versions, listing cursors, failures, runs, table exports).
    backup_manifest_table: str | None = Field(None, alias="BACKUP_MANIFEST_TABLE")
    # JSON {"media-uploads": "<bucket>", ...} and {"payments": "<table>", ...}: what may be backed up.
    backup_sources: str | None = Field(None, alias="BACKUP_SOURCES")
    backup_tables: str | None = Field(None, alias="BACKUP_TABLES")
    # Objects are streamed in parts this large (S3 and R2: at least 5 MiB but the last).
    backup_part_bytes: int = Field(8 * 1024 * 1024, alias="BACKUP_PART_BYTES", ge=5 * 1024 * 1024)
    # A run stops (truncated, resumed by the next) with this many seconds left, or after this many
    # failed copies (a backend that is down is not hammered object by object).
    backup_reserve_seconds: float = Field(60.0, alias="BACKUP_RESERVE_SECONDS", ge=0)
    backup_max_failures: int = Field(20, alias="BACKUP_MAX_FAILURES", ge=1)
    # A table exported this recently is not exported again (a resumed run skips it).
    backup_table_interval_hours: int = Field(20, alias="BACKUP_TABLE_INTERVAL_HOURS", ge=0)
    # ----- search chain and cache (hub.search.chain, hub.search.cache; docs/search.md) -----
    # The engines tried in order when an org's settings secret ``{prefix}/{org_id}/search`` names
    # none (``{"chain": [...]}``); an engine without a registered adapter is skipped.
    search_chain: str = Field("serpapi,serper,brave", alias="SEARCH_CHAIN", pattern=r"^[a-z0-9_]+(,[a-z0-9_]+)*$")
    # Normalised result sets per normalised query (DynamoDB, TTL); unset = no cache.
    search_cache_table: str | None = Field(None, alias="SEARCH_CACHE_TABLE")
    # An entry is kept (and may be served stale when every engine fails) this long ...
    search_cache_ttl_seconds: int = Field(86400, alias="SEARCH_CACHE_TTL_SECONDS", ge=0)
    # ... and answers a repeated query without spending a search for this long (capped by the TTL).
    search_cache_fresh_seconds: int = Field(86400, alias="SEARCH_CACHE_FRESH_SECONDS", ge=0)
    # One engine may take at most this long (connect + answer) before the chain moves on; the
    # Lambda's remaining time bounds it too (hub.runtime.deadline_within).
    search_engine_timeout_seconds: float = Field(6.0, alias="SEARCH_ENGINE_TIMEOUT_SECONDS", gt=0)
    # ----- error reports (hub.errortracking; docs/observability.md "Errors: Sentry") -----
    # The Secrets Manager id of the hub's Sentry secret ``{prefix}/_apps/<name>`` ({"dsn",
    # "traces_sample_rate"?}); unset = no error reports and sentry_sdk never imported.
    sentry_dsn_secret: str | None = Field(None, alias="SENTRY_DSN_SECRET")
    # The build's version (template parameter HubRelease): Sentry's release.
    hub_release: str = Field("unversioned", alias="HUB_RELEASE")
    # Contract errors (hub.errors) are reported from this level up (hub.errortracking.LEVELS).
    sentry_min_level: Literal["warning", "error", "fatal"] = Field("error", alias="SENTRY_MIN_LEVEL")
    # Seconds Sentry may spend sending what is queued when the process ends; a report made in an
    # API Gateway invocation is flushed within this too (the caller is waiting).
    sentry_shutdown_timeout: float = Field(0.5, alias="SENTRY_SHUTDOWN_TIMEOUT", gt=0, le=10)
    # The flush after a report in any other invocation (queues, schedules, Step Functions).
    sentry_flush_timeout: float = Field(2.0, alias="SENTRY_FLUSH_TIMEOUT", gt=0, le=10)

    # --- product analytics (hub.analytics, docs/observability.md "Analytics sinks"): the orgs'
    # mappings and the per-sink ledger of sent events; a sink's failed events wait on the retry queue.
    analytics_table: str | None = Field(None, alias="ANALYTICS_TABLE")
    analytics_retry_queue_url: str | None = Field(None, alias="ANALYTICS_RETRY_QUEUE_URL")
    # A down sink's events wait this long on the retry queue first (a 429 waits its retry_after).
    analytics_retry_delay_seconds: int = Field(30, alias="ANALYTICS_RETRY_DELAY_SECONDS", ge=0, le=900)

    # --- metrics (hub.metrics, docs/observability.md "Metrics, alarms and dashboard").
    # The Function dimension of the provider metrics: the name Lambda gives this function (set by
    # the Lambda runtime); unset outside Lambda (tests, scripts) = no per-function dimension set.
    function_name: str | None = Field(None, alias="AWS_LAMBDA_FUNCTION_NAME")

    # ----- Event log (hub.eventlog; docs/events.md "Event log") -----
    event_log_table: str | None = Field(None, alias="EVENT_LOG_TABLE")

    # ----- Google Calendar (hub.calendar; docs/calendar.md) -----
    calendar_table: str | None = Field(None, alias="CALENDAR_TABLE")
    # CalendarSync's FIFO queue (one group per org + calendar: one sync at a time).
    calendar_sync_queue_url: str | None = Field(None, alias="CALENDAR_SYNC_QUEUE_URL")
    calendar_conference_state_machine_arn: str | None = Field(None, alias="CALENDAR_CONFERENCE_STATE_MACHINE_ARN")
    # A pending Meet link is asked about this often, this many times, then reported failed.
    calendar_conference_poll_seconds: int = Field(2, alias="CALENDAR_CONFERENCE_POLL_SECONDS", ge=1, le=300)
    calendar_conference_max_polls: int = Field(30, alias="CALENDAR_CONFERENCE_MAX_POLLS", ge=1, le=500)
    # Push channels: the lifetime asked of Google (it may grant less; events.watch allows up to
    # 30 days, 7 by default), and how long before expiration the hourly schedule renews them.
    calendar_channel_ttl_seconds: int = Field(7 * 86400, alias="CALENDAR_CHANNEL_TTL_SECONDS", ge=3600, le=30 * 86400)
    calendar_renew_before_seconds: int = Field(
        24 * 3600, alias="CALENDAR_RENEW_BEFORE_SECONDS", ge=2 * 3600, le=7 * 86400
    )

    # ----- operator console (hub.console; docs/console.md) -----
    # Login tokens, sessions and replay jobs; the queue the replay jobs run from.
    console_table: str | None = Field(None, alias="CONSOLE_TABLE")
    console_jobs_queue_url: str | None = Field(None, alias="CONSOLE_JOBS_QUEUE_URL")
    # Set ONLY by localcloud (never in template.yaml): one-time token login instead of Cognito.
    console_local_login: bool = Field(False, alias="CONSOLE_LOCAL_LOGIN")
    # JSON {"<DLQ logical id>": "<queue URL>", ...}: the queues the console shows and redrives.
    console_dlqs: str | None = Field(None, alias="CONSOLE_DLQS")
    # The Cognito hosted UI the page signs in with (AWS): domain URL, app client id, redirect URI.
    console_cognito_domain: str | None = Field(None, alias="CONSOLE_COGNITO_DOMAIN")
    console_user_pool_id: str | None = Field(None, alias="CONSOLE_USER_POOL_ID")

    def require(self, field: str) -> str:
        """Return a setting that this code path cannot work without, or fail clearly."""
        value = getattr(self, field)
        if not value:
            alias = type(self).model_fields[field].alias or field.upper()
            raise ConfigurationError(f"environment variable {alias} is not set")
        return str(value)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.model_validate(dict(os.environ))
