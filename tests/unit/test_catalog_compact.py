"""The catalog's models come from a compact table in the cache dir, built once from the bundled models.dev data.

Parsing the bundled data builds ~12 MB of dicts for the few fields a ModelInfo keeps; the picker's whole-catalog
view loads every model while the app is up, so that parse was the app's peak memory. The compact table holds the
same fields; a stale or broken one is rebuilt, and it gives exactly what the bundled data gives.
"""

from __future__ import annotations

import json

import pytest

from llmswitch.store import catalog

pytestmark = pytest.mark.cold_catalog  # each test starts before the table exists

CACHED = (catalog._models_table, catalog._raw, catalog._local_model_catalog, catalog._index, catalog._hosted)


@pytest.fixture
def fresh():
    """No table or parsed data cached in this process (the cache dir is the test's own)."""
    for cached in CACHED:
        cached.cache_clear()
    yield
    for cached in CACHED:
        cached.cache_clear()


def from_bundled() -> dict[str, list[catalog.ModelInfo]]:
    raw = catalog._raw()
    return {pid: sorted((catalog._model_info(m) for m in (p.get("models") or {}).values()
                         if isinstance(m, dict) and "id" in m), key=lambda m: m.id) for pid, p in raw.items()}


def test_the_table_is_written_once_and_gives_what_the_bundled_data_gives(fresh, monkeypatch):
    path = catalog._models_path()
    assert not path.exists()
    built = catalog._models_table()
    assert path.exists() and len(path.read_bytes()) < 1_000_000
    assert {pid: list(models) for pid, models in built.items()} == from_bundled()
    catalog.presets()  # the provider index (its own cache file) is not what is tested here
    catalog._models_table.cache_clear()
    catalog._raw.cache_clear()
    monkeypatch.setattr(catalog, "_raw", lambda: (_ for _ in ()).throw(AssertionError("parsed the bundled data")))
    again = catalog._models_table()
    assert again == built
    groq = catalog.model_info("groq", "llama-3.1-8b-instant")
    assert groq is not None and groq.context and groq.input_price is not None
    every = catalog.all_models()
    assert len(every) > 4000 and all(model in built[pid] for pid, model in every)


@pytest.mark.parametrize("broken", ["{not json", "[]", '{"groq": [["id", "name", 1, 2, 3, 4]]}',
                                    '{"groq": [["id", "name", "128k", null, null, null, 0]]}'])
def test_a_broken_table_is_rebuilt(fresh, broken):
    path = catalog._models_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(broken)
    table = catalog._models_table()
    assert len(table.get("groq", ())) > 1
    assert json.loads(path.read_text())["groq"][0][0] == table["groq"][0].id


def test_a_read_only_cache_dir_only_costs_speed(fresh, monkeypatch):
    from llmswitch.base import files

    def refuse(*args, **kwargs):
        raise PermissionError("read-only")

    monkeypatch.setattr(files, "atomic_write", refuse)
    assert len(catalog.all_models()) > 4000
    assert not catalog._models_path().exists()
