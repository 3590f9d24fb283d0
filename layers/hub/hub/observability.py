"""The one Logger, Tracer and Metrics of the hub; every module imports these."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="IntegrationsHub")
