"""The search chain with fake engines (ports.for_org replaced) and an in-memory cache: fall
through on outage, quota, 429 and missing credentials; fail at once on bad input; cache fresh,
stale within its TTL only when every engine fails; the manual request; pagination; profiles."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hub import bus, runtime
from hub.errors import (
    AuthenticationError,
    ConfigurationError,
    HubError,
    InvalidRequestError,
    ProviderUnavailableError,
    RateLimitedError,
)
from hub.providers import ports
from hub.search import cache as search_cache_module
from hub.search import chain
from hub.search.cache import CachedResults, SearchCache
from hub.search.models import NewsResult, PlaceResult, SearchResults, WebResult
from hub.search.requests import SearchPlacesRequest
from tests.helpers import FakeLambdaContext, load_function

ORG = "acme"
Behaviour = Callable[..., SearchResults]


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


class MemoryCache(SearchCache):
    """SearchCache's rules (TTL on read) over a dict instead of DynamoDB."""

    def __init__(self, ttl_seconds: int = 86400) -> None:
        super().__init__("memory", ttl_seconds)
        self.items: dict[tuple[str, str], CachedResults] = {}

    def get(self, org_id: str, key: str) -> CachedResults | None:
        found = self.items.get((org_id, key))
        if found is None or search_cache_module.clock() - found.stored_at > self.ttl_seconds:
            return None
        return found

    def put(self, org_id: str, key: str, results: SearchResults) -> None:
        self.items[(org_id, key)] = CachedResults(results, search_cache_module.clock())


def web(provider: str, count: int = 10, start: int = 0) -> SearchResults:
    return SearchResults(
        provider=provider,
        engine="google",
        web=[
            WebResult(position=start + i, title=f"{provider} {start + i}", link=f"https://e.com/{start + i}")
            for i in range(1, count + 1)
        ],
    )


class Engines:
    """Fake engines by name: each a callable (or an error to raise); records every call."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, **engines: Behaviour | HubError) -> None:
        self.engines = engines
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.remaining: list[float | None] = []
        monkeypatch.setattr(ports, "for_org", self.for_org)

    def for_org(self, port: Any, org_id: str, provider: str, **_: Any) -> Any:
        if provider not in self.engines:
            raise InvalidRequestError(f"chain: unknown provider {provider!r}", code="unknown_provider")
        behaviour = self.engines[provider]
        outer = self

        class Engine:
            def search(self, engine: str, q: str, **kwargs: Any) -> SearchResults:
                outer.calls.append((provider, q, {"engine": engine, **kwargs}))
                outer.remaining.append(runtime.remaining_seconds())
                if isinstance(behaviour, HubError):
                    raise behaviour
                return behaviour(engine, q, **kwargs)

        return Engine()

    @property
    def tried(self) -> list[str]:
        return [call[0] for call in self.calls]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(search_cache_module, "clock", clock)
    return clock


@pytest.fixture
def memory(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> MemoryCache:
    cache = MemoryCache()
    monkeypatch.setattr(chain, "search_cache", lambda: cache)
    return cache


@pytest.fixture(autouse=True)
def published(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """The org has no search settings secret (SEARCH_CHAIN's default order); what the chain
    publishes on the bus is collected here."""
    events: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(chain, "org_settings", lambda org, name, model: model())
    monkeypatch.setattr(bus, "put_event", lambda kind, detail: events.append((kind, detail)))
    return events


def invoke(function: str, payload: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = load_function(function).handler({"org_id": ORG, **payload}, FakeLambdaContext())
    return result


# ----- falling through ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [
        ProviderUnavailableError("serpapi: connection refused", provider="serpapi", code="connect_error"),
        RateLimitedError("serpapi answered 429", provider="serpapi", retry_after=30),
        RateLimitedError("quota", provider="serpapi", retry_after=3600, code="quota_exceeded"),
        AuthenticationError("no serpapi credentials", provider="serpapi", code="credentials_missing"),
        AuthenticationError("serpapi answered 401", provider="serpapi", http_status=401),
        ConfigurationError("serpapi credentials are malformed", provider="serpapi"),
    ],
    ids=["down", "429", "quota", "not_connected", "key_refused", "malformed_secret"],
)
def test_the_next_engine_answers_when_the_first_cannot(
    monkeypatch: pytest.MonkeyPatch, memory: MemoryCache, failure: HubError
) -> None:
    # Given SerpApi failing and Serper working
    engines = Engines(monkeypatch, serpapi=failure, serper=lambda e, q, **k: web("serper"))
    # When a web search runs
    result = invoke("search_web", {"q": "padaria em pinheiros"})
    # Then Serper answered, once each, and the answer says what failed first
    assert engines.tried == ["serpapi", "serper"]
    assert result["provider"] == "serper" and len(result["web"]) == 10
    expected = {"provider": "serpapi", "error": type(failure).__name__, "code": failure.code}
    assert result["failed"] == [{k: v for k, v in expected.items() if v is not None}]
    assert (result["cached"], result["stale"]) == (False, False)


def test_an_engine_without_an_adapter_or_capability_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given only Brave registered among the chain's engines
    engines = Engines(monkeypatch, brave=lambda e, q, **k: web("brave", 3))
    result = invoke("search_web", {"q": "x"})
    assert engines.tried == ["brave"]
    assert [f["code"] for f in result["failed"]] == ["unknown_provider", "unknown_provider"]


def test_the_callers_bad_input_fails_at_once_without_other_engines(monkeypatch: pytest.MonkeyPatch) -> None:
    bad = InvalidRequestError("serpapi answered 400: Unsupported `gl`", provider="serpapi", http_status=400)
    engines = Engines(monkeypatch, serpapi=bad, serper=lambda e, q, **k: web("serper"))
    with pytest.raises(InvalidRequestError, match="400"):
        invoke("search_web", {"q": "x"})
    assert engines.tried == ["serpapi"]


def test_invalid_payloads_are_refused_before_any_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    engines = Engines(monkeypatch, serpapi=lambda e, q, **k: web("serpapi"))
    for function, payload, field in [
        ("search_web", {"q": "   "}, "q"),
        ("search_web", {"q": "x", "num": 101}, "num"),
        ("search_web", {"q": "x", "page": 2, "start": 5}, "page and start"),
        ("search_places", {"q": "padaria", "page": 2}, "ll"),
        ("search_news", {"q": "x", "location": "Sao Paulo"}, "location"),
        ("search_profiles", {"role": '"" :: --'}, "role"),
        ("search_web", {"q": "x", "fresh": "yes"}, "fresh"),
    ]:
        with pytest.raises(InvalidRequestError, match=field):
            invoke(function, payload)
    assert engines.calls == []


def test_each_engine_is_bounded_by_the_engine_timeout_and_the_time_left(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEARCH_ENGINE_TIMEOUT_SECONDS", "4")
    from hub.config import get_settings

    get_settings.cache_clear()
    down = ProviderUnavailableError("hung", provider="serpapi", code="read_timeout")
    engines = Engines(monkeypatch, serpapi=down, serper=lambda e, q, **k: web("serper"))
    invoke("search_web", {"q": "x"})  # a 15 s Lambda
    assert all(left is not None and 3.0 < left <= 4.0 for left in engines.remaining)
    # Outside Lambda (no deadline) the engine budget still bounds each call
    engines.remaining.clear()
    chain.run_chain(ORG, chain.EngineQuery("web", "y", None, None, None, None, 10, 0))
    assert all(left is not None and left <= 4.0 for left in engines.remaining)


def test_no_engine_is_started_without_time_left(monkeypatch: pytest.MonkeyPatch) -> None:
    engines = Engines(monkeypatch, serpapi=lambda e, q, **k: web("serpapi"))
    with pytest.raises(ProviderUnavailableError, match="no_time_left"):
        load_function("search_web").handler({"org_id": ORG, "q": "x"}, FakeLambdaContext(timeout_ms=1200))
    assert engines.calls == []


def test_the_orgs_own_chain_replaces_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chain, "org_settings", lambda org, name, model: model(chain=["brave", "serpapi", "brave"]))
    engines = Engines(monkeypatch, serpapi=lambda e, q, **k: web("serpapi"), brave=ProviderUnavailableError("x"))
    result = invoke("search_web", {"q": "x"})
    assert engines.tried == ["brave", "serpapi"]  # each engine once, in the org's order
    assert result["provider"] == "serpapi"


# ----- cache ---------------------------------------------------------------------------------


def test_a_repeated_query_is_answered_from_the_cache_without_a_search(
    monkeypatch: pytest.MonkeyPatch, memory: MemoryCache, clock: Clock
) -> None:
    engines = Engines(monkeypatch, serpapi=lambda e, q, **k: web("serpapi"))
    first = invoke("search_web", {"q": "Padaria em  Pinheiros, São Paulo"})
    clock.now += 600
    # The same query, written differently (case, spaces, NFD "a" + combining tilde) hits it
    again = invoke("search_web", {"q": " padaria EM pinheiros, sa\u0303o paulo "})
    assert engines.tried == ["serpapi"]
    assert (again["cached"], again["stale"], again["age_seconds"]) == (True, False, 600)
    assert again["web"] == first["web"]
    # fresh: true asks the engines again
    invoke("search_web", {"q": "padaria em pinheiros, são paulo", "fresh": True})
    assert engines.tried == ["serpapi", "serpapi"]
    # another page or another kind is another entry
    invoke("search_web", {"q": "padaria em pinheiros, são paulo", "page": 2})
    assert len(engines.calls) == 3


def test_stale_entries_are_served_only_when_every_engine_fails_and_within_the_ttl(
    monkeypatch: pytest.MonkeyPatch, memory: MemoryCache, clock: Clock, published: list[Any]
) -> None:
    working: dict[str, Behaviour | HubError] = {"serpapi": lambda e, q, **k: web("serpapi")}
    Engines(monkeypatch, **working)
    invoke("search_web", {"q": "gráfica rápida"})
    # When every engine is down 23 h later and the caller wants a fresh answer
    down = ProviderUnavailableError("down", provider="x", code="connect_error")
    engines = Engines(monkeypatch, serpapi=down, serper=RateLimitedError("429", retry_after=1), brave=down)
    clock.now += 23 * 3600
    stale = invoke("search_web", {"q": "gráfica rápida", "fresh": True})
    assert engines.tried == ["serpapi", "serper", "brave"]
    assert (stale["cached"], stale["stale"], stale["age_seconds"]) == (True, True, 23 * 3600)
    assert stale["provider"] == "serpapi" and len(stale["web"]) == 10
    # Past the TTL the entry is never served: a clear ProviderUnavailableError naming each engine
    clock.now += 3600 + 1
    with pytest.raises(ProviderUnavailableError) as raised:
        invoke("search_web", {"q": "gráfica rápida"})
    message = str(raised.value)
    assert "serpapi: ProviderUnavailableError (connect_error)" in message
    assert "serper: RateLimitedError" in message and "brave: ProviderUnavailableError" in message
    assert published == []  # the caller did not ask for a manual search


def test_a_working_engine_beats_a_stale_entry(monkeypatch: pytest.MonkeyPatch, memory: MemoryCache) -> None:
    monkeypatch.setenv("SEARCH_CACHE_FRESH_SECONDS", "0")
    from hub.config import get_settings

    get_settings.cache_clear()
    engines = Engines(monkeypatch, serpapi=lambda e, q, **k: web("serpapi"))
    invoke("search_web", {"q": "x"})
    memory.items = {k: CachedResults(v.results, v.stored_at - 5) for k, v in memory.items.items()}
    result = invoke("search_web", {"q": "x"})
    assert engines.tried == ["serpapi", "serpapi"] and result["cached"] is False


def test_every_engine_down_and_nothing_cached_requests_a_manual_search(
    monkeypatch: pytest.MonkeyPatch, published: list[Any]
) -> None:
    down = ProviderUnavailableError("down", code="connect_error")
    Engines(monkeypatch, serpapi=down, serper=AuthenticationError("no key", code="credentials_missing"))
    context = FakeLambdaContext("SearchWeb")
    with pytest.raises(ProviderUnavailableError) as raised:
        load_function("search_web").handler(
            {"org_id": ORG, "q": "buffet infantil", "location": "Campinas", "manual_if_unavailable": True}, context
        )
    assert raised.value.code == "all_engines_failed"
    assert raised.value.details["manual_requested"] is True
    [(kind, detail)] = published
    assert kind == "search.manual_requested"
    assert detail["request_id"] == context.aws_request_id
    assert detail["query"] == {
        "q": "buffet infantil",
        "location": "Campinas",
        "hl": "pt-br",
        "gl": "br",
        "num": 10,
        "start": 0,
    }
    assert [f["provider"] for f in detail["failed"]] == ["serpapi", "serper", "brave"]


# ----- pagination, kinds ---------------------------------------------------------------------


def test_pages_carry_start_in_and_next_out(monkeypatch: pytest.MonkeyPatch) -> None:
    engines = Engines(monkeypatch, serpapi=lambda e, q, **k: web("serpapi", k["num"], k["start"]))
    first = invoke("search_web", {"q": "x", "num": 5})
    assert (first["page"], first["start"], first["next"]) == (1, 0, {"page": 2, "start": 5})
    second = invoke("search_web", {"q": "x", "num": 5, **first["next"]})
    assert engines.calls[-1][2]["start"] == 5 and second["page"] == 2
    assert second["next"] == {"page": 3, "start": 10}
    # A short page is the last one
    Engines(monkeypatch, serpapi=lambda e, q, **k: web("serpapi", 2, k["start"]))
    assert "next" not in invoke("search_web", {"q": "x", "num": 5, "page": 3})


def test_news_and_places_ask_their_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    def answer(engine: str, q: str, **kwargs: Any) -> SearchResults:
        if engine == "google_news":
            return SearchResults(
                provider="serpapi", engine=engine, news=[NewsResult(position=1, title="t", link="https://n.com")]
            )
        return SearchResults(provider="serpapi", engine="google_maps", places=[PlaceResult(position=1, name="Padaria")])

    engines = Engines(monkeypatch, serpapi=answer)
    news = invoke("search_news", {"q": "x"})
    places = invoke("search_places", {"q": "padaria", "ll": "@-23.56,-46.69,14z"})
    assert [c[2]["engine"] for c in engines.calls] == ["google_news", "google_maps"]
    assert engines.calls[1][2]["ll"] == "@-23.56,-46.69,14z"
    assert (news["kind"], news["news"][0]["title"]) == ("news", "t")
    assert (places["kind"], places["places"][0]["name"]) == ("places", "Padaria")
    assert SearchPlacesRequest(org_id=ORG, q="x", ll="@-23.56,-46.69,14z", page=2).offset() == 10


# ----- profiles -------------------------------------------------------------------------------


def test_profiles_search_linkedin_with_inert_fields_and_keep_only_profile_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    def answer(engine: str, q: str, **kwargs: Any) -> SearchResults:
        return SearchResults(
            provider="serpapi",
            engine="google",
            web=[
                WebResult(
                    position=1,
                    title="Maria Silva - Diretora de Marketing - Pão Quente | LinkedIn",
                    link="https://br.linkedin.com/in/maria-silva-123?trk=x",
                    snippet="São Paulo · Diretora",
                ),
                WebResult(
                    position=2, title="Pão Quente | LinkedIn", link="https://www.linkedin.com/company/pao-quente"
                ),
                WebResult(position=3, title="Vagas", link="https://www.linkedin.com/jobs/view/1"),
                WebResult(position=4, title="Fake", link="https://linkedin.com.evil.example/in/fake"),
                WebResult(position=5, title="João Souza \u2013 CMO", link="https://www.linkedin.com/in/joaosouza"),
            ],
        )

    engines = Engines(monkeypatch, serpapi=answer)
    result = invoke(
        "search_profiles",
        {"role": 'Diretora de "Marketing" OR site:evil.com', "company": "-Pão Quente", "city": "São Paulo: (SP)"},
    )
    [(_, q, kwargs)] = engines.calls
    assert q == 'site:linkedin.com/in "Diretora de Marketing site evil.com" "Pão Quente" "São Paulo SP"'
    assert kwargs["engine"] == "google"
    assert result["profiles"] == [
        {
            "position": 1,
            "name": "Maria Silva",
            "headline": "Diretora de Marketing - Pão Quente",
            "url": "https://br.linkedin.com/in/maria-silva-123",
            "snippet": "São Paulo · Diretora",
        },
        {"position": 5, "name": "João Souza", "headline": "CMO", "url": "https://www.linkedin.com/in/joaosouza"},
    ]


def test_the_sample_events_are_valid_requests_and_the_manual_event_carries_no_secret() -> None:
    from hub.invocation import parse_request
    from hub.search.requests import SearchNewsRequest, SearchProfilesRequest, SearchWebRequest
    from tests.helpers import sample_event

    for name, model in [
        ("search_web", SearchWebRequest),
        ("search_news", SearchNewsRequest),
        ("search_places", SearchPlacesRequest),
        ("search_profiles", SearchProfilesRequest),
    ]:
        parse_request(model, sample_event(name))
    detail = sample_event("search_manual_requested")["detail"]
    assert set(detail) == {"org_id", "request_id", "kind", "query", "failed", "requested_at", "severity", "action"}
    assert "api_key" not in str(detail)
