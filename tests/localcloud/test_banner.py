"""The banner `make dev` prints is derived from the template and events/, not hard-coded."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from localcloud import LocalCloud

pytestmark = pytest.mark.e2e  # boots a LocalCloud (no moto, no sandboxes)


@pytest.fixture
def acme(tmp_path: Path) -> Iterator[LocalCloud]:
    (tmp_path / "template.yaml").write_text(
        textwrap.dedent(
            """
            Transform: AWS::Serverless-2016-10-31
            Resources:
              AcmeItems:
                Type: AWS::Serverless::Function
                Properties:
                  CodeUri: fn/
                  Handler: app.handler
                  Runtime: python3.11
                  Events:
                    List: {Type: Api, Properties: {Path: /items, Method: get}}
              WebhookAcme:
                Type: AWS::Serverless::Function
                Properties:
                  CodeUri: fn/
                  Handler: app.handler
                  Runtime: python3.11
                  Events:
                    Hook: {Type: Api, Properties: {Path: "/webhooks/acme/{org_id}", Method: post}}
              AcmeSend:
                Type: AWS::Serverless::Function
                Properties:
                  CodeUri: fn/
                  Handler: app.handler
                  Runtime: python3.11
            """
        )
    )
    (tmp_path / "fn").mkdir()
    (tmp_path / "fn" / "app.py").write_text("def handler(event, context):\n    return {}\n")
    (tmp_path / "events").mkdir()
    hook = {
        "resource": "/webhooks/acme/{org_id}",
        "path": "/webhooks/acme/demo",
        "httpMethod": "POST",
        "headers": {"Content-Type": "application/json", "X-Acme-Signature": "sig-123", "Host": "acme.example"},
        "queryStringParameters": {"source": "panel"},
        "body": '{"event": "paid"}',
    }
    (tmp_path / "events" / "webhook_acme.json").write_text(json.dumps(hook))
    (tmp_path / "events" / "acme_send.json").write_text(json.dumps({"org_id": "demo"}))
    cloud = LocalCloud(
        tmp_path / "template.yaml",
        api_port=0,
        lambda_port=0,
        aws_port=0,
        sandbox_port=0,
        aws=False,
        sandboxes=False,
        schedules=False,
        sqs_pollers=False,
    )
    with cloud:
        yield cloud


def test_banner_examples_come_from_the_template_and_its_samples(acme: LocalCloud) -> None:
    banner = acme.banner()
    # the first webhook route with a sample: its headers (not the connection's) and query
    assert "-H 'X-Acme-Signature: sig-123'" in banner
    assert "acme.example" not in banner
    assert f"'{acme.api_url}/webhooks/acme/demo?source=panel'" in banner
    assert "json.load(open('events/webhook_acme.json'))['body']" in banner
    # the first function invoked directly, with its sample
    assert "FunctionName='AcmeSend',Payload=open('events/acme_send.json','rb').read()" in banner
    assert "evolution" not in banner.lower()
