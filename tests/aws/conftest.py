"""AWS services for tests: a moto server with the resources template.yaml declares.

Resources are created from the template's own properties (the same code `make dev`
uses), so tests and infrastructure cannot drift.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from localcloud.aws import MotoServer, ResourceCreator
from localcloud.demo import demo_secrets
from localcloud.sqs_poller import lambda_message_attributes
from localcloud.template import Template
from tests.conftest import ServedSandboxes, register_test_orgs, reset_hub_caches
from tests.helpers import ROOT


@dataclass
class HubAws:
    endpoint: str
    template: Template
    env: dict[str, str]

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1")

    def ops(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``python -m ops --local <args>`` against this moto, as an operator runs it: from the
        repository root, with no PYTHONPATH (the command finds the layer itself)."""
        env = {
            "PATH": os.environ.get("PATH", ""),
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
        return subprocess.run(
            [sys.executable, "-m", "ops", "--local", "--endpoint", self.endpoint, *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def put_secret(self, org_id: str, provider: str, value: dict[str, Any]) -> None:
        self.client("secretsmanager").create_secret(Name=f"hub/{org_id}/{provider}", SecretString=json.dumps(value))

    def queue_messages(self, env_name: str, wait: int = 0) -> list[dict[str, Any]]:
        sqs = self.client("sqs")
        out: list[dict[str, Any]] = []
        while True:
            batch = sqs.receive_message(
                QueueUrl=self.env[env_name],
                MaxNumberOfMessages=10,
                WaitTimeSeconds=wait,
                VisibilityTimeout=0,
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            new = [m for m in batch if m["MessageId"] not in {o["MessageId"] for o in out}]
            if not new:
                return out
            out.extend(new)

    def bus_tap(self, name: str, pattern: dict[str, Any]) -> str:
        """A queue subscribed to the hub's event bus with ``pattern``: what subscribers see."""
        sqs, events = self.client("sqs"), self.client("events")
        url: str = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        bus = self.env["EVENT_BUS_NAME"]
        events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(pattern))
        events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": name, "Arn": arn}])
        return url

    def sqs_event(self, queue_url: str, bodies: list[str]) -> dict[str, Any]:
        """Send ``bodies`` to the queue and receive them as Lambda's SQS event (real receipt
        handles, so visibility changes by the consumer work), in the order sent."""
        sqs = self.client("sqs")
        for body in bodies:
            sqs.send_message(QueueUrl=queue_url, MessageBody=body)
        messages: list[dict[str, Any]] = []
        while len(messages) < len(bodies):
            batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=1)
            messages += batch.get("Messages", [])
        order = {body: i for i, body in enumerate(bodies)}
        messages.sort(key=lambda m: order.get(m["Body"], len(bodies)))
        return self.as_sqs_event(queue_url, messages)

    def as_sqs_event(self, queue_url: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """Messages received from the queue as the SQS event source mapping hands them to Lambda."""
        sqs = self.client("sqs")
        arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return {
            "Records": [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m.get("Attributes", {"ApproximateReceiveCount": "1"}),
                    "messageAttributes": lambda_message_attributes(m.get("MessageAttributes") or {}),
                    "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": arn,
                    "awsRegion": "us-east-1",
                }
                for m in messages
            ]
        }

    def archived_keys(self) -> list[str]:
        listing = self.client("s3").list_objects_v2(Bucket=self.env["WEBHOOK_ARCHIVE_BUCKET"])
        return [o["Key"] for o in listing.get("Contents", [])]


@pytest.fixture
def hub_aws(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> HubAws:
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()
    template = Template(ROOT / "template.yaml", aws_endpoint=moto_server.endpoint)
    ResourceCreator(template, moto_server.endpoint).create_all()
    env: dict[str, str] = {}
    for fn in template.functions():
        env.update(fn.environment)
    env.update({"AWS_ENDPOINT_URL": moto_server.endpoint, "STORAGE_ENDPOINT_URL": moto_server.endpoint})
    for key, value in env.items():
        if key != "POWERTOOLS_SERVICE_NAME":
            monkeypatch.setenv(key, value)
    reset_hub_caches()
    register_test_orgs(moto_server.endpoint, env["ORGS_TABLE"])
    return HubAws(endpoint=moto_server.endpoint, template=template, env=env)


@pytest.fixture
def sandboxed(hub_aws: HubAws, sandboxes: ServedSandboxes) -> ServedSandboxes:
    """The demo orgs' secrets (every provider's and the orgs' own settings) in moto, pointing at
    the session's sandboxes, so domain code reaches real adapters against fake providers."""
    for secret in demo_secrets():
        hub_aws.put_secret(secret.org_id, secret.provider, secret.build(f"{sandboxes.url}/{secret.provider}"))
    return sandboxes
