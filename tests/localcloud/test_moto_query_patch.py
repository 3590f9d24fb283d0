"""The local cloud's moto Query patch (localcloud.aws.patch_dynamodb_partition_queries) reads one
partition instead of sorting the whole table, and answers exactly what moto answered before."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.models.table import Table

from localcloud.aws import patch_dynamodb_partition_queries

TABLE = "log"


@pytest.fixture
def ddb() -> Iterator[Any]:
    patch_dynamodb_partition_queries()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "gpk")],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "by_g",
                    "KeySchema": [
                        {"AttributeName": "gpk", "KeyType": "HASH"},
                        {"AttributeName": "sk", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
        rng = random.Random(7)  # the same table every run
        for n in range(600):
            item = {
                "pk": {"S": f"org#{rng.choice('abc')}"},
                "sk": {"S": f"2026-11-{rng.randint(1, 28):02d}T{n:06d}"},
                "kind": {"S": rng.choice(["x", "y"])},
            }
            if n % 3:
                item["gpk"] = {"S": f"g#{rng.choice('pq')}"}
            client.put_item(TableName=TABLE, Item=item)
        yield client


QUERIES: list[dict[str, Any]] = [
    {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "org#a"}}},
    {
        "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": {":p": {"S": "org#b"}},
        "ScanIndexForward": False,
        "Limit": 7,
    },
    {
        "KeyConditionExpression": "pk = :p AND sk BETWEEN :a AND :b",
        "ExpressionAttributeValues": {":p": {"S": "org#c"}, ":a": {"S": "2026-11-05"}, ":b": {"S": "2026-11-20"}},
        "ScanIndexForward": False,
    },
    {
        "KeyConditionExpression": "pk = :p AND begins_with(sk, :d)",
        "FilterExpression": "kind = :k",
        "ExpressionAttributeValues": {":p": {"S": "org#a"}, ":d": {"S": "2026-11-1"}, ":k": {"S": "y"}},
        "Limit": 5,
    },
    {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "org#nobody"}}},
    {
        "IndexName": "by_g",
        "KeyConditionExpression": "gpk = :g",
        "ExpressionAttributeValues": {":g": {"S": "g#p"}},
        "ScanIndexForward": False,
        "Limit": 9,
    },
]


def _all_pages(client: Any, query: dict[str, Any]) -> list[list[dict[str, Any]]]:
    pages, start = [], None
    while True:
        kwargs = {"TableName": TABLE, **query, **({"ExclusiveStartKey": start} if start else {})}
        answer = client.query(**kwargs)
        pages.append(answer["Items"])
        start = answer.get("LastEvaluatedKey")
        if not start:
            return pages


@pytest.mark.parametrize("query", QUERIES)
def test_patched_query_answers_what_moto_answers(ddb: Any, query: dict[str, Any], monkeypatch: Any) -> None:
    # Given the patched Query's pages
    patched = _all_pages(ddb, query)
    # When moto's own methods answer the same query
    monkeypatch.setattr(Table, "query", Table.query.__wrapped__)  # type: ignore[attr-defined]
    monkeypatch.setattr(Table, "all_items", Table.all_items.__wrapped__)  # type: ignore[attr-defined]
    original = _all_pages(ddb, query)
    # Then the pages are the same, item for item and in order
    assert patched == original
    assert sum(map(len, patched)) > 0 or query["ExpressionAttributeValues"][":p"]["S"] == "org#nobody"


def test_base_table_query_reads_only_its_partition(ddb: Any, monkeypatch: Any) -> None:
    # Given a spy on moto's whole-table listing
    calls: list[int] = []
    listing = Table.all_items.__wrapped__  # type: ignore[attr-defined]

    def spy(self: Any) -> Any:
        calls.append(1)
        return listing(self)

    monkeypatch.setattr(Table.all_items, "__wrapped__", spy)
    # When a base-table query runs
    ddb.query(TableName=TABLE, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "org#a"}})
    # Then the whole table was never listed (and a scan still lists it)
    assert calls == []
    ddb.scan(TableName=TABLE, Limit=1)
    assert calls
