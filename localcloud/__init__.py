"""The local cloud: runs the hub from template.yaml with moto, Lambdas in worker processes and provider sandboxes."""

from localcloud.cloud import LocalCloud, running

__all__ = ["LocalCloud", "running"]
