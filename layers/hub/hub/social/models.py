"""What SocialPublish takes and what the networks' adapters take and answer.

Every adapter implements ``ports.SocialPublisher`` in the same four steps the publish workflow
drives (docs/social.md, "States"): ``prepare_post`` (upload media, create containers),
``poll_post`` (media still processing at the network), ``publish_post`` (the one irreversible
call) and ``find_post`` (after an unknown outcome: is the post there?). State the network hands
back between steps (container ids, an upload session) travels in ``PublishStep.job``, a small
JSON object the hub stores with the publication.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, model_validator

from hub.requests import IdempotencyKey, OperationRequest, OrgId
from hub.urls import PublicHttpsUrl

Network = Literal["linkedin", "instagram", "facebook", "youtube"]
NETWORKS: tuple[Network, ...] = ("linkedin", "instagram", "facebook", "youtube")
MediaType = Literal["image", "video"]
# feed: a normal post; story: Instagram/Facebook stories; reel: Instagram/Facebook reels.
PostFormat = Literal["feed", "story", "reel"]
Visibility = Literal["public", "unlisted", "private"]
PublicationStatus = Literal["scheduled", "publishing", "unconfirmed", "published", "needs_manual", "cancelled"]
FINAL_STATUSES: frozenset[str] = frozenset({"published", "needs_manual", "cancelled"})
# Why a post went to the manual queue (the seed's "agendamento manual via buffer interno").
ManualReason = Literal[
    "reauth_required",  # the network refused the org's token: connect it again
    "content_rejected",  # the network refused the post itself (format, size, policy)
    "network_unavailable",  # down past the retry budget
    "processing_failed",  # the network could not process the media (container ERROR)
    "processing_timeout",  # media still processing past the network's polling window
    "unconfirmed",  # sent, no answer, and not found afterwards: check the network by hand
    "rate_limited",  # delayed too many times (quota)
    "internal_error",  # the hub failed: see attempts
]

# A media object key in our buckets: always under the org's prefix (checked against the org).
S3Key = Annotated[str, Strict(), Field(min_length=3, max_length=1024, pattern=r"^[A-Za-z0-9!_.*'()/ -]+$")]
# The network's own account id: a LinkedIn URN (urn:li:organization:123 / urn:li:person:abc),
# an Instagram user id, a Facebook page id, a YouTube channel id.
AccountId = Annotated[str, Strict(), Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9:_.-]+$")]
PublicationId = Annotated[str, Strict(), Field(pattern=r"^pub_[0-9a-f]{32}$")]


class MediaItem(BaseModel):
    """One image or video: an object of ours (``s3_key``, under the org's prefix in the
    media-uploads or generated-content bucket) or a public https ``url``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    s3_key: S3Key | None = None
    url: PublicHttpsUrl | None = None
    type: MediaType
    alt_text: str | None = Field(None, max_length=1000)

    @model_validator(mode="after")
    def _one_source(self) -> MediaItem:
        if (self.s3_key is None) == (self.url is None):
            raise ValueError("give exactly one of s3_key or url")
        if self.s3_key is not None and (".." in self.s3_key.split("/") or self.s3_key.startswith("/")):
            raise ValueError("s3_key must be a plain key under the org's prefix")
        return self


class SocialContent(BaseModel):
    """What is posted. Each network checks its own limits (``SocialPublisher.check_post``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field("", max_length=63_206)  # Facebook's limit, the largest; networks check theirs
    media: tuple[MediaItem, ...] = Field((), max_length=20)
    link: PublicHttpsUrl | None = None
    # YouTube: the video's title (required there); LinkedIn: the video's or the article card's title.
    title: str | None = Field(None, min_length=1, max_length=100)
    format: PostFormat = "feed"
    # YouTube privacy; LinkedIn "public" = PUBLIC, "private" = CONNECTIONS. Others: public.
    visibility: Visibility = "public"


class SocialPublishRequest(OperationRequest):
    org_id: OrgId
    network: Network
    account: AccountId
    content: SocialContent
    # When to publish (aware, ISO 8601); absent or past: now. At most SOCIAL_MAX_SCHEDULE_DAYS ahead.
    publish_at: datetime | None = None
    idempotency_key: IdempotencyKey

    @model_validator(mode="after")
    def _aware(self) -> SocialPublishRequest:
        if self.publish_at is not None and self.publish_at.tzinfo is None:
            raise ValueError("publish_at must carry its time zone (e.g. 2026-12-24T09:00:00-03:00)")
        return self


class PublicationRef(OperationRequest):
    org_id: OrgId
    publication_id: PublicationId


class PublicationListRequest(OperationRequest):
    org_id: OrgId
    # The manual queue by default (the seed's "buffer interno").
    status: PublicationStatus = "needs_manual"
    limit: int = Field(50, ge=1, le=200, strict=True)


class ResolvedMedia(BaseModel):
    """A media item as an adapter gets it: ``url`` is always fetchable by the network (a
    presigned GET of our object, or the caller's public URL); ``bucket``/``key`` are set for
    our objects, which :mod:`hub.social.media` reads by byte range (LinkedIn and YouTube
    uploads). ``size`` and ``content_type`` come from the object's metadata (None for URLs)."""

    model_config = ConfigDict(frozen=True)

    type: MediaType
    url: str
    alt_text: str | None = None
    bucket: str | None = None
    key: str | None = None
    size: int | None = None
    content_type: str | None = None


class SocialPost(BaseModel):
    """What an adapter publishes: the content with its media resolved."""

    model_config = ConfigDict(frozen=True)

    org_id: str
    publication_id: str
    account: str
    text: str
    media: tuple[ResolvedMedia, ...] = ()
    link: str | None = None
    title: str | None = None
    format: PostFormat = "feed"
    visibility: Visibility = "public"


class PublishStep(BaseModel):
    """An adapter's answer to prepare/poll: ``ready`` to publish, or ``pending`` (media still
    processing: the workflow waits ``poll_after_seconds`` — at least SOCIAL_POLL_SECONDS — in a
    Step Functions Wait state and calls ``poll_post`` with ``job``)."""

    status: Literal["ready", "pending"]
    job: dict[str, Any] = Field(default_factory=dict)
    # The adapter's own cadence (YouTube: 0, the next chunk at once); None: SOCIAL_POLL_SECONDS.
    poll_after_seconds: int | None = Field(None, ge=0)
    # How long the network may be polled in all (Instagram: 5 minutes); None: SOCIAL_POLL_MAX_SECONDS.
    max_poll_seconds: int | None = Field(None, ge=1)


class PublishedPost(BaseModel):
    """The network's post: its id (a LinkedIn URN, an Instagram media id, a Facebook
    ``{page}_{post}`` id, a YouTube video id), its public URL when the network gives one, and
    what the org should know (``warnings``: e.g. YouTube keeps videos of unaudited projects
    private)."""

    post_id: str
    url: str | None = None
    published_at: datetime | None = None
    visibility: str | None = None
    warnings: list[str] = Field(default_factory=list)


class SocialAccount(BaseModel):
    """An account an org's integration can publish to and read (a LinkedIn organization or
    member, an Instagram professional account, a Facebook page, a YouTube channel)."""

    account: str
    name: str | None = None
    kind: str | None = None  # organization | member | page | business | channel


Metrics = dict[str, int | float]


class DayMetrics(BaseModel):
    """One day's account-level metrics (the network's own metric names, e.g. Instagram
    ``views``, Facebook ``page_total_media_view_unique``)."""

    day: date
    metrics: Metrics


class PostMetrics(BaseModel):
    """A post's lifetime metrics as read now."""

    post_id: str
    metrics: Metrics
