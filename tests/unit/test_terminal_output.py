"""Raw bytes from outside never reach the terminal, and every command we suggest can be pasted (issue 20).

Project directories named with ESC sequences, ``$(…)``, backticks, quotes and newlines; gateway model
names with bidi controls; a price below a cent. Through the real CLI; the suggested ``cd … && llmswitch
trust`` is run by a real shell and must trust exactly that file and run nothing else.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from llmswitch.base.chars import shell_word, terminal_safe, terminal_safe_lines
from llmswitch.services.models import fmt_money, fmt_price, fmt_usd
from llmswitch.services.switch import switch
from llmswitch.store import overlay
from upstreams import FAKE_KEY, litellm_gateway_like, litellm_model_info

RAW = ("\x1b", "\x07", "\x9b", "\u202e", "\u2066", "\u061c", "\u200f", "\u2028", "\r")

NAMES = {
    "window title": "p\x1b]0;pwned\x07x",
    "clipboard (OSC 52)": "p\x1b]52;c;cm0gLXJmIH4=\x07x",
    "CSI clear": "p\x1b[2J\x1b[Hx",
    "C1 CSI": "p\x9b31mx",
    "bidi override": "p\u202eexe.txt",
    "newline": "p\nx",
    "carriage return": "p\rx",
    "command substitution": "p$(touch pwned)x",
    "backticks": "p`touch pwned`x",
    "quotes": "p'\"x",
    "spaces and semicolons": "my project; touch pwned",
}
PASTEABLE = {"command substitution", "backticks", "quotes", "spaces and semicolons"}
"""Names the trust list can hold: for these, the suggestion is a command; for the others, a sentence."""


def assert_clean(text: str) -> None:
    for bad in RAW:
        assert bad not in text, repr(text)


@pytest.fixture
def home(config_dir, tmp_path, monkeypatch):
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text('[providers.p]\nbase_url = "http://127.0.0.1:9/p/v1"\nkey_source = "none"\n')
    switch("p/user-model", check_key=False)
    return tmp_path


@pytest.mark.parametrize("name", list(NAMES))
def test_an_untrusted_project_path_is_shown_safely_and_the_suggestion_is_safe_to_paste(name, home, run_cli,
                                                                                   monkeypatch):
    project = home / "work" / NAMES[name]
    project.mkdir(parents=True)
    (project / overlay.PROJECT_FILE).write_text('[roles]\ndefault = "p/proj"\n')
    monkeypatch.chdir(project)
    for args in (("current",), ("doctor",), ("use", "--project", "p/other")):
        done = run_cli(*args)
        assert_clean(done.stdout + done.stderr)
        assert "Traceback" not in done.stderr
    line = run_cli("current").stderr.strip()
    assert line.startswith("llmswitch: ignoring ") and terminal_safe(str(project)) in line
    if name not in PASTEABLE:
        assert "rename the directory" in line and "llmswitch trust" not in line
        assert run_cli("trust").returncode != 0, "the trust list cannot hold it: refused, in one sentence"
        return
    command = line.split("then run: ", 1)[1]
    assert command == f"cd {shell_word(str(project))} && llmswitch trust"
    elsewhere = home / "elsewhere"
    elsewhere.mkdir()
    bin_dir = os.path.dirname(sys.executable)
    shell = subprocess.run(["sh", "-c", command], cwd=elsewhere, capture_output=True, text=True, timeout=60,
                           env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"})
    assert shell.returncode == 0, shell.stderr
    assert not any(p.name == "pwned" for p in home.rglob("pwned")), "pasting the suggestion ran nothing else"
    assert list(overlay.trusted()) == [str(project / overlay.PROJECT_FILE)]
    assert run_cli("current").stdout.startswith("p/proj")


@pytest.mark.parametrize("word", [*NAMES.values(), "plain", "a\\b", "é名\u200d🙂", "\u00a0nbsp"])
def test_shell_word_round_trips_through_bash(word):
    shown = shell_word(word)
    assert_clean(shown)
    echoed = subprocess.run(["bash", "-c", f"printf '%s' {shown}"], capture_output=True, timeout=30)
    assert echoed.stdout == word.encode("utf-8", "surrogatepass")


def test_the_one_renderer_escapes_every_invisible_character_and_keeps_text():
    assert terminal_safe("a\x1b]0;t\x07b") == "a\\x1b]0;t\\x07b"
    assert terminal_safe("\u202eevil\u2066\u061c\u00ad\ufeff\u2028") == "\\u202eevil\\u2066\\u061c\\xad\\ufeff\\u2028"
    assert terminal_safe("name \ud800") == "name \\ud800", "a lone surrogate never breaks the output encoding"
    assert terminal_safe("Ünïcode 名前 👩\u200d💻 x") == "Ünïcode 名前 👩\u200d💻 x", "visible text and joiners stay"
    assert terminal_safe("a\nb\tc", 4) == "a b…"
    assert terminal_safe_lines("a\r\nb\tc\x1bd") == "a\nb\tc\\x1bd"


def test_errors_warnings_and_lines_of_any_command_go_through_the_renderer(run_cli, config_dir):
    config_dir.mkdir(parents=True, exist_ok=True)
    for args in (("list", "evil\x1b]0;t\x07\u202e"), ("use", "x\x1b[2J/m"), ("probe", "\x9b31m"),
                 ("team", "add", "/nonexistent/\x1b]52;c;x\x07team.toml"), ("trust", "/tmp/\x1b[2J\u202e")):
        done = run_cli(*args)
        assert done.returncode != 0 and "Traceback" not in done.stderr
        assert_clean(done.stdout + done.stderr)


def test_gateway_model_names_with_bidi_controls_are_shown_visibly(upstream, config_dir, run_cli):
    evil = "team\u202elarge\u2066-gpt\u200f"
    server = litellm_gateway_like(upstream(), entries=[litellm_model_info(evil, "openai/gpt\u202e-4o",
                                                                          input_cost_per_token=4e-9,
                                                                          output_cost_per_token=1e-13)])
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(f'[providers.gw]\npreset = "litellm"\nbase_url = "{server.url}/v1"\n')
    env = {"LLMSWITCH_KEY_GW": FAKE_KEY}
    assert run_cli("probe", "gw", env=env).returncode == 0
    for args in (("list", "gw"), ("doctor",), ("list", "gw", "--json")):
        done = run_cli(*args, env=env)
        assert_clean(done.stdout + done.stderr)
    listed = run_cli("list", "gw", env=env).stdout
    assert terminal_safe(evil) in listed and "gpt\\u202e-4o" in listed
    assert re.search(r"in +<\$0\.01 +out +<\$0\.01", listed), "a price below a cent is neither free nor $0"


@pytest.mark.parametrize(("price", "text", "usd"), [(0.004, "<0.01", "<$0.01"), (1e-7, "<0.01", "<$0.01"),
                                                    (0.009999, "<0.01", "<$0.01"), (0.01, "0.01", "$0.01"),
                                                    (0, "free", "free"), (None, "—", "-")])
def test_every_price_formatter_shows_under_a_cent_as_under_a_cent(price, text, usd):
    assert fmt_price(price) == text and fmt_usd(price) == usd


def test_money_under_a_cent_is_not_zero():
    assert (fmt_money(0.004), fmt_money(0.0), fmt_money(1234.5), fmt_money(-3)) == ("<$0.01", "$0.00", "$1,234.50",
                                                                                     "-$3.00")
