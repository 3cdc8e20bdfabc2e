"""A role whose provider is gone is never "ok", ``current`` marks it, and its key can still be removed (issue 20, low).

Through the real CLI: ``providers rm`` (and ``team rm``) take a provider away after ``use`` wrote
a role; ``doctor`` lists that role only as an error, ``current`` marks it (text, ``--json``,
``--field``), and ``key rm`` — which ``providers rm`` suggests — removes the removed provider's key.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

KEY = "sk-test-removed-provider-0033"


def _config(config_dir: Path) -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text('[providers.box]\nbase_url = "http://127.0.0.1:9/v1"\nkey_source = "none"\n'
                                            '[providers.gone]\nbase_url = "http://127.0.0.1:9/v2"\n')


@pytest.fixture
def removed(config_dir, run_cli):
    """Role default uses box; role small used gone, which ``providers rm`` then removed (its key stays)."""
    _config(config_dir)
    assert run_cli("key", "set", "gone", input=KEY).returncode == 0
    assert run_cli("use", "box/m1").returncode == 0
    assert run_cli("use", "--role", "small", "gone/x").returncode == 0
    done = run_cli("providers", "rm", "gone")
    assert done.returncode == 0, done.stderr
    assert "remove it with: llmswitch key rm gone" in done.stdout
    return done


def test_doctor_never_lists_the_gone_role_as_ok(removed, run_cli):
    report = json.loads(run_cli("doctor", "--json", "--no-probe").stdout)
    selection = [f for f in report["findings"] if f["area"] == "selection"]
    ok = [f for f in selection if f["level"] == "ok"]
    assert ok and all("gone/x" not in f["cause"] and "small" not in f["cause"] for f in ok), selection
    assert any("default: box/m1" in f["cause"] for f in ok), "the role that still works is listed"
    assert any(f["level"] == "error" and "role small uses provider gone" in f["cause"] for f in selection)
    text = run_cli("doctor", "--no-probe")
    assert not any("gone/x" in line and "ok" in line.split()[:2] for line in text.stdout.splitlines()), text.stdout


def test_current_marks_the_gone_role_in_text_json_and_field(removed, run_cli):
    shown = run_cli("current", "--all")
    assert shown.returncode == 0
    assert "gone/x  [provider gone]" in shown.stdout and "box/m1  [provider gone]" not in shown.stdout
    assert "role small uses provider gone, which is neither configured nor a preset any more — pick another: " \
           "llmswitch use --role small PROVIDER/MODEL" in shown.stderr
    data = {r["role"]: r for r in json.loads(run_cli("current", "--all", "--json").stdout)}
    assert data["small"]["provider_gone"] is True and data["default"]["provider_gone"] is False
    assert run_cli("current", "--role", "small", "--field", "provider_gone").stdout.strip() == "True"
    assert run_cli("use", "--role", "small", "box/m2").returncode == 0
    assert "[provider gone]" not in run_cli("current", "--all").stdout, "picked again: no longer marked"


def test_a_role_written_after_the_change_is_checked_too(config_dir, run_cli):
    """Another role written after ``providers rm`` does not hide the gone one (the check is per role)."""
    import time

    _config(config_dir)
    assert run_cli("use", "box/m1").returncode == 0
    assert run_cli("use", "--role", "small", "gone/x").returncode == 0
    time.sleep(1.1)  # the roles' times are whole seconds
    assert run_cli("providers", "rm", "gone").returncode == 0
    time.sleep(1.1)
    assert run_cli("use", "box/m2").returncode == 0
    assert "gone/x  [provider gone]" in run_cli("current", "--all").stdout


def test_a_team_provider_taken_away_by_team_rm_is_marked(tmp_path, config_dir, run_cli):
    config_dir.mkdir(parents=True, exist_ok=True)
    team = tmp_path / "team.toml"
    team.write_text('[providers.corp-gw]\nbase_url = "http://127.0.0.1:9/v1"\nkey_source = "none"\n')
    assert run_cli("team", "add", str(team)).returncode == 0
    assert run_cli("use", "corp-gw/m").returncode == 0
    assert "[provider gone]" not in run_cli("current").stdout
    assert run_cli("team", "rm").returncode == 0
    assert "corp-gw/m  [provider gone]" in run_cli("current").stdout


def test_key_rm_removes_the_key_of_a_removed_provider(removed, run_cli):
    from llmswitch.store import keys

    assert keys.stored("gone") == KEY, "providers rm leaves the key, as it says"
    done = run_cli("key", "rm", "gone")
    assert done.returncode == 0, done.stderr
    assert "removed the gone key from the keyring (gone is no longer a provider)" in done.stdout
    assert keys.stored("gone") is None
    again = run_cli("key", "rm", "gone")
    assert again.returncode != 0 and "unknown provider 'gone'" in again.stderr and "Traceback" not in again.stderr
    typo = run_cli("key", "rm", "bx")
    assert typo.returncode != 0 and "did you mean box" in typo.stderr


def test_current_stays_on_the_read_path_when_nothing_changed(removed, run_cli, tmp_path):
    """Marking costs nothing when config.toml did not change after the roles were written."""
    import subprocess
    import sys

    assert run_cli("use", "box/m1").returncode == 0  # both roles written again after the removal
    assert run_cli("use", "--role", "small", "box/m2").returncode == 0
    code = ("import sys, os\nfrom llmswitch.cli import main\nsys.argv = ['llmswitch', 'current', '--all']\nmain()\n"
            "print('\\n'.join(sorted(sys.modules)), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=os.environ)
    assert done.returncode == 0, done.stderr
    assert "llmswitch.store.config" not in done.stderr.split() and "llmswitch.store.catalog" not in done.stderr.split()
