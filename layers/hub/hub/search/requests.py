"""What SearchWeb, SearchNews, SearchPlaces and SearchProfiles take: strict requests, validated
before any cache read, secret or engine call (docs/search.md "Functions")."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from hub.requests import OperationRequest, OrgId
from hub.search.models import MAX_QUERY_CHARS, MAX_RESULTS, Engine
from hub.search.web import Country, Language, MapPoint

Kind = Literal["web", "news", "places"]
# The port's engine name for each kind (hub.providers.ports.WebSearch): every adapter maps it
# to its own endpoint (SerpApi engine=, Serper /search|/news|/places, Brave web|news).
ENGINE_OF: dict[str, Engine] = {"web": "google", "news": "google_news", "places": "google_maps"}
MAX_START = 500  # a result offset deeper than this is not a search, it is a crawl
MAX_PAGE = 50
# Brazil by default (the agency's market); the caller may ask for another.
DEFAULT_HL, DEFAULT_GL = "pt-br", "br"

Location = Annotated[str, StringConstraints(min_length=1, max_length=255)]


class SearchRequest(OperationRequest):
    """Fields every search function shares."""

    org_id: OrgId
    num: int = Field(10, ge=1, le=MAX_RESULTS, strict=True)
    # Pagination: ``page`` (1-based) or ``start`` (a result offset); the answer's ``next`` says
    # what to send for the following page.
    page: int | None = Field(None, ge=1, le=MAX_PAGE, strict=True)
    start: int | None = Field(None, ge=0, le=MAX_START, strict=True)
    hl: Language = DEFAULT_HL
    # Skip the cache's fresh answer (the engines are asked; the cache still answers, marked
    # stale, if every engine fails).
    fresh: bool = Field(False, strict=True)
    # Every engine down and nothing cached: publish search.manual_requested (the seed's "busca
    # manual") besides raising ProviderUnavailableError.
    manual_if_unavailable: bool = Field(False, strict=True)

    @model_validator(mode="after")
    def _one_pagination(self) -> SearchRequest:
        if self.page is not None and self.start is not None and self.start != (self.page - 1) * self.num:
            raise ValueError("page and start disagree: send one of them")
        return self

    def offset(self) -> int:
        if self.start is not None:
            return self.start
        return (self.page - 1) * self.num if self.page else 0


class QueryRequest(SearchRequest):
    q: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)

    @model_validator(mode="after")
    def _not_blank(self) -> QueryRequest:
        if not self.q.strip():
            raise ValueError("q must not be blank")
        return self


class SearchWebRequest(QueryRequest):
    """SearchWeb: ``{org_id, q, location?, hl?, gl?, num?, page?|start?, fresh?, manual_if_unavailable?}``."""

    location: Location | None = None
    gl: Country = DEFAULT_GL


class SearchNewsRequest(QueryRequest):
    """SearchNews: ``{org_id, q, hl?, gl?, num?, page?|start?, fresh?, manual_if_unavailable?}``."""

    gl: Country = DEFAULT_GL


class SearchPlacesRequest(QueryRequest):
    """SearchPlaces: ``{org_id, q, ll?, hl?, gl?, num?, page?|start?, ...}``. The place goes in
    ``q`` ("padaria em Pinheiros, São Paulo") or as a map point ``ll`` ("@-23.56,-46.69,14z")."""

    ll: MapPoint | None = None
    gl: Country = DEFAULT_GL

    @model_validator(mode="after")
    def _paging_needs_a_point(self) -> SearchPlacesRequest:
        # SerpApi paginates Maps results only around a point (https://serpapi.com/maps-local-results).
        if self.offset() and not self.ll:
            raise ValueError("ll: a page after the first needs ll (the map point results are paged around)")
        return self


# Characters a field may not carry into a query: quotes close our phrase, a colon makes an
# operator (site:, intitle:), parentheses/pipes/asterisks/tildes group, OR or wildcard.
_OPERATOR_CHARS = re.compile("[\"'\u201c\u201d\u2018\u2019`\u00b4:()|*~\\\\\\[\\]{}<>]")
MAX_PROFILE_FIELD = 100


def profile_term(value: str) -> str:
    """A field as one inert phrase: operator characters removed, a leading '-' or '+' of any
    word (exclusion, the old "exact" operator) dropped, bare OR/AND removed, whitespace
    collapsed, at most MAX_PROFILE_FIELD characters."""
    words = []
    for word in _OPERATOR_CHARS.sub(" ", value).split():
        word = word.lstrip("-+")
        if word and word.upper() not in ("OR", "AND"):
            words.append(word)
    return " ".join(words)[:MAX_PROFILE_FIELD].strip()


class SearchProfilesRequest(SearchRequest):
    """SearchProfiles: ``{org_id, role, company?, city?, num?, page?|start?, fresh?, ...}`` —
    LinkedIn profiles through a ``site:linkedin.com/in`` web search."""

    role: str = Field(min_length=1, max_length=200)
    company: str | None = Field(None, min_length=1, max_length=200)
    city: str | None = Field(None, min_length=1, max_length=200)
    gl: Country = DEFAULT_GL

    @model_validator(mode="after")
    def _inert_fields(self) -> SearchProfilesRequest:
        for name in ("role", "company", "city"):
            value = getattr(self, name)
            if value is not None and not profile_term(value):
                raise ValueError(f"{name} has no searchable words")
        return self

    def query(self) -> str:
        """``site:linkedin.com/in "role" "company" "city"``, each field an inert quoted phrase."""
        terms = [profile_term(v) for v in (self.role, self.company, self.city) if v is not None]
        return "site:linkedin.com/in " + " ".join(f'"{t}"' for t in terms)
