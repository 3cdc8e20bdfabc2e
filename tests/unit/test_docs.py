"""The README stays short and every page of docs/ is reachable from it; the docs name what exists.

Links and anchors resolve, the Quickstart is what CI runs, and the tables that mirror the code
(picker bindings, config keys, the architecture map, the tool table) are compared with the code.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = sorted([README, *DOCS.glob("*.md")])
PACKAGE = ROOT / "tui" / "llmswitch"
LINK = re.compile(r"!?\[(?:[^\]]|\][^(])*\]\(([^)\s]+)\)")


def prose(text: str) -> str:
    """``text`` without fenced code blocks and inline code (links there are examples, not links)."""
    kept, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            kept.append(re.sub(r"`[^`]*`", "``", line) if "](" not in line else line)
    return "\n".join(kept)


def headings(text: str) -> list[str]:
    found, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and (match := re.match(r"#{1,6} (.+)", line)):
            found.append(match.group(1).strip())
    return found


def anchors(path: Path) -> set[str]:
    """The anchors GitHub gives ``path``'s headings: lower case, punctuation dropped, spaces → ``-``."""
    seen: dict[str, int] = {}
    result = set()
    for heading in headings(path.read_text(encoding="utf-8")):
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
        slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        result.add(slug if count == 0 else f"{slug}-{count}")
    return result


def links(path: Path) -> list[str]:
    return LINK.findall(prose(path.read_text(encoding="utf-8")))


def test_the_readme_is_at_most_250_lines():
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 250


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_relative_link_resolves_to_a_file_and_its_anchor(page):
    broken = []
    for target in links(page):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        file, _, anchor = target.partition("#")
        resolved = (page.parent / file).resolve() if file else page
        if not resolved.exists():
            broken.append(f"{target}: no such file")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(f"{target}: no heading with that anchor")
    assert broken == []


def test_the_link_checker_sees_links_and_anchors():
    assert "docs/cli.md" in links(README)
    assert {"quickstart", "commands", "architecture"} <= anchors(README)
    assert "configtoml--your-providers-edit-it-by-hand-or-with-providers-addrm" in anchors(DOCS / "config.md")
    assert "llmswitch-key-set" in anchors(DOCS / "cli.md")


def test_the_readme_links_every_docs_page():
    linked = {(README.parent / target.partition("#")[0]).resolve() for target in links(README)}
    assert {page.name for page in DOCS.glob("*.md") if page.resolve() not in linked} == set()


def test_the_quickstart_is_two_commands_and_the_second_is_what_ci_runs():
    text = README.read_text(encoding="utf-8")
    quickstart = text[text.index("## Quickstart"):text.index("\n## ", text.index("## Quickstart"))]
    commands = re.findall(r"```bash\n(.*?)\n```", quickstart, re.S)
    assert commands[0] == "python -m pip install -e . && llmswitch"
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line and not line.startswith(("#", "set ", "cd "))]
    assert commands[1:] == ci == ["python -m pip install -e '.[test]' && bash scripts/test.sh"]
    assert "venv" in quickstart


def test_the_picker_page_names_every_binding_of_the_picker_and_the_app():
    ids = set()
    for module in (PACKAGE / "app").rglob("*.py"):
        ids |= set(re.findall(r"""id=["']((?:picker|app)\.[\w-]+)["']""", module.read_text(encoding="utf-8")))
    page = (DOCS / "picker.md").read_text(encoding="utf-8")
    assert ids and {binding for binding in ids if f"`{binding}`" not in page} == set()


def test_the_config_page_names_every_provider_and_preference_key():
    from llmswitch.store.config.model import PREFERENCE_FIELDS, PROVIDER_FIELDS

    page = (DOCS / "config.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `(\w+)` \|", page, re.M))
    assert (set(PROVIDER_FIELDS) | set(PREFERENCE_FIELDS)) - rows == set()


def floors_table() -> list[tuple[list[str], list[str]]]:
    """(floor names, module names) per row of the architecture map, top to bottom."""
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    table = text[text.index("| floor | modules |"):].split("\n\n")[0].splitlines()[2:]
    rows = []
    for row in table:
        floor, modules = row.split(" | ")[:2]
        names = [re.sub(r"(/|\.py)$", "", name) for name in re.findall(r"`([^`]+)`", floor)]
        rows.append((names, [re.sub(r"(/|\.py)$", "", name) for name in re.findall(r"`([a-z_]+(?:\.py|/)?)`", modules)]))
    return rows


def test_the_architecture_map_is_the_contract_and_the_folders():
    contract = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contract if c["id"] == "floors")["layers"]
    floors = [name.strip() for layer in layers for name in layer.split("|")]
    rows = floors_table()
    assert [name for names, _ in rows for name in names] == floors
    for (floor,), modules in rows:
        folder = PACKAGE / floor
        if not folder.is_dir():
            assert (PACKAGE / f"{floor}.py").is_file(), floor
            continue
        children = {p.stem for p in folder.glob("*.py") if p.stem != "__init__"}
        children |= {p.name for p in folder.iterdir() if p.is_dir() and p.name != "__pycache__"}
        assert children - set(modules) == set(), f"{floor}/ has modules the map does not list"
        below = {p.stem for p in folder.rglob("*.py")} | {p.name for p in folder.rglob("*") if p.is_dir()}
        assert set(modules) - below == set(), f"the map lists modules {floor}/ does not have"
    page = (DOCS / "architecture.md").read_text(encoding="utf-8")
    top = {p.name for p in PACKAGE.iterdir() if p.suffix == ".py" or (p.is_dir() and p.name != "__pycache__")}
    assert {name for name in top if f"`{name}" not in page} == set()


def test_the_scopes_page_shows_the_prompt_snippets_the_tests_run():
    import test_scopes_prompt_snippets as tested

    page = (DOCS / "scopes.md").read_text(encoding="utf-8")
    for snippet in (tested.SAVE, tested.STARSHIP, tested.TMUX, tested.BASH, tested.ZSH, tested.FISH):
        for line in snippet.splitlines():
            if line and not line.startswith("#"):
                assert line in page, line


def verified_versions() -> dict[str, str]:
    """Each tool module's package and the version verified with the real tool (``Tool.verified``: one home, which the
    integration tier installs and ``connect --list`` shows)."""
    from llmswitch.tools import connect

    tools = [connect.tool(name) for name in connect.names()]
    return {tool.package.partition(":")[2]: tool.verified for tool in tools if tool.verified}


def test_the_tool_table_cites_the_versions_installed_and_tests_that_exist():
    integration = ROOT / "tests" / "integration"
    installed = verified_versions()
    page = (DOCS / "connect.md").read_text(encoding="utf-8")
    table = page[page.index("| tool (version verified here) |"):].split("\n\n")[0]
    assert dict(re.findall(r"^\| [^|(]+\((?:PyPI|npm) `([^`]+)` ([0-9.]+)", table, re.M)) == installed
    defined = "".join(p.read_text(encoding="utf-8") for p in integration.glob("test_*.py"))
    cited = re.findall(r"`(?:tests/integration/(test_\w+)\.py|…)(?:::(test_\w+))?`", table)
    assert len(cited) >= 6
    for file, test in cited:
        assert not file or (integration / f"{file}.py").exists(), file
        assert not test or f"def {test}(" in defined, test


def test_the_probe_page_explains_every_outcome_and_marks_the_usable_ones():
    from llmswitch.base.outcome import USABLE, Outcome

    page = (DOCS / "probe.md").read_text(encoding="utf-8")
    table = page[page.index("| outcome | meaning |"):].split("\n\n")[0].splitlines()[2:]
    named = {name: row for row in table for name in re.findall(r"`([a-z_]+)`", row.split(" | ")[0])}
    assert set(named) == {outcome.value for outcome in Outcome}
    for name, row in named.items():
        cell, meaning = row.strip("| ").split(" | ")[:2]
        marked = f"`{name}` (usable)" in cell or (cell.count("`") == 2 and "(usable)" in meaning)
        assert marked == (name in USABLE), name
