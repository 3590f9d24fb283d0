"""Instagram ``mentions`` on the Meta receiver → ``social.mention``, beside ``social.comment``.

Payload: https://developers.facebook.com/docs/graph-api/webhooks/reference/instagram
(FBInstagramMentionsField: ``{"comment_id", "media_id"}``; a caption mention has no comment_id).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hub.providers.meta.webhook import normalise_meta_webhook, verify_meta_webhook
from hub.webhooks.models import RawWebhook
from tests.helpers import sample_event

RECEIVED = datetime(2026, 12, 3, 19, 0, tzinfo=UTC)
SECRET = {"app_secret": "demo-meta-app-secret", "verify_token": "demo-meta-verify-token"}


def mentions(*values: dict[str, Any], field: str = "mentions") -> dict[str, Any]:
    changes = [{"field": field, "value": value} for value in values]
    return {"object": "instagram", "entry": [{"id": "17841405309211844", "time": 1763812900, "changes": changes}]}


def normalise(payload: dict[str, Any]) -> list[Any]:
    return normalise_meta_webhook(payload, org_id="demo", received_at=RECEIVED, raw_ref="raw/meta.json")


def test_a_comment_mention_and_a_caption_mention_are_social_mention_events() -> None:
    comment, caption = normalise(mentions({"media_id": "180233", "comment_id": "178942"}, {"media_id": "180311"}))

    assert (comment.type, caption.type) == ("social.mention", "social.mention")
    assert comment.data == {
        "network": "instagram",
        "account_id": "17841405309211844",
        "media_id": "180233",
        "comment_id": "178942",
        "mentioned_in": "comment",
        "author_id": None,  # Instagram's webhook names no author: read it from the comment
        "author_name": None,
    }
    assert caption.data["mentioned_in"] == "caption"
    assert caption.data["comment_id"] is None
    assert comment.occurred_at == datetime.fromtimestamp(1763812900, tz=UTC)
    assert comment.provider == "meta"


def test_a_mention_of_a_comment_never_dedupes_the_comment_event_of_the_same_id() -> None:
    payload = mentions({"media_id": "180233", "comment_id": "178942"})
    payload["entry"][0]["changes"].append(
        {"field": "comments", "value": {"id": "178942", "text": "@somos olha isso", "media": {"id": "180233"}}}
    )
    mention, comment = normalise(payload)
    assert {mention.type, comment.type} == {"social.mention", "social.comment"}
    assert mention.event_id != comment.event_id


def test_the_same_mention_delivered_twice_is_the_same_event() -> None:
    first = normalise(mentions({"media_id": "180233", "comment_id": "178942"}))
    again = normalise(mentions({"comment_id": "178942", "media_id": "180233"}))
    assert [e.event_id for e in first] == [e.event_id for e in again]


def test_a_mention_without_ids_makes_no_event() -> None:
    assert normalise(mentions({})) == []


def test_the_sample_mention_delivery_is_signed_and_makes_two_mentions() -> None:
    request = RawWebhook.from_api_gateway(
        sample_event("webhook_meta_instagram_mention"), provider="meta", org_id="demo", received_at=RECEIVED
    )
    verify_meta_webhook(request, SECRET)
    events = normalise(json.loads(request.body))
    assert [e.data["mentioned_in"] for e in events] == ["comment", "caption"]


def page_mention(value: dict[str, Any]) -> dict[str, Any]:
    change = {"field": "mention", "value": value}
    return {"object": "page", "entry": [{"id": "102030405060708", "time": 1763812900, "changes": [change]}]}


def test_a_page_mentioned_in_a_post_or_a_comment_is_a_social_mention_event() -> None:
    (in_post,) = normalise(
        page_mention(
            {"post_id": "444_555", "sender_name": "Ana Lima", "sender_id": "9001", "item": "post", "verb": "add"}
        )
    )
    (in_comment,) = normalise(
        page_mention({"post_id": "444_555", "comment_id": "555_777", "item": "comment", "verb": "add"})
    )
    assert in_post.type == "social.mention"
    assert in_post.data == {
        "network": "facebook",
        "account_id": "102030405060708",
        "media_id": "444_555",
        "comment_id": None,
        "mentioned_in": "post",
        "author_id": "9001",
        "author_name": "Ana Lima",
    }
    assert (in_comment.data["mentioned_in"], in_comment.data["comment_id"]) == ("comment", "555_777")
    assert in_post.event_id != in_comment.event_id
    # an edited or removed mention is archived but is no new event
    assert normalise(page_mention({"post_id": "444_555", "item": "post", "verb": "remove"})) == []
