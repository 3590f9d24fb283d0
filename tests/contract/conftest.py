"""Fixtures of the contract suite: moto's resources created once, the shared resilience and
integrations tables (breakers, disabled integrations) emptied before each test."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from localcloud.aws import MotoServer, ResourceCreator
from localcloud.template import Template
from tests.conftest import register_test_orgs, reset_hub_caches
from tests.helpers import ROOT


@dataclass
class ContractAws:
    endpoint: str
    env: dict[str, str]

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1")

    def put_secret(self, org_id: str, provider: str, value: dict[str, Any]) -> None:
        name = f"hub/{org_id}/{provider}"
        sm = self.client("secretsmanager")
        try:
            sm.create_secret(Name=name, SecretString=json.dumps(value))
        except sm.exceptions.ResourceExistsException:
            sm.put_secret_value(SecretId=name, SecretString=json.dumps(value))

    def empty_resilience_table(self) -> None:
        """Forget breakers, counters and integration statuses (disabled ones) of earlier tests."""
        ddb = self.client("dynamodb")
        for table, key in (
            (self.env["RESILIENCE_TABLE"], ("pk",)),
            (self.env["INTEGRATIONS_TABLE"], ("org_id", "provider")),
        ):
            for page in ddb.get_paginator("scan").paginate(TableName=table):
                for item in page["Items"]:
                    ddb.delete_item(TableName=table, Key={name: item[name] for name in key})


_envs: dict[str, dict[str, str]] = {}


def _resources(endpoint: str) -> dict[str, str]:
    """The template's resources in moto: created once, and again only when missing (another
    suite's fixture resets moto, or created them already)."""
    env = _envs.get(endpoint)
    template = None
    if env is None:
        template = Template(ROOT / "template.yaml", aws_endpoint=endpoint)
        env = {}
        for fn in template.functions():
            env.update(fn.environment)
        env.update({"AWS_ENDPOINT_URL": endpoint, "STORAGE_ENDPOINT_URL": endpoint})
        _envs[endpoint] = env
    tables = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1").list_tables()["TableNames"]
    if env["RESILIENCE_TABLE"] not in tables or env["INTEGRATIONS_TABLE"] not in tables:
        template = template or Template(ROOT / "template.yaml", aws_endpoint=endpoint)
        ResourceCreator(template, endpoint).create_all()
        register_test_orgs(endpoint, env["ORGS_TABLE"])
    return env


@pytest.fixture
def contract_aws(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> ContractAws:
    env = _resources(moto_server.endpoint)
    for key, value in env.items():
        if key != "POWERTOOLS_SERVICE_NAME":
            monkeypatch.setenv(key, value)
    reset_hub_caches()
    aws = ContractAws(moto_server.endpoint, env)
    aws.empty_resilience_table()
    return aws
