"""SocialPublish → SocialPublishWorkflow's step → SocialPublicationStatus, against moto, with a
scripted network behind the SocialPublisher port. The step is driven here as the state machine
drives it (each answer says how long the Wait state waits); the clock is the tests' own."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hub.errors import (
    AuthenticationError,
    IdempotencyConflictError,
    InvalidRequestError,
    OutcomeUnknownError,
    ProviderUnavailableError,
    RateLimitedError,
)
from hub.social import publications, publish
from hub.social.models import PublishedPost, PublishStep, SocialContent, SocialPost
from tests.aws.conftest import HubAws
from tests.helpers import FakeLambdaContext, load_function

ORG = "demo"
START = datetime(2026, 11, 2, 13, 0, tzinfo=UTC)

Script = list[PublishStep | PublishedPost | Exception | None]


class FakeNetwork:
    """A network whose answers are scripted per step; it records every call."""

    checked: list[SocialContent] = []

    def __init__(self) -> None:
        self.prepare: Script = [PublishStep(status="ready", job={"container": "c1"})]
        self.poll: Script = []
        self.publish: Script = [PublishedPost(post_id="p-1", url="https://network.example/p/1")]
        self.find: Script = []
        self.calls: list[str] = []
        self.posts: list[SocialPost] = []

    @classmethod
    def check_post(cls, content: SocialContent) -> None:
        if len(content.text) > 100:
            raise InvalidRequestError("content.text: at most 100 characters here", code="validation_error")

    def _next(self, name: str, script: Script) -> Any:
        self.calls.append(name)
        answer = script.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def prepare_post(self, post: SocialPost) -> PublishStep:
        self.posts.append(post)
        step: PublishStep = self._next("prepare", self.prepare)
        return step

    def poll_post(self, post: SocialPost, job: dict[str, Any]) -> PublishStep:
        assert job == {"container": "c1"}
        step: PublishStep = self._next("poll", self.poll)
        return step

    def publish_post(self, post: SocialPost, job: dict[str, Any]) -> PublishedPost:
        published: PublishedPost = self._next("publish", self.publish)
        return published

    def find_post(self, post: SocialPost, job: dict[str, Any], *, since: datetime) -> PublishedPost | None:
        found: PublishedPost | None = self._next("find", self.find)
        return found


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def network(hub_aws: HubAws, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeNetwork]:
    fake = FakeNetwork()
    monkeypatch.setattr(publish, "publisher_class", lambda network: FakeNetwork)
    monkeypatch.setattr(publish, "publisher", lambda org_id, network: fake)
    # The tests drive the steps themselves: no execution runs them in the background.
    monkeypatch.setattr(publish, "_start_execution", lambda pub: None)
    yield fake


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(publications, "now", fake)
    monkeypatch.setattr(publish, "now", fake)
    return fake


def request(key: str = "post-1", **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "org_id": ORG,
        "network": "instagram",
        "account": "17841400000000001",
        "content": {
            "text": "Bastidores #produtora",
            "media": [{"url": "https://cdn.example.com/a.jpg", "type": "image"}],
        },
        "idempotency_key": key,
    }
    payload.update(overrides)
    return payload


def invoke(function: str, payload: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = load_function(function).handler(payload, FakeLambdaContext(function))
    return answer


def run(publication_id: str, clock: Clock, *, max_steps: int = 20) -> list[dict[str, Any]]:
    """Call the step as the state machine does, honouring each answer's wait, until done."""
    answers: list[dict[str, Any]] = []
    for _ in range(max_steps):
        answer = publish.advance(ORG, publication_id)
        answers.append(answer)
        if answer.get("done"):
            return answers
        if "wait_seconds" in answer:
            clock.advance(answer["wait_seconds"])
        else:
            until = datetime.strptime(answer["wait_until"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            clock.now = max(clock.now, until)
    raise AssertionError(answers)


def status(publication_id: str) -> dict[str, Any]:
    return invoke("social_publication_status", {"org_id": ORG, "publication_id": publication_id})


@pytest.fixture
def tap(hub_aws: HubAws) -> Callable[[], list[dict[str, Any]]]:
    url = hub_aws.bus_tap("social-tap", {"source": ["integrations-hub"], "detail-type": [{"prefix": "social."}]})
    sqs = hub_aws.client("sqs")
    seen: list[dict[str, Any]] = []

    def read() -> list[dict[str, Any]]:
        while True:
            batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
            if not batch:
                return seen
            for message in batch:
                seen.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    return read


def test_a_post_is_prepared_polled_through_waits_and_published_once(
    network: FakeNetwork, clock: Clock, tap: Callable[[], list[dict[str, Any]]]
) -> None:
    # Given a network whose media takes two polls to process
    network.prepare = [PublishStep(status="pending", job={"container": "c1"})]
    network.poll = [
        PublishStep(status="pending", job={"container": "c1"}),
        PublishStep(status="ready", job={"container": "c1"}),
    ]
    # When the post is published now
    accepted = invoke("social_publish", request())
    answers = run(accepted["publication_id"], clock)
    # Then it was answered at once, waited twice in Wait states (SOCIAL_POLL_SECONDS), published once
    assert accepted["status"] == "publishing"
    assert answers[:2] == [{"wait_seconds": 60}, {"wait_seconds": 60}]
    assert network.calls == ["prepare", "poll", "poll", "publish"]
    view = status(accepted["publication_id"])
    assert view["status"] == "published"
    assert view["post_id"] == "p-1" and view["post_url"] == "https://network.example/p/1"
    published = [e for e in tap() if e["detail-type"] == "social.post.published"]
    assert [e["detail"]["post_id"] for e in published] == ["p-1"]


def test_the_same_key_is_the_same_publication_and_another_payload_is_refused(network: FakeNetwork) -> None:
    first = invoke("social_publish", request())
    again = invoke("social_publish", request())
    assert again["publication_id"] == first["publication_id"]
    with pytest.raises(IdempotencyConflictError):
        invoke("social_publish", request(content={"text": "outro texto"}))


def test_content_the_network_cannot_post_is_refused_before_anything_is_stored(
    network: FakeNetwork, hub_aws: HubAws
) -> None:
    with pytest.raises(InvalidRequestError, match=r"content\.text"):
        invoke("social_publish", request(content={"text": "x" * 101}))
    with pytest.raises(InvalidRequestError, match=r"content.media\[0\].s3_key must be under the org's prefix"):
        invoke(
            "social_publish",
            request(key="k2", content={"text": "a", "media": [{"s3_key": "other/a.jpg", "type": "image"}]}),
        )
    with pytest.raises(InvalidRequestError, match="no such object"):
        invoke(
            "social_publish",
            request(key="k3", content={"text": "a", "media": [{"s3_key": "demo/missing.jpg", "type": "image"}]}),
        )
    assert hub_aws.client("dynamodb").scan(TableName=hub_aws.env["SOCIAL_TABLE"])["Items"] == []


def test_our_media_reaches_the_network_as_a_presigned_url_of_the_object(
    network: FakeNetwork, clock: Clock, hub_aws: HubAws
) -> None:
    hub_aws.client("s3").put_object(
        Bucket=hub_aws.env["MEDIA_UPLOADS_BUCKET"],
        Key="demo/social/a.jpg",
        Body=b"\xff\xd8jpeg",
        ContentType="image/jpeg",
    )
    accepted = invoke(
        "social_publish", request(content={"text": "a", "media": [{"s3_key": "demo/social/a.jpg", "type": "image"}]})
    )
    run(accepted["publication_id"], clock)
    media = network.posts[0].media[0]
    assert (media.key, media.size, media.content_type) == ("demo/social/a.jpg", 6, "image/jpeg")
    assert "X-Amz-Signature=" in media.url and "/demo/social/a.jpg" in media.url


def test_a_scheduled_post_can_be_cancelled_until_it_starts(network: FakeNetwork, clock: Clock) -> None:
    publish_at = (START + timedelta(days=2)).isoformat()
    accepted = invoke("social_publish", request(publish_at=publish_at))
    assert accepted["status"] == "scheduled"
    assert accepted["publish_at"] == "2026-11-04T13:00:00Z"
    ref = {"org_id": ORG, "publication_id": accepted["publication_id"]}
    assert invoke("social_publish_cancel", ref) == {"publication_id": accepted["publication_id"], "status": "cancelled"}
    # a Wait state that ends a little early waits on
    clock.now = START + timedelta(days=2) - timedelta(seconds=0.2)
    other_early = invoke("social_publish", request(key="early", publish_at=publish_at))
    assert publish.advance(ORG, other_early["publication_id"]) == {"wait_seconds": 1}
    # the Wait state ends; the step finds it cancelled and never calls the network
    assert run(accepted["publication_id"], clock) == [{"done": True, "status": "cancelled"}]
    assert network.calls == []
    # and a post already publishing cannot be cancelled
    other = invoke("social_publish", request(key="post-2"))
    network.prepare = [PublishStep(status="pending", job={"container": "c1"})]
    publish.advance(ORG, other["publication_id"])
    with pytest.raises(InvalidRequestError, match="only a scheduled post can be cancelled"):
        invoke("social_publish_cancel", {"org_id": ORG, "publication_id": other["publication_id"]})


def test_a_publish_whose_answer_was_lost_is_looked_up_never_posted_twice(network: FakeNetwork, clock: Clock) -> None:
    network.publish = [OutcomeUnknownError("instagram did not answer in time", code="read_timeout")]
    network.find = [None, PublishedPost(post_id="p-9", url="https://network.example/p/9")]
    accepted = invoke("social_publish", request())
    pid = accepted["publication_id"]
    first = publish.advance(ORG, pid)
    assert first == {"wait_seconds": 60}
    assert status(pid)["status"] == "unconfirmed"
    run(pid, clock)
    assert network.calls == ["prepare", "publish", "find", "find"]
    assert status(pid)["post_id"] == "p-9"


def test_a_lost_publish_not_found_after_the_lookups_goes_to_the_manual_queue_once(
    network: FakeNetwork, clock: Clock, tap: Callable[[], list[dict[str, Any]]]
) -> None:
    network.publish = [OutcomeUnknownError("lost", code="read_timeout")]
    network.find = [None, None, None]
    accepted = invoke("social_publish", request())
    run(accepted["publication_id"], clock)
    assert network.calls.count("publish") == 1
    view = status(accepted["publication_id"])
    assert view["status"] == "needs_manual"
    assert view["manual"]["reason"] == "unconfirmed"
    assert "check the account" in view["manual"]["action"]
    # a step run again (a Step Functions retry) notifies nobody a second time
    assert publish.advance(ORG, accepted["publication_id"])["done"] is True
    manual = [e for e in tap() if e["detail-type"] == "social.publication.needs_manual"]
    assert len(manual) == 1 and manual[0]["detail"]["reason"] == "unconfirmed"


def test_a_step_that_died_while_publishing_is_followed_by_a_lookup(network: FakeNetwork, clock: Clock) -> None:
    accepted = invoke("social_publish", request())
    pid = accepted["publication_id"]
    # Given the step stored publish_sent and died in the publish call (the network got it)
    pub = publications.get(ORG, pid)
    assert pub is not None
    pub.phase, pub.publish_started_at = "publish_sent", START
    publications.save(pub)
    network.find = [PublishedPost(post_id="p-3")]
    run(pid, clock)
    assert network.calls == ["find"]
    assert status(pid)["post_id"] == "p-3"


def test_a_spent_quota_delays_the_post_to_the_reset(network: FakeNetwork, clock: Clock) -> None:
    network.prepare = [
        RateLimitedError("content_publishing_limit reached", retry_after=3600, code="quota_exceeded"),
        PublishStep(status="ready", job={"container": "c1"}),
    ]
    accepted = invoke("social_publish", request())
    pid = accepted["publication_id"]
    assert publish.advance(ORG, pid) == {"wait_until": "2026-11-02T14:00:00Z"}
    view = status(pid)
    assert view["status"] == "scheduled" and view["retry_at"] == "2026-11-02T14:00:00Z"
    # woken early, it waits on (the last minute in seconds, rounded up); at the reset it publishes
    clock.advance(60)
    assert publish.advance(ORG, pid) == {"wait_until": "2026-11-02T14:00:00Z"}
    clock.now = START + timedelta(minutes=59, seconds=59.5)
    assert publish.advance(ORG, pid) == {"wait_seconds": 1}
    clock.now = START + timedelta(hours=1)
    assert publish.advance(ORG, pid)["status"] == "published"
    assert network.calls == ["prepare", "prepare", "publish"]


def test_a_token_that_needs_reauth_sends_the_post_to_the_manual_queue_and_notifies_once(
    network: FakeNetwork, clock: Clock, tap: Callable[[], list[dict[str, Any]]]
) -> None:
    network.prepare = [
        AuthenticationError(
            "the instagram integration is waiting for this org to connect it again", code="integration_needs_reauth"
        )
    ]
    accepted = invoke("social_publish", request())
    run(accepted["publication_id"], clock)
    run(accepted["publication_id"], clock)
    view = status(accepted["publication_id"])
    assert view["status"] == "needs_manual"
    assert view["manual"]["reason"] == "reauth_required"
    assert view["manual"]["text"] == "Bastidores #produtora"
    assert view["manual"]["media"][0]["url"] == "https://cdn.example.com/a.jpg"
    assert "/oauth/instagram/start?org_id=demo" in view["manual"]["action"]
    manual = [e for e in tap() if e["detail-type"] == "social.publication.needs_manual"]
    assert len(manual) == 1
    assert manual[0]["detail"]["publication_id"] == accepted["publication_id"]
    # and it is in the org's manual queue
    queue = invoke("social_publication_list", {"org_id": ORG})["publications"]
    assert [p["publication_id"] for p in queue] == [accepted["publication_id"]]
    assert invoke("social_publication_list", {"org_id": ORG, "status": "published"})["publications"] == []


def test_a_network_down_past_the_retry_budget_goes_to_the_manual_queue(network: FakeNetwork, clock: Clock) -> None:
    network.prepare = [ProviderUnavailableError("down", code="connect_failed")] * 4
    accepted = invoke("social_publish", request())
    answers = run(accepted["publication_id"], clock)
    assert answers[:3] == [{"wait_seconds": 60}, {"wait_seconds": 120}, {"wait_seconds": 240}]
    assert status(accepted["publication_id"])["manual"]["reason"] == "network_unavailable"


def test_media_still_processing_past_the_polling_window_goes_to_the_manual_queue(
    network: FakeNetwork, clock: Clock
) -> None:
    pending = PublishStep(status="pending", job={"container": "c1"}, max_poll_seconds=300)
    network.prepare = [pending]
    network.poll = [pending] * 10
    accepted = invoke("social_publish", request())
    run(accepted["publication_id"], clock)
    assert "publish" not in network.calls
    assert network.calls.count("poll") == 5  # once a minute for five minutes
    assert status(accepted["publication_id"])["manual"]["reason"] == "processing_timeout"


def test_a_rejected_post_goes_to_the_manual_queue_with_the_networks_reason(network: FakeNetwork, clock: Clock) -> None:
    network.publish = [InvalidRequestError("instagram answered 400: the image aspect ratio is not supported")]
    accepted = invoke("social_publish", request())
    run(accepted["publication_id"], clock)
    manual = status(accepted["publication_id"])["manual"]
    assert manual["reason"] == "content_rejected"
    assert "aspect ratio" in manual["message"]


def test_an_unknown_publication_is_a_clear_error(network: FakeNetwork) -> None:
    with pytest.raises(InvalidRequestError, match="no publication"):
        status("pub_" + "0" * 32)
    with pytest.raises(InvalidRequestError, match="publication_id"):
        invoke("social_publication_status", {"org_id": ORG, "publication_id": "../etc"})


def test_published_posts_are_the_ones_the_insights_sync_reads_metrics_of(network: FakeNetwork, clock: Clock) -> None:
    from hub.social.insights import published_post_ids

    accepted = invoke("social_publish", request())
    run(accepted["publication_id"], clock)
    other = invoke("social_publish", request(key="post-2", account="17841400000000002"))
    network.publish = [PublishedPost(post_id="p-2")]
    network.prepare = [PublishStep(status="ready", job={"container": "c1"})]
    run(other["publication_id"], clock)
    assert published_post_ids(ORG, "instagram", "17841400000000001", START - timedelta(days=1)) == ["p-1"]
    assert published_post_ids(ORG, "instagram", "17841400000000001", START + timedelta(days=1)) == []
    assert published_post_ids(ORG, "facebook", "17841400000000001", START - timedelta(days=1)) == []
