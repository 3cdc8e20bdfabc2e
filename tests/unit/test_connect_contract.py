"""Every tool module in llmswitch.tools.connect fulfils the contract (a new module is checked with no other edit)."""

from __future__ import annotations

import pytest

from llmswitch.services.switch import selection_for
from llmswitch.store.config.model import ProviderConfig
from llmswitch.tools import connect
from llmswitch.tools.connect import engine
from llmswitch.tools.connect.base import KeyRef, Protocol, Target, Tool


def target_for(tool: Tool, model: str = "m1", key_source: str = "keyring") -> Target:
    provider = ProviderConfig(id="up", name="up", base_url="http://127.0.0.1:9/v1", kind=tool.kinds[0],
                              key_source=key_source, key_env=("UP_KEY",) if key_source == "env" else ())
    return Target("main", "default", selection_for(provider, model), provider)


@pytest.fixture(params=connect.names())
def tool(request, tmp_path, monkeypatch) -> Tool:
    monkeypatch.setenv("HOME", str(tmp_path))
    return connect.tool(request.param)


def test_the_module_declares_the_contract(tool):
    assert tool.name in connect.names() and connect.TOOLS[tool.name].replace("_", "-") == tool.name
    assert isinstance(tool.protocol, Protocol) and tool.package.startswith(("pypi:", "npm:")) and tool.command
    assert "main" in tool.roles and set(tool.default_roles) <= set(tool.roles)
    assert tool.headers in ("none", "literal", "env") and tool.kinds


def test_files_live_under_home_or_the_tools_own_override(tool, tmp_path):
    for path in tool.files().values():
        assert path.is_relative_to(tmp_path), path


@pytest.mark.parametrize("key_source", ["keyring", "env", "none"])
def test_render_reads_back_as_the_selection_and_comes_out_again(tool, key_source):
    target = target_for(tool, key_source=key_source)
    key = tool.key_plan(target)
    assert key.kind in KeyRef
    texts = {label: None for label in tool.files()}
    plan = tool.render(texts, {"main": target}, key, {})
    written = {label: plan.texts.get(label) for label in texts}
    assert tool.read_back(written)["main"] == engine.expected(tool, {"main": target}, key)["main"]
    assert tool.render(written, {"main": target}, key, plan.memory).texts == plan.texts  # idempotent
    removed = tool.remove(written, plan.memory)
    assert all(not (text or "").strip() for text in removed.values()), removed


def test_a_new_model_replaces_the_old_one(tool):
    first, second = target_for(tool, "m1"), target_for(tool, "m2")
    key = tool.key_plan(first)
    texts = {label: None for label in tool.files()}
    plan = tool.render(texts, {"main": first}, key, {})
    again = tool.render({k: plan.texts.get(k) for k in texts}, {"main": second}, key, plan.memory)
    back = tool.read_back({k: again.texts.get(k) for k in texts})
    assert back["main"].model.endswith("m2") and "m1" not in "".join(t or "" for t in again.texts.values())
