"""A team provider never reads a key set up for something else (issue 20, high).

``LLMSWITCH_KEY_<ID>`` flattens ``-``, ``.`` and ``_`` (and a keyring may ignore case), so a team
id can name the variable or keyring entry of a preset or of one of your providers. Each hostile id
below is refused through the real CLI, with the user's key present in every place it could be read
from, and a real server on 127.0.0.1 at the team's URL records that nothing reached it. A team
provider's own ``LLMSWITCH_KEY_<ID>`` is read only once accepted by name.
"""

from __future__ import annotations

import json

import pytest

from upstreams import Reply, models_body

KEY = "sk-test-users-own-key-0020"


def _user(config_dir, text: str = "") -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(text)


def _team(tmp_path, url: str, *ids: str):
    path = tmp_path / "team.toml"
    path.write_text("".join(f'[providers."{pid}"]\nbase_url = "{url}/v1"\n' for pid in ids))
    return path


@pytest.fixture
def team_server(upstream):
    """The team's URL: answers /v1/models to anyone, and records every request."""
    server = upstream()
    server.get("/v1/models", Reply.json(models_body(["team-model"])))
    return server


@pytest.fixture
def own_server(upstream):
    """The user's own provider's server (so probing it stays on this machine)."""
    server = upstream()
    server.get("/v1/models", Reply.json(models_body(["own-model"])))
    return server


def _sent_key(server) -> bool:
    return any(KEY in value for r in server.requests for value in r.headers.values())


# (the user's own config.toml, where the user's key sits, the hostile team id, the name it would read)
OWN = "[providers.\"{pid}\"]\nbase_url = \"{url}/v1\"\n"
COLLIDING = [
    # your provider, the team's id differing only in -, . or _
    pytest.param(OWN.format(pid="my-gw", url="{own}"), "LLMSWITCH_KEY_MY_GW", "my_gw",
                 "your provider my-gw", id="dash-vs-underscore"),
    pytest.param(OWN.format(pid="my-gw", url="{own}"), "LLMSWITCH_KEY_MY_GW", "my.gw",
                 "your provider my-gw", id="dash-vs-dot"),
    pytest.param(OWN.format(pid="my.gw", url="{own}"), "LLMSWITCH_KEY_MY_GW", "my-gw",
                 "your provider my.gw", id="dot-vs-dash"),
    pytest.param(OWN.format(pid="my_gw", url="{own}"), "LLMSWITCH_KEY_MY_GW", "my.gw",
                 "your provider my_gw", id="underscore-vs-dot"),
    pytest.param(OWN.format(pid="a-b.c_d", url="{own}"), "LLMSWITCH_KEY_A_B_C_D", "a.b_c-d",
                 "your provider a-b.c_d", id="all-three-swapped"),
    # a preset's variable
    pytest.param("", "LLMSWITCH_KEY_FIREWORKS_AI", "fireworks_ai", "the preset fireworks-ai", id="preset-dash"),
    pytest.param("", "LLMSWITCH_KEY_FIREWORKS_AI", "fireworks.ai", "the preset fireworks-ai", id="preset-dot"),
    pytest.param("", "LLMSWITCH_KEY_LM_STUDIO", "lm.studio", "the preset lm_studio", id="preset-underscore"),
    pytest.param("", "LLMSWITCH_KEY_WAFER_AI", "wafer-ai", "the preset wafer.ai", id="preset-with-a-dot"),
    pytest.param("", "LLMSWITCH_KEY_OPENAI_COMPAT", "openai.compat", "the preset openai-compat",
                 id="preset-openai-compat"),
    # a variable or keyring entry your own config names for something else
    pytest.param('[providers.box]\nbase_url = "{own}/v1"\nkey_source = "env:LLMSWITCH_KEY_SHARED"\n',
                 "LLMSWITCH_KEY_SHARED", "shared", "your provider box", id="your-key-env"),
    pytest.param('[providers.box]\nbase_url = "{own}/v1"\n[providers.box.headers]\n'
                 '"X-Trace" = { env = "LLMSWITCH_KEY_TRACE" }\n', "LLMSWITCH_KEY_TRACE", "trace",
                 "header X-Trace of your provider box", id="your-header-env"),
    pytest.param('[providers.box]\nbase_url = "{own}/v1"\n[providers.box.headers]\n'
                 '"X-Trace" = { keyring = "Corp-Token" }\n', "keyring:Corp-Token", "corp-token",
                 "header X-Trace of your provider box", id="your-header-keyring-other-case"),
]


@pytest.mark.parametrize(("own", "where", "team_id", "whose"), COLLIDING)
def test_a_team_id_that_would_read_a_key_set_up_for_something_else_is_refused(
        tmp_path, config_dir, run_cli, team_server, own_server, own, where, team_id, whose):
    _user(config_dir, own.replace("{own}", own_server.url))
    from llmswitch.store import keys

    env = {} if where.startswith("keyring:") else {where: KEY}
    for entry in ("my-gw", "my.gw", "my_gw", "a-b.c_d", "fireworks-ai", "lm_studio", "wafer.ai", "box", "Corp-Token"):
        keys.store(entry, KEY)  # the user's key sits in every keyring entry it could be under
    path = _team(tmp_path, team_server.url, team_id)
    done = run_cli("team", "add", str(path), "--accept-env", f"LLMSWITCH_KEY_{team_id.upper()}", env=env)
    assert done.returncode != 0, done.stdout
    assert f"{path}:1" in done.stderr and f"{team_id} would read the key set up for {whose}" in done.stderr, done.stderr
    named = where.removeprefix("keyring:")
    assert named.casefold() in done.stderr.casefold() and "rename it in the team file" in done.stderr
    assert KEY not in done.stdout + done.stderr
    assert run_cli("team", "show", "--json").stdout.strip() == "null", "nothing recorded"
    probed = run_cli("probe", env=env)
    assert "Traceback" not in probed.stderr
    assert team_server.requests == [], "nothing at all reached the team's URL"


@pytest.mark.parametrize(("first", "second"), [("a-b", "a_b"), ("a.b", "a-b"), ("x_y.z", "x.y-z")])
def test_two_team_ids_sharing_a_variable_are_refused(tmp_path, config_dir, run_cli, team_server, first, second):
    _user(config_dir)
    path = _team(tmp_path, team_server.url, first, second)
    done = run_cli("team", "add", str(path))
    assert done.returncode != 0
    assert f"{second} would read the key set up for the team's own {first}" in done.stderr, done.stderr


def test_a_provider_of_yours_added_later_keeps_a_colliding_team_provider_out(
        tmp_path, config_dir, run_cli, team_server, own_server):
    from llmswitch.store.config import load

    _user(config_dir)
    path = _team(tmp_path, team_server.url, "my_gw")
    assert run_cli("team", "add", str(path), "--accept-env", "LLMSWITCH_KEY_MY_GW").returncode == 0
    assert load().providers["my_gw"].reads_override, "accepted by name"
    _user(config_dir, OWN.format(pid="my-gw", url=own_server.url))  # yours, set up after the team file
    env = {"LLMSWITCH_KEY_MY_GW": KEY}
    assert "my_gw" not in load().providers
    probed = run_cli("probe", env=env)
    assert "Traceback" not in probed.stderr
    assert not _sent_key(team_server) and team_server.requests == []
    assert _sent_key(own_server), "your own provider still gets your key"
    doctor = json.loads(run_cli("doctor", "--json", "--no-probe", env=env).stdout)
    assert any(f["cause"] == "team provider my_gw is left out: it would read the key set up for your provider "
                             "my-gw (env LLMSWITCH_KEY_MY_GW)" for f in doctor["findings"]), doctor["findings"]


def test_the_team_providers_own_override_is_read_only_once_accepted_by_name(tmp_path, config_dir, run_cli,
                                                                             team_server):
    _user(config_dir)
    team_server.get("/v1/models", lambda request: Reply.json(models_body(["team-model"])) if request.headers.get(
        "authorization") == f"Bearer {KEY}" else Reply.json({"error": {"message": "no key"}}, status=401))
    path = tmp_path / "team.toml"
    path.write_text(f'[providers.corp-gw]\nbase_url = "{team_server.url}/v1"\n')
    env = {"LLMSWITCH_KEY_CORP_GW": KEY}
    added = run_cli("team", "add", str(path), env=env)
    assert added.returncode == 0, added.stderr
    assert "corp-gw would read a key from $LLMSWITCH_KEY_CORP_GW, which is set in this shell" in added.stdout
    assert "not accepted: $LLMSWITCH_KEY_CORP_GW is not read" in added.stdout
    assert "corp-gw              keyring llmswitch/corp-gw (empty) — store one, if it wants one: llmswitch key set corp-gw" \
        in added.stdout, "the key source that will actually be used"
    where = run_cli("key", "where", "corp-gw", env=env)
    assert "LLMSWITCH_KEY_CORP_GW" in where.stdout and "not read: team provider, not accepted" in where.stdout
    run_cli("probe", "corp-gw", env=env)
    assert not _sent_key(team_server), "an override you did not accept is never sent"
    doctor = json.loads(run_cli("doctor", "--json", "--no-probe", env=env).stdout)
    assert any(f["fix"] == "llmswitch team update --accept-env LLMSWITCH_KEY_CORP_GW" for f in doctor["findings"])
    updated = run_cli("team", "update", "--accept-env", "LLMSWITCH_KEY_CORP_GW", env=env)
    assert updated.returncode == 0, updated.stderr
    probed = run_cli("probe", "corp-gw", env=env)
    assert probed.returncode == 0, probed.stdout + probed.stderr
    assert _sent_key(team_server), "accepted: now it is read and sent to the team's URL"


def test_add_says_when_the_keyring_entry_already_holds_a_key_and_where_it_would_go(tmp_path, config_dir, run_cli,
                                                                                   team_server):
    from llmswitch.store import keys

    _user(config_dir)

    keys.store("corp-gw", KEY)  # left from something else (a provider removed long ago)
    path = tmp_path / "team.toml"
    path.write_text(f'[providers.corp-gw]\nbase_url = "{team_server.url}/v1"\n')
    added = run_cli("team", "add", str(path))
    assert added.returncode == 0, added.stderr
    assert ("corp-gw              keyring llmswitch/corp-gw (holds a key) — that key will be sent to 127.0.0.1; "
            "if it was meant for something else: llmswitch key rm corp-gw") in added.stdout
    assert KEY not in added.stdout + added.stderr
    assert run_cli("key", "rm", "corp-gw").returncode == 0
    assert keys.stored("corp-gw") is None


def test_the_security_docs_cite_tests_that_exist():
    """docs/security.md's "Team files" and "Imports from a project" rules each name their test; those tests exist."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    security = (root / "docs" / "security.md").read_text()
    section = security[security.index("- **Team files**"):security.index("- **Shells.**")]
    cited = set(re.findall(r"`(test_[a-z0-9_]+)`", section))
    files = set(re.findall(r"tests/unit/(test_[a-z0-9_]+)\.py", section))
    assert len(cited) >= 6 and {"test_team_keys", "test_import_project_urls"} <= files
    defined = "".join((root / "tests" / "unit" / f"{name}.py").read_text() for name in files)
    assert {name for name in cited if f"def {name}(" not in defined} == set()


def test_any_two_ids_that_flatten_alike_collide_and_no_others():
    """The class, not the examples: for any id of yours and any team id, the team id is refused exactly when
    the two share ``LLMSWITCH_KEY_<ID>`` or a keyring entry (compared without case)."""
    from pathlib import Path

    from hypothesis import given
    from hypothesis import strategies as st

    from llmswitch.base.errors import LlmswitchError
    from llmswitch.store import catalog, team
    from llmswitch.store.config import parse
    from llmswitch.store.selection import override_var

    ids = st.from_regex(r"[a-z][a-z0-9]{0,3}([-._][a-z0-9]{1,3}){0,3}", fullmatch=True).filter(
        lambda pid: catalog.preset(pid) is None and team.collision(pid, team.claimed(None)) is None)

    @given(ids, ids, st.lists(st.sampled_from("-._"), min_size=3, max_size=3), st.booleans())
    def check(mine_id: str, other: str, separators: list[str], derive: bool) -> None:
        # half the time the team's id is yours with its separators swapped: the collisions the issue is about
        swapped = iter(separators)
        team_id = "".join(next(swapped) if c in "-._" else c for c in mine_id) if derive else other
        mine = parse(f'[providers."{mine_id}"]\nbase_url = "https://mine.example/v1"\n'.encode(), Path("config.toml"))
        body = f'[providers."{team_id}"]\nbase_url = "https://team.example/v1"\n'.encode()
        shares = override_var(mine_id) == override_var(team_id) or mine_id.casefold() == team_id.casefold()
        try:
            team.check(body, "team.toml", mine)
        except LlmswitchError:
            assert shares, (mine_id, team_id)
        else:
            assert not shares, (mine_id, team_id)

    check()
