"""Each surface renders the one key fix (``llmswitch.base.keyfix``) for where the key came from, once each.

The cells themselves are tested in ``test_key_matrix.py``; here: probe text, doctor, ``use``,
piped chat, ``/model``'s check, ``client()``, the picker's diagnosis panel and ctrl+g, the wizard.
"""

from __future__ import annotations

import pytest
from testkeyring import LockedKeyring

import keyring
import llmswitch
from llmswitch.app.screens.setup import _back_hint
from llmswitch.app.status import diagnosis_text, has_app_fix
from llmswitch.base.errors import Exit
from llmswitch.base.keyorigin import ABSENT, KEYRING, OVERRIDE, KeyOrigin
from llmswitch.base.outcome import Outcome, ProbeResult
from llmswitch.net.probe import probe_sync
from llmswitch.net.probe.targets import for_provider
from llmswitch.store import keys
from llmswitch.store.config import ProviderConfig, load
from upstreams import Reply, bearer, chat_completions, free_port, models_body

GOOD = "sk-test-good-key-0001"
BAD = "sk-test-wrong-key-0002"
OVERRIDE_FIX = "put the right key in LLMSWITCH_KEY_BOX"


@pytest.fixture
def box(upstream, config_dir, monkeypatch):
    """``box`` (key required) against a fake accepting only GOOD; the override holds BAD, the keyring GOOD."""
    server = upstream()
    server.get("/v1/models", bearer(GOOD, Reply.json(models_body(["m1"]))))
    server.post("/v1/chat/completions", chat_completions(key=GOOD))
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(f'[providers.box]\nbase_url = "{server.url}/v1"\nkey_required = true\n')
    keys.store("box", GOOD)
    monkeypatch.setenv("LLMSWITCH_KEY_BOX", BAD)
    return server


def test_probe_text_and_doctor_name_the_override(box, run_cli):
    probe = run_cli("probe", "box")
    assert probe.returncode == Exit.CHECK and f"fix: {OVERRIDE_FIX}" in probe.stdout
    doctor = run_cli("doctor")
    assert OVERRIDE_FIX in doctor.stdout and "run: llmswitch key set" not in doctor.stdout


def test_piped_chat_names_the_override(box, run_cli):
    assert run_cli("use", "box/m1").returncode == 0
    done = run_cli("chat", input="hi\n")
    assert done.returncode != 0 and OVERRIDE_FIX in done.stderr and "key set" not in done.stderr
    assert BAD not in done.stderr and GOOD not in done.stderr


def test_the_model_switch_check_names_the_override(box):
    from llmswitch.repl import gate

    verdict = gate.check(load().provider("box"), "m1", force=False, timeout=5.0)
    assert verdict.refused is not None and OVERRIDE_FIX in (verdict.refused.fix or "")


def test_use_and_client_say_the_keyring_is_locked_and_the_way_out(box, run_cli, monkeypatch):
    monkeypatch.delenv("LLMSWITCH_KEY_BOX")
    locked = {"PYTHON_KEYRING_BACKEND": "testkeyring.LockedKeyring"}
    used = run_cli("use", "box/m1", env=locked)
    assert used.returncode == 0 and "locked" in used.stderr and "export LLMSWITCH_KEY_BOX=<the key>" in used.stderr
    assert "run: llmswitch key set" not in used.stderr
    keyring.set_keyring(LockedKeyring())
    with pytest.raises(keys.KeyProblem) as caught:
        llmswitch.client()
    assert caught.value.exit_code == Exit.KEY and "locked" in caught.value.cause
    assert "export LLMSWITCH_KEY_BOX=<the key>" in (caught.value.fix or "") and "unlock it" in (caught.value.fix or "")


def test_the_picker_panel_shows_the_real_origin_and_offers_ctrl_g_only_where_a_stored_key_counts(box):
    target, _ = for_provider(load().provider("box"))
    assert target.key_origin is not None and target.key_origin.kind == OVERRIDE
    result = probe_sync([target])[0]
    provider = load().provider("box")
    text = diagnosis_text(provider, result, None, str, key_origin=target.key_origin).plain
    assert "key: env LLMSWITCH_KEY_BOX" in text and "ctrl+g" not in text and OVERRIDE_FIX in text
    assert not has_app_fix(result, target.key_origin)
    stored = KeyOrigin(KEYRING, "llmswitch/box", override="LLMSWITCH_KEY_BOX")
    assert has_app_fix(result, stored)
    assert "press ctrl+g to enter a key for box" in diagnosis_text(provider, result, None, str, key_origin=stored).plain
    locked = KeyOrigin(ABSENT, override="LLMSWITCH_KEY_BOX", keyring_problem="the keyring is locked")
    assert not has_app_fix(result, locked)


def test_the_wizard_says_what_is_missing_and_what_back_is_for():
    provider = ProviderConfig(id="box", name="Box", base_url=f"http://127.0.0.1:{free_port()}/v1",
                              key_source="env", key_env=("BOX_TOKEN",))
    target, _ = for_provider(provider)
    refused = probe_sync([target])[0]
    assert refused.outcome is Outcome.CONNECTION_REFUSED
    assert "(and BOX_TOKEN is not set)" in refused.summary and "no key stored" not in refused.summary
    assert _back_hint([refused]).startswith("Back to fix an address")
    rejected = ProbeResult("box", Outcome.AUTH_REJECTED, False, "key rejected", None, "u", {}, 401, None, (), None,
                           None, None)
    assert _back_hint([refused, rejected]).startswith("Back to fix a key")
    assert _back_hint([]) == "Next picks the default model."


@pytest.mark.parametrize(("source", "says"), [("env:BOX_TOKEN", "unset LLMSWITCH_KEY_BOX to use BOX_TOKEN"),
                                              ("keyring", "unset LLMSWITCH_KEY_BOX to use the keyring"),
                                              ("none", 'has key_source = "none", so it is not sent')])
def test_doctor_says_what_the_override_overrides(upstream, config_dir, run_cli, source, says):
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(f'[providers.box]\nbase_url = "{upstream().url}/v1"\n'
                                            f'key_source = "{source}"\n')
    assert run_cli("use", "box/m1").returncode == 0
    done = run_cli("doctor", "--no-probe", env={"LLMSWITCH_KEY_BOX": BAD})
    assert says in done.stdout and BAD not in done.stdout


def test_key_set_on_a_locked_keyring_says_the_way_out_that_works_now(config_dir, run_cli):
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text('[providers.box]\nbase_url = "http://127.0.0.1:9/v1"\n')
    done = run_cli("key", "set", "box", input=GOOD, env={"PYTHON_KEYRING_BACKEND": "testkeyring.LockedKeyring"})
    assert done.returncode == Exit.KEY and "the keyring is locked" in done.stderr
    assert "for this shell: export LLMSWITCH_KEY_BOX=<the key>" in done.stderr and "unlock it" in done.stderr
    assert GOOD not in done.stderr + done.stdout
