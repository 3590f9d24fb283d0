"""What a web search returns, whatever the provider: bounded, typed results."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

Engine = Literal["google", "google_maps", "google_news"]
MAX_RESULTS = 100
MAX_QUERY_CHARS = 2_048  # Google's own limit on a query's length
# Bounds on what a result carries back, whatever the provider sends.
MAX_TITLE, MAX_SNIPPET, MAX_LINK, MAX_SHORT = 500, 1_000, 2_048, 200


def clip(value: Any, limit: int) -> str | None:
    return value.strip()[:limit] or None if isinstance(value, str) else None


class WebResult(BaseModel):
    position: int
    title: str
    link: str
    snippet: str | None = None


class GpsCoordinates(BaseModel):
    latitude: float
    longitude: float


class PlaceResult(BaseModel):
    position: int
    name: str
    address: str | None = None
    rating: float | None = None
    gps: GpsCoordinates | None = None


class NewsResult(BaseModel):
    position: int
    title: str
    link: str
    source: str | None = None
    date: str | None = None


class SearchResults(BaseModel):
    """One page of results of one engine: ``web`` (google), ``places`` (google_maps) or
    ``news`` (google_news), at most ``num`` of them."""

    provider: str
    engine: Engine
    search_id: str | None = None
    web: list[WebResult] | None = None
    places: list[PlaceResult] | None = None
    news: list[NewsResult] | None = None
