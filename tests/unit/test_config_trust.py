"""What llmswitch trusts: a config only you can change; the one checker (trust.check) and its users."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from llmswitch.base import trust
from llmswitch.store.config import ConfigError, load

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes and owners")


def write(config_dir: Path, text: str = "[providers.groq]\n") -> Path:
    config_dir.mkdir(parents=True, exist_ok=True)
    path = config_dir / "config.toml"
    path.write_text(text)
    path.chmod(0o600)
    return path


@pytest.mark.parametrize("mode", [0o620, 0o602, 0o666])
def test_a_file_others_can_write_is_refused(config_dir, mode):
    path = write(config_dir)
    path.chmod(mode)
    cause, fix = trust.check(path, kind="file")
    assert str(path) in cause and ("writable by other users" in cause or "writable by its group" in cause) and fix == f"run: chmod 600 {path}"
    with pytest.raises(ConfigError, match="will not use it"):
        load()


def test_a_directory_others_can_write_is_refused(config_dir):
    write(config_dir)
    config_dir.chmod(0o777)
    try:
        cause, fix = trust.check(config_dir, kind="dir")
        assert "replace the files in it" in cause and fix == f"run: chmod 700 {config_dir}"
        with pytest.raises(ConfigError) as caught:
            load()
        assert "chmod 700" in str(caught.value)
    finally:
        config_dir.chmod(0o700)
    assert "groq" in load().providers


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown needs root")
def test_a_file_owned_by_another_user_is_refused(config_dir):
    path = write(config_dir)
    os.chown(path, 4242, -1)
    cause, fix = trust.check(path, kind="file")
    assert "belongs to another user (uid 4242" in cause and "LLMSWITCH_CONFIG_DIR" in fix
    with pytest.raises(ConfigError, match="another user"):
        load()
    os.chown(path, 0, -1)  # root's own files are as trusted as the system
    assert trust.check(path, kind="file") is None


def test_a_symlink_is_read_but_never_written_through(config_dir, tmp_path):
    real = tmp_path / "dotfiles" / "llmswitch.toml"
    real.parent.mkdir()
    real.write_text("[providers.groq]\n")
    real.chmod(0o600)
    config_dir.mkdir(parents=True)
    link = config_dir / "config.toml"
    link.symlink_to(real)
    assert trust.check(link, kind="file") is None and "groq" in load().providers
    cause, fix = trust.check(link, kind="target")
    assert "symlink" in cause and "will not write through it" in cause
    real.chmod(0o666)  # the mode that counts is the target's
    assert "writable by other users" in trust.check(link, kind="file")[0]


def test_missing_paths_and_private_files_are_fine(config_dir):
    assert trust.check(config_dir / "nothing.toml", kind="file") is None
    path = write(config_dir)
    assert trust.check(path, kind="file") is None and trust.exposure(path, kind="file") is None
    path.chmod(0o644)
    assert trust.check(path, kind="file") is None  # readable by others: a privacy warning, not a refusal
    assert "readable by others" in trust.exposure(path, kind="file")[0]


def test_a_directory_where_a_file_should_be(config_dir):
    (config_dir / "config.toml").mkdir(parents=True)
    assert "not a regular file" in trust.check(config_dir / "config.toml", kind="file")[0]
