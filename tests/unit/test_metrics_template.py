"""template.yaml brings the operators' picture with it: an alarm on every dead-letter queue, the
breaker, failure-rate and budget alarms, all notifying the operations topic, and a dashboard
that names only metrics hub.metrics emits, under the dimension sets it emits them with."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from hub.metrics import CATALOGUE, NAMESPACE
from localcloud.template import load_template
from tests.helpers import ROOT

TOPIC = {"Ref": "OperationsAlarmsTopic"}
# The Metrics Insights alarms' shape: one metric of one emitted dimension set, per provider.
MI_QUERY = r"SELECT \w+\((\w+)\) FROM SCHEMA\((\w+), ([\w, ]+)\) GROUP BY Provider"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(ROOT / "template.yaml")


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r.get("Properties", {}) for name, r in template["Resources"].items() if r.get("Type") == kind}


def _queue_of(arn: Any) -> str | None:
    """The queue a ``!GetAtt Queue.Arn`` names."""
    if isinstance(arn, dict) and "Fn::GetAtt" in arn:
        return str(arn["Fn::GetAtt"][0])
    return None


def dead_letter_queues(template: dict[str, Any]) -> set[str]:
    """Every queue something dead-letters into: redrive targets, the functions' DLQ (Globals or
    their own), event source mappings' and EventBridge targets' on-failure queues."""
    found: set[str] = set()
    for props in resources(template, "AWS::SQS::Queue").values():
        found.add(_queue_of((props.get("RedrivePolicy") or {}).get("deadLetterTargetArn")) or "")
    found.add(_queue_of(template["Globals"]["Function"].get("DeadLetterQueue", {}).get("TargetArn")) or "")
    for props in resources(template, "AWS::Serverless::Function").values():
        found.add(_queue_of((props.get("DeadLetterQueue") or {}).get("TargetArn")) or "")
        for event in (props.get("Events") or {}).values():
            event_props = event.get("Properties") or {}
            on_failure = (event_props.get("DestinationConfig") or {}).get("OnFailure") or {}
            found.add(_queue_of(on_failure.get("Destination")) or "")
            found.add(_queue_of((event_props.get("DeadLetterConfig") or {}).get("Arn")) or "")
    text = json.dumps(template["Resources"])
    for match in re.finditer(r'"DeadLetterConfig": \{"Arn": \{"Fn::GetAtt": \["(\w+)", "Arn"\]\}', text):
        found.add(match.group(1))
    found.discard("")
    return found


def depth_alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Queue -> the alarm on its visible messages (SQS's own metric)."""
    alarms: dict[str, dict[str, Any]] = {}
    for props in resources(template, "AWS::CloudWatch::Alarm").values():
        if props.get("Namespace") == "AWS/SQS" and props.get("MetricName") == "ApproximateNumberOfMessagesVisible":
            [dimension] = props["Dimensions"]
            alarms[dimension["Value"]["Fn::GetAtt"][0]] = props
    return alarms


def test_every_dead_letter_queue_alarms_on_its_first_message(template: dict[str, Any]) -> None:
    dlqs = dead_letter_queues(template)
    # the queues known today are found (the search itself works)
    assert {"InboundEventsDLQ", "MessagesOutboxDLQ", "ContactErasureDLQ", "FailedInvocationsDLQ"} <= dlqs
    alarms = depth_alarms(template)
    for queue in sorted(dlqs | {"ManualRetryQueue"}):
        assert queue in alarms, f"{queue} has no depth alarm"
        alarm = alarms[queue]
        assert alarm["Threshold"] == 0 and alarm["ComparisonOperator"] == "GreaterThanThreshold", queue
        assert alarm["Statistic"] == "Maximum" and alarm["TreatMissingData"] == "notBreaching", queue
        assert TOPIC in alarm["AlarmActions"], f"{queue}'s alarm notifies no one"


def _insights(props: dict[str, Any]) -> str:
    [query] = props["Metrics"]
    return str(query["Expression"])


def test_breaker_and_failure_rate_alarm_per_provider(template: dict[str, Any]) -> None:
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    breaker = alarms["ProviderBreakerOpenAlarm"]
    assert _insights(breaker).startswith("SELECT MAX(BreakerOpen) ")
    assert _insights(breaker).endswith("GROUP BY Provider")  # one contributor per provider
    # open for N consecutive 5-minute health checks (N a parameter, every one breaching)
    assert breaker["Metrics"][0]["Period"] == 300
    assert breaker["EvaluationPeriods"] == breaker["DatapointsToAlarm"] == {"Ref": "BreakerOpenAlarmPeriods"}
    assert template["Parameters"]["BreakerOpenAlarmPeriods"]["MaxValue"] * 300 <= 3 * 3600  # what MI alarms see
    assert breaker["Threshold"] == 1 and breaker["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    rate = alarms["ProviderFailureRateAlarm"]
    assert _insights(rate).startswith("SELECT AVG(ProviderFailureRate) ")
    assert _insights(rate).endswith("GROUP BY Provider")
    assert rate["Threshold"] == {"Ref": "ProviderFailureRateAlarmPercent"}
    assert rate["ComparisonOperator"] == "GreaterThanThreshold"
    for props in (breaker, rate):
        assert props["TreatMissingData"] == "notBreaching" and TOPIC in props["AlarmActions"]


def test_budget_alarms_watch_the_100_and_120_percent_thresholds(template: dict[str, Any]) -> None:
    service = template["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
    watched = set()
    for props in resources(template, "AWS::CloudWatch::Alarm").values():
        if props.get("MetricName") != "BudgetThresholdCrossed":
            continue
        dimensions = {d["Name"]: d["Value"] for d in props["Dimensions"]}
        # exactly the emitted set (ThresholdPercent + service), or CloudWatch finds no data
        assert set(dimensions) == {*CATALOGUE["BudgetThresholdCrossed"][1][0], "service"}
        assert props["Namespace"] == NAMESPACE and dimensions["service"] == service
        assert props["Statistic"] == "Sum" and props["Threshold"] == 1 and TOPIC in props["AlarmActions"]
        watched.add(dimensions["ThresholdPercent"])
    assert watched == {"100", "120"}


def test_alarms_query_emitted_metrics_under_emitted_dimension_sets(template: dict[str, Any]) -> None:
    for name, props in resources(template, "AWS::CloudWatch::Alarm").items():
        for query in props.get("Metrics") or []:
            match = re.fullmatch(
                r"SELECT \w+\((\w+)\) FROM SCHEMA\((\w+), ([\w, ]+)\) GROUP BY Provider", query["Expression"]
            )
            assert match, f"{name}: {query['Expression']}"
            metric, namespace, dimensions = match.groups()
            assert namespace == NAMESPACE and metric in CATALOGUE, name
            assert _emitted_set(metric, {d.strip() for d in dimensions.split(",")}), name


def _emitted_set(metric: str, dimensions: set[str]) -> bool:
    return any(dimensions == {*declared, "service"} for declared in CATALOGUE[metric][1])


def dashboard(template: dict[str, Any]) -> dict[str, Any]:
    [props] = resources(template, "AWS::CloudWatch::Dashboard").values()
    body = props["DashboardBody"]["Fn::Sub"]
    # Substitutions: strings stay strings, a bare ${Parameter} is a number.
    body = re.sub(r'"\$\{[^}]+\}"', '"x"', body)
    return json.loads(re.sub(r"\$\{[^}]+\}", "0", body))  # type: ignore[no-any-return]


def test_the_dashboard_shows_every_metric_the_code_emits_and_no_other(template: dict[str, Any]) -> None:
    widgets = dashboard(template)["widgets"]
    searches = [
        item["expression"]
        for widget in widgets
        for row in widget["properties"].get("metrics", [])
        for item in row
        if isinstance(item, dict) and "SEARCH(" in item.get("expression", "")
    ]
    shown: set[str] = set()
    for search in searches:
        match = re.search(r"\{(\w+),([\w,]+)\} MetricName=\"(\w+)\"", search)
        assert match, search
        namespace, dimensions, metric = match.groups()
        assert namespace == NAMESPACE and metric in CATALOGUE, search
        assert _emitted_set(metric, set(dimensions.split(","))), f"{metric} is not emitted with {dimensions}"
        shown.add(metric)
    assert shown == set(CATALOGUE)


def test_the_dashboard_shows_every_dlq_depth_and_every_alarm(template: dict[str, Any]) -> None:
    [props] = resources(template, "AWS::CloudWatch::Dashboard").values()
    raw = props["DashboardBody"]["Fn::Sub"]
    for queue in dead_letter_queues(template) | {"ManualRetryQueue"}:
        assert f'"QueueName", "${{{queue}.QueueName}}"' in raw, f"{queue} depth is not on the dashboard"
    for alarm in resources(template, "AWS::CloudWatch::Alarm"):
        assert f"${{{alarm}.Arn}}" in raw, f"{alarm} is not on the dashboard"


def test_the_alarms_topic_is_encrypted_with_a_key_cloudwatch_may_use(template: dict[str, Any]) -> None:
    topic = resources(template, "AWS::SNS::Topic")["OperationsAlarmsTopic"]
    assert topic["KmsMasterKeyId"] == {"Ref": "OperationsAlarmsKey"}
    key = resources(template, "AWS::KMS::Key")["OperationsAlarmsKey"]
    assert key["EnableKeyRotation"] is True
    [grant] = [s for s in key["KeyPolicy"]["Statement"] if s["Principal"].get("Service") == "cloudwatch.amazonaws.com"]
    assert set(grant["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert grant["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
