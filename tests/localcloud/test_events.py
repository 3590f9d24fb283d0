from __future__ import annotations

import json
from typing import Any

import pytest

from localcloud import LocalCloud

pytestmark = pytest.mark.e2e  # boots a LocalCloud

TABLE = "integrations-hub-local-table"


def _counter(cloud: LocalCloud, pk: str) -> int:
    item = cloud.client("dynamodb").get_item(TableName=TABLE, Key={"pk": {"S": pk}}).get("Item")
    return int(item["n"]["N"]) if item else 0


def test_sqs_partial_batch_failure_and_dlq(start_cloud: Any, wait_until: Any) -> None:
    cloud = start_cloud(sqs_pollers=True)
    sqs = cloud.client("sqs")
    queue_url = sqs.get_queue_url(QueueName="integrations-hub-local-work")["QueueUrl"]
    dlq_url = sqs.get_queue_url(QueueName="integrations-hub-local-work-dlq")["QueueUrl"]
    attrs = {"kind": {"DataType": "String", "StringValue": "greeting"}}
    sqs.send_message_batch(
        QueueUrl=queue_url,
        Entries=[
            {"Id": "1", "MessageBody": "ok1", "MessageAttributes": attrs},
            {"Id": "2", "MessageBody": "fail1"},
            {"Id": "3", "MessageBody": "ok2"},
        ],
    )
    ddb = cloud.client("dynamodb")

    def done(body: str) -> dict[str, Any] | None:
        item: dict[str, Any] | None = ddb.get_item(TableName=TABLE, Key={"pk": {"S": f"done#{body}"}}).get("Item")
        return item

    first = wait_until(lambda: done("ok1"))
    assert first["attr"]["S"] == "greeting"  # messageAttributes in Lambda's shape
    assert first["source"]["S"] == "aws:sqs"
    assert first["receive_count"]["S"] == "1"
    wait_until(lambda: done("ok2"))

    # the failed message is redelivered (visibility timeout 1 s) and, after
    # maxReceiveCount=2 receives, moved to the DLQ
    def in_dlq() -> list[dict[str, Any]]:
        msgs: list[dict[str, Any]] = sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=1).get("Messages", [])
        return msgs

    dead = wait_until(in_dlq, timeout=15)
    assert [m["Body"] for m in dead] == ["fail1"]
    assert _counter(cloud, "seen#fail1") == 2
    # successful messages were deleted, not redelivered
    assert _counter(cloud, "seen#ok1") == 1
    assert _counter(cloud, "seen#ok2") == 1
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_schedule_fires_with_speed_up(start_cloud: Any, wait_until: Any) -> None:
    cloud = start_cloud(schedules=True, schedule_speed=60)  # rate(1 minute) -> every second
    wait_until(lambda: _counter(cloud, "ticks") >= 2, timeout=8)


def test_step_functions_retry_and_catch_with_lambda_error_type(start_cloud: Any, wait_until: Any) -> None:
    cloud = start_cloud()
    sfn = cloud.client("stepfunctions")
    arn = sfn.describe_state_machine(stateMachineArn="arn:aws:states:us-east-1:123456789012:stateMachine:fixture-flow")[
        "stateMachineArn"
    ]
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"order": 1}))

    def finished() -> dict[str, Any] | None:
        desc: dict[str, Any] = sfn.describe_execution(executionArn=execution["executionArn"])
        return desc if desc["status"] != "RUNNING" else None

    result = wait_until(finished, timeout=20)
    assert result["status"] == "SUCCEEDED", result
    assert json.loads(result["output"]) == {
        "handled": True,
        "error": "ProviderUnavailableError",
        "message": "evolution is down",
    }
    assert _counter(cloud, "boom-attempts") == 2  # first try + 1 retry, then Catch

    # unnamed executions get unique names, like AWS
    second = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"ok": True}))
    assert second["executionArn"] != execution["executionArn"]
    second_arn = second["executionArn"]
    done = wait_until(lambda: (d := sfn.describe_execution(executionArn=second_arn))["status"] != "RUNNING" and d)
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"]) == {"boom": "no"}
