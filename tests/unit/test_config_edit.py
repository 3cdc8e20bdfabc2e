"""`providers rm` / `add`: only the provider's own lines change, whatever TOML shape it is written in."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from llmswitch.store import config
from llmswitch.store.config import ConfigError, UnknownProvider, load


def write(config_dir: Path, text: str, *, newline: str = "\n") -> Path:
    config_dir.mkdir(parents=True, exist_ok=True)
    path = config_dir / "config.toml"
    path.write_bytes(text.replace("\n", newline).encode())
    path.chmod(0o600)
    return path


OTHER = '''[providers.groq]
# a note with
#
# blank comment lines
favorites = ["llama-3.1-8b-instant"]

[providers.notes]
base_url = "https://notes.example/v1"
name = """Notes \\


    server"""  # a line-ending backslash: the blank lines are source text, not part of the value
'''


def test_a_separate_headers_table_elsewhere_goes_too(config_dir):
    path = write(config_dir, '[providers.box]\nbase_url = "https://box.example/v1"\n\n' + OTHER
                 + '\n[providers.box.headers]\nX-Title = "me"\n')
    config.remove_provider("box")
    text = path.read_text()
    assert "box" not in text and "X-Title" not in text
    assert "box" not in load().providers
    assert text == OTHER  # everything else byte for byte, the multi-line name's blank lines included


def test_dotted_keys_under_providers(config_dir):
    path = write(config_dir, '[providers]\n'
                             'groq.timeout = 5\n'
                             '# the box\n'
                             'box.base_url = "https://box.example/v1"\n'
                             'box.headers.X-Title = "me"\n'
                             'box.favorites = [\n  "m1",\n  "m2",\n]\n'
                             'openrouter.timeout = 7\n')
    config.remove_provider("box")
    assert path.read_text() == '[providers]\ngroq.timeout = 5\nopenrouter.timeout = 7\n'
    assert set(load().providers) == {"groq", "openrouter"}


def test_dotted_keys_at_the_top_and_a_sub_table_later(config_dir):
    path = write(config_dir, 'providers.box.base_url = "https://box.example/v1"\n'
                             'providers.groq.timeout = 5\n\n'
                             '[providers.openrouter]\ntimeout = 7\n\n'
                             '[providers.box.headers]\nX-Title = "me"\n')
    config.remove_provider("box")
    assert path.read_text() == 'providers.groq.timeout = 5\n\n[providers.openrouter]\ntimeout = 7\n'


def test_inline_table_provider_line_goes_alone(config_dir):
    path = write(config_dir, '[providers]\nbox = { base_url = "https://box.example/v1" }\ngroq = { timeout = 5 }\n')
    config.remove_provider("box")
    assert path.read_text() == '[providers]\ngroq = { timeout = 5 }\n'


def test_a_provider_inside_a_shared_inline_table_is_refused_untouched(config_dir):
    path = write(config_dir, 'providers = { box = { base_url = "https://box.example/v1" }, groq = { timeout = 5 } }\n')
    before = path.read_bytes()
    with pytest.raises(ConfigError) as caught:
        config.remove_provider("box")
    assert caught.value.problems[0].line == 1 and "own [providers.box] table" in caught.value.problems[0].fix
    assert path.read_bytes() == before


def test_crlf_stays_crlf_and_the_leading_comment_goes_with_the_provider(config_dir):
    path = write(config_dir, '# my providers\n\n[providers.groq]\ntimeout = 5\n\n# the box under my desk\n'
                             '[providers.box]\nbase_url = "http://127.0.0.1:8000/v1"\n\n# about openrouter\n'
                             '[providers.openrouter]\ntimeout = 3\n', newline="\r\n")
    config.remove_provider("box")
    raw = path.read_bytes()
    assert raw == (b'# my providers\r\n\r\n[providers.groq]\r\ntimeout = 5\r\n\r\n# about openrouter\r\n'
                   b'[providers.openrouter]\r\ntimeout = 3\r\n')
    config.add_provider("ollama", {"timeout": 4})
    raw = path.read_bytes()
    assert b"\n" not in raw.replace(b"\r\n", b"") and b"[providers.ollama]\r\ntimeout = 4\r\n" in raw


def test_a_line_separator_in_a_comment_does_not_shift_the_cut(config_dir):
    path = write(config_dir, '# odd\u2028comment\n[providers.groq]\ntimeout = 5\n[providers.box]\n'
                             'base_url = "https://box.example/v1"\n')
    config.remove_provider("box")
    assert path.read_text(encoding="utf-8") == '# odd\u2028comment\n[providers.groq]\ntimeout = 5\n'
    write(config_dir, '# odd\u2028comment\n[providers.groq]\ntimeout = "x"\n')
    with pytest.raises(ConfigError) as caught:
        load()
    assert caught.value.problems[0].line == 3  # str.splitlines would say 4


def test_brackets_and_hashes_inside_values_are_not_structure(config_dir):
    tricky = ('[providers.groq]\nname = "has [providers.box] and # inside"\n'
              "favorites = ['a]', \"b#c\"]  # real comment\n")
    path = write(config_dir, tricky + '[providers.box]\nbase_url = "https://box.example/v1"\n')
    config.remove_provider("box")
    assert path.read_text() == tricky


def test_replace_changes_only_that_provider_whatever_its_shape(config_dir):
    path = write(config_dir, OTHER + '\n[providers.box]\nbase_url = "https://box.example/v1"\n'
                                     '\n[providers.box.headers]\nX-Title = "me"\n')
    config.add_provider("box", {"base_url": "https://new.example/v1"}, replace=True)
    text = path.read_text()
    assert text.startswith(OTHER) and text.count("[providers.box") == 1 and "X-Title" not in text
    assert load().providers["box"].base_url == "https://new.example/v1"
    assert tomllib.loads(text)["providers"]["notes"]["name"] == "Notes server"


def test_unknown_id_among_many_providers_gets_a_short_answer(config_dir):
    write(config_dir, "".join(f'[providers.p{i}]\nbase_url = "https://h{i}.example/v1"\n' for i in range(2000)))
    with pytest.raises(UnknownProvider) as caught:
        config.remove_provider("p10000")
    sentence = caught.value.sentence()
    assert len(sentence) < 300 and "\n" not in sentence and sentence.count("p1") <= 4
    assert caught.value.fix and "nothing was removed" in caught.value.fix


def test_written_and_changed_settings_keep_the_rest_of_the_table(config_dir):
    path = write(config_dir, OTHER)
    assert config.written_settings("groq") == {"favorites": ["llama-3.1-8b-instant"]}
    config.change_settings("groq", lambda table: table.update(timeout=9))
    assert load().providers["groq"].timeout == 9 and load().providers["groq"].favorites == ("llama-3.1-8b-instant",)
    assert path.read_text().startswith('[providers.notes]')  # groq, rewritten, moves to the end; notes untouched
