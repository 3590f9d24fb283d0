"""The audit trail is append-only by construction: no function of template.yaml may update or
delete an audit record (docs/integrations.md, "Audit"), and records leave only by TTL."""

from __future__ import annotations

import fnmatch
import json
from typing import Any

from localcloud.template import load_template
from tests.helpers import ROOT

# What a function may do to AuditTable: append (PutItem, conditional on a new key) and read.
ALLOWED_ON_AUDIT = {"dynamodb:putitem", "dynamodb:query", "dynamodb:getitem", "dynamodb:describetable"}
# SAM policy templates that only read.
READ_ONLY_TEMPLATES = {"DynamoDBReadPolicy"}
WRITES = ("dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:PartiQLUpdate")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _covers_audit_table(resource: Any) -> bool:
    text = json.dumps(resource)
    return "AuditTable" in text or resource == "*" or text.rstrip('"').endswith(":table/*")


def audit_table_violations(template: dict[str, Any]) -> list[str]:
    """Every grant in ``template`` that lets a function change or delete an audit record."""
    found: list[str] = []
    for name, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        for policy in _as_list(resource.get("Properties", {}).get("Policies") or []):
            if isinstance(policy, str):
                if "dynamodb" in policy.lower() and "readonly" not in policy.lower():
                    found.append(f"{name}: managed policy {policy}")
                continue
            for key, value in policy.items():
                if key != "Statement":
                    if "AuditTable" in json.dumps(value) and key not in READ_ONLY_TEMPLATES:
                        found.append(f"{name}: {key} on AuditTable")
                    continue
                for statement in _as_list(value):
                    if statement.get("Effect") != "Allow":
                        continue
                    if not any(_covers_audit_table(r) for r in _as_list(statement.get("Resource"))):
                        continue
                    for action in _as_list(statement.get("Action")):
                        lowered = str(action).lower()
                        writes = [w for w in WRITES if fnmatch.fnmatch(w.lower(), lowered)]
                        if writes or (lowered.startswith("dynamodb:") and lowered not in ALLOWED_ON_AUDIT):
                            if "AuditTable" in json.dumps(statement.get("Resource")) or writes:
                                found.append(f"{name}: {action} on {statement.get('Resource')}")
    return found


def _audit_actions(template: dict[str, Any], function: str) -> set[str]:
    actions: set[str] = set()
    for policy in template["Resources"][function]["Properties"].get("Policies") or []:
        for statement in _as_list(policy.get("Statement", [])) if isinstance(policy, dict) else []:
            if "AuditTable" in json.dumps(statement.get("Resource")):
                actions.update(_as_list(statement["Action"]))
    return actions


def test_no_function_can_update_or_delete_an_audit_record() -> None:
    template = load_template(ROOT / "template.yaml")
    assert audit_table_violations(template) == []


def test_writers_append_and_audit_query_only_queries() -> None:
    template = load_template(ROOT / "template.yaml")
    assert _audit_actions(template, "AuditQuery") == {"dynamodb:Query"}
    for function in ("TransferCreate", "WhatsAppSendText", "WebhookEvolution", "WebhookStripe"):
        assert _audit_actions(template, function) == {"dynamodb:PutItem"}, function


def test_the_check_catches_every_way_to_change_the_trail() -> None:
    # Given grants that would let a function rewrite or erase records
    table = {"Fn::GetAtt": ["AuditTable", "Arn"]}
    bad = [
        {"DynamoDBWritePolicy": {"TableName": {"Ref": "AuditTable"}}},
        {"DynamoDBCrudPolicy": {"TableName": {"Ref": "AuditTable"}}},
        {"Statement": [{"Effect": "Allow", "Action": "dynamodb:UpdateItem", "Resource": table}]},
        {"Statement": [{"Effect": "Allow", "Action": ["dynamodb:*"], "Resource": table}]},
        {"Statement": [{"Effect": "Allow", "Action": "dynamodb:Delete*", "Resource": "*"}]},
        {"Statement": [{"Effect": "Allow", "Action": "dynamodb:BatchWriteItem", "Resource": table}]},
        "AmazonDynamoDBFullAccess",
    ]
    for policy in bad:
        template = {"Resources": {"Fn": {"Type": "AWS::Serverless::Function", "Properties": {"Policies": [policy]}}}}
        # Then each one is reported
        assert audit_table_violations(template), policy
    # And appending or reading is not
    good = [
        {"Statement": [{"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": table}]},
        {"Statement": [{"Effect": "Allow", "Action": "dynamodb:Query", "Resource": table}]},
        {"DynamoDBCrudPolicy": {"TableName": {"Ref": "PaymentsTable"}}},
    ]
    template = {"Resources": {"Fn": {"Type": "AWS::Serverless::Function", "Properties": {"Policies": good}}}}
    assert audit_table_violations(template) == []


def test_records_expire_by_ttl_after_the_retention_parameter() -> None:
    template = load_template(ROOT / "template.yaml")
    table = template["Resources"]["AuditTable"]["Properties"]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["AUDIT_RETENTION_DAYS"] == {"Ref": "AuditRetentionDays"}
    assert template["Parameters"]["AuditRetentionDays"]["Default"] == 1825
