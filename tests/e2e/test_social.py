"""End to end in the local cloud: services invoke SocialPublish; SocialPublishWorkflow (moto's
Step Functions, running the template's definition) drives SocialPublishStep through its Wait
states against the network sandboxes. Polls, lookups and retries are shortened to 1 s
(SOCIAL_*_SECONDS) and the read timeout to 1 s so a slow network's answer is lost."""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from localcloud import LocalCloud
from tests.conftest import register_test_orgs
from tests.e2e.conftest import booted, client, invoke, wait_status

pytestmark = pytest.mark.e2e

ORG = "demo"
OTHER_ORG = "beta"
LINKEDIN_ORG = "urn:li:organization:2414183"
IG_ACCOUNT = "17841400000000001"
FAST = {
    "SOCIAL_POLL_SECONDS": "1",
    "SOCIAL_LOOKUP_SECONDS": "1",
    "SOCIAL_RETRY_SECONDS": "1",
    "HTTP_READ_TIMEOUT": "1",
}


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with booted(retry_delay=1, env=FAST) as running:
        orgs_table = running.template.env_value("ORGS_TABLE") if running.template else None
        assert orgs_table
        register_test_orgs(running.aws_url, orgs_table)
        yield running


def linkedin(cloud: LocalCloud, **switches: Any) -> dict[str, Any]:
    url = f"{cloud.sandbox_url}/linkedin/_sandbox/api"
    answer = httpx.post(url, json=switches, timeout=5) if switches else httpx.get(url, timeout=5)
    answer.raise_for_status()
    state: dict[str, Any] = answer.json()
    return state


def put_media(cloud: LocalCloud, key: str, data: bytes, content_type: str) -> None:
    bucket = cloud.template.env_value("MEDIA_UPLOADS_BUCKET") if cloud.template else None
    client(cloud, "s3").put_object(Bucket=bucket, Key=key, Body=data, ContentType=content_type)


def publish(
    cloud: LocalCloud,
    key: str,
    *,
    network: str = "linkedin",
    account: str = LINKEDIN_ORG,
    org: str = ORG,
    **fields: Any,
) -> dict[str, Any]:
    payload = {"org_id": org, "network": network, "account": account, "idempotency_key": key, **fields}
    return invoke(cloud, "SocialPublish", payload)


def status(cloud: LocalCloud, publication_id: str, expected: str, seconds: float = 40) -> dict[str, Any]:
    return wait_status(
        cloud,
        "SocialPublicationStatus",
        {"org_id": ORG, "publication_id": publication_id},
        expected,
        seconds=seconds,
        interval=0.5,
    )


def execution_arn(cloud: LocalCloud, publication_id: str) -> str:
    machine = cloud.template.env_value("SOCIAL_PUBLISH_STATE_MACHINE_ARN") if cloud.template else None
    assert machine
    return f"{machine.replace(':stateMachine:', ':execution:')}:{publication_id}"


def entered_states(cloud: LocalCloud, publication_id: str) -> list[str]:
    sfn = client(cloud, "stepfunctions")
    history = sfn.get_execution_history(executionArn=execution_arn(cloud, publication_id), maxResults=1000)["events"]
    return [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]


def test_a_video_post_is_polled_through_wait_states_and_published_once(cloud: LocalCloud) -> None:
    # Given a video LinkedIn processes for two status reads
    linkedin(cloud, video_processing_polls=2, slow_publish_seconds=0)
    put_media(cloud, "demo/social/e2e.mp4", b"\x00\x00\x00\x18ftypmp42" + b"v" * 4096, "video/mp4")
    before = len(linkedin(cloud)["posts"])

    # When a service publishes it now
    accepted = publish(
        cloud,
        "e2e-video",
        content={
            "text": "Bastidores",
            "title": "Bastidores",
            "media": [{"s3_key": "demo/social/e2e.mp4", "type": "video"}],
        },
    )

    # Then it is answered at once, waits in Wait states while LinkedIn processes, and posts once
    assert accepted["status"] == "publishing"
    done = status(cloud, accepted["publication_id"], "published")
    assert done["post_id"].startswith("urn:li:share:") or done["post_id"].startswith("urn:li:ugcPost:")
    posts = linkedin(cloud)["posts"]
    assert len(posts) == before + 1 and posts[-1]["id"] == done["post_id"]
    states = entered_states(cloud, accepted["publication_id"])
    assert states.count("WaitSeconds") >= 2 and states[-1] == "Done"


def test_a_scheduled_post_is_published_at_its_time(cloud: LocalCloud) -> None:
    publish_at = (datetime.now(UTC) + timedelta(seconds=4)).replace(microsecond=0)
    accepted = publish(cloud, "e2e-scheduled", content={"text": "Feliz Natal!"}, publish_at=publish_at.isoformat())
    assert accepted["status"] == "scheduled"
    done = status(cloud, accepted["publication_id"], "published")
    published_at = datetime.fromisoformat(done["updated_at"])
    assert published_at >= publish_at
    assert entered_states(cloud, accepted["publication_id"])[:2] == ["Scheduled", "WaitForPublishAt"]


def test_a_scheduled_post_cancelled_never_reaches_the_network(cloud: LocalCloud) -> None:
    before = len(linkedin(cloud)["posts"])
    publish_at = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    accepted = publish(cloud, "e2e-cancel", content={"text": "Cancelado"}, publish_at=publish_at)
    ref = {"org_id": ORG, "publication_id": accepted["publication_id"]}
    assert invoke(cloud, "SocialPublishCancel", ref)["status"] == "cancelled"
    sfn = client(cloud, "stepfunctions")
    arn = execution_arn(cloud, accepted["publication_id"])
    assert sfn.describe_execution(executionArn=arn)["status"] in ("ABORTED", "SUCCEEDED")
    assert len(linkedin(cloud)["posts"]) == before


def test_a_publish_whose_answer_is_lost_is_looked_up_not_posted_twice(cloud: LocalCloud) -> None:
    # Given LinkedIn storing the post but answering after the read timeout (1 s)
    linkedin(cloud, slow_publish_seconds=2.5)
    before = len(linkedin(cloud)["posts"])
    try:
        accepted = publish(cloud, "e2e-slow", content={"text": "Uma publicação lenta"})
        # Then the workflow looks it up and finds the one post; nothing was sent twice
        done = status(cloud, accepted["publication_id"], "published")
    finally:
        linkedin(cloud, slow_publish_seconds=0)
    posts = linkedin(cloud)["posts"]
    assert len(posts) == before + 1 and posts[-1]["id"] == done["post_id"]
    outcomes = [a["outcome"] for a in done["attempts"]]
    assert "unconfirmed" in outcomes and outcomes[-1] == "published"


def test_a_daily_limit_delays_the_post_to_the_reset(cloud: LocalCloud) -> None:
    linkedin(cloud, daily_limit=0)
    try:
        accepted = publish(cloud, "e2e-limited", content={"text": "Amanhã"})
        delayed = status(cloud, accepted["publication_id"], "scheduled")
    finally:
        linkedin(cloud, daily_limit=None)
    # LinkedIn's daily limits reset at midnight UTC: the post waits for it, cancellable meanwhile
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date()
    assert datetime.fromisoformat(delayed["retry_at"].replace("Z", "+00:00")).date() == tomorrow
    ref = {"org_id": ORG, "publication_id": accepted["publication_id"]}
    assert invoke(cloud, "SocialPublishCancel", ref)["status"] == "cancelled"


def test_a_rejected_token_sends_the_post_to_the_manual_queue_and_notifies_once(cloud: LocalCloud) -> None:
    # Given an org whose LinkedIn token LinkedIn no longer accepts (revoked by the member)
    sqs, events = client(cloud, "sqs"), client(cloud, "events")
    bus = cloud.template.env_value("EVENT_BUS_NAME") if cloud.template else None
    url = sqs.create_queue(QueueName="social-manual-tap")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern = {"detail-type": ["social.publication.needs_manual"]}
    events.put_rule(Name="social-manual", EventBusName=bus, EventPattern=json.dumps(pattern))
    events.put_targets(Rule="social-manual", EventBusName=bus, Targets=[{"Id": "tap", "Arn": arn}])
    demo = json.loads(client(cloud, "secretsmanager").get_secret_value(SecretId=f"hub/{ORG}/linkedin")["SecretString"])
    client(cloud, "secretsmanager").create_secret(
        Name=f"hub/{OTHER_ORG}/linkedin", SecretString=json.dumps({**demo, "access_token": "AQVrevoked"})
    )

    # When a service publishes for it
    accepted = publish(cloud, "e2e-reauth", org=OTHER_ORG, content={"text": "Sem token"})

    # Then the post is in the org's manual queue with what to do, and the org was told once
    manual = wait_status(
        cloud,
        "SocialPublicationStatus",
        {"org_id": OTHER_ORG, "publication_id": accepted["publication_id"]},
        "needs_manual",
        seconds=40,
        interval=0.5,
    )
    assert manual["manual"]["reason"] == "reauth_required"
    assert manual["manual"]["text"] == "Sem token"
    assert "/oauth/linkedin/start?org_id=beta" in manual["manual"]["action"]
    queue = invoke(cloud, "SocialPublicationList", {"org_id": OTHER_ORG})["publications"]
    assert [p["publication_id"] for p in queue] == [accepted["publication_id"]]
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=2).get("Messages", [])
    details = [json.loads(m["Body"])["detail"] for m in received]
    assert [d["publication_id"] for d in details] == [accepted["publication_id"]]


def youtube(cloud: LocalCloud, **switches: Any) -> dict[str, Any]:
    url = f"{cloud.sandbox_url}/youtube/_sandbox/youtube"
    answer = httpx.post(url, json=switches, timeout=5) if switches else httpx.get(url, timeout=5)
    answer.raise_for_status()
    state: dict[str, Any] = answer.json()
    return state


def test_an_interrupted_youtube_upload_resumes_through_the_workflow_and_the_private_lock_is_surfaced(
    cloud: LocalCloud,
) -> None:
    # Given a 600 kB video in our bucket, YouTube dropping the connection 300,000 bytes in, and an
    # unaudited API project (YouTube keeps its uploads private)
    video = bytes(range(256)) * 2400
    put_media(cloud, "demo/social/e2e-youtube.mp4", video, "video/mp4")
    youtube(cloud, unaudited=True, interrupt={"after_bytes": 300_000, "mode": "drop"})
    try:
        accepted = publish(
            cloud,
            "e2e-youtube",
            network="youtube",
            account="UCsomosProdutora0000demo",
            content={
                "text": "Making of",
                "title": "Making of — Somos Produtora",
                "media": [{"s3_key": "demo/social/e2e-youtube.mp4", "type": "video"}],
            },
        )
        done = status(cloud, accepted["publication_id"], "published", seconds=60)
    finally:
        youtube(cloud, unaudited=False)
    # Then YouTube holds every byte once (the session was asked where it stood and resumed there)
    state = youtube(cloud)
    [session] = [s for s in state["sessions"] if s.get("video_id") == done["post_id"]]
    assert session["received"] == len(video) and session["status_queries"] >= 1
    assert session["sha256"] == hashlib.sha256(video).hexdigest()
    assert state["interruptions"] >= 1
    # and the org is told the video is private, not shown "public"
    assert done["visibility"] == "private"
    assert done["warnings"] and "audited" in done["warnings"][0]


def jpeg(width: int, height: int) -> bytes:
    """The first bytes of a JPEG of ``width`` x ``height`` (SOI, APP0, SOF0): what Instagram's checks read."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return b"\xff\xd8" + app0 + sof0 + b"\x00" * 64


def instagram(cloud: LocalCloud, **switches: Any) -> dict[str, Any]:
    url = f"{cloud.sandbox_url}/instagram/_sandbox/graph"
    answer = httpx.post(url, json=switches, timeout=5) if switches else httpx.get(url, timeout=5)
    answer.raise_for_status()
    state: dict[str, Any] = answer.json()
    return state


def test_an_instagram_reel_container_is_polled_in_wait_states_then_published(cloud: LocalCloud) -> None:
    # Given Instagram processing a reel container for three status reads
    instagram(cloud, polls_in_progress=3, final_status="FINISHED", quota_usage=0)
    put_media(cloud, "demo/social/e2e-reel.mp4", b"\x00\x00\x00\x18ftypmp42" + b"r" * 2048, "video/mp4")
    accepted = publish(
        cloud,
        "e2e-reel",
        network="instagram",
        account=IG_ACCOUNT,
        content={
            "text": "Bastidores #somosprodutora",
            "format": "reel",
            "media": [{"s3_key": "demo/social/e2e-reel.mp4", "type": "video"}],
        },
    )
    done = status(cloud, accepted["publication_id"], "published")
    # Then the container was read until FINISHED, from the workflow's Wait states, and published once
    states = entered_states(cloud, accepted["publication_id"])
    assert states.count("WaitSeconds") >= 3
    state = instagram(cloud)
    assert state["publishes"] == 1
    assert done["post_url"].startswith("https://www.instagram.com/")


def test_an_instagram_account_at_its_publishing_cap_waits_for_the_window(cloud: LocalCloud) -> None:
    instagram(cloud, quota_total=100, quota_usage=100)
    put_media(cloud, "demo/social/e2e-cap.jpg", jpeg(1080, 1080), "image/jpeg")
    try:
        accepted = publish(
            cloud,
            "e2e-cap",
            network="instagram",
            account=IG_ACCOUNT,
            content={"text": "Amanhã", "media": [{"s3_key": "demo/social/e2e-cap.jpg", "type": "image"}]},
        )
        delayed = status(cloud, accepted["publication_id"], "scheduled")
    finally:
        instagram(cloud, quota_usage=0)
    assert delayed["retry_at"] and [a["outcome"] for a in delayed["attempts"]][-1] == "delayed"
    assert invoke(cloud, "SocialPublishCancel", {"org_id": ORG, "publication_id": accepted["publication_id"]})
