"""gptme, shell-gpt and mini-swe-agent through the real CLI (connect, follow, refusals, damage) and ``import``.

Against fake upstreams on 127.0.0.1; each tool's file is read back with the tool's own rules
(tomllib for gptme, shell-gpt's ``Config._read``, python-dotenv for mini-swe-agent). The real
tools run in tests/integration/test_tools_python.py.
"""

from __future__ import annotations

import io
import json
import tomllib

import dotenv
import pytest

from llmswitch.store import catalog
from llmswitch.tools import importing
from llmswitch.tools.connect import shell_gpt
from upstreams import FAKE_KEY, Reply, openai_like

PLAIN = "sk-test-plaintext-python-tools-0024"


@pytest.fixture
def home(tool_home, monkeypatch):
    for name in ("MSWEA_GLOBAL_CONFIG_DIR", "DEFAULT_MODEL", "API_BASE_URL", "USE_LITELLM", "CACHE_PATH",
                 "MSWEA_MODEL_NAME", "MSWEA_COST_TRACKING", "MODEL", "GPTME_MODEL", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    return tool_home


@pytest.fixture
def provider(upstream, run_cli, home):
    """Provider ``up`` (key in the keyring) with up/gpt-4o active, and ``alt`` (key in $ALT_KEY) on another server."""
    server = openai_like(upstream())
    assert run_cli("providers", "add", "up", "--base-url", server.url + "/v1").returncode == 0
    assert run_cli("key", "set", "up", input=FAKE_KEY).returncode == 0
    alt = upstream()
    alt.post("/alt/v1/chat/completions", Reply.json({"choices": []}))
    assert run_cli("providers", "add", "alt", "--base-url", alt.url + "/alt/v1", "--key-source",
                   "env:ALT_KEY").returncode == 0
    assert run_cli("use", "up/gpt-4o").returncode == 0
    server.alt = alt
    return server


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def sgptrc(text: str) -> dict[str, str]:
    """shell-gpt 1.5.1's Config._read, line for line."""
    values = {}
    for line in io.StringIO(text):
        if line.strip() and not line.startswith("#"):
            key, value = line.strip().split("=", 1)
            values[key] = value
    return values


# --- gptme --------------------------------------------------------------------------------------

GPTME_FILE = """providers = []

[prompt]
files = []

[env]
OPENAI_API_KEY = "{key}"

[models]
favorites = []
default = "openai/gpt-4o-mini"

[plugins]
paths = []
"""


def test_gptme_gets_a_provider_table_and_the_default_model_inside_its_own_models_table(provider, run_cli, home,
                                                                                          monkeypatch):
    config = write(home / ".config" / "gptme" / "config.toml", GPTME_FILE.format(key=PLAIN))
    done = run_cli("connect", "gptme")
    assert done.returncode == 0, done.stderr
    assert "llmswitch exec -- gptme" in done.stdout
    data = tomllib.loads(config.read_text())
    assert data["models"] == {"favorites": [], "default": "llmswitch/gpt-4o"}
    assert data["providers"] == [{"name": "llmswitch", "base_url": provider.url + "/v1",
                                  "api_key_env": "OPENAI_API_KEY", "default_model": "gpt-4o"}]
    assert data["env"] == {"OPENAI_API_KEY": PLAIN} and FAKE_KEY not in config.read_text()

    monkeypatch.setenv("ALT_KEY", "sk-test-alt-0024")  # another provider, its key in its own variable
    done = run_cli("use", "alt/a1")
    assert done.returncode == 0 and "was not updated" not in done.stderr, done.stderr
    data = tomllib.loads(config.read_text())
    assert data["models"]["default"] == "llmswitch/a1"
    assert data["providers"][0]["base_url"] == provider.alt.url + "/alt/v1"
    assert data["providers"][0]["api_key_env"] == "ALT_KEY"  # started directly: gptme reads $ALT_KEY itself
    assert "sk-test-alt-0024" not in config.read_text()

    assert run_cli("disconnect", "gptme").returncode == 0
    assert config.read_text() == GPTME_FILE.format(key=PLAIN)


def test_gptme_without_a_file_gets_one_it_reads(provider, run_cli, home):
    assert run_cli("connect", "gptme").returncode == 0
    config = home / ".config" / "gptme" / "config.toml"
    data = tomllib.loads(config.read_text())
    assert data["models"]["default"] == "llmswitch/gpt-4o" and data["providers"][0]["name"] == "llmswitch"
    assert run_cli("disconnect", "gptme").returncode == 0
    assert not config.exists()


def test_gptme_refuses_inline_providers_and_a_local_default_that_would_win(provider, run_cli, home):
    config = write(home / ".config" / "gptme" / "config.toml",
                   'providers = [{ name = "mine", base_url = "http://127.0.0.1:1/v1" }]\n')
    before = config.read_text()
    done = run_cli("connect", "gptme")
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "providers inline (line 1" in done.stderr and "[[providers]] table" in done.stderr
    assert config.read_text() == before
    config.unlink()
    local = write(home / ".config" / "gptme" / "config.local.toml", '[models]\ndefault = "openai/o3"\n')
    done = run_cli("connect", "gptme")
    assert done.returncode == 1 and f"{local} sets [models] default" in done.stderr, done.stderr
    assert not config.exists()


def test_gptme_changed_default_stops_follow_with_the_line(provider, run_cli, home):
    """``gptme /model`` rewrites [models] default with tomlkit (comments kept): our part changed, so nothing is
    written and the sentence names the line."""
    config = write(home / ".config" / "gptme" / "config.toml", GPTME_FILE.format(key=PLAIN))
    assert run_cli("connect", "gptme").returncode == 0
    edited = config.read_text().replace('default = "llmswitch/gpt-4o"', 'default = "anthropic/claude"')
    config.write_text(edited)
    done = run_cli("use", "up/gpt-4o-mini")
    assert done.returncode == 0
    line = edited.splitlines().index("# >>> llmswitch gptme/models: written by `llmswitch connect gptme`; "
                                     "`llmswitch disconnect gptme` removes it >>>") + 1
    assert f"gptme was not updated: {config}:{line}: llmswitch's block (gptme/models) was changed" in done.stderr
    assert config.read_text() == edited
    assert run_cli("disconnect", "gptme").returncode == 0
    # our changed line goes (two defaults would be a duplicate key) and the user's own line comes back
    assert config.read_text() == GPTME_FILE.format(key=PLAIN)


# --- shell-gpt ----------------------------------------------------------------------------------

def test_shell_gpt_file_is_complete_so_sgpt_never_rewrites_it_and_holds_no_key(provider, run_cli, home):
    rc = write(home / ".config" / "shell_gpt" / ".sgptrc", f"DEFAULT_MODEL=gpt-4\nOPENAI_API_KEY={PLAIN}\n"
                                                          f"DEFAULT_COLOR=green\n")
    done = run_cli("connect", "shell-gpt")
    assert done.returncode == 0, done.stderr
    assert "llmswitch exec -- sgpt" in done.stdout
    values = sgptrc(rc.read_text())
    assert PLAIN not in values.values() and FAKE_KEY not in rc.read_text()  # the user's key line is displaced
    assert f"# llmswitch-displaced: [shell-gpt] OPENAI_API_KEY={PLAIN}" in rc.read_text()
    assert set(shell_gpt.DEFAULTS) | {"DEFAULT_MODEL", "API_BASE_URL", "USE_LITELLM", "CACHE_PATH"} <= set(values)
    assert values["DEFAULT_COLOR"] == "green"  # theirs, not a default of ours
    assert (values["DEFAULT_MODEL"], values["API_BASE_URL"], values["USE_LITELLM"]) == (
        "gpt-4o", provider.url + "/v1", "false")
    assert values["CACHE_PATH"].startswith(str(home / ".cache" / "shell_gpt" / "llmswitch-"))
    first_cache = values["CACHE_PATH"]

    assert run_cli("use", "up/gpt-4o-mini").returncode == 0
    assert sgptrc(rc.read_text())["CACHE_PATH"] == first_cache  # same endpoint: its cache stays
    assert run_cli("use", "alt/gpt-4o-mini", env={"ALT_KEY": "sk-test-alt"}).returncode == 0
    values = sgptrc(rc.read_text())
    assert values["API_BASE_URL"] == provider.alt.url + "/alt/v1" and values["DEFAULT_MODEL"] == "gpt-4o-mini"
    assert values["CACHE_PATH"] != first_cache  # a same-named model elsewhere never gets the old answer

    assert run_cli("disconnect", "shell-gpt").returncode == 0
    assert rc.read_text() == f"DEFAULT_MODEL=gpt-4\nOPENAI_API_KEY={PLAIN}\nDEFAULT_COLOR=green\n"


def test_shell_gpt_rewriting_its_file_loses_our_markers_and_follow_says_so(provider, run_cli, home):
    """sgpt (a newer version with a new default key) rewrites the file as bare KEY=value lines: follow refuses in
    one sentence naming the file and --repair, and repair puts the block back."""
    assert run_cli("connect", "shell-gpt").returncode == 0
    rc = home / ".config" / "shell_gpt" / ".sgptrc"
    rewritten = "".join(f"{k}={v}\n" for k, v in {**sgptrc(rc.read_text()), "NEW_KEY": "1"}.items())
    rc.write_text(rewritten)
    done = run_cli("use", "up/gpt-4o-mini")
    assert done.returncode == 0
    assert f"shell-gpt was not updated: {rc}:" in done.stderr and "lost its markers" in done.stderr
    assert "llmswitch connect shell-gpt --repair" in done.stderr
    assert rc.read_text() == rewritten
    done = run_cli("connect", "shell-gpt", "--repair", "--yes")
    assert done.returncode == 0, done.stderr
    assert sgptrc(rc.read_text())["DEFAULT_MODEL"] == "gpt-4o-mini" and "NEW_KEY=1" in rc.read_text()


@pytest.mark.parametrize(("tool", "variable"), [("shell-gpt", "DEFAULT_MODEL"), ("shell-gpt", "API_BASE_URL"),
                                                ("mini-swe-agent", "MSWEA_MODEL_NAME"), ("gptme", "MODEL")])
def test_a_variable_that_beats_the_file_is_refused_before_anything_is_written(provider, run_cli, home, tool,
                                                                               variable):
    done = run_cli("connect", tool, env={variable: "something-else"})
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    assert f"${variable} is set in this environment and {tool} reads it before its config file" in done.stderr
    assert f"unset {variable}" in done.stderr
    assert not [p for p in home.rglob("*") if p.is_file()]
    assert run_cli("connections").stdout.strip().startswith("no tool")


@pytest.mark.parametrize("tool", ["gptme", "shell-gpt", "mini-swe-agent"])
def test_an_anthropic_provider_is_refused_in_one_sentence_naming_providers_that_would_work(run_cli, home, tool):
    assert run_cli("providers", "add", "ant", "--base-url", "http://127.0.0.1:9/v1", "--kind",
                   "anthropic").returncode == 0
    assert run_cli("use", "ant/claude-x").returncode == 0
    done = run_cli("connect", tool)
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    assert "reaches openai endpoints and ant is of kind anthropic" in done.stderr
    named = done.stderr.split("serves chat completions (e.g. ", 1)[1].split(")", 1)[0].split(", ")
    assert named and all(catalog.preset(name) is not None for name in named), done.stderr  # chat presets
    assert f"then llmswitch connect {tool}" in done.stderr
    assert not [p for p in home.rglob("*") if p.is_file()]


# --- mini-swe-agent -----------------------------------------------------------------------------

def test_mini_swe_agent_env_file_read_by_python_dotenv(provider, run_cli, home, monkeypatch):
    folder = home / "mini"
    monkeypatch.setenv("MSWEA_GLOBAL_CONFIG_DIR", str(folder))
    original = f"MSWEA_MODEL_NAME=anthropic/claude-sonnet-4-5\nANTHROPIC_API_KEY={PLAIN}\nOPENAI_API_KEY={PLAIN}\n"
    env = write(folder / ".env", original)
    done = run_cli("connect", "mini-swe-agent")
    assert done.returncode == 0, done.stderr
    assert "llmswitch exec -- mini" in done.stdout
    values = dotenv.dotenv_values(env)
    assert values["MSWEA_MODEL_NAME"] == "openai/gpt-4o" and values["OPENAI_BASE_URL"] == provider.url + "/v1"
    assert values["MSWEA_COST_TRACKING"] == "ignore_errors" and values["MSWEA_CONFIGURED"] == "true"
    assert "OPENAI_API_KEY" not in values and values["ANTHROPIC_API_KEY"] == PLAIN  # other vendors' keys stay
    assert FAKE_KEY not in env.read_text()
    assert run_cli("use", "alt/a2", env={"ALT_KEY": "sk-test-alt"}).returncode == 0
    values = dotenv.dotenv_values(env)
    assert (values["MSWEA_MODEL_NAME"], values["OPENAI_BASE_URL"]) == ("openai/a2", provider.alt.url + "/alt/v1")
    assert run_cli("disconnect", "mini-swe-agent").returncode == 0
    assert env.read_text() == original


def test_mini_swe_agent_keeps_the_users_configured_line(provider, run_cli, home):
    env = write(home / ".config" / "mini-swe-agent" / ".env", "MSWEA_CONFIGURED=true\n")
    assert run_cli("connect", "mini-swe-agent").returncode == 0
    assert env.read_text().count("MSWEA_CONFIGURED") == 1


# --- import -------------------------------------------------------------------------------------

def test_import_finds_each_python_tool_with_its_key_reference(home, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(home / ".config" / "gptme" / "config.toml",
          '[models]\ndefault = "groq/llama-3.1-8b-instant"\n\n[[providers]]\nname = "groq"\n'
          'base_url = "https://api.groq.com/openai/v1"\napi_key_env = "GROQ_API_KEY"\n\n'
          '[[providers]]\nname = "box"\nbase_url = "http://127.0.0.1:8123/v1"\ndefault_model = "qwen"\n')
    write(home / ".config" / "gptme" / "config.local.toml", f'[env]\nOPENAI_API_KEY = "{PLAIN}"\n')
    write(home / ".config" / "shell_gpt" / ".sgptrc", f"CHAT_CACHE_LENGTH=100\nDEFAULT_MODEL=llama3\n"
                                                      f"API_BASE_URL=http://127.0.0.1:11434/v1\nOPENAI_API_KEY={PLAIN}\n")
    write(home / ".config" / "mini-swe-agent" / ".env",
          f"MSWEA_MODEL_NAME=anthropic/claude-sonnet-4-5\nANTHROPIC_API_KEY='{PLAIN}'\n")
    found = importing.discover(("gptme", "shell-gpt", "mini-swe-agent"))
    by = {(f.source, f.provider): f for f in found}
    groq = by[("gptme", "groq")]
    assert (groq.base_url, groq.models, groq.key.kind, groq.key.name) == (None, ("llama-3.1-8b-instant",), "env",
                                                                          "GROQ_API_KEY")
    box = next(f for f in found if f.base_url == "http://127.0.0.1:8123/v1")
    assert box.models == ("qwen",) and box.key is None
    openai = by[("gptme", "openai")]
    assert (openai.key.kind, openai.key.file, openai.key.line) == ("plaintext",
                                                                   home / ".config" / "gptme" / "config.local.toml", 2)
    sgpt = next(f for f in found if f.source == "shell-gpt")
    assert (sgpt.base_url, sgpt.models, sgpt.key.kind, sgpt.key.line) == (
        "http://127.0.0.1:11434/v1", ("llama3",), "plaintext", 4)
    mini = by[("mini-swe-agent", "anthropic")]
    assert mini.models == ("claude-sonnet-4-5",) and mini.key.secret == PLAIN
    assert all(PLAIN not in json.dumps(f.as_dict()) and PLAIN not in repr(f) for f in found)


def test_import_skips_what_connect_wrote(provider, run_cli, home):
    for tool in ("gptme", "shell-gpt", "mini-swe-agent"):
        assert run_cli("connect", tool).returncode == 0
    assert importing.discover(("gptme", "shell-gpt", "mini-swe-agent")) == []
