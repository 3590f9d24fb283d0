"""What a web search returns, whatever the engine: one bounded, typed result model.

Every engine adapter (serpapi, serper, brave: the WebSearch port) answers the same shapes, so
the search chain can fall from one engine to the next and cache what any of them found. The
original field names stay (``link``, ``gps``: WebSearch's answer since it shipped); ``url`` and
``coordinates`` carry the same values under the names the normalised model uses.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, model_validator

Engine = Literal["google", "google_maps", "google_news"]
ENGINES: tuple[Engine, ...] = ("google", "google_maps", "google_news")
MAX_RESULTS = 100
MAX_QUERY_CHARS = 2_048  # Google's own limit on a query's length
# Bounds on what a result carries back, whatever the provider sends.
MAX_TITLE, MAX_SNIPPET, MAX_LINK, MAX_SHORT = 500, 1_000, 2_048, 200


def clip(value: Any, limit: int) -> str | None:
    return value.strip()[:limit] or None if isinstance(value, str) else None


def number(value: Any) -> float | None:
    """A JSON number (int, float or the base client's Decimal) as a float (ratings,
    coordinates: not money), else None (bools, NaN and infinities too)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    found = float(value)
    return found if math.isfinite(found) else None


def count(value: Any) -> int | None:
    """A non-negative integer count (reviews), from an int or a digit string ("1,234")."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, (float, Decimal)) and value == int(value) and value >= 0:
        return int(value)
    if isinstance(value, str):
        digits = value.strip().strip("()").replace(",", "").replace(".", "")
        return int(digits) if digits.isdigit() else None
    return None


class _Linked(BaseModel):
    """A result with a link: ``url`` and ``link`` always hold the same value (either may be given)."""

    @model_validator(mode="before")
    @classmethod
    def _same_link(cls, data: Any) -> Any:
        if isinstance(data, dict):
            link = data.get("link") or data.get("url")
            if link is not None:
                data = {**data, "link": link, "url": link}
        return data


class WebResult(_Linked):
    position: int
    title: str
    link: str
    url: str = ""  # always filled with link's value (see _Linked)
    snippet: str | None = None
    # The provider key that found it (serpapi, serper, brave).
    source_engine: str | None = None


class GpsCoordinates(BaseModel):
    latitude: float
    longitude: float

    @classmethod
    def of(cls, latitude: Any, longitude: Any) -> GpsCoordinates | None:
        lat, lng = number(latitude), number(longitude)
        if lat is None or lng is None or not (-90 <= lat <= 90 and -180 <= lng <= 180):
            return None
        return cls(latitude=lat, longitude=lng)


class PlaceResult(BaseModel):
    position: int
    name: str
    address: str | None = None
    phone: str | None = None
    website: str | None = None
    # Stars out of 5 (a float: ratings are not money) and how many reviews they average.
    rating: float | None = None
    reviews: int | None = None
    gps: GpsCoordinates | None = None
    coordinates: GpsCoordinates | None = None
    source_engine: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _same_coordinates(cls, data: Any) -> Any:
        if isinstance(data, dict):
            point = data.get("gps") or data.get("coordinates")
            if point is not None:
                data = {**data, "gps": point, "coordinates": point}
        return data


class NewsResult(_Linked):
    position: int
    title: str
    link: str
    url: str = ""  # always filled with link's value (see _Linked)
    source: str | None = None
    # As the engine shows it ("2 hours ago", "12/03/2026, 08:00 AM, +0000 UTC"), and when the
    # engine gives an exact timestamp, that instant (UTC).
    date: str | None = None
    published_at: datetime | None = None
    snippet: str | None = None
    source_engine: str | None = None


class SearchResults(BaseModel):
    """One page of results of one engine: ``web`` (google), ``places`` (google_maps) or
    ``news`` (google_news), at most ``num`` of them.

    Pagination: ``start`` is the offset of this page's first result (the asked ``start``, rounded
    down to a page by engines that count pages: Serper, Brave); ``next_start`` the ``start`` of
    the next page when the engine says there is one (absent: no further page known). Positions
    are ranks in the whole result list (1 = first result of the first page)."""

    provider: str
    engine: Engine
    search_id: str | None = None
    web: list[WebResult] | None = None
    places: list[PlaceResult] | None = None
    news: list[NewsResult] | None = None
    start: int = 0
    next_start: int | None = None


def parse_instant(value: Any) -> datetime | None:
    """An ISO 8601 timestamp (``2026-12-03T08:00:00Z``, with or without offset: UTC assumed)."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        found = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return found if found.tzinfo else found.replace(tzinfo=UTC)
