"""files.untrusted is the one trust rule; ensure_private_dir refuses directories others can write."""

from __future__ import annotations

import os
import stat

import pytest

from llmswitch.base import files
from llmswitch.base.errors import UnsafeFileError


def fake_stat(mode: int, uid: int | None = None) -> os.stat_result:
    uid = os.geteuid() if uid is None else uid
    return os.stat_result((mode, 0, 0, 1, uid, 0, 10, 0, 0, 0))


@pytest.mark.parametrize(("mode", "uid", "refused"), [
    (stat.S_IFREG | 0o600, None, None),
    (stat.S_IFREG | 0o644, None, None),  # readable by others: doctor warns; nobody else can change it
    (stat.S_IFREG | 0o620, None, "writable by its group (mode 620)"),
    (stat.S_IFREG | 0o602, None, "writable by other users (mode 602)"),
    (stat.S_IFREG | 0o600, 0, None),  # root's file: root can change anything anyway
    (stat.S_IFREG | 0o600, 65534, "belongs to another user (uid 65534)"),
])
def test_the_trust_rule(mode, uid, refused):
    if os.geteuid() == 65534:
        pytest.skip("running as the uid used for 'another user'")
    found = files.untrusted(fake_stat(mode, uid), "/x/active.toml")
    if refused is None:
        assert found is None
    else:
        cause, fix = found
        assert refused in cause and cause.startswith("/x/active.toml ") and fix


def test_directories_get_the_directory_fix():
    cause, fix = files.untrusted(fake_stat(stat.S_IFDIR | 0o777), "/x", directory=True)
    assert "writable by other users (mode 777)" in cause and fix == "run: chmod 700 /x"


def test_ensure_private_dir_creates_0700_and_refuses_a_shared_one(tmp_path):
    made = tmp_path / "a" / "b"
    files.ensure_private_dir(made)
    assert stat.S_IMODE(made.stat().st_mode) == 0o700
    os.chmod(made, 0o775)
    with pytest.raises(UnsafeFileError, match="chmod 700"):
        files.ensure_private_dir(made)
    with pytest.raises(UnsafeFileError):
        files.atomic_write(made / "f.toml", b"x")
    assert not (made / "f.toml").exists()


def test_unsafe_file_error_is_still_importable_from_files():
    assert files.UnsafeFileError is UnsafeFileError
    with pytest.raises(AttributeError):
        files.no_such_name  # noqa: B018
