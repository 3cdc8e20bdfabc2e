"""The examples in docs/repl.md ("Add /model to your REPL") run as written."""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from llmswitch.store import state
from upstreams import Reply, chat_completions, models_body

REPL_DOC = Path(__file__).resolve().parents[2] / "docs" / "repl.md"


def blocks() -> list[str]:
    text = REPL_DOC.read_text()
    section = text[:text.index("## The pieces")]
    return re.findall(r"```python\n(.*?)```", section, re.S)


@pytest.fixture
def fake(upstream, config_dir):
    server = upstream()
    server.get("/v1/models", Reply.json(models_body(["model-a", "model-b"])))
    server.post("/v1/chat/completions", chat_completions(reply=lambda messages: f"you said {messages[-1]['content']}"))
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(f'[providers.fake]\nbase_url = "{server.url}/v1"\nkey_source = "none"\n')
    state.remember_models("fake", f"{server.url}/v1", ["model-a", "model-b"])
    from llmswitch.services.switch import switch

    switch("fake/model-a")
    return server


def test_there_are_two_examples():
    readline_example, toolkit_example = blocks()
    assert "readline" in readline_example and "prompt_toolkit" in toolkit_example


def test_the_readline_example(fake):
    code = blocks()[0]
    done = subprocess.run([sys.executable, "-c", code], input="/model\n/model fake/model-b\nhello\n",
                          capture_output=True, text=True, env=os.environ, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "fake/model-a — from active.toml" in done.stdout
    assert "switched this session to fake/model-b — not saved" in done.stdout
    assert "you said hello" in done.stdout
    assert fake.requests_to("/v1/chat/completions")[-1].json()["model"] == "model-b"


def test_the_prompt_toolkit_example(fake):
    from prompt_toolkit.application import create_app_session
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    printed = io.StringIO()
    with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):
        pipe.send_text("/model model-b\rhello\r")
        pipe.close()
        with contextlib.redirect_stdout(printed):
            exec(compile(blocks()[1], str(REPL_DOC), "exec"), {"__name__": "__snippet__"})
    assert "switched this session to fake/model-b" in printed.getvalue()
    assert "→ fake/model-b: hello" in printed.getvalue()
