"""The local cloud: runs the hub from template.yaml with moto, in-process Lambdas and provider sandboxes."""

from localcloud.cloud import LocalCloud, running

__all__ = ["LocalCloud", "running"]
