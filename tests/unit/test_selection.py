"""The active-selection file: the contract, atomic locked writes, crash safety, concurrency."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import tomllib

import pytest
from runcli import cli_command

from llmswitch.base.files import UnsafeFileError
from llmswitch.store import selection
from llmswitch.store.selection import ActiveSelection, NoSelection, SelectionError


def make(role="default", model="llama3", provider="ollama", **kw) -> ActiveSelection:
    return ActiveSelection(role=role, provider=provider, model=model, base_url="http://localhost:11434/v1",
                           key_source="none", key_required=False, **kw)


def test_reading_never_creates_anything(config_dir):
    with pytest.raises(NoSelection, match="llmswitch use PROVIDER/MODEL"):
        selection.read()
    assert selection.read_all() == {}
    assert not config_dir.exists()


def test_roundtrip_and_roles(config_dir):
    selection.write(make(headers={"X-Title": "t"}))
    selection.write(make("small", "qwen2.5:0.5b"))
    roles = selection.read_all()
    assert set(roles) == {"default", "small"}
    assert roles["default"].headers == {"X-Title": "t"} and roles["small"].model == "qwen2.5:0.5b"
    assert roles["default"].updated is not None
    data = tomllib.loads((config_dir / "active.toml").read_text())
    assert data["version"] == 1 and list(data["roles"]) == ["default", "small"]
    with pytest.raises(NoSelection, match="--role embedding"):
        selection.read("embedding")


def test_default_role_is_required(config_dir):
    with pytest.raises(SelectionError, match="set the default model before role 'small'"):
        selection.write(make("small"))
    assert not (config_dir / "active.toml").exists()
    selection.write(make())
    selection.write(make("small"))
    with pytest.raises(SelectionError, match="default role is required"):
        selection.clear("default")
    assert selection.clear("small") and selection.clear("default")
    assert not (config_dir / "active.toml").exists()


@pytest.mark.parametrize("role", ["", "Default", "a b", "x" * 40, "../etc"])
def test_bad_role_names(role):
    with pytest.raises(SelectionError):
        selection.write(make(role))


def test_files_are_private(config_dir):
    selection.write(make())
    assert (config_dir / "active.toml").stat().st_mode & 0o777 == 0o600
    assert config_dir.stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("version = [", "not valid TOML"),
        ("version = 9\n[roles.default]\n", "schema version 9"),
        ("version = 1\n", "no [roles.*]"),
        ('version = 1\n[roles.default]\nprovider = "x"\n', "model is missing"),
        ('version = 1\n[roles.default]\nprovider = "x"\nmodel = "m"\nbase_url = "http://h/v1"\nkey_source = "paper"\n', "key_source"),
    ],
)
def test_invalid_files_are_named_not_guessed(config_dir, text, fragment):
    config_dir.mkdir(parents=True)
    (config_dir / "active.toml").write_text(text)
    with pytest.raises(SelectionError, match="llmswitch use") as caught:
        selection.read()
    assert fragment in str(caught.value)
    with pytest.raises(SelectionError):  # a broken file is never silently overwritten
        selection.write(make())
    assert (config_dir / "active.toml").read_text() == text


def test_a_failed_write_leaves_the_old_file_and_no_temp_files(config_dir, monkeypatch):
    selection.write(make(model="first"))
    before = (config_dir / "active.toml").read_bytes()

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        selection.write(make(model="second"))
    assert (config_dir / "active.toml").read_bytes() == before
    assert [p.name for p in config_dir.iterdir() if p.name.endswith(".tmp")] == []


def test_refuses_to_write_through_a_symlink_or_a_world_writable_file(config_dir, tmp_path):
    config_dir.mkdir(parents=True)
    selection.write(make(model="original"))
    elsewhere = tmp_path / "elsewhere.toml"
    (config_dir / "active.toml").rename(elsewhere)
    (config_dir / "active.toml").symlink_to(elsewhere)
    assert selection.read().model == "original"  # reading through a link is fine
    with pytest.raises(UnsafeFileError, match="symlink"):
        selection.write(make())
    assert selection.read().model == "original"
    (config_dir / "active.toml").unlink()
    selection.write(make())
    os.chmod(config_dir / "active.toml", 0o666)
    with pytest.raises(UnsafeFileError, match="chmod 600"):
        selection.write(make(model="again"))


WRITER = """
import sys
from llmswitch import selection
from llmswitch.store.selection import ActiveSelection
n = 0
while True:
    n += 1
    selection.write(ActiveSelection(role="default", provider="ollama", model=f"model-{n}", base_url="http://localhost:11434/v1",
                                    key_source="none", key_required=False, headers={"X-Pad": "p" * 20000}))
"""


def test_a_writer_killed_at_any_point_leaves_a_whole_file(config_dir):
    selection.write(make(model="model-0"))
    rng = random.Random(7)
    for _ in range(12):
        proc = subprocess.Popen([sys.executable, "-c", WRITER], env=os.environ.copy())
        time.sleep(0.25 + rng.random() * 0.3)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        sel = selection.read()  # parses, and is one writer's whole value
        assert sel.model.startswith("model-") and sel.headers in ({}, {"X-Pad": "p" * 20000})
    lock = config_dir / ".active.toml.lock"
    assert lock.exists()  # a stale lock file is harmless: flock died with the process
    selection.write(make(model="after-kills"))
    assert selection.read().model == "after-kills"


def test_fifty_concurrent_use_processes_never_corrupt_the_file(config_dir, run_cli):
    config_dir.mkdir(parents=True)
    procs = [subprocess.Popen([*cli_command(), "use", f"ollama/model-{i:02d}"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, env=os.environ.copy()) for i in range(50)]
    seen: set[str] = set()
    while any(p.poll() is None for p in procs):
        try:
            seen.add(selection.read().model)  # every intermediate read parses
        except NoSelection:
            pass
        time.sleep(0.01)
    assert all(p.returncode == 0 for p in procs)
    final = selection.read()
    assert final.model in {f"model-{i:02d}" for i in range(50)}
    assert final.base_url == "http://localhost:11434/v1" and final.provider == "ollama"
    assert tomllib.loads((config_dir / "active.toml").read_text())["roles"]["default"]["model"] == final.model
    assert [p.name for p in config_dir.iterdir() if p.name.endswith(".tmp")] == []


CONFIG_WRITER = """
import itertools
from llmswitch import config
for n in itertools.count():
    config.add_provider("box", {"base_url": f"http://127.0.0.1:{1000 + n % 60000}/v1", "name": "x" * 20000},
                        replace=True)
"""


def test_a_config_writer_killed_at_any_point_leaves_a_whole_file(config_dir):
    from llmswitch.store import config

    config.add_provider("box", {"base_url": "http://127.0.0.1:999/v1"})
    config.add_provider("keep", {"base_url": "http://127.0.0.1:998/v1"})
    rng = random.Random(11)
    for _ in range(8):
        proc = subprocess.Popen([sys.executable, "-c", CONFIG_WRITER], env=os.environ.copy())
        time.sleep(0.3 + rng.random() * 0.3)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        loaded = config.load()
        assert set(loaded.providers) == {"box", "keep"}
        assert loaded.providers["keep"].base_url == "http://127.0.0.1:998/v1"
