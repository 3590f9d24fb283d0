from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from localcloud.runtime import function_environment
from localcloud.schedules import aws_cron_to_croniter, parse_rate
from localcloud.template import Template, load_yaml, merge_globals

FIXTURE = Path(__file__).parent / "fixture" / "template.yaml"
ENDPOINT = "http://127.0.0.1:5999"


@pytest.fixture
def template() -> Template:
    return Template(FIXTURE, aws_endpoint=ENDPOINT)


def test_short_and_long_form_tags(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        textwrap.dedent(
            """
            A: !Ref X
            B: !GetAtt Q.Arn
            C: !Sub "${AWS::Region}"
            D: !Join [",", [a, b]]
            E: {"Fn::GetAtt": [Q, Arn]}
            F: !Condition IsLocal
            G: !If [C, !Ref A, !Ref AWS::NoValue]
            H: 2010-09-09
            """
        )
    )
    data = load_yaml(path)
    assert data["A"] == {"Ref": "X"}
    assert data["B"] == {"Fn::GetAtt": ["Q", "Arn"]}
    assert data["C"] == {"Fn::Sub": "${AWS::Region}"}
    assert data["D"] == {"Fn::Join": [",", ["a", "b"]]}
    assert data["E"] == {"Fn::GetAtt": ["Q", "Arn"]}
    assert data["F"] == {"Condition": "IsLocal"}
    assert data["G"] == {"Fn::If": ["C", {"Ref": "A"}, {"Ref": "AWS::NoValue"}]}
    assert data["H"] == "2010-09-09"


def test_intrinsics_resolve_against_resources(template: Template) -> None:
    echo = next(f for f in template.functions() if f.logical_id == "EchoFunction")
    env = echo.environment
    stack = "integrations-hub-local"
    assert env["QUEUE_URL"] == f"{ENDPOINT}/123456789012/{stack}-work"
    assert env["QUEUE_ARN"] == f"arn:aws:sqs:us-east-1:123456789012:{stack}-work"
    assert env["BUCKET"] == f"{stack}-bucket"
    assert env["BUS"] == "fixture-bus"
    assert env["TOPIC"] == f"arn:aws:sns:us-east-1:123456789012:{stack}-topic"
    assert env["FLOW_ARN"] == "arn:aws:states:us-east-1:123456789012:stateMachine:fixture-flow"
    assert env["ZONE"] == "b"
    assert env["JOINED"] == f"local|arn:aws:dynamodb:us-east-1:123456789012:table/{stack}-table"
    assert env["IF_LOCAL"] == "yes-local"
    assert "MAYBE" not in env  # AWS::NoValue removes the key
    assert env["SUB_MAP"] == f"local-us-east-1-arn:aws:dynamodb:us-east-1:123456789012:table/{stack}-table"
    assert echo.memory_size == 512 and echo.timeout == 10
    assert echo.arn == "arn:aws:lambda:us-east-1:123456789012:function:EchoFunction"
    assert template.get_att("WorkQueue", "QueueName") == f"{stack}-work"
    assert template.get_att("Flow", "Name") == "fixture-flow"
    assert template.get_att("BoomFunction", "Arn").endswith(":function:BoomFunction")
    assert template.get_att("Table", "StreamArn").startswith("arn:aws:dynamodb:")
    assert template.get_att("Bucket", "DomainName") == f"{stack}-bucket.s3.amazonaws.com"


def test_globals_merged_into_every_function(template: Template) -> None:
    functions = {f.logical_id: f for f in template.functions()}
    assert set(functions) == {
        "EchoFunction",
        "CrashFunction",
        "WorkerFunction",
        "TickFunction",
        "BoomFunction",
        "FallbackFunction",
        "ProbeA",
        "ProbeB",
    }
    for fn in functions.values():
        assert fn.environment["STAGE"] == "local"
        assert fn.environment["TABLE_NAME"] == "integrations-hub-local-table"
        assert fn.environment["LOG_LEVEL"] == "DEBUG"  # Fn::FindInMap
        assert fn.runtime == "python3.11"
    assert functions["CrashFunction"].memory_size == 256
    props = template.properties("EchoFunction")
    assert props["Layers"] == ["arn:aws:lambda:us-east-1:123456789012:layer:FixtureLayer:1"]
    assert template.layer_dirs() == [(FIXTURE.parent / "layer").resolve()]


def test_conditions_and_parameter_overrides() -> None:
    prod = Template(FIXTURE, parameter_overrides={"Stage": "prod"}, aws_endpoint=ENDPOINT)
    assert prod.condition("IsProd") and not prod.condition("IsLocal") and prod.condition("LocalOrProd")
    assert "OnlyInProd" in prod.logical_ids("AWS::SQS::Queue")
    echo = next(f for f in prod.functions() if f.logical_id == "EchoFunction")
    assert echo.environment["IF_LOCAL"] == "not-local"
    assert echo.environment["MAYBE"] == "x"
    assert echo.environment["LOG_LEVEL"] == "INFO"
    local = Template(FIXTURE, aws_endpoint=ENDPOINT)
    assert "OnlyInProd" not in local.logical_ids("AWS::SQS::Queue")


def test_merge_globals_semantics() -> None:
    merged = merge_globals(
        {"Timeout": 3, "Layers": ["a"], "Environment": {"Variables": {"A": "1", "B": "1"}}, "Role": {"Ref": "R"}},
        {"Timeout": 9, "Layers": ["b"], "Environment": {"Variables": {"B": "2"}}, "Role": {"Fn::GetAtt": ["X", "Arn"]}},
    )
    assert merged == {
        "Timeout": 9,
        "Layers": ["a", "b"],
        "Environment": {"Variables": {"A": "1", "B": "2"}},
        "Role": {"Fn::GetAtt": ["X", "Arn"]},
    }


def test_functions_may_give_one_variable_different_values(tmp_path: Path) -> None:
    # Each function runs in its own workers: no union of environments, no conflict (as on AWS).
    (tmp_path / "template.yaml").write_text(
        textwrap.dedent(
            """
            Globals:
              Function:
                Runtime: python3.11
                Environment:
                  Variables:
                    SHARED: same
            Resources:
              First:
                Type: AWS::Serverless::Function
                Properties:
                  CodeUri: a/
                  Handler: app.handler
                  Environment:
                    Variables:
                      SERVICE: first
              Second:
                Type: AWS::Serverless::Function
                Properties:
                  CodeUri: b/
                  Handler: app.handler
                  Environment:
                    Variables:
                      SERVICE: second
              Ignored:
                Type: AWS::IAM::Role
            """
        )
    )
    functions = {f.logical_id: f for f in Template(tmp_path / "template.yaml").functions()}
    host = {"PATH": "/usr/bin", "HOME": "/home/dev", "SECRET_TOKEN": "from-the-shell"}
    first = function_environment(functions["First"], {"AWS_REGION": "us-east-1"}, host=host)
    second = function_environment(functions["Second"], {"AWS_REGION": "us-east-1"}, host=host)
    assert (first["SERVICE"], second["SERVICE"]) == ("first", "second")
    assert first["SHARED"] == second["SHARED"] == "same"
    assert first["AWS_REGION"] == "us-east-1" and first["PATH"] == "/usr/bin"
    # the engine's own environment stays out, machine settings aside; Lambda's variables are set
    assert "SECRET_TOKEN" not in first and "HOME" not in first
    assert first["AWS_LAMBDA_FUNCTION_NAME"] == functions["First"].name and first["_HANDLER"] == "app.handler"


def test_schedule_expressions() -> None:
    assert parse_rate("rate(5 minutes)") == 300
    assert parse_rate("rate(1 hour)") == 3600
    assert parse_rate("rate(2 days)") == 172800
    assert aws_cron_to_croniter("cron(0 12 * * ? *)") == ("0 12 * * *", "*")
    assert aws_cron_to_croniter("cron(15 10 ? * 2-6 2030)") == ("15 10 * * 1-5", "2030")
    assert aws_cron_to_croniter("cron(0 8 ? * MON-FRI *)") == ("0 8 * * MON-FRI", "*")
    assert aws_cron_to_croniter("cron(0/5 * ? * 1,7 *)") == ("0/5 * * * 0,6", "*")
