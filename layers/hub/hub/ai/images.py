"""ImageGenerate's logic: GPT Image or Flux, stored in our bucket, answered with our URL.

The provider's own URLs expire (Replicate deletes outputs after an hour); callers get the
object key in the ``generated-content`` bucket and a presigned URL. A Replicate prediction
that has not finished within the function's time is returned as ``pending`` for the
state machine's Wait/poll loop — never sleep-polled in a Lambda.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from hub.ai.catalog import model_info
from hub.ai.models import GeneratedImage, ImageJob, ImageSize
from hub.ai.spend import check_budget, record_spend
from hub.config import get_settings
from hub.credentials import validate_org_id
from hub.errors import InvalidRequestError
from hub.observability import logger
from hub.providers import ports
from hub.requests import IdempotencyKey, OperationRequest, OrgId
from hub.storage import ObjectStorage

DEFAULT_MODELS = {"openai": "gpt-image-2.6-flare", "replicate": "black-forest-labs/flux-schnell"}
URL_SECONDS = 3600


class ImageRequest(OperationRequest):
    org_id: OrgId
    # GPT Image takes prompts up to 32,000 characters
    # (https://platform.openai.com/docs/api-reference/images/create#images-create-prompt).
    prompt: str | None = Field(None, min_length=1, max_length=32_000)
    provider: Literal["openai", "replicate"] = "openai"
    model: str | None = Field(None, max_length=200)
    size: ImageSize = "1024x1024"
    # Poll mode (state machine): the pending Replicate prediction to look at again.
    prediction_id: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]{1,100}$")
    idempotency_key: IdempotencyKey | None = None

    @model_validator(mode="after")
    def _prompt_or_poll(self) -> ImageRequest:
        if self.prediction_id is None and self.prompt is None:
            raise ValueError("prompt is required (or prediction_id to poll a pending prediction)")
        if self.prediction_id is not None and self.provider != "replicate":
            raise ValueError("prediction_id is only for provider replicate")
        return self


class ImageResult(BaseModel):
    status: Literal["succeeded", "pending"]
    provider: str
    model: str
    bucket: str | None = None
    key: str | None = None
    url: str | None = None
    url_expires_in: int | None = None
    prediction_id: str | None = None
    cost_usd: Decimal | None = None


def _store(org_id: str, image: GeneratedImage) -> ImageResult:
    bucket = get_settings().require("generated_content_bucket")
    extension = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}.get(image.mime_type, "bin")
    key = f"{org_id}/images/{datetime.now(UTC):%Y/%m}/{uuid.uuid4().hex}.{extension}"
    storage = ObjectStorage()
    storage.put_bytes(bucket, key, image.data, content_type=image.mime_type, metadata={"provider": image.provider})
    info = model_info(image.model)
    cost = None
    if info is not None:
        cost = info.token_cost_usd(image.usage.input_tokens, image.usage.output_tokens) if image.usage else None
        cost = cost if cost else info.image_usd
    usage = image.usage
    record_spend(
        org_id,
        image.provider,
        image.model,
        input_tokens=usage.input_tokens if usage else 0,
        output_tokens=usage.output_tokens if usage else 0,
        cost_usd=cost,
    )
    logger.info("image_stored", extra={"org_id": org_id, "provider": image.provider, "bytes": len(image.data)})
    return ImageResult(
        status="succeeded",
        provider=image.provider,
        model=image.model,
        bucket=bucket,
        key=key,
        url=storage.presigned_get_url(bucket, key, expires_in=URL_SECONDS),
        url_expires_in=URL_SECONDS,
        cost_usd=cost,
    )


def _pending(job: ImageJob, model: str) -> ImageResult:
    return ImageResult(status="pending", provider=job.provider, model=model, prediction_id=job.job_id)


def generate_image(request: ImageRequest) -> ImageResult:
    validate_org_id(request.org_id)
    if request.prediction_id is None:
        check_budget(request.org_id)
    model = request.model or DEFAULT_MODELS[request.provider]
    generator = ports.for_org(ports.ImageGenerator, request.org_id, request.provider)
    if request.prediction_id is not None:
        outcome = generator.poll_image(request.prediction_id, model=model)
    elif request.prompt is not None:
        outcome = generator.create_image(request.prompt, model, size=request.size)
    else:  # the validator guarantees one of them
        raise InvalidRequestError("prompt or prediction_id is required")
    if isinstance(outcome, ImageJob):
        return _pending(outcome, model)
    return _store(request.org_id, outcome)
