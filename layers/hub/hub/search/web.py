"""WebSearch: the operation (strict request, one page of results from the org's search provider)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from hub.providers.ports import WebSearch, for_org
from hub.requests import OperationRequest, OrgId
from hub.search.models import MAX_QUERY_CHARS, MAX_RESULTS, Engine, SearchResults

# Which optional parameters each engine takes (the rest are refused, naming the field).
ENGINE_PARAMS: dict[str, frozenset[str]] = {
    # https://serpapi.com/search-api
    "google": frozenset({"location", "hl", "gl", "start"}),
    # https://serpapi.com/maps-local-results: pagination needs ll
    "google_maps": frozenset({"hl", "ll", "start"}),
    # https://serpapi.com/google-news-api
    "google_news": frozenset({"hl", "gl"}),
}

Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[a-zA-Z]{2,4})?$")]
Country = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z]{2}$")]
# "@" latitude "," longitude "," zoom ("14z") or map height ("10410m").
MapPoint = Annotated[str, StringConstraints(pattern=r"^@-?\d{1,2}(\.\d+)?,-?\d{1,3}(\.\d+)?,\d+(\.\d+)?[zm]$")]


class WebSearchRequest(OperationRequest):
    """WebSearch's payload, validated before anything is called."""

    org_id: OrgId
    provider: Literal["serpapi"] = "serpapi"
    engine: Engine
    q: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    location: str | None = Field(None, min_length=1, max_length=255)
    hl: Language | None = None
    gl: Country | None = None
    ll: MapPoint | None = None
    num: int = Field(10, ge=1, le=MAX_RESULTS, strict=True)
    start: int = Field(0, ge=0, le=500, strict=True)
    no_cache: bool = Field(False, strict=True)

    @model_validator(mode="after")
    def _engine_params(self) -> WebSearchRequest:
        if not self.q.strip():
            raise ValueError("q must not be blank")
        allowed = ENGINE_PARAMS[self.engine]
        for name in ("location", "hl", "gl", "ll", "start"):
            if name not in allowed and getattr(self, name) not in (None, 0):
                raise ValueError(f"{name} is not a parameter of engine {self.engine}")
        if self.engine == "google_maps" and self.start and not self.ll:
            raise ValueError("start needs ll for engine google_maps (SerpAPI paginates maps around a point)")
        return self


def search_web(request: WebSearchRequest) -> SearchResults:
    """WebSearch: one page of results from the org's search provider."""
    engine = for_org(WebSearch, request.org_id, request.provider)
    return engine.search(
        request.engine,
        request.q,
        location=request.location,
        hl=request.hl,
        gl=request.gl,
        ll=request.ll,
        num=request.num,
        start=request.start,
        no_cache=request.no_cache,
    )
