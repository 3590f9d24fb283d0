"""Provider adapters, one package each, found by name.

Each package's ``__init__`` declares ``DESCRIPTOR`` (or ``DESCRIPTORS``, see :mod:`hub.providers.base.descriptor`);
the registry is the union of them, built on first use by listing this folder — no hand-kept
list. Looking up one provider imports only its package (``hub.providers.<key>``), so a
receiver's cold start does not pay for every other adapter.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import replace
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hub.providers.base.client import ProviderClient
    from hub.providers.base.descriptor import ProviderDescriptor

_NOT_PROVIDERS = frozenset({"base"})


@cache
def declared_in(package: str) -> tuple[ProviderDescriptor, ...]:
    try:
        module = importlib.import_module(f"{__name__}.{package}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{package}":
            raise
        return ()
    declared = getattr(module, "DESCRIPTORS", None) or ((module.DESCRIPTOR,) if hasattr(module, "DESCRIPTOR") else ())
    return tuple(replace(d, package=module.__name__, key=d.key or package) for d in declared)


@cache
def all_descriptors() -> dict[str, ProviderDescriptor]:
    """Every provider by key, in package order."""
    found: dict[str, ProviderDescriptor] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.ispkg and info.name not in _NOT_PROVIDERS:
            for descriptor in declared_in(info.name):
                if descriptor.key in found:
                    raise RuntimeError(f"provider key {descriptor.key!r} is declared twice")
                found[descriptor.key] = descriptor
    return found


@cache
def descriptor(key: str) -> ProviderDescriptor | None:
    """The provider named ``key`` (or one of its aliases); None when there is none."""
    if key.isidentifier() and key not in _NOT_PROVIDERS:
        for candidate in declared_in(key):  # the common case: the key is the package's name
            if candidate.key == key:
                return candidate
    for candidate in all_descriptors().values():
        if candidate.key == key or key in candidate.aliases:
            return candidate
    return None


def _adapters() -> dict[str, type[ProviderClient]]:
    return {d.key: d.client_class() for d in all_descriptors().values() if d.client and d.health_check}


_ADAPTERS: dict[str, type[ProviderClient]] | None = None


def __getattr__(name: str) -> Any:
    # ``ADAPTERS``: provider key → client class, for every provider the health check probes.
    global _ADAPTERS
    if name == "ADAPTERS":
        if _ADAPTERS is None:
            _ADAPTERS = _adapters()
        return _ADAPTERS
    raise AttributeError(f"module 'hub.providers' has no attribute {name!r}")
