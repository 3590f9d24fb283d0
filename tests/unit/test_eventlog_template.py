"""The event log's table and its one write policy (hub.eventlog; docs/events.md, "Event log")."""

from __future__ import annotations

from localcloud.template import load_template
from tests.helpers import ROOT


def test_every_function_may_write_the_event_log_and_only_write_it() -> None:
    template = load_template(ROOT / "template.yaml")
    resources = template["Resources"]
    functions = sorted(k for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function")
    policy = resources["EventLogWritePolicy"]
    roles = sorted(role["Ref"].removesuffix("Role") for role in policy["Properties"]["Roles"])

    # Every function's generated role (SAM: <Function>Role) holds the policy: any may record
    assert roles == functions
    # ... which puts and updates items of the event log table, nothing else, nowhere else
    [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert sorted(statement["Action"]) == ["dynamodb:BatchWriteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    assert statement["Resource"] == {"Fn::GetAtt": ["EventLogTable", "Arn"]}
    # and every function knows the table
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["EVENT_LOG_TABLE"] == {"Ref": "EventLogTable"}


def test_the_event_log_table_has_the_contracts_keys_indexes_and_retention() -> None:
    table = load_template(ROOT / "template.yaml")["Resources"]["EventLogTable"]
    props = table["Properties"]
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
    assert [(k["AttributeName"], k["KeyType"]) for k in props["KeySchema"]] == [("pk", "HASH"), ("sk", "RANGE")]
    indexes = {
        gsi["IndexName"]: [k["AttributeName"] for k in gsi["KeySchema"]] for gsi in props["GlobalSecondaryIndexes"]
    }
    assert indexes == {
        "by_record_id": ["record_id"],
        "by_provider": ["provider_pk", "sk"],
        "by_status": ["status_pk", "sk"],
    }
    assert all(gsi["Projection"] == {"ProjectionType": "ALL"} for gsi in props["GlobalSecondaryIndexes"])
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["BillingMode"] == "PAY_PER_REQUEST"
