"""Gateway metadata and budgets against the real LiteLLM proxy (no database, master key only).

Opt-in: ``pytest -m integration`` (see tests/integration/conftest.py). The proxy's mock
models carry ``model_info`` (scripts/integration-server.sh): ``fake-gpt`` (chat, 128k,
$2.5/$10 per M) and ``fake-gpt-embed`` (embedding).
"""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
def team(real_server, config_dir, monkeypatch):
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(f'[providers.team]\npreset = "litellm"\nbase_url = "{real_server.url}/v1"\n')
    monkeypatch.setenv("LLMSWITCH_KEY_TEAM", real_server.key)
    return real_server


def test_list_shows_the_proxys_context_and_prices_for_its_aliases(team, run_cli):
    assert run_cli("probe", "team").returncode == 0
    done = run_cli("list", "team", "--json")
    assert done.returncode == 0, done.stderr
    rows = {m["id"]: m for m in json.loads(done.stdout)["models"]}
    chat = rows[team.model]
    assert (chat["context"], chat["max_output"], chat["input_price"], chat["output_price"]) == (128000, 16384, 2.5, 10.0)
    assert chat["metadata"] == "gateway" and chat["mode"] == "chat" and chat["upstream"] == f"openai/{team.model}"
    assert chat["tools"] is True
    assert rows[f"{team.model}-embed"]["mode"] == "embedding"
    assert team.key not in done.stdout + done.stderr
    text = run_cli("list", "team")
    assert "ctx   128k" in text.stdout and "$2.5" in text.stdout and "[gateway → openai/fake-gpt]" in text.stdout


def test_doctor_says_the_real_proxy_keeps_no_budgets_without_a_database(team, run_cli):
    assert run_cli("probe", "team").returncode == 0
    doctor = json.loads(run_cli("doctor", "--json").stdout)
    budget = [f for f in doctor["findings"] if f["area"] == "budget"]
    assert budget and "budget unknown: the proxy keeps no budgets" in budget[0]["cause"], doctor
    assert team.key not in json.dumps(doctor)
    gateway = [f for f in doctor["findings"] if f["area"] == "gateway"]
    served = json.loads(run_cli("list", "team", "--json").stdout)["models"]  # every alias the proxy serves
    described = sum(1 for m in served if m.get("metadata") == "gateway")
    assert described >= 2 and gateway and f"{described} models described by the gateway" in gateway[0]["cause"]


def test_use_states_the_gateways_price_on_a_first_switch(team, run_cli):
    assert run_cli("probe", "team").returncode == 0
    assert run_cli("list", "team").returncode == 0
    done = run_cli("use", f"team/{team.model}")
    assert done.returncode == 0
    assert f"team/{team.model} costs $2.5/$10 per M (a paid model)" in done.stderr


def test_a_team_file_naming_the_proxy_gives_each_user_the_aliases_with_their_own_key(real_server, config_dir,
                                                                                     tmp_path, run_cli):
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text("")
    shared = tmp_path / "team.toml"
    shared.write_text(f'[providers.corp]\npreset = "litellm"\nbase_url = "{real_server.url}/v1"\n'
                      'key_source = "env:CORP_LLM_KEY"\n')
    assert run_cli("team", "add", str(shared), "--accept-env", "CORP_LLM_KEY").returncode == 0
    env = {"CORP_LLM_KEY": real_server.key, "LITELLM_MASTER_KEY": "sk-test-not-accepted-0004"}
    assert run_cli("probe", "corp", env=env).returncode == 0
    rows = {m["id"]: m for m in json.loads(run_cli("list", "corp", "--json", env=env).stdout)["models"]}
    assert rows[real_server.model]["context"] == 128000 and rows[real_server.model]["metadata"] == "gateway"
    listed = run_cli("list", env=env).stdout
    assert "(team)" in listed and f"(team) from {shared}" in listed


async def test_the_picker_shows_the_proxys_context_and_prices_for_its_aliases(team):
    """The issue's own check: the picker, probing the real proxy, shows its aliases with the gateway's
    context and prices (not "listed by the server; not in the catalog"), and says where they came from."""
    from app import scenes

    app = scenes.stable_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await scenes.settled(pilot)
        await scenes.choose_provider(pilot, "team")
        assert await scenes.wait_for(pilot, lambda: "128k" in scenes.screen_text(app), timeout=20)
        text = scenes.screen_text(app)
        row = next(line for line in text.splitlines() if team.model in line and "128k" in line)
        assert "16k" in row and "2.5" in row and "10" in row, row
        assert "from the gateway" in text and "not in the catalog" not in text
        assert await scenes.wait_for(pilot, lambda: "budget unknown" in scenes.screen_text(app), timeout=20)
        assert "budget: budget" not in scenes.screen_text(app)  # the no-database budget line names itself once
        assert team.key not in text
