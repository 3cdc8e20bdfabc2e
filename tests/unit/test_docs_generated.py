"""docs/cli.md's generated part is the help the parser gives today (scripts/gen_docs.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLI_DOC = ROOT / "docs" / "cli.md"


@pytest.fixture(scope="module")
def gen_docs():
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def same_python(gen_docs) -> None:
    recorded = gen_docs.recorded_python(CLI_DOC.read_text(encoding="utf-8"))
    if recorded != gen_docs.python_version():
        pytest.skip(f"docs/cli.md was rendered with Python {recorded}; argparse lays out help differently on "
                    f"{gen_docs.python_version()}, so only that Python can check it")


def test_docs_cli_md_is_current(gen_docs, capsys):
    same_python(gen_docs)
    code = gen_docs.main(["gen_docs.py", "--check"])
    assert code == 0, capsys.readouterr().err  # the sentence names the command that regenerates it


def test_every_command_and_sub_command_has_its_help_in_the_doc(gen_docs):
    from llmswitch.cli.parser import COMMANDS

    text = CLI_DOC.read_text(encoding="utf-8")
    commands = [command for command, _ in gen_docs.helps()]
    assert {f"llmswitch {name}" for name, *_ in COMMANDS} <= set(commands)
    assert {"llmswitch key set", "llmswitch team update", "llmswitch shell use", "llmswitch config check"} <= set(commands)
    for command in commands:
        assert f"\n###{'#' if command.count(' ') > 1 else ''} {command}\n" in text, command


def test_the_help_is_rendered_at_a_fixed_width_whatever_the_terminal(gen_docs, monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")
    narrow = gen_docs.generated()
    monkeypatch.setenv("COLUMNS", "250")
    assert gen_docs.generated() == narrow
    assert max(len(line) for line in narrow.splitlines() if not line.startswith("<!--")) <= gen_docs.COLUMNS


def test_a_stale_doc_fails_the_check_in_one_sentence_naming_the_command(gen_docs, tmp_path, capsys):
    same_python(gen_docs)
    stale = tmp_path / "cli.md"
    stale.write_text(CLI_DOC.read_text(encoding="utf-8").replace("show the active model", "show the model", 1),
                     encoding="utf-8")
    assert gen_docs.main(["gen_docs.py", "--check"], doc=stale) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.endswith("run: python scripts/gen_docs.py") and " is stale " in err
    assert gen_docs.main(["gen_docs.py"], doc=stale) == 0  # regenerating fixes it, and keeps the hand-written part
    assert stale.read_text(encoding="utf-8") == CLI_DOC.read_text(encoding="utf-8")
    assert gen_docs.main(["gen_docs.py", "--check"], doc=stale) == 0


def test_a_doc_without_its_markers_is_refused_in_one_sentence(gen_docs, tmp_path):
    lost = tmp_path / "cli.md"
    lost.write_text("# Commands\n\nno markers here\n", encoding="utf-8")
    with pytest.raises(SystemExit) as refused:
        gen_docs.main(["gen_docs.py", "--check"], doc=lost)
    sentence = str(refused.value)
    assert "\n" not in sentence and "markers" in sentence and sentence.endswith("run: python scripts/gen_docs.py")
    assert lost.read_text(encoding="utf-8") == "# Commands\n\nno markers here\n"
