"""The search cache's key: one entry per normalised query and the parameters that change it."""

from __future__ import annotations

from hub.search.cache import cache_key

BASE = {
    "kind": "web",
    "q": "Padaria em Pinheiros",
    "location": "São Paulo",
    "gl": "br",
    "hl": "pt-br",
    "num": 10,
    "start": 0,
}


def test_case_whitespace_and_unicode_forms_share_one_key() -> None:
    same = {**BASE, "q": "  padaria   EM pinheiros ", "location": "Sa\u0303o  PAULO", "hl": "PT-BR"}
    assert cache_key(same) == cache_key(BASE)
    # The order parameters come in does not matter
    assert cache_key(dict(reversed(list(BASE.items())))) == cache_key(BASE)


def test_every_parameter_that_changes_the_answer_changes_the_key() -> None:
    for change in (
        {"kind": "news"},
        {"q": "padaria"},
        {"location": None},
        {"gl": "pt"},
        {"start": 10},
        {"num": 5},
        {"ll": "@-23.5,-46.6,14z"},
    ):
        assert cache_key({**BASE, **change}) != cache_key(BASE), change
