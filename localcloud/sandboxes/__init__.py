"""Fake third-party providers served on one port (default 4010), one path prefix each.

Adding a provider: write ``localcloud/sandboxes/<provider>.py`` (the provider's key) with a
:class:`Sandbox` subclass registered as ``SANDBOX`` and its demo secret(s) in ``DEMO_SECRETS``.
Modules are found by listing this folder; a module may declare only ``DEMO_SECRETS`` when the
provider needs no fake server (webhook-only providers, SES served by moto).
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from types import ModuleType

from localcloud.sandboxes.base import Fault, Sandbox, SandboxServer, parse_fault

# Shared helpers of several sandboxes, not providers.
_HELPERS = frozenset({"base", "brcode", "llm", "nfse_rules", "oauth_server"})
# Services the hub itself reports to, not providers an org connects (no hub.providers package, no
# adapter): their secret is the hub's own (``_apps/<name>``).
PLATFORM_SERVICES = frozenset({"sentry"})


@cache
def sandbox_modules() -> tuple[ModuleType, ...]:
    """Every provider module of this folder, by name."""
    names = sorted(info.name for info in pkgutil.iter_modules(__path__) if info.name not in _HELPERS)
    return tuple(importlib.import_module(f"{__name__}.{name}") for name in names)


def all_sandboxes() -> list[Sandbox]:
    """A fresh instance of every registered sandbox."""
    return [module.SANDBOX() for module in sandbox_modules() if hasattr(module, "SANDBOX")]


__all__ = ["PLATFORM_SERVICES", "Fault", "Sandbox", "SandboxServer", "all_sandboxes", "parse_fault", "sandbox_modules"]
