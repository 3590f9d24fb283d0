"""Provider adapters. ``ADAPTERS`` maps the provider name used in secret ids to its class."""

from __future__ import annotations

from hub.providers.base import ProviderClient
from hub.providers.evolution import EvolutionClient

ADAPTERS: dict[str, type[ProviderClient]] = {cls.provider: cls for cls in (EvolutionClient,)}
