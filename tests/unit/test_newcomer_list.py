"""Issue 14: ``llmswitch list`` shows the last outcome with its age, and labels the roles."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from llmswitch.base import paths
from llmswitch.store import state
from upstreams import free_port, ollama_like


def test_a_probed_and_failed_provider_shows_its_outcome_and_age(upstream, config_dir, run_cli):
    config_dir.mkdir(parents=True, exist_ok=True)
    server = ollama_like(upstream())
    port = free_port()
    (config_dir / "config.toml").write_text(f'[providers.down]\nbase_url = "http://127.0.0.1:{port}/v1"\n'
                                            f'[providers.box]\nbase_url = "{server.url}/v1"\n'
                                            f'[providers.fresh]\nbase_url = "http://127.0.0.1:{port}/v2"\n')
    run_cli("probe", "down")
    run_cli("probe", "box")
    record = paths.state_dir() / "probes" / "down.json"
    document = json.loads(record.read_text())
    document["probed"] = (datetime.now(UTC) - timedelta(minutes=3, seconds=5)).replace(microsecond=0).isoformat()
    record.write_text(json.dumps(document))
    assert run_cli("use", "box/llama3.2:latest").returncode == 0
    assert run_cli("use", "--role", "small", "box/qwen2.5:0.5b").returncode == 0
    listed = run_cli("list").stdout
    lines = {line.split()[0]: line for line in listed.splitlines()}
    assert "✗ " in lines["down"] and "· 3 min ago" in lines["down"], listed
    assert "not probed" not in lines["down"]
    assert "✓ 2 models" in lines["box"] and "just now" in lines["box"]
    assert lines["box"].rstrip().endswith("[default] [small]"), listed
    assert "not probed" in lines["fresh"] and "[" not in lines["fresh"]
    assert "●" not in listed
    data = {row["id"]: row for row in json.loads(run_cli("list", "--json").stdout)}
    assert data["box"]["roles"] == ["default", "small"] and data["box"]["active"] is True
    assert data["down"]["last_probe"]["outcome"] == "connection_refused"
    assert data["fresh"]["last_probe"] is None


def test_age_reads_like_a_person_says_it():
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    probe = lambda **ago: state.LastProbe("ok", "x", True, now - timedelta(**ago))  # noqa: E731
    assert probe(seconds=20).age(now) == "just now"
    assert probe(minutes=3).age(now) == "3 min ago"
    assert probe(hours=2, minutes=5).age(now) == "2 h ago"
    assert probe(days=1, hours=1).age(now) == "1 day ago"
    assert probe(days=5).age(now) == "5 days ago"


def test_a_preset_list_says_model_for_one(run_cli):
    listed = run_cli("list", "--presets").stdout
    assert " 1 models" not in listed
