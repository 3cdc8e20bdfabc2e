"""The picker's data layer: merging live lists with the catalog, and the fuzzy filter."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from llmswitch.app.rows import LISTED, NOT_LISTED, UNKNOWN, Filter, make_row, merge, sort_rows
from llmswitch.catalog import ModelInfo

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
