"""Replicate HTTP API: predictions on official models (image generation with FLUX).

The provider's API facts this module relies on, with their doc links: README.md.
"""

from __future__ import annotations

import math
import re
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from hub.ai.models import GeneratedImage, ImageJob, ImageSize
from hub.config import get_settings
from hub.errors import HubError, InvalidRequestError, ProviderUnavailableError, RateLimitedError
from hub.observability import logger
from hub.providers.base.client import ProviderClient, ProviderCredentials, parse_retry_after
from hub.runtime import remaining_seconds

PredictionStatus = Literal["starting", "processing", "succeeded", "failed", "canceled"]

MAX_WAIT_SECONDS = 60  # the API's upper bound for Prefer: wait=n
# Time kept back from the Lambda's remaining time when choosing n: download the image and answer.
WAIT_MARGIN_SECONDS = 5.0
DEFAULT_IMAGE_MODEL = "black-forest-labs/flux-schnell"
# ImageGenerate's sizes as FLUX aspect ratios (https://replicate.com/black-forest-labs/flux-schnell/api/schema).
ASPECT_RATIOS: dict[str, str] = {"1024x1024": "1:1", "1536x1024": "3:2", "1024x1536": "2:3"}
MAX_IMAGE_BYTES = 20 * 1024 * 1024

_MODEL_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,99}$")
_PREDICTION_ID = re.compile(r"^[A-Za-z0-9]{1,64}$")
_ERROR_CODE = re.compile(r"\bE(\d{4})\b")
# "Request was throttled. Your rate limit resets in ~30s." / "... Expected available in 2 seconds."
_THROTTLE_SECONDS = re.compile(r"(?:resets in|available in)\s*~?\s*(\d+(?:\.\d+)?)\s*s", re.IGNORECASE)

# Documented prediction error codes that are the platform's fault, not the input's
# (https://replicate.com/docs/reference/error-codes): E1000 unknown/transient error ("try
# retrying"), E6716 timeout starting the prediction (system load). Any other E#### code
# is a platform code too and is treated the same way, except these input-related ones:
# E1001 model out of memory ("reduce the size of your input"), E4875 webhook URL empty.
_INPUT_ERROR_CODES = frozenset({"E1001", "E4875"})
_IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}


class ReplicateCredentials(ProviderCredentials):
    api_token: SecretStr = Field(min_length=1)


class PredictionUrls(BaseModel):
    model_config = ConfigDict(extra="ignore")

    get: str | None = None
    cancel: str | None = None
    stream: str | None = None
    web: str | None = None


class Prediction(BaseModel):
    """The prediction object (https://replicate.com/docs/reference/http#predictions.get)."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1)
    model: str | None = None
    version: str | None = None
    status: PredictionStatus
    output: Any = None
    error: Any = None
    created_at: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    metrics: dict[str, Any] | None = None
    urls: PredictionUrls = Field(default_factory=PredictionUrls)

    @property
    def is_pending(self) -> bool:
        return self.status in ("starting", "processing")

    @property
    def error_code(self) -> str | None:
        """The documented ``E####`` code in ``error``, if any."""
        match = _ERROR_CODE.search(str(self.error or ""))
        return f"E{match.group(1)}" if match else None

    def output_urls(self) -> list[str]:
        """File URLs in ``output``: a URL string (flux-1.1-pro) or a list of them (flux-schnell)."""
        items = self.output if isinstance(self.output, list) else [self.output]
        return [item for item in items if isinstance(item, str) and item.startswith(("https://", "http://"))]


def prediction_failure(prediction: Prediction, *, provider: str = "replicate") -> HubError:
    """The error for a failed or canceled prediction.

    ``failed`` with no documented platform code means the model itself raised on this
    input (bad input, safety checker, ...): retrying the same input fails again, so
    InvalidRequestError. ``failed`` with a platform code (E1000 unknown, E6716 timeout
    starting, or any undocumented one) is Replicate's side: ProviderUnavailableError, which
    Step Functions retries and which triggers fallback. E1001 (out of memory: "reduce the
    size of your input") and E4875 (webhook URL empty) are the input's fault. ``canceled``
    is never requested by the hub, so it is treated as the platform giving up.
    """
    code = prediction.error_code
    common: dict[str, Any] = {"provider": provider, "request_id": prediction.id}
    if prediction.status == "canceled":
        return ProviderUnavailableError(
            f"replicate prediction {prediction.id} was canceled", code="prediction_canceled", **common
        )
    message = f"replicate prediction {prediction.id} failed" + (f" ({code})" if code else "")
    if code is None or code in _INPUT_ERROR_CODES:
        return InvalidRequestError(message, code=code or "prediction_failed", **common)
    return ProviderUnavailableError(message, code=code, **common)


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class ReplicateClient(ProviderClient):
    provider: ClassVar[str] = "replicate"
    credentials_model: ClassVar[type[ProviderCredentials]] = ReplicateCredentials
    # Replicate has no idempotency header: a retried POST creates (and bills) a second
    # prediction. create_prediction is therefore sent once, never retried here; callers
    # retry from Step Functions after checking for an existing prediction id.
    idempotency_header: ClassVar[str | None] = None

    credentials: ReplicateCredentials

    def auth_headers(self) -> dict[str, str]:
        # https://replicate.com/docs/reference/http ("Authentication": Bearer token).
        return {"Authorization": f"Bearer {self.credentials.api_token.get_secret_value()}"}

    # ----- errors ---------------------------------------------------------------------

    def error_details(self, response: httpx.Response) -> tuple[str, str | None]:
        # Errors are problem details (RFC 7807): {"title", "detail", "status"}; the 429 body
        # has only "detail" (https://replicate.com/docs/topics/predictions/rate-limits).
        problem = _problem(response)
        detail, title = problem.get("detail"), problem.get("title")
        if not isinstance(detail, str) and not isinstance(title, str):
            return super().error_details(response)
        message = str(detail or title)[:300]
        code = re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_") if isinstance(title, str) else None
        return (message, code or None)

    def classify(self, response: httpx.Response) -> HubError | None:
        error = super().classify(response)
        if isinstance(error, RateLimitedError) and "retry-after" not in response.headers:
            # No Retry-After header: the wait is in the detail text ("resets in ~30s").
            match = _THROTTLE_SECONDS.search(str(_problem(response).get("detail") or ""))
            error.retry_after = float(match.group(1)) if match else parse_retry_after(None)
        return error

    # ----- predictions ------------------------------------------------------------------

    def effective_wait(self, wait_seconds: int | None) -> int | None:
        """n for ``Prefer: wait=n``: at most 60 and never past the Lambda's remaining time
        minus a margin. None = do not wait (async prediction)."""
        if wait_seconds is None or wait_seconds <= 0:
            return None
        wait = min(int(wait_seconds), MAX_WAIT_SECONDS)
        remaining = remaining_seconds()
        if remaining is not None:
            budget = remaining - WAIT_MARGIN_SECONDS - get_settings().retry_safety_margin
            wait = min(wait, math.floor(budget))
        return wait if wait >= 1 else None

    def create_prediction(self, model: str, input: dict[str, Any], *, wait_seconds: int | None) -> Prediction:
        """POST /models/{owner}/{name}/predictions for an official model
        (https://replicate.com/docs/reference/http#models.predictions.create)."""
        owner, name = _split_model(model)
        wait = self.effective_wait(wait_seconds)
        headers = {"Prefer": f"wait={wait}"} if wait else {}
        timeout = (wait or 0) + get_settings().http_read_timeout
        # Sent once (see idempotency_header): a timeout here may still have created the prediction.
        response = self.request(
            "POST",
            f"/models/{owner}/{name}/predictions",
            json={"input": input},
            headers=headers,
            timeout=timeout,
            operation="create_prediction",
            attempts=1,
        )
        prediction = Prediction.model_validate(response.json())
        self._log_prediction("create", prediction, wait)
        return prediction

    def get_prediction(self, prediction_id: str) -> Prediction:
        """GET /predictions/{id} (https://replicate.com/docs/reference/http#predictions.get)."""
        if not _PREDICTION_ID.match(prediction_id):
            raise InvalidRequestError(f"invalid prediction id {prediction_id!r}", provider=self.provider)
        response = self.request("GET", f"/predictions/{prediction_id}", operation="get_prediction")
        prediction = Prediction.model_validate(response.json())
        self._log_prediction("get", prediction, None)
        return prediction

    def generate_image(
        self, prompt: str, model: str = DEFAULT_IMAGE_MODEL, aspect_ratio: str = "1:1"
    ) -> GeneratedImage | Prediction:
        """Run a FLUX model; the image if it finished within the wait, else the pending
        Prediction for the caller's Step Functions Wait/poll loop."""
        # PNG, not the model default webp: WhatsApp and most e-mail clients do not show webp.
        model_input = {"prompt": prompt, "aspect_ratio": aspect_ratio, "output_format": "png"}
        prediction = self.create_prediction(model, model_input, wait_seconds=MAX_WAIT_SECONDS)
        return self.image_from_prediction(prediction, model=model)

    # ----- the ImageGenerator port ------------------------------------------------------------

    def create_image(self, prompt: str, model: str, *, size: ImageSize) -> GeneratedImage | ImageJob:
        """The image if the prediction finished within the wait, else the job to poll."""
        return self._as_job(self.generate_image(prompt, model, aspect_ratio=ASPECT_RATIOS[size]), model)

    def poll_image(self, job_id: str, *, model: str) -> GeneratedImage | ImageJob:
        return self._as_job(self.image_from_prediction(self.get_prediction(job_id), model=model), model)

    def _as_job(self, outcome: GeneratedImage | Prediction, model: str) -> GeneratedImage | ImageJob:
        if isinstance(outcome, Prediction):
            return ImageJob(provider=self.provider, model=model, job_id=outcome.id)
        return outcome

    def image_from_prediction(self, prediction: Prediction, *, model: str | None = None) -> GeneratedImage | Prediction:
        """Succeeded -> the first output file's bytes; pending -> the prediction itself;
        failed/canceled -> the error (see :func:`prediction_failure`). Never waits."""
        if prediction.is_pending:
            return prediction
        if prediction.status != "succeeded":
            raise prediction_failure(prediction, provider=self.provider)
        urls = prediction.output_urls()
        if not urls:
            raise ProviderUnavailableError(
                f"replicate prediction {prediction.id} succeeded without an output file",
                provider=self.provider,
                request_id=prediction.id,
            )
        data, mime_type = self.download(urls[0])
        served = model or prediction.model or "unknown"
        return GeneratedImage(provider=self.provider, model=served, mime_type=mime_type, data=data)

    def download(self, url: str) -> tuple[bytes, str]:
        """GET an output file through the shared client. Authorization is sent only to the API's
        own host (api.replicate.com/v1/files/...); replicate.delivery URLs are pre-signed."""
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise ProviderUnavailableError("replicate returned an invalid output URL", provider=self.provider)
        headers = self.auth_headers() if parts.netloc == urlsplit(self.base_url).netloc else {}
        settings = get_settings()
        read = settings.http_read_timeout
        remaining = remaining_seconds()
        if remaining is not None:
            read = max(0.1, min(read, remaining - settings.retry_safety_margin))
        try:
            response = self.http.get(
                url,
                headers=headers,
                follow_redirects=True,  # httpx drops Authorization when a redirect changes host
                timeout=httpx.Timeout(
                    connect=min(settings.http_connect_timeout, read), read=read, write=read, pool=read
                ),
            )
        except httpx.TransportError as exc:  # includes timeouts
            raise ProviderUnavailableError(
                f"replicate output download failed ({type(exc).__name__})", provider=self.provider
            ) from exc
        logger.info(
            "replicate_download",
            extra={
                "provider": self.provider,
                "host": parts.netloc,
                "status": response.status_code,
                "bytes": len(response.content),
            },
        )
        if response.status_code >= 500:
            raise ProviderUnavailableError(
                f"replicate output download answered {response.status_code}", provider=self.provider
            )
        if response.status_code >= 400:
            # Output files are deleted an hour after the prediction: regenerate, don't retry.
            raise InvalidRequestError(
                f"replicate output download answered {response.status_code}",
                provider=self.provider,
                http_status=response.status_code,
                code="output_unavailable",
            )
        if len(response.content) > MAX_IMAGE_BYTES:
            raise InvalidRequestError(
                "replicate output file is too large", provider=self.provider, code="output_too_large"
            )
        mime_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if not mime_type.startswith("image/"):
            suffix = "." + parts.path.rsplit(".", 1)[-1].lower() if "." in parts.path else ""
            mime_type = _IMAGE_TYPES.get(suffix, "image/png")
        return response.content, mime_type

    def health_check(self) -> None:
        """GET /account: the cheapest authenticated call (https://replicate.com/docs/reference/http#account.get)."""
        self.request("GET", "/account", timeout=get_settings().health_check_timeout)

    def _log_prediction(self, action: str, prediction: Prediction, wait: int | None) -> None:
        # Ids, status and sizes only: never the prompt, the output URLs or the error text.
        logger.info(
            "replicate_prediction",
            extra={
                "provider": self.provider,
                "action": action,
                "prediction_id": prediction.id,
                "model": prediction.model,
                "status": prediction.status,
                "error_code": prediction.error_code,
                "outputs": len(prediction.output_urls()),
                "prefer_wait": wait,
            },
        )


def _split_model(model: str) -> tuple[str, str]:
    owner, _, name = model.partition("/")
    if not (_MODEL_PART.match(owner) and _MODEL_PART.match(name)):
        raise InvalidRequestError(
            f"replicate model must be 'owner/name', got {model!r}", provider="replicate", code="invalid_model"
        )
    return owner, name
