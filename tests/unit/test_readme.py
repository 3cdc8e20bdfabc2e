"""The README's examples for tool authors actually work."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
FAKE = "sk-test-not-a-real-key-0099"


def block_after(heading: str, language: str) -> str:
    text = README.read_text()
    start = text.index(heading)
    match = re.compile(rf"```{language}\n(.*?)```", re.S).search(text, start)
    return match.group(1)


def test_stdlib_reader_reads_what_use_wrote(run_cli):
    run_cli("key", "set", "groq", input=FAKE)
    run_cli("use", "groq/llama-3.1-8b-instant")
    reader = block_after("A stdlib-only reader", "python")
    code = reader + "\nprint('|'.join(map(str, llmswitch_selection())))"
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ["PATH"]}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.strip() == f"https://api.groq.com/openai/v1|llama-3.1-8b-instant|{FAKE}|{{}}"


def test_stdlib_reader_refuses_a_file_others_can_write(run_cli, config_dir):
    run_cli("use", "ollama/llama3")
    (config_dir / "active.toml").chmod(0o660)
    reader = block_after("A stdlib-only reader", "python")
    done = subprocess.run([sys.executable, "-c", reader + "\nllmswitch_selection()"], capture_output=True, text=True)
    assert done.returncode != 0 and "is not yours alone (others can write it); not using it" in done.stderr


def test_stdlib_reader_finds_the_default_location(run_cli, tmp_path):
    env_dir = os.environ.pop("LLMSWITCH_CONFIG_DIR")
    try:
        xdg = Path(os.environ["XDG_CONFIG_HOME"])
        run_cli("use", "ollama/llama3", env={"LLMSWITCH_CONFIG_DIR": str(xdg / "llmswitch")})
        reader = block_after("A stdlib-only reader", "python")
        done = subprocess.run([sys.executable, "-c", reader + "\nprint(llmswitch_selection()[1:3])"],
                              capture_output=True, text=True, check=True,
                              env={k: v for k, v in os.environ.items() if k != "LLMSWITCH_CONFIG_DIR"})
        assert done.stdout.strip() == "('llama3', 'llmswitch-keyless')"
    finally:
        os.environ["LLMSWITCH_CONFIG_DIR"] = env_dir


def test_every_command_in_the_table_exists(run_cli):
    text = README.read_text()
    table = text[text.index("## Commands"):text.index("Exit codes:")]
    commands = set(re.findall(r"`llmswitch ([a-z]+)", table))
    help_text = run_cli("--help").stdout
    assert commands and all(name in help_text for name in commands), commands


def test_the_security_section_lists_each_read_cap_and_names_tests_that_exist():
    from llmswitch.base import bounded

    text = README.read_text()
    section = text[text.index("## Security"):text.index("## Development")]
    caps = re.findall(r"^  \| [^|]+ \| (\d+ [KM]iB) \|$", section, re.M)
    assert caps == [kind.size() for kind in bounded.KINDS], caps
    tests = Path(__file__).resolve().parent
    for file, name in re.findall(r"tests/unit/(test_\w+\.py)(?:::(\w+))?", section):
        assert (tests / file).exists(), file
        if name:
            assert f"def {name}(" in (tests / file).read_text(), name
    for name in re.findall(r"`::(test_\w+)`", section):
        assert any(f"def {name}(" in p.read_text() for p in tests.glob("test_*.py")), name
