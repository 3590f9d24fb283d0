"""The cold-start floor: the least a Python Lambda that talks to AWS does. Like a receiver, it
creates its client at init and makes one real AWS call (an SQS send) in its first invocation."""

import os
from typing import Any

import boto3

sqs = boto3.client("sqs")


def handler(event: Any, context: Any) -> dict[str, Any]:
    sqs.send_message(QueueUrl=os.environ["INBOUND_EVENTS_QUEUE_URL"], MessageBody='{"floor": true}')
    return {"ok": True}
