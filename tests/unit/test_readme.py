"""The docs' examples for tool authors work, and their tables name what exists (README.md, docs/)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
TOOL_AUTHORS = ROOT / "docs" / "tool-authors.md"
SECURITY = ROOT / "docs" / "security.md"
FAKE = "sk-test-not-a-real-key-0099"


def block_after(heading: str, language: str) -> str:
    text = TOOL_AUTHORS.read_text()
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


def command_table(text: str, heading: str) -> set[str]:
    """The commands named in the table that follows ``heading``."""
    start = text.index(heading)
    table = text[start:text.index("\n\n", text.index("| command |", start))]
    return set(re.findall(r"`llmswitch ([a-z]+)", table))


def test_the_command_tables_name_every_command_and_only_commands():
    from llmswitch.cli.parser import COMMANDS

    commands = {name for name, *_ in COMMANDS}
    for named in (command_table(README.read_text(), "## Commands"),
                  command_table((ROOT / "docs" / "cli.md").read_text(), "# Commands")):
        assert named - commands == set(), "not commands"
        assert commands - named == set(), "commands missing from a table"


def test_the_security_section_lists_each_read_cap_and_names_tests_that_exist():
    from llmswitch.base import bounded

    section = SECURITY.read_text()
    caps = re.findall(r"^  \| [^|]+ \| (\d+ [KM]iB) \|$", section, re.M)
    assert caps == [kind.size() for kind in bounded.KINDS], caps
    tests = Path(__file__).resolve().parent
    for file, name in re.findall(r"tests/unit/(test_\w+\.py)(?:::(\w+))?", section):
        assert (tests / file).exists(), file
        if name:
            assert f"def {name}(" in (tests / file).read_text(), name
    for name in re.findall(r"`::(test_\w+)`", section):
        assert any(f"def {name}(" in p.read_text() for p in tests.glob("test_*.py")), name
