"""Shared test set-up.

``tests/`` and ``tests/support/`` are on ``sys.path`` (``pythonpath`` in pyproject.toml's
pytest settings), so test modules can ``from upstreams import ...`` and ``from runcli import ...``;
child processes get ``tests/support`` through ``PYTHONPATH`` (the test keyring backend).

Hypothesis profiles: ``default`` (200 examples, CI-friendly) and ``long``
(10 000), chosen with ``HYPOTHESIS_PROFILE=long``.
"""

from __future__ import annotations

import os
import shutil

from hypothesis import HealthCheck, settings

from upstreams import release_ports, upstream  # noqa: F401 - fixture: a factory of fake upstream servers

settings.register_profile("default", max_examples=200, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=10_000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


# --- isolation: tests never touch the real home, keyring or environment ----------------------

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

SUPPORT = Path(__file__).parent / "support"

from runcli import run_in_process, run_in_subprocess  # noqa: E402

LEAKY_ENV = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_BASE", "OPENAI_MODEL", "OPENROUTER_API_KEY",
             "GROQ_API_KEY", "TOGETHER_API_KEY", "DEEPSEEK_API_KEY", "ANTHROPIC_API_KEY", "OLLAMA_BASE_URL",
             "LMSTUDIO_BASE_URL", "VLLM_BASE_URL", "LLAMACPP_BASE_URL", "LITELLM_PROXY_URL", "OPENAI_COMPAT_BASE_URL")


def pytest_ignore_collect(collection_path, config):
    """The integration tier is not even imported when it is deselected (the default ``-m 'not integration'``):
    its modules import both SDKs, ~2 s in every worker of every run."""
    if collection_path == Path(__file__).parent / "integration" and config.getoption("markexpr") == "not integration":
        return True
    return None


@pytest.fixture(scope="session")
def catalog_files(tmp_path_factory) -> list[Path]:
    """The catalog's derived files (provider index, compact model table), built once per worker.

    Every CLI process of a test with an empty cache dir would build them again from the bundled
    models.dev data (~0.2 s of CPU each, hundreds of times per run); a test starts with copies
    instead, as a user's machine has them after its first run. Tests marked ``cold_catalog`` start
    without them.
    """
    from llmswitch.store import catalog

    made = tmp_path_factory.mktemp("catalog-cache")
    with pytest.MonkeyPatch.context() as patched:
        patched.setenv("LLMSWITCH_CACHE_DIR", str(made))
        catalog._index.__wrapped__()  # built and written, whatever is in memory
        catalog._models_table.__wrapped__()
    files = sorted(made.glob("catalog-*"))
    assert len(files) == 2, files
    return files


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch, request, catalog_files):
    """Point every llmswitch/XDG dir at tmp_path and use a test keyring file there.

    The cache dir starts with the catalog's derived files (:func:`catalog_files`) unless the test is
    marked ``cold_catalog``. Tests marked ``secretservice`` keep the real keyring backend selection.
    """
    home = tmp_path / "home"
    for name, sub in (("LLMSWITCH_CONFIG_DIR", "config"), ("LLMSWITCH_CACHE_DIR", "cache"),
                      ("LLMSWITCH_STATE_DIR", "state"), ("XDG_CONFIG_HOME", "xdg-config"),
                      ("XDG_CACHE_HOME", "xdg-cache"), ("XDG_STATE_HOME", "xdg-state"), ("XDG_DATA_HOME", "xdg-data")):
        monkeypatch.setenv(name, str(home / sub))
    if not request.node.get_closest_marker("cold_catalog"):
        (home / "cache").mkdir(parents=True)
        for made in catalog_files:
            shutil.copyfile(made, home / "cache" / made.name)
    for name in (*LEAKY_ENV, "LLMSWITCH_USE"):  # LLMSWITCH_USE: the shell scope of the shell running the tests
        monkeypatch.delenv(name, raising=False)
    for name in [n for n in os.environ if n.startswith("LLMSWITCH_KEY_")]:
        monkeypatch.delenv(name)
    if request.node.get_closest_marker("secretservice"):
        yield home
        return
    import keyring.core

    import keyring

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "testkeyring.FileKeyring")
    monkeypatch.setenv("LLMSWITCH_TEST_KEYRING_FILE", str(tmp_path / "test-keyring.json"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(SUPPORT), os.environ.get("PYTHONPATH")])))
    from testkeyring import FileKeyring

    previous = keyring.get_keyring()
    keyring.set_keyring(FileKeyring())
    yield home
    keyring.core.set_keyring(previous)


TOOL_LOCATION_VARS = ("CODEX_HOME", "LLM_USER_PATH", "CLAUDE_CONFIG_DIR", "CONTINUE_GLOBAL_DIR", "PI_CODING_AGENT_DIR",
                      "QWEN_HOME", "GEMINI_CLI_HOME", "MSWEA_GLOBAL_CONFIG_DIR")
"""The variables that move another tool's config folder; a test's tool home clears them."""


@pytest.fixture
def tool_home(tmp_path, monkeypatch) -> Path:
    """A throw-away HOME (and XDG_CONFIG_HOME under it) for the tools connect and import touch, with every
    tool-location variable cleared, so each tool's config resolves inside it."""
    home = tmp_path / "tool-home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    for name in TOOL_LOCATION_VARS:
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def config_dir(isolated) -> Path:
    return Path(os.environ["LLMSWITCH_CONFIG_DIR"])


@pytest.fixture
def run_cli(isolated):
    """Run ``llmswitch ARGS`` through its real entry function in this process, as a terminal-less child would
    see it; returns CompletedProcess (text). What is isolated, and how: :func:`runcli.run_in_process`."""
    return run_in_process


@pytest.fixture
def run_cli_process(isolated):
    """Run the ``llmswitch`` console script as a child process; returns CompletedProcess (text).

    Only where the process boundary is the thing tested: the console script itself, ``exec`` (it replaces
    the process), signals and kills, the read path's imports, real shells and terminals."""
    return run_in_subprocess


@pytest.fixture(autouse=True)
def _closed_ports_let_go():
    """The ports a test held closed with ``upstreams.free_port`` are let go when it ends."""
    yield
    release_ports()
