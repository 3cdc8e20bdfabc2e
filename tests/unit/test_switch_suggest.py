"""A bare model id names no provider; the suggestion comes from your own providers' lists first."""

from __future__ import annotations

import pytest

from llmswitch.base.errors import SwitchError
from llmswitch.services.switch import parse_ref
from llmswitch.store import state
from llmswitch.store.config import add_provider, load


def test_a_bare_model_id_suggests_the_configured_provider_that_lists_it(isolated):
    add_provider("fake", {"base_url": "http://127.0.0.1:9/v1", "key_source": "none"})
    state.remember_models("fake", "http://127.0.0.1:9/v1", ["fake-large", "fake-small"])
    with pytest.raises(SwitchError) as refused:
        parse_ref("fake-large", load())
    assert refused.value.cause == "'fake-large' names no provider; write PROVIDER/MODEL"
    assert refused.value.fix == "did you mean fake/fake-large?"


def test_a_catalog_model_suggests_popular_hosted_providers(isolated):
    with pytest.raises(SwitchError) as refused:
        parse_ref("gpt-4o-mini", load())
    assert refused.value.fix.startswith("did you mean openai/gpt-4o-mini")
