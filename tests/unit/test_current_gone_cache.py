"""``current`` after config.toml changed: the provider check loads config.toml once, not on every run.

``current`` marks a role whose provider is gone; when config.toml (or the team record) is newer than a
role, it has to ask config.toml. Which providers it found is kept in the cache dir for exactly the
config.toml and team directory it saw, so the next ``current`` is back on the read path's budget
(stdlib only, no tomllib) — and any later change of config.toml is asked again.
"""

from __future__ import annotations

import os
from pathlib import Path

from test_readpath import CONSOLE_SCRIPT, loaded_by

from llmswitch.cli.commands import current

CONFIG = '[providers.box]\nbase_url = "http://127.0.0.1:9/v1"\nkey_source = "none"\n'
GONE = '[providers.gone]\nbase_url = "http://127.0.0.1:9/v2"\nkey_source = "none"\n'


def _roles_then_config_written(config_dir: Path, run_cli) -> None:
    """Roles default (box) and small (gone), then config.toml rewritten after them without ``gone``."""
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(CONFIG + GONE)
    assert run_cli("use", "box/m1").returncode == 0
    assert run_cli("use", "--role", "small", "gone/x").returncode == 0
    assert run_cli("providers", "rm", "gone").returncode == 0
    active = os.stat(config_dir / "active.toml").st_mtime_ns
    os.utime(config_dir / "config.toml", ns=(active + 10**9, active + 10**9))  # later than the roles, surely


def test_the_second_current_after_an_edit_loads_no_config(config_dir, run_cli, tmp_path):
    _roles_then_config_written(config_dir, run_cli)
    first = loaded_by(CONSOLE_SCRIPT, tmp_path, ("current", "--all"))
    assert "tomllib" in first and "llmswitch.store.config" in first, "config.toml newer than the roles: asked"
    again = loaded_by(CONSOLE_SCRIPT, tmp_path, ("current", "--all"))
    assert not {"tomllib", "llmswitch.store.config"} & set(again), "the same config.toml: its answer is kept"
    shown = run_cli("current", "--all")
    assert "gone/x  [provider gone]" in shown.stdout and "box/m1  [provider gone]" not in shown.stdout
    assert run_cli("current", "--role", "small", "--field", "provider_gone").stdout.strip() == "True"


def test_a_later_edit_of_config_is_asked_again(config_dir, run_cli):
    _roles_then_config_written(config_dir, run_cli)
    assert "gone/x  [provider gone]" in run_cli("current", "--all").stdout
    path = config_dir / "config.toml"
    path.write_text(path.read_text() + GONE)  # the provider is back, by hand
    later = os.stat(path).st_mtime_ns + 10**9
    os.utime(path, ns=(later, later))
    assert "[provider gone]" not in run_cli("current", "--all").stdout
    assert run_cli("current", "--role", "small", "--field", "provider_gone").stdout.strip() == "False"


def test_a_torn_or_foreign_record_is_not_used(config_dir, run_cli):
    _roles_then_config_written(config_dir, run_cli)
    assert "gone/x  [provider gone]" in run_cli("current", "--all").stdout
    record = Path(os.environ["LLMSWITCH_CACHE_DIR"], current.GONE_CACHE)
    assert record.exists()
    for blob in (b"", b"\x00garbage", record.read_bytes()[:-3]):
        record.write_bytes(blob)
        assert "gone/x  [provider gone]" in run_cli("current", "--all").stdout
