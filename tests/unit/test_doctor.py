"""doctor: findings carry cause and fix as fields; files judged by trust.check; roles checked against config.toml."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import keyring.backends.fail
import pytest

import keyring
from llmswitch.services import doctor
from llmswitch.services.doctor import ERROR, OK, WARN, Finding
from llmswitch.store import selection


def write(config_dir: Path, text: str) -> Path:
    config_dir.mkdir(parents=True, exist_ok=True)
    path = config_dir / "config.toml"
    path.write_text(text)
    path.chmod(0o600)
    return path


def select(provider: str, base_url: str, **extra: object) -> selection.ActiveSelection:
    sel = selection.ActiveSelection(role="default", provider=provider, model="m1", base_url=base_url, **extra)
    selection.write(sel)
    return sel


def test_findings_carry_cause_and_fix_as_fields():
    finding = Finding(WARN, "keyring", "the keyring is locked", "unlock it")
    assert (finding.cause, finding.fix) == ("the keyring is locked", "unlock it")
    assert str(finding) == "the keyring is locked — unlock it"
    assert finding.as_dict() == {"level": WARN, "area": "keyring", "cause": "the keyring is locked",
                                 "fix": "unlock it", "message": "the keyring is locked — unlock it"}


def test_a_keyring_problem_arrives_as_cause_and_fix():
    keyring.set_keyring(keyring.backends.fail.Keyring())
    [finding] = doctor.keyring_findings()
    assert finding.level == WARN and finding.cause.startswith("no OS keyring is available")
    assert finding.fix and finding.fix.startswith("start one")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_file_findings_use_the_one_trust_check(config_dir):
    path = write(config_dir, "[providers.groq]\n")
    config_dir.chmod(0o777)
    try:
        found = doctor.file_findings()
    finally:
        config_dir.chmod(0o700)
    assert any(f.level == ERROR and "chmod 700" in (f.fix or "") for f in found)
    path.chmod(0o644)
    found = doctor.file_findings()
    assert [f.level for f in found] == [WARN] and "readable by others" in found[0].cause
    path.chmod(0o600)
    assert [f.level for f in doctor.file_findings()] == [OK]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown needs root")
def test_file_findings_name_a_file_owned_by_someone_else(config_dir):
    path = write(config_dir, "[providers.groq]\n")
    os.chown(path, 4242, -1)
    found = doctor.file_findings()
    assert any(f.level == ERROR and "another user" in f.cause for f in found)


def test_a_config_problem_keeps_its_place_and_fix(config_dir):
    write(config_dir, '[providers.groq]\ntimeout = "x"\n')
    found, config, _ = doctor.config_findings()
    assert config is None
    [problem] = [f for f in found if f.area == "config"]
    assert problem.level == ERROR and problem.cause.endswith(
        "config.toml:2: providers.groq.timeout: must be a number of seconds between 0 and 600 (got 'x')")


def test_a_role_whose_provider_is_gone_is_an_error(config_dir):
    write(config_dir, '[providers.box]\nbase_url = "http://127.0.0.1:9/v1"\n')
    select("box", "http://127.0.0.1:9/v1", key_source="none", key_required=False)
    found, _, _ = doctor.config_findings()
    assert not any(f.level == ERROR for f in found)
    write(config_dir, "[providers.groq]\n")
    found, _, _ = doctor.config_findings()
    [gone] = [f for f in found if f.level == ERROR]
    assert "provider box, which is neither configured nor a preset" in gone.cause
    assert gone.fix == "run: llmswitch use --role default PROVIDER/MODEL"


def test_a_refused_url_in_active_toml_is_an_error(config_dir):
    write(config_dir, "[providers.groq]\n")
    select("groq", "file:///etc/passwd")
    found, _, _ = doctor.config_findings()
    assert any(f.level == ERROR and "not an http:// or https:// URL" in f.cause for f in found)


def test_a_key_source_that_drifted_from_config_toml_is_named(config_dir):
    write(config_dir, '[providers.box]\nbase_url = "https://box.example/v1"\nkey_source = "env:BOX_KEY"\n')
    select("box", "https://box.example/v1", key_source="command", key_command="cat /tmp/other")
    found, _, _ = doctor.config_findings()
    [drift] = [f for f in found if "key source" in f.cause]
    assert drift.level == WARN and "env:BOX_KEY" in drift.cause and drift.fix == "run: llmswitch use --role default box/m1"


def test_stale_variables_from_another_provider_are_named():
    sel = selection.ActiveSelection(role="default", provider="groq", model="m", base_url="https://api.groq.com/openai/v1")
    found = doctor.environment_findings({"default": sel}, {
        "LLMSWITCH_HEADERS": '{"X-Title":"other"}', "OPENAI_API_TYPE": "azure", "OPENAI_ORG_ID": "org-1"})
    causes = " | ".join(f.cause for f in found)
    assert "LLMSWITCH_HEADERS" in causes and "OPENAI_API_TYPE" in causes and "OPENAI_ORG_ID" in causes
    assert all(f.fix for f in found)
    clean = doctor.environment_findings({"default": sel}, {"LLMSWITCH_HEADERS": "{}"})
    assert [f.level for f in clean] == [OK]
