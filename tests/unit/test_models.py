"""`llmswitch.services.models`: the one merge of live lists, catalog and favourites, the formatters, the fuzzy matcher."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmswitch.services.models import (
    COMPACT,
    CONTAINS,
    EXACT,
    LISTED,
    NOT_LISTED,
    PREFIX,
    SPREAD,
    UNKNOWN,
    WORD,
    WORDS,
    Filter,
    Keys,
    Query,
    Token,
    close_refs,
    fmt_price,
    fmt_prices,
    fmt_tokens,
    fmt_usd,
    list_line,
    make_row,
    merge,
    search,
    sort_rows,
)
from llmswitch.store.catalog import ModelInfo

CATALOG = (ModelInfo("gpt-4o", "GPT-4o", 128000, 16384, 2.5, 10.0, tools=True),
           ModelInfo("gpt-4o-mini", "GPT-4o mini", 128000, 16384, 0.15, 0.6, tools=True),
           ModelInfo("o1", "o1", 200000, 100000, 15.0, 60.0, reasoning=True))


def test_merge_marks_listed_unlisted_and_unknown():
    rows = {r.model: r for r in merge("p", ["gpt-4o", "my-finetune"], CATALOG, favorites=["o1"],
                                       recent=["p/gpt-4o"])}
    assert rows["gpt-4o"].listing == LISTED and rows["gpt-4o"].context == 128000 and rows["gpt-4o"].recent == 0
    assert rows["my-finetune"].listing == LISTED and not rows["my-finetune"].in_catalog
    assert rows["gpt-4o-mini"].listing == NOT_LISTED
    assert rows["o1"].favorite
    assert all(r.listing == UNKNOWN for r in merge("p", None, CATALOG))


def test_sort_pins_favourites_and_recents_and_sinks_unlisted():
    rows = merge("p", ["gpt-4o", "zeta"], CATALOG, favorites=["o1"], recent=["p/zeta"])
    assert [r.model for r in sort_rows(rows)] == ["zeta", "o1", "gpt-4o", "gpt-4o-mini"]
    assert [r.model for r in sort_rows(rows, "price")][:2] == ["zeta", "o1"]


def test_filter_prefers_contiguous_and_word_starts():
    rows = sort_rows([make_row("p", m) for m in ("xgptx", "gpt-4o", "g-p-t", "other")])
    assert [r.model for r in Filter(rows).matches("gpt")] == ["gpt-4o", "xgptx", "g-p-t"]
    assert Filter(rows).matches("zzz") == []
    assert [r.model for r in Filter(rows).matches("p/ oth")] == ["other"]


def test_filter_survives_regex_metacharacters():
    rows = [make_row("p", m) for m in ("a.b", "a(b", "a[b]", "a^b$", "a\\b")]
    for query in ("(", "[", "]", "^", "$", "\\", ".", "a(", "[b"):
        Filter(rows).matches(query)  # never raises


words = st.text(alphabet="abcdefgh-/.:0123", min_size=1, max_size=12)


@given(st.lists(words, min_size=1, max_size=40, unique=True), st.text(alphabet="abcdh-/ ", max_size=6))
def test_filter_matches_exactly_the_rows_containing_the_query_as_subsequences(models, query):
    rows = [make_row("p", m) for m in models]

    def wanted(row) -> bool:
        return all(re.search(".*".join(map(re.escape, token)), row.haystack) for token in query.lower().split())

    got = Filter(rows).matches(query)
    assert sorted(r.model for r in got) == sorted(r.model for r in rows if wanted(r))


@given(st.lists(words, min_size=1, max_size=40, unique=True), st.text(alphabet="abcdh-/ ", min_size=1, max_size=6))
def test_narrowing_gives_the_same_result_as_a_fresh_filter(models, query):
    rows = [make_row("p", m) for m in models]
    typed = Filter(rows)
    for end in range(1, len(query) + 1):
        typed.matches(query[:end])
    assert typed.matches(query) == Filter(rows).matches(query)


# --- the one merge ------------------------------------------------------------------------------

def test_merge_puts_favourites_first_then_live_then_catalog_each_once():
    rows = merge("p", ["zeta", "gpt-4o"], CATALOG, favorites=["o1", "zeta"])
    assert [r.model for r in rows] == ["o1", "zeta", "gpt-4o", "gpt-4o-mini"]
    assert [r.listing for r in rows] == [NOT_LISTED, LISTED, LISTED, NOT_LISTED]
    assert [r.favorite for r in rows] == [True, True, False, False]


def test_a_favourite_nobody_lists_still_gets_what_the_lookup_knows():
    rows = {r.model: r for r in merge("p", None, (), favorites=["llama3.1:8b"],
                                      lookup=lambda m: CATALOG[0] if m == "llama3.1:8b" else None)}
    assert rows["llama3.1:8b"].context == 128000 and rows["llama3.1:8b"].listing == UNKNOWN


def _provider(config_dir, body: str):
    from llmswitch.store.config import load

    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(body)
    return load()


def test_provider_rows_reads_the_cached_list_and_looks_local_models_up_loosely(config_dir):
    from llmswitch.services.models import provider_rows
    from llmswitch.store import state

    config = _provider(config_dir, '[providers.box]\npreset = "ollama"\nbase_url = "http://127.0.0.1:9/v1"\n'
                                   'favorites = ["mine"]\n')
    box = config.provider("box")
    assert [r.model for r in provider_rows(box)] == ["mine"], "never probed: favourites (the local catalog is empty)"
    state.remember_models("box", "http://127.0.0.1:9/v1", ["qwen3-32b:latest", "mine"])
    rows = {r.model: r for r in provider_rows(box, recent=["box/mine"])}
    assert rows["qwen3-32b:latest"].listing == LISTED and rows["qwen3-32b:latest"].context, "the catalog's Qwen3 32B"
    assert rows["mine"].favorite and rows["mine"].recent == 0
    assert [r.model for r in provider_rows(box, ["other"])] == ["mine", "other"], "a list just probed wins"


def test_provider_rows_of_a_hosted_preset_is_its_catalog(config_dir):
    from llmswitch.services.models import provider_rows
    from llmswitch.store import catalog

    config = _provider(config_dir, "")
    rows = provider_rows(config.provider("openai"))
    assert {r.model for r in rows} == {m.id for m in catalog.catalog_models("openai")}
    assert all(r.listing == UNKNOWN and r.in_catalog for r in rows)


def test_as_dict_is_the_cli_list_row():
    row = merge("p", ["gpt-4o"], CATALOG, favorites=["gpt-4o"])[0]
    assert row.as_dict() == {"id": "gpt-4o", "live": True, "favorite": True, "context": 128000,
                             "max_output": 16384, "input_price": 2.5, "output_price": 10.0, "tools": True,
                             "vision": False, "reasoning": False, "mode": None, "upstream": None,
                             "metadata": "catalog"}


def test_owners_finds_your_providers_models_before_the_catalogs(config_dir):
    from llmswitch.services.models import owners
    from llmswitch.store import state

    config = _provider(config_dir, '[providers.fake]\nbase_url = "http://127.0.0.1:9/v1"\nkey_source = "none"\n')
    assert owners("fake-large", config) == []
    state.remember_models("fake", "http://127.0.0.1:9/v1", ["fake-large"])
    assert owners("fake-large", config) == ["fake/fake-large"]
    found = owners("gpt-4o", config)
    assert found[0] == "openai/gpt-4o" and len(found) == 3, "popular providers first"


# --- the one formatter ----------------------------------------------------------------------------

@pytest.mark.parametrize("n, text", [(None, "—"), (0, "—"), (512, "512"), (128000, "128k"), (1048576, "1.0M"),
                                     (2000000, "2M"), (10_000_000, "10M")])
def test_fmt_tokens(n, text):
    assert fmt_tokens(n) == text
    assert fmt_tokens(None, "-") == "-"


@pytest.mark.parametrize("p, text, usd", [(None, "—", "-"), (0, "free", "free"), (0.15, "0.15", "$0.15"),
                                          (3.0, "3", "$3"), (12.5, "12.5", "$12.5"), (150.0, "150", "$150")])
def test_fmt_price_and_usd(p, text, usd):
    assert fmt_price(p) == text
    assert fmt_usd(p) == usd


def test_fmt_prices_and_the_list_line():
    assert fmt_prices(2.5, 10.0) == "$2.5/$10 per M"
    assert fmt_prices(2.5, None) == "$2.5 per M"
    assert fmt_prices(None, 1.0) == ""
    fav = merge("p", None, CATALOG, favorites=["o1"])[0]
    assert list_line(fav) == f"* p/{'o1':<50} ctx   200k  in     $15  out     $60"
    bare = make_row("p", "x")
    assert list_line(bare) == f"  p/{'x':<50} ctx      -  in       -  out       -"


# --- the one matcher ------------------------------------------------------------------------------

def keys(ref: str, name: str = "") -> Keys:
    return Keys.of(ref, name)


@pytest.mark.parametrize("query, ref, name, tier", [
    ("gpt-4o", "openrouter/openai/gpt-4o", "", EXACT),      # the last part of the id is the id people type
    ("GPT-4o", "openai/gpt-4o", "", EXACT),
    ("claude sonnet 4", "anthropic/claude-sonnet-4-0", "Claude Sonnet 4", EXACT),
    ("openai/gpt", "openai/gpt-4o", "", PREFIX),
    ("gpt", "openrouter/openai/gpt-4o", "", PREFIX),
    ("mini", "p/gpt-4o-mini", "", WORD),
    ("ini", "p/gpt-4o-mini", "", CONTAINS),
    ("4o gpt", "p/gpt-4o", "", WORDS),
    ("gpt4o", "p/gpt-4o", "", COMPACT),
    ("gpo", "p/gpt-4o", "", SPREAD),
    ("zzz", "p/gpt-4o", "", None),
])
def test_query_tiers(query, ref, name, tier):
    assert Query(query).tier(keys(ref, name), spread=True) == tier


def test_compact_and_spread_are_opt_in():
    assert Query("gpt4o").tier(keys("p/gpt-4o"), loose=False) is None
    assert Query("gpo").tier(keys("p/gpt-4o")) is None
    assert Query("").tier(keys("p/gpt-4o")) is None


def test_token_score_is_the_filters_rule():
    assert Token("gpt").score("p/gpt-4o") == 0
    assert Token("pt").score("p/gpt-4o") == 1
    assert Token("g4").score("p/gpt-4o") == 2 + 3
    assert Token("zz").score("p/gpt-4o") is None


def rows_of(*models: str):
    return [make_row(m.partition("/")[0], m.partition("/")[2]) for m in models]


def test_search_returns_only_the_best_band_ordered_by_provider_recent_and_length():
    pool = rows_of("a/gpt-4o", "b/gpt-4o", "a/gpt-4o-mini", "b/my-gpt-4o-tuned")
    band, found = search(pool, "gpt-4o", prefer="b")
    assert band == 0 and [r.ref for r in found] == ["b/gpt-4o", "a/gpt-4o"]
    band, found = search(pool, "gpt-4o", recent=["a/gpt-4o"])
    assert [r.ref for r in found] == ["a/gpt-4o", "b/gpt-4o"]
    assert search(pool, "zzz") == (-1, [])
    assert search(pool, "  ") == (-1, [])


def test_a_word_start_and_a_mid_word_match_are_equally_clear():
    band, found = search(rows_of("p/x-mini", "p/gemini"), "mini")
    assert band == 2 and [r.ref for r in found] == ["p/x-mini", "p/gemini"], "a list, word start first"


def test_close_refs_suggests_ids_then_provider_ids():
    pool = rows_of("fake/tiny-chat", "fake/big-coder")
    assert close_refs("tiny-chta", pool) == ["fake/tiny-chat"]
    assert close_refs("olama", pool, ["ollama", "openai"]) == ["ollama/"]
    assert close_refs("qqqqq", pool, ["ollama"]) == []


@given(st.lists(words, min_size=1, max_size=40, unique=True), st.text(alphabet="abcdh-/ ", min_size=1, max_size=6),
       st.text(alphabet="abcdh-/ ", max_size=4))
def test_typing_deleting_and_retyping_gives_what_a_fresh_filter_gives(models, query, other):
    rows = [make_row("p", m) for m in models]
    typed = Filter(rows)
    steps = [query[:end] for end in range(1, len(query) + 1)]
    steps += steps[::-1] + [""] + [other[:end] for end in range(1, len(other) + 1)] + [query]
    for step in steps:
        assert typed.matches(step) == Filter(rows).matches(step), step


def test_the_filter_remembers_a_bounded_number_of_queries():
    rows = [make_row("p", f"m{i}") for i in range(10)]
    flt = Filter(rows)
    for i in range(Filter.REMEMBER * 2):
        flt.matches(f"m{i}")
    assert len(flt._seen) == Filter.REMEMBER
    assert [r.model for r in flt.matches("m1")] == ["m1"]
