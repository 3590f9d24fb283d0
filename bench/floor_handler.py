"""The cold-start floor: the least a Python Lambda that talks to AWS does."""

from typing import Any

import boto3

sqs = boto3.client("sqs")


def handler(event: Any, context: Any) -> dict[str, Any]:
    return {"ok": True}
