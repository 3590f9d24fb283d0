"""The ImageGenerator port: ImageGenerate no longer asks whether it holds OpenAI or Replicate."""

from __future__ import annotations

import json

import httpx
import pytest
from pydantic import SecretStr

from hub.ai.models import GeneratedImage, ImageJob
from hub.errors import InvalidRequestError
from hub.providers import ports
from hub.providers.openai.client import OpenAIClient, OpenAICredentials
from hub.providers.replicate.client import ReplicateClient, ReplicateCredentials
from hub.retry import RetryPolicy
from tests.helpers import recording

NO_RETRY = RetryPolicy(max_attempts=1, sleep=lambda _: None)


def replicate(handler: httpx.MockTransport) -> ports.ImageGenerator:
    return ReplicateClient(
        ReplicateCredentials(api_token=SecretStr("r8_test")),
        http=httpx.Client(transport=handler),
        retry_policy=NO_RETRY,
    )


def test_a_prediction_still_running_comes_back_as_a_job_to_poll() -> None:
    # Given Replicate answering the create with a prediction still processing
    seen, handler = recording(
        httpx.Response(201, json={"id": "p1abc", "status": "processing", "model": "black-forest-labs/flux-schnell"})
    )

    # When an image is asked for through the port, in ImageGenerate's size
    outcome = replicate(httpx.MockTransport(handler)).create_image(
        "a cat", "black-forest-labs/flux-schnell", size="1536x1024"
    )

    # Then the job is answered (never waited for) and the size went as FLUX's aspect ratio
    assert outcome == ImageJob(provider="replicate", model="black-forest-labs/flux-schnell", job_id="p1abc")
    assert json.loads(seen[0].content)["input"]["aspect_ratio"] == "3:2"


def test_polling_a_finished_job_answers_the_image() -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "replicate.delivery":
            return httpx.Response(200, content=png, headers={"content-type": "image/png"})
        output = ["https://replicate.delivery/xezq/abc/out-0.png"]
        return httpx.Response(200, json={"id": "p1abc", "status": "succeeded", "output": output})

    image = replicate(httpx.MockTransport(handler)).poll_image("p1abc", model="black-forest-labs/flux-schnell")
    assert isinstance(image, GeneratedImage) and image.data == png and image.provider == "replicate"


def test_openai_answers_at_once_and_has_no_job_to_poll() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("nothing is sent")

    openai: ports.ImageGenerator = OpenAIClient(
        OpenAICredentials(api_key=SecretStr("sk-test")),
        http=httpx.Client(transport=httpx.MockTransport(handler)),
        retry_policy=NO_RETRY,
    )
    with pytest.raises(InvalidRequestError) as info:
        openai.poll_image("p1abc", model="gpt-image-1")
    assert info.value.code == "no_job"
