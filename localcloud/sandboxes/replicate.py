"""Replicate HTTP API sandbox, mounted at ``/replicate`` (API under ``/replicate/v1``).

Shapes follow https://replicate.com/docs/reference/http (prediction object, ``Prefer: wait``),
https://replicate.com/docs/topics/predictions/rate-limits (429 body) and the FLUX model pages
(https://replicate.com/black-forest-labs/flux-schnell: ``output`` is a list of file URLs).

Implemented endpoints (``Authorization: Bearer <demo token>``; errors are problem details
``{"title", "detail", "status"}``):

* ``POST /v1/models/{owner}/{name}/predictions`` with ``{"input": {"prompt", "aspect_ratio"?,
  "output_format"?}}`` -> 201. With ``Prefer: wait`` / ``wait=n`` the prediction comes back
  ``succeeded`` at once with its output; without it, ``starting``.
* ``GET /v1/predictions/{id}`` -> the prediction; one still ``starting`` reaches ``succeeded``.
* ``GET /v1/account`` -> the demo organisation.
* ``GET /delivery/{id}/out-0.png`` -> the output file, a tiny valid PNG (stands in for
  ``replicate.delivery``, which needs no Authorization header).

Trigger words in the prompt:

* ``SLOWJOB`` -> created ``starting`` even with ``Prefer: wait``; the next two GETs answer
  ``processing``, the third ``succeeded``.
* ``FAILJOB`` -> ``failed`` with a model error (no ``E####`` code: the input's fault).

The shared ``rate_limited`` fault answers 429 ``{"detail": "Request was throttled. Your rate
limit resets in ~Ns."}`` with N = the fault's ``retry_after`` (and the ``Retry-After`` header).

Not emulated: community models/versions, deployments, webhooks, streaming, cancel, files API,
real image rendering (every output is the same 8x8 PNG whatever ``output_format``).
"""

from __future__ import annotations

import binascii
import hashlib
import json
import struct
import threading
import zlib
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from localcloud.sandboxes.base import DemoSecret, Sandbox, json_response, reason

PROBLEM_JSON = "application/problem+json"

# Official FLUX models on Replicate and the shape of their output (list of URLs or one URL).
MODELS: dict[str, str] = {
    "black-forest-labs/flux-schnell": "list",
    "black-forest-labs/flux-dev": "list",
    "black-forest-labs/flux-1.1-pro": "single",
    "black-forest-labs/flux-2-pro": "single",
}
ASPECT_RATIOS = ("1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21")
OUTPUT_FORMATS = ("webp", "jpg", "png")
SLOW_WORD = "SLOWJOB"
FAIL_WORD = "FAILJOB"
SLOW_PROCESSING_POLLS = 2
DEFAULT_RETRY_AFTER = 3


DEMO_API_TOKEN = "demo-replicate-token"


def tiny_png(size: int = 8, rgb: tuple[int, int, int] = (99, 102, 241)) -> bytes:
    """A valid size x size RGB PNG, built by hand (signature, IHDR, IDAT, IEND)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", binascii.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" + bytes(rgb) * size  # filter type 0, then the pixels
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(row * size)) + chunk(b"IEND", b"")
    )


PNG_BYTES = tiny_png()


def problem(status: int, detail: str, title: str | None = None, **extra: Any) -> Response:
    body = {"title": title or reason(status), "detail": detail, "status": status, **extra}
    return Response(json.dumps(body), status=status, content_type=PROBLEM_JSON)


class _ThrottledResponse(Response):
    """429 whose detail states the same wait as the ``Retry-After`` header the shared
    ``rate_limited`` fault sets after the body is chosen (rendered at send time)."""

    def __call__(self, environ: Any, start_response: Any) -> Any:
        raw = self.headers.get("Retry-After")
        delay = int(raw) if raw and raw.isdigit() else DEFAULT_RETRY_AFTER
        self.set_data(json.dumps({"detail": f"Request was throttled. Your rate limit resets in ~{delay}s."}))
        return super().__call__(environ, start_response)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class ReplicateSandbox(Sandbox):
    provider = "replicate"

    def __init__(self, api_token: str = DEMO_API_TOKEN) -> None:
        super().__init__()
        self.api_token = api_token
        self.predictions: dict[str, dict[str, Any]] = {}
        # prediction id -> GETs still to answer "processing" before it succeeds
        self._pending_polls: dict[str, int] = {}
        self._counter = 0
        self._ids = threading.Lock()
        self.route("/v1/models/<owner>/<name>/predictions", ["POST"], self.create_prediction)
        self.route("/v1/predictions/<prediction_id>", ["GET"], self.get_prediction)
        self.route("/v1/account", ["GET"], self.account)
        self.route("/delivery/<prediction_id>/<filename>", ["GET"], self.delivery)

    # -- error shapes ------------------------------------------------------ #

    def error_response(self, status: int, message: str | None = None) -> Response:
        if status == 429:
            return _ThrottledResponse(status=429, content_type="application/json")
        return problem(status, message or reason(status))

    def not_found(self, request: Request, subpath: str) -> Response:
        return problem(404, "The requested resource could not be found.", title="Not found")

    def reset(self) -> None:
        with self.lock:
            self.predictions.clear()
            self._pending_polls.clear()

    # -- guards ------------------------------------------------------------ #

    def _guard(self, request: Request) -> Response | None:
        scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
        if scheme not in ("Bearer", "Token") or token != self.api_token:
            return problem(401, "You did not pass a valid authentication token", title="Unauthenticated")
        return None

    # -- helpers ----------------------------------------------------------- #

    def _new_id(self, seed: str) -> str:
        with self._ids:
            self._counter += 1
            counter = self._counter
        digest = hashlib.sha256(f"{seed}:{counter}".encode()).hexdigest()
        # Replicate ids are 26 lowercase base32-like characters.
        return "".join("abcdefghijklmnopqrstuvwxyz234567"[int(c, 16) * 2 % 32] for c in digest[:26])

    def _succeed(self, prediction: dict[str, Any], host_url: str) -> None:
        url = f"{host_url}replicate/delivery/{prediction['id']}/out-0.png"
        prediction["output"] = [url] if MODELS[prediction["model"]] == "list" else url
        prediction["status"] = "succeeded"
        prediction["started_at"] = prediction["started_at"] or _now()
        prediction["completed_at"] = _now()
        prediction["logs"] = "Using seed: 1234\nrunning prediction\n100%|██████████| 4/4\n"
        prediction["metrics"] = {"image_count": 1, "predict_time": 0.6, "total_time": 0.7}

    # -- endpoints --------------------------------------------------------- #

    def account(self, request: Request) -> Response:
        denied = self._guard(request)
        if denied is not None:
            return denied
        return json_response(
            {
                "type": "organization",
                "username": "demo-agency",
                "name": "Demo Agency",
                "github_url": "https://github.com/demo-agency",
            }
        )

    def create_prediction(self, request: Request, owner: str, name: str) -> Response:
        denied = self._guard(request)
        if denied is not None:
            return denied
        model = f"{owner}/{name}"
        if model not in MODELS:
            return problem(404, "The requested resource could not be found.", title="Not found")
        body = request.get_json(silent=True)
        invalid: list[dict[str, str]] = []
        model_input = body.get("input") if isinstance(body, dict) else None
        if not isinstance(model_input, dict):
            invalid.append({"type": "required", "field": "input", "description": "input is required"})
            model_input = {}
        elif not isinstance(model_input.get("prompt"), str) or not model_input["prompt"].strip():
            invalid.append({"type": "required", "field": "input.prompt", "description": "prompt is required"})
        aspect_ratio = model_input.get("aspect_ratio", "1:1")
        if aspect_ratio not in ASPECT_RATIOS:
            invalid.append(
                {
                    "type": "enum",
                    "field": "input.aspect_ratio",
                    "description": f"aspect_ratio must be one of the following: {', '.join(ASPECT_RATIOS)}",
                }
            )
        if model_input.get("output_format", "webp") not in OUTPUT_FORMATS:
            invalid.append(
                {
                    "type": "enum",
                    "field": "input.output_format",
                    "description": "output_format must be one of the following: webp, jpg, png",
                }
            )
        if invalid:
            detail = "\n".join(f"- {item['field']}: {item['description']}" for item in invalid)
            return problem(422, detail, title="Input validation failed", invalid_fields=invalid)

        prompt = str(model_input["prompt"])
        prediction_id = self._new_id(f"{model}:{prompt}")
        base = f"{request.host_url}replicate/v1/predictions/{prediction_id}"
        prediction: dict[str, Any] = {
            "id": prediction_id,
            "model": model,
            "version": "hidden",
            "input": model_input,
            "logs": "",
            "output": None,
            "data_removed": False,
            "error": None,
            "source": "api",
            "status": "starting",
            "created_at": _now(),
            "started_at": None,
            "completed_at": None,
            "urls": {
                "cancel": f"{base}/cancel",
                "get": base,
                "stream": f"{request.host_url}replicate/stream/{prediction_id}",
                "web": f"https://replicate.com/p/{prediction_id}",
            },
        }
        # RFC 7240: an unrecognised preference is ignored, as Replicate does with a bad value.
        prefer = (request.headers.get("Prefer") or "").strip()
        waits = prefer == "wait" or prefer.startswith("wait=")
        if FAIL_WORD in prompt:
            prediction.update(status="failed", started_at=_now(), completed_at=_now())
            prediction["error"] = "Prediction failed: the safety checker flagged the generated image."
            prediction["metrics"] = {"predict_time": 0.4, "total_time": 0.5}
        elif SLOW_WORD in prompt:
            with self.lock:
                self._pending_polls[prediction_id] = SLOW_PROCESSING_POLLS
        elif waits:
            self._succeed(prediction, request.host_url)
        with self.lock:
            self.predictions[prediction_id] = prediction
        return json_response(dict(prediction), 201)

    def get_prediction(self, request: Request, prediction_id: str) -> Response:
        denied = self._guard(request)
        if denied is not None:
            return denied
        with self.lock:
            prediction = self.predictions.get(prediction_id)
            if prediction is None:
                return problem(404, "The requested resource could not be found.", title="Not found")
            if prediction["status"] in ("starting", "processing"):
                polls = self._pending_polls.get(prediction_id, 0)
                if polls > 0:
                    self._pending_polls[prediction_id] = polls - 1
                    prediction["status"] = "processing"
                    prediction["started_at"] = prediction["started_at"] or _now()
                    prediction["logs"] = "running prediction\n"
                else:
                    self._pending_polls.pop(prediction_id, None)
                    self._succeed(prediction, request.host_url)
            return json_response(dict(prediction))

    def delivery(self, request: Request, prediction_id: str, filename: str) -> Response:
        with self.lock:
            prediction = self.predictions.get(prediction_id)
        if prediction is None or prediction["status"] != "succeeded" or filename != "out-0.png":
            return Response("Not Found", status=404, content_type="text/plain")
        return Response(PNG_BYTES, status=200, content_type="image/png")


# Self-registration: the local cloud serves SANDBOX at /replicate and seeds DEMO_SECRETS.
SANDBOX = ReplicateSandbox
DEMO_SECRETS = (
    # The sandbox mounts the API under /replicate/v1, as api.replicate.com serves it under /v1.
    DemoSecret("replicate", lambda base_url: {"base_url": f"{base_url}/v1", "api_token": DEMO_API_TOKEN}),
)
