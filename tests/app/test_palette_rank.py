"""The palette's "switch model" ranking: the shared matcher's tiers as score bands."""

from __future__ import annotations

import pytest

from llmswitch.app.commands import rank, search_terms
from llmswitch.services.models import Query


def score(query: str, ref: str, fuzzy: float = 0.0) -> float:
    return rank(Query(" ".join(search_terms(query))), ref, fuzzy)


def test_bands_exact_then_prefix_then_word_start_then_substring_then_fuzzy():
    scores = [score("m1", ref, fuzzy=3.0) for ref in ("p/m1", "p/m1-large", "p/mini-m1", "p/xm1", "p/mini-1")]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == 5
    assert scores[0] == 1.0 and scores[-1] < 0.5, "no substring: Textual's fuzzy score, squeezed below 0.5"


def test_the_last_part_of_a_routed_id_is_exact():
    assert score("switch model: gpt-4o", "openrouter/openai/gpt-4o") == 1.0


@pytest.mark.parametrize("query", ["switch", "switch model", ""])
def test_no_model_words_leave_only_the_fuzzy_score(query):
    assert score(query, "p/anything", fuzzy=1.0) == 0.25
    assert score(query, "p/anything", fuzzy=0.0) == 0.0


def test_shorter_ids_rank_higher_within_a_band():
    assert score("8b", "p/llama-3.1-8b-instant") > score("8b", "p/llama-3.1-8b-instant-extra-long")
