from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.helpers import aws_client

pytestmark = pytest.mark.e2e  # boots a LocalCloud


def test_api_routes_build_a_rest_proxy_event(start_cloud: Any) -> None:
    cloud = start_cloud()
    raw = b'{"b": 1,  "a": "\xc3\xa9"}\n'  # odd spacing + UTF-8 must survive byte for byte
    resp = httpx.post(
        f"{cloud.api_url}/echo/demo?x=1&x=2&empty=",
        content=raw,
        headers={"Content-Type": "application/json", "X-Custom": "yes"},
    )
    assert resp.status_code == 200
    assert resp.headers["X-Echo"] == "1"
    assert resp.headers.get_list("Set-Cookie") == ["a=1", "b=2"]
    data = resp.json()
    event = data["event"]
    assert event["resource"] == "/echo/{org_id}"
    assert event["path"] == "/echo/demo"
    assert event["httpMethod"] == "POST"
    assert event["pathParameters"] == {"org_id": "demo"}
    assert event["queryStringParameters"] == {"x": "2", "empty": ""}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"], "empty": [""]}
    assert event["body"].encode("utf-8") == raw
    assert event["isBase64Encoded"] is False
    assert event["stageVariables"] is None
    assert event["headers"]["X-Custom"] == "yes"
    assert event["multiValueHeaders"]["X-Custom"] == ["yes"]
    ctx = event["requestContext"]
    assert ctx["stage"] == "Prod"
    assert ctx["resourcePath"] == "/echo/{org_id}"
    assert ctx["httpMethod"] == "POST"
    assert ctx["identity"]["sourceIp"] == "127.0.0.1"
    assert ctx["accountId"] == "123456789012"
    assert isinstance(ctx["requestTimeEpoch"], int) and ctx["requestId"] and ctx["apiId"]
    # Lambda context + env from the template (queue URL points at the local moto)
    assert data["context"]["function_name"] == "EchoFunction"
    assert data["context"]["memory"] == 512
    assert 0 < data["context"]["remaining"] <= 10_000
    assert data["queue_url"] == f"{cloud.aws_url}/123456789012/integrations-hub-local-work"

    # GET without query/body; binary body is base64-encoded
    event = httpx.get(f"{cloud.api_url}/items/42").json()["event"]
    assert event["pathParameters"] == {"item_id": "42"}
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["body"] is None
    binary = b"\xff\x00\xfe"
    event = httpx.post(f"{cloud.api_url}/echo/demo", content=binary).json()["event"]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == binary

    # unknown route / wrong method -> like API Gateway
    for method, path in (("GET", "/nope"), ("DELETE", "/items/1")):
        resp = httpx.request(method, f"{cloud.api_url}{path}")
        assert resp.status_code == 403
        assert resp.json() == {"message": "Missing Authentication Token"}

    # handler crash -> 502
    resp = httpx.put(f"{cloud.api_url}/crash", content=b"{}")
    assert resp.status_code == 502
    assert resp.json() == {"message": "Internal server error"}


def test_lambda_invoke_endpoint_with_boto3(start_cloud: Any) -> None:
    cloud = start_cloud()
    client = aws_client(cloud, "lambda")

    ok = client.invoke(FunctionName="BoomFunction", Payload=json.dumps({"ok": True}))
    assert ok["StatusCode"] == 200
    assert "FunctionError" not in ok
    assert json.loads(ok["Payload"].read()) == {"boom": "no"}

    # by ARN too, with log tail
    arn = "arn:aws:lambda:us-east-1:123456789012:function:BoomFunction"
    tail = client.invoke(FunctionName=arn, Payload=b'{"ok": true}', LogType="Tail")
    assert "REPORT RequestId" in base64.b64decode(tail["LogResult"]).decode()

    err = client.invoke(FunctionName="CrashFunction", Payload=b"{}")
    assert err["StatusCode"] == 200
    assert err["FunctionError"] == "Unhandled"
    payload = json.loads(err["Payload"].read())
    assert payload["errorType"] == "CrashError"
    assert payload["errorMessage"] == "kaboom"
    assert any("functions/crash/app.py" in line for line in payload["stackTrace"])

    with pytest.raises(ClientError) as info:
        client.invoke(FunctionName="NoSuchFunction", Payload=b"{}")
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404

    event = client.invoke(FunctionName="FallbackFunction", InvocationType="Event", Payload=b"{}")
    assert event["StatusCode"] == 202

    names = {f["FunctionName"] for f in client.list_functions()["Functions"]}
    assert {"EchoFunction", "BoomFunction", "WorkerFunction"} <= names
