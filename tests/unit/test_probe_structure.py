"""The probe package's shape: light modules stay light, public names resolve, one home for start hints."""

from __future__ import annotations

import asyncio
import importlib
import json
import subprocess
import sys
from dataclasses import replace

import pytest

import llmswitch.net.probe as probe_pkg
from llmswitch.net.probe import Outcome, ProbeTarget, probe, targets
from llmswitch.store import catalog
from llmswitch.store.config import load
from upstreams import free_port

SUBMODULES = ("targets", "classifier", "fingerprints", "transport", "fixes", "deep", "run", "render")


def _modules_after(code: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", f"{code}\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
                          capture_output=True, text=True, check=True)
    return set(json.loads(done.stdout.splitlines()[-1]))


@pytest.mark.parametrize("code", [
    "import llmswitch.base.outcome",
    "import llmswitch.net.probe.targets",
    "from llmswitch.net.probe import Outcome, ProbeTarget, USABLE",
    "from llmswitch.net.probe.render import render_table",
])
def test_light_probe_modules_do_not_load_httpx(code):
    loaded = _modules_after(code)
    assert "httpx" not in loaded and "llmswitch.net.probe.transport" not in loaded


def test_every_public_name_resolves_and_the_functions_stay_functions():
    for name in SUBMODULES:  # importing every submodule must not shadow a function of the same name
        importlib.import_module(f"llmswitch.net.probe.{name}")
    for name in probe_pkg.__all__:
        assert getattr(probe_pkg, name) is not None, name
    for name in ("classify", "fingerprint", "diagnose_error", "new_client", "probe", "probe_all"):
        assert callable(getattr(probe_pkg, name)) and not isinstance(getattr(probe_pkg, name), type(sys)), name
    with pytest.raises(AttributeError):
        _ = probe_pkg.no_such_name


@pytest.mark.parametrize("preset_id", [p.id for p in catalog.LOCAL_PRESETS if p.start_hint])
def test_a_providers_start_hint_travels_in_its_target_and_is_what_the_probe_says(preset_id):
    provider = load().provider(preset_id)
    assert provider.start_hint == catalog.preset(preset_id).start_hint
    target, _ = targets.for_provider(provider, "some-model", timeout=3.0, resolve_key=False)
    assert target.start_hint == provider.start_hint
    closed = replace(target, base_url=f"http://127.0.0.1:{free_port()}/v1")
    result = asyncio.run(probe(closed))
    assert result.outcome is Outcome.CONNECTION_REFUSED
    assert result.fix == catalog.start_hint(provider.start_hint, "some-model", closed.base_url)
    assert "{" not in result.fix and closed.base_url.split(":")[-1].removesuffix("/v1") in result.fix


async def test_the_targets_own_hint_wins_and_the_preset_is_the_fallback():
    port = free_port()
    own = await probe(ProbeTarget("box", f"http://127.0.0.1:{port}/v1", key_required=False, preset="ollama",
                                  start_hint="start it: run-my-box --port 9"))
    assert own.fix == "start it: run-my-box --port 9"
    fallback = await probe(ProbeTarget("box", f"http://127.0.0.1:{port}/v1", key_required=False, preset="lmstudio"))
    assert fallback.fix == catalog.start_hint(catalog.local_preset("lm_studio").start_hint, None,
                                              f"http://127.0.0.1:{port}/v1")
    templated = await probe(ProbeTarget("box", f"http://127.0.0.1:{port}/v1", key_required=False, preset="vllm"))
    assert templated.fix == f"start it: vllm serve MODEL --host 127.0.0.1 --port {port}"


def test_local_presets_name_the_server_the_fingerprint_reports():
    from llmswitch.net.probe import fingerprints

    names = {fingerprints.OLLAMA, fingerprints.LM_STUDIO, fingerprints.VLLM, fingerprints.LLAMACPP,
             fingerprints.LITELLM}
    assert names == {p.server for p in catalog.LOCAL_PRESETS if p.server}
