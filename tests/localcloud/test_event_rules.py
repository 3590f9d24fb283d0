"""Bus rules with SQS targets are created locally, so `make dev` routes events as EventBridge does."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import boto3

from localcloud.aws import MotoServer, ResourceCreator
from localcloud.template import Template

TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Bus:
    Type: AWS::Events::EventBus
    Properties:
      Name: {bus}
  Inbox:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: {bus}-inbox
  Other:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: {bus}-other
  PaymentsRule:
    Type: AWS::Events::Rule
    Properties:
      EventBusName: !Ref Bus
      EventPattern:
        source: [integrations-hub]
        detail-type: [payment.received]
      Targets:
        - Id: inbox
          Arn: !GetAtt Inbox.Arn
  EveryFiveMinutes:
    Type: AWS::Events::Rule
    Properties:
      ScheduleExpression: rate(5 minutes)
      Targets:
        - Id: other
          Arn: !GetAtt Other.Arn
"""


def _client(moto: MotoServer, service: str) -> Any:
    return boto3.client(service, endpoint_url=moto.endpoint, region_name="us-east-1")


def _bodies(moto: MotoServer, queue_name: str) -> list[dict[str, Any]]:
    sqs = _client(moto, "sqs")
    url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def test_a_bus_rule_delivers_matching_events_to_its_queue(moto_server: MotoServer, tmp_path: Path) -> None:
    # Given a template with a rule on a custom bus targeting a queue
    path = tmp_path / "template.yaml"
    path.write_text(textwrap.dedent(TEMPLATE.format(bus="rules-fixture-bus")))
    template = Template(path, aws_endpoint=moto_server.endpoint)
    ResourceCreator(template, moto_server.endpoint).create_all()

    # When a matching and a non-matching event are published on the bus
    _client(moto_server, "events").put_events(
        Entries=[
            {
                "Source": "integrations-hub",
                "DetailType": detail_type,
                "Detail": json.dumps({"org_id": "acme", "n": n}),
                "EventBusName": "rules-fixture-bus",
            }
            for n, detail_type in enumerate(["payment.received", "payment.failed"])
        ]
    )

    # Then only the matching one reaches the queue, as the EventBridge envelope
    bodies = _bodies(moto_server, "rules-fixture-bus-inbox")
    assert [(b["detail-type"], b["detail"]) for b in bodies] == [("payment.received", {"org_id": "acme", "n": 0})]
    assert bodies[0]["source"] == "integrations-hub" and bodies[0]["id"]
    # And the rule's ARN resolves as CloudFormation's would (a rule on a custom bus)
    assert template.get_att("PaymentsRule", "Arn") == (
        f"arn:aws:events:us-east-1:123456789012:rule/rules-fixture-bus/{template.physical_name('PaymentsRule')}"
    )
    # A scheduled rule is left to the local scheduler: not created on the bus
    rules = _client(moto_server, "events").list_rules(EventBusName="default")["Rules"]
    assert template.physical_name("EveryFiveMinutes") not in {r["Name"] for r in rules}
