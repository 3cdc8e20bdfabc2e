"""Issue 14: ``config check`` reads active.toml's model ids as an API would, with the line, naming the file once."""

from __future__ import annotations

import json

import pytest

from llmswitch.base import paths


@pytest.fixture
def selected(config_dir, run_cli):
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text('[providers.box]\nbase_url = "http://127.0.0.1:9/v1"\n')
    assert run_cli("use", "box/m").returncode == 0
    return paths.active_file()


def _set_model(active, value: str) -> int:
    text = active.read_text()
    active.write_text(text.replace('model = "m"', f'model = "{value}"'))
    return next(i for i, line in enumerate(active.read_text().splitlines(), 1) if line.startswith("model ="))


@pytest.mark.parametrize("value, said", [("default", "'default' is a placeholder"), ("", "the model id is empty")])
def test_a_hand_edited_model_is_refused_with_its_line(selected, run_cli, value, said):
    line = _set_model(selected, value)
    done = run_cli("config", "check")
    assert done.returncode == 1, done.stdout
    assert f"{selected}:{line}: roles.default.model: {said}" in done.stdout, done.stdout
    assert "llmswitch use --role default box/MODEL" in done.stdout
    assert done.stdout.count(str(selected)) == 1  # the path once
    problems = json.loads(run_cli("config", "check", "--json").stdout)["problems"]
    assert problems[0]["line"] == line and problems[0]["key"] == "roles.default.model"


def test_another_broken_field_names_the_file_once(selected, run_cli):
    selected.write_text(selected.read_text().replace('base_url = "http://127.0.0.1:9/v1"', 'base_url = "ftp://x"', 1))
    done = run_cli("config", "check")
    assert done.returncode == 1
    assert done.stdout.count(str(selected)) == 1, done.stdout


def test_a_good_selection_passes(selected, run_cli):
    assert run_cli("config", "check").returncode == 0
