"""boto3 clients, one per service per container, created on first use.

Created lazily (not at import) so a cold start pays only for the clients it uses and
tests can point them at moto. Timeouts are short: every caller is inside a Lambda.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

# Untyped on purpose: with boto3-stubs installed (some tools pull them in) boto3.client's
# overloads only take literal service names; without them it is untyped. Either way: Any.
_client_factory: Any = boto3.client
# boto3's default session is not thread-safe (clients are): clients are made under one lock,
# since some callers make their first call from a thread pool (hub.inbound's batch).
# https://boto3.amazonaws.com/v1/documentation/api/latest/guide/session.html (multithreading), boto/boto3#1592
_CREATING = threading.Lock()
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10)


@cache
def aws_client(service: str) -> Any:
    with _CREATING:
        return _client_factory(service, config=_CONFIG)


# For provider calls made through an AWS SDK (SES sends): the hub's own RetryPolicy retries
# them under the Lambda's deadline, so the SDK must not retry underneath (3 x 3 attempts).
_SINGLE_ATTEMPT = Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=3, read_timeout=10)


@cache
def aws_provider_client(service: str) -> Any:
    with _CREATING:
        return _client_factory(service, config=_SINGLE_ATTEMPT)
