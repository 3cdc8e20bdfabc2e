"""The read path (``llmswitch current``, ``llmswitch.active()``): what it imports, its parse cache, where it looks.

The boundaries come from ``llmswitch.boundaries`` (declared once); each case runs in a fresh
interpreter, the way the console script pip installs starts (``import re, sys`` then
``llmswitch.cli.main``), for every kind of provider: hosted with a keyring key, an ``env:``
key, and a keyless local server.
"""

from __future__ import annotations

import marshal
import os
import subprocess
import sys
from pathlib import Path

import pytest

import llmswitch
from llmswitch import boundaries
from llmswitch.base import paths
from llmswitch.store import selection

FAKE = "sk-test-not-a-real-key-0031"

CONSOLE_SCRIPT = """
import re, sys, os
from llmswitch.cli import main
sys.argv = ["llmswitch", *os.environ["ARGS"].split("\x1f")]
code = main()
""".strip()
PYTHON_API = "import llmswitch; sel = llmswitch.active(); sel.ref; sel.base_url"
DUMP = "\nimport sys as _s, os as _o\nopen(_o.environ['MODULES_OUT'], 'w').write('\\n'.join(sorted(_s.modules)))"


SOURCE_ROOT = str(Path(llmswitch.__file__).resolve().parents[1])


def run_bare(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``python -S``: what this interpreter's site-packages ``.pth`` files load is not llmswitch's doing."""
    return subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, timeout=60,
                          env={**env, "PYTHONPATH": SOURCE_ROOT})


def loaded_by(code: str, tmp_path: Path, args: tuple[str, ...] = (), env: dict[str, str] | None = None) -> list[str]:
    out = tmp_path / "modules.txt"
    done = run_bare(code + DUMP, {**os.environ, "ARGS": "\x1f".join(args), "MODULES_OUT": str(out), **(env or {})})
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return out.read_text().split()


@pytest.fixture(params=["hosted-keyring", "env-key", "keyless-local"])
def selected(request, run_cli, config_dir):
    """A selection written by `llmswitch use` for each kind of provider."""
    if request.param == "hosted-keyring":
        assert run_cli("key", "set", "openrouter", input=FAKE).returncode == 0
        done = run_cli("use", "openrouter/anthropic/claude-sonnet-4.5")
    elif request.param == "env-key":
        config_dir.mkdir(parents=True, exist_ok=True)
        (config_dir / "config.toml").write_text('[providers.box]\nbase_url = "https://llm.example.com/v1"\n'
                                                'key_source = "env:BOX_API_KEY"\n')
        done = run_cli("use", "box/some-model")
    else:
        done = run_cli("use", "llamacpp/qwen2.5-7b-instruct")
    assert done.returncode == 0, done.stderr
    return request.param


@pytest.mark.parametrize("args", [("current",), ("current", "--json"), ("current", "--field", "model"),
                                  ("current", "--role", "default"), ("current", "--all")])
def test_current_loads_nothing_beyond_the_file(selected, tmp_path, args):
    loaded = loaded_by(CONSOLE_SCRIPT, tmp_path, args)
    allowed = boundaries.READ_PATH_JSON_ALLOWED if "--json" in args else ()
    forbidden = boundaries.READ_PATH_FORBIDDEN + boundaries.READ_PATH_CACHED_FORBIDDEN
    assert boundaries.violations(loaded, forbidden, allowed) == []
    assert not {"argparse", "dataclasses", "urllib.parse"} & set(loaded)
    assert "llmswitch.store.selection" in loaded  # it did read


def test_active_loads_nothing_beyond_the_file(selected, tmp_path):
    loaded = loaded_by(PYTHON_API, tmp_path)
    assert boundaries.violations(loaded, boundaries.READ_PATH_FORBIDDEN + boundaries.READ_PATH_CACHED_FORBIDDEN) == []
    assert "re" not in loaded  # not even the regex engine


def test_without_the_cache_only_the_toml_parser_is_added(selected, tmp_path, config_dir):
    (config_dir / ".active.toml.cache").unlink()
    for code, args in ((CONSOLE_SCRIPT, ("current",)), (CONSOLE_SCRIPT, ("current", "--field", "base_url")),
                       (PYTHON_API, ())):
        loaded = loaded_by(code, tmp_path, args)
        assert boundaries.violations(loaded, boundaries.READ_PATH_FORBIDDEN) == []
        assert "tomllib" in loaded


def test_the_default_location_needs_no_platformdirs(run_cli, tmp_path):
    xdg = Path(os.environ["XDG_CONFIG_HOME"])
    assert run_cli("use", "ollama/llama3", env={"LLMSWITCH_CONFIG_DIR": str(xdg / "llmswitch")}).returncode == 0
    env = {k: v for k, v in os.environ.items() if k != "LLMSWITCH_CONFIG_DIR"}
    out = tmp_path / "modules.txt"
    done = run_bare(PYTHON_API + "; print(sel.model)" + DUMP, {**env, "MODULES_OUT": str(out)})
    assert done.stdout.strip() == "llama3", done.stderr
    assert boundaries.violations(out.read_text().split(), boundaries.READ_PATH_FORBIDDEN) == []


def test_the_core_never_imports_textual():
    root = Path(llmswitch.__file__).parent
    core = sorted("llmswitch." + ".".join(p.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
                  for p in root.rglob("*.py") if "app" not in p.relative_to(root).parts[:1] and p.name != "__main__.py")
    code = "import importlib, sys\n" + "".join(f"importlib.import_module({name!r})\n" for name in core)
    done = subprocess.run([sys.executable, "-c", code + "print('\\n'.join(sys.modules))"], capture_output=True,
                          text=True, timeout=120, check=True)  # with site-packages: the core imports httpx etc.
    loaded = done.stdout.split()
    assert len(core) > 15 and "llmswitch.cli.commands.probe" in core
    assert boundaries.violations(loaded, boundaries.CORE_FORBIDDEN) == []


@pytest.mark.parametrize("env", [
    {"XDG_CONFIG_HOME": "/srv/conf", "HOME": "/home/u"},
    {"XDG_CONFIG_HOME": "relative/conf", "HOME": "/home/u"},  # a relative XDG_CONFIG_HOME is ignored
    {"XDG_CONFIG_HOME": "", "HOME": "/home/u"},
    {"HOME": "/home/u"},
    {"HOME": "/"},
])
def test_the_linux_rule_agrees_with_platformdirs(monkeypatch, env):
    import platformdirs

    monkeypatch.delenv("LLMSWITCH_CONFIG_DIR", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if not sys.platform.startswith("linux"):
        pytest.skip("the fast rule applies on Linux only; elsewhere platformdirs is asked directly")
    assert paths._linux_config_home() is not None
    assert paths.config_dir_name() == platformdirs.user_config_dir("llmswitch", appauthor=False)
    assert paths.config_dir() == platformdirs.user_config_path("llmswitch", appauthor=False)


def test_a_relative_home_is_left_to_platformdirs(monkeypatch):
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("HOME", "not/absolute")
    assert paths._linux_config_home() is None


# --- the parse cache ---------------------------------------------------------------------------

def make(model: str = "llama3") -> selection.ActiveSelection:
    return selection.ActiveSelection(role="default", provider="ollama", model=model,
                                     base_url="http://localhost:11434/v1", key_source="none", key_required=False)


def test_the_writer_keeps_a_cache_of_exactly_what_it_wrote(config_dir):
    import tomllib

    selection.write(make())
    raw = (config_dir / "active.toml").read_bytes()
    cache = config_dir / ".active.toml.cache"
    fmt, body, data = marshal.loads(cache.read_bytes())
    assert (fmt, body) == (selection.CACHE_FORMAT, raw)
    parsed = tomllib.loads(raw.decode())
    assert data["roles"]["default"]["updated"] == ("datetime", parsed["roles"]["default"]["updated"].isoformat())
    assert {k: v for k, v in data["roles"]["default"].items() if k != "updated"} == \
        {k: v for k, v in parsed["roles"]["default"].items() if k != "updated"}
    assert cache.stat().st_mode & 0o777 == 0o600
    assert selection.read() == make().__class__(**{**_fields(make()), "updated": parsed["roles"]["default"]["updated"]})
    selection.clear("default")
    assert not cache.exists() and not (config_dir / "active.toml").exists()


def _fields(sel: selection.ActiveSelection) -> dict[str, object]:
    names = ("role", "provider", "model", "base_url", "api_kind", "key_source", "keyring_service", "keyring_username",
             "key_env", "key_command", "key_required", "headers", "api_version")
    return {name: getattr(sel, name) for name in names}


def test_a_hand_edit_wins_over_the_cache_even_with_the_same_size_mtime_and_inode(config_dir):
    selection.write(make("model-a"))
    active = config_dir / "active.toml"
    before = active.stat()
    with open(active, "r+b") as handle:  # in place: same inode, same size
        text = handle.read().replace(b'"model-a"', b'"model-b"')
        handle.seek(0)
        handle.write(text)
    os.utime(active, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the same mtime
    after = active.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (before.st_ino, before.st_size, before.st_mtime_ns)
    assert selection.read().model == "model-b"


def test_a_cache_is_used_only_when_it_is_as_trusted_as_the_file(config_dir):
    selection.write(make("real"))
    raw = (config_dir / "active.toml").read_bytes()
    cache = config_dir / ".active.toml.cache"
    fmt, body, data = marshal.loads(cache.read_bytes())
    data["roles"]["default"]["model"] = "from-the-cache"
    cache.write_bytes(marshal.dumps((fmt, raw, data)))
    assert selection.read().model == "from-the-cache"  # proves the cache is what is read when it matches
    os.chmod(cache, 0o666)
    assert selection.read().model == "real"  # someone else could have written it: the file decides
    os.chmod(cache, 0o600)
    os.chown(cache, 65534, 65534)
    assert selection.read().model == "real"


@pytest.mark.parametrize("blob", [b"", b"\x00garbage", marshal.dumps(("x", b"", {})), marshal.dumps([1, 2, 3]),
                                  marshal.dumps((1, b"other bytes", {"version": 1}))])
def test_a_torn_or_stale_cache_falls_back_to_the_file(config_dir, blob):
    selection.write(make("real"))
    (config_dir / ".active.toml.cache").write_bytes(blob)
    assert selection.read().model == "real"


def test_values_from_the_cache_behave_like_parsed_ones(config_dir):
    selection.write(make())
    cached = selection.read()
    (config_dir / ".active.toml.cache").unlink()
    parsed = selection.read()
    assert cached == parsed and cached.as_dict() == parsed.as_dict()
    assert cached.updated == parsed.updated and cached.updated.tzinfo is not None
    assert cached.updated_text() == parsed.updated_text() and cached.updated_text().endswith(" UTC")
    assert repr(cached) == repr(parsed) and hash(cached) == hash(parsed)


def test_active_selection_is_immutable_and_keeps_its_contract():
    import copy
    import pickle

    sel = make()
    with pytest.raises(AttributeError):
        sel.model = "other"  # type: ignore[misc]
    assert sel.ref == "ollama/llama3" and sel.headers == {} and sel.key_env == ()
    assert pickle.loads(pickle.dumps(sel)) == sel and copy.copy(sel) == sel
    assert not {"key", "api_key", "secret", "token", "password"} & set(sel.__slots__)  # no field for a key itself
    assert set(sel.to_toml_table()) >= {"provider", "model", "base_url", "updated"}
