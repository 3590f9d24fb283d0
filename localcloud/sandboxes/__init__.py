"""Fake third-party providers served on one port (default 4010), one path prefix each.

Adding a provider: write ``localcloud/sandboxes/<provider>.py`` with a :class:`Sandbox`
subclass, add it to :func:`all_sandboxes`, and add its demo secret in ``localcloud/demo.py``.
"""

from __future__ import annotations

from localcloud.sandboxes.base import Fault, Sandbox, SandboxServer, parse_fault
from localcloud.sandboxes.evolution import EvolutionSandbox


def all_sandboxes() -> list[Sandbox]:
    return [EvolutionSandbox()]


__all__ = ["EvolutionSandbox", "Fault", "Sandbox", "SandboxServer", "all_sandboxes", "parse_fault"]
