"""Azure OpenAI, both documented shapes: the probe, ``--deep``, ``env``/``exec`` and ``client()`` ask the same URLs.

The fake (``upstreams.azure_like``) answers as Azure's REST reference says: ``api-key``
header, 401 "Access denied due to …", 404 "Resource not found" (also for a missing
``api-version``), 400 "API version not supported", and a model list of base models.
"""

from __future__ import annotations

import json
import sys

import pytest

import llmswitch
from llmswitch.net import azure
from llmswitch.net.probe import Outcome, ProbeTarget, probe
from llmswitch.services.switch import switch
from llmswitch.store import keys
from upstreams import FAKE_KEY, OTHER_KEY, azure_like

DATED = "2024-10-21"


def az(server, api_version=None, **kw) -> ProbeTarget:
    kw.setdefault("key", FAKE_KEY)
    kw.setdefault("timeout", 5.0)
    return ProbeTarget("az", kw.pop("base_url", server.url), api_kind="azure", api_version=api_version, **kw)


def asked(server, method="POST"):
    return [(r.path, r.query) for r in server.requests if r.method == method]


# -- the URL builder ---------------------------------------------------------------------


@pytest.mark.parametrize("base", ["https://r.openai.azure.com", "https://r.openai.azure.com/",
                                  "https://r.openai.azure.com/openai", "https://r.openai.azure.com/openai/v1/",
                                  "https://r.openai.azure.com/openai/deployments/chat"])
def test_one_endpoint_whatever_was_pasted(base):
    assert azure.endpoint(base) == "https://r.openai.azure.com"
    assert azure.models_url(base, None) == "https://r.openai.azure.com/openai/v1/models"
    assert azure.chat_url(base, None, "chat") == "https://r.openai.azure.com/openai/v1/chat/completions"
    assert azure.models_url(base, DATED) == f"https://r.openai.azure.com/openai/models?api-version={DATED}"
    assert azure.chat_url(base, DATED, "my chat") == \
        f"https://r.openai.azure.com/openai/deployments/my%20chat/chat/completions?api-version={DATED}"
    assert azure.openai_base(base, None) == "https://r.openai.azure.com/openai/v1"
    assert azure.openai_base(base, DATED) is None


# -- the probe, both shapes -----------------------------------------------------------------


@pytest.mark.parametrize(("version", "models_path", "query"), [(None, "/openai/v1/models", ""),
                                                               (DATED, "/openai/models", f"api-version={DATED}")])
async def test_probe_asks_the_shape_api_version_chooses_and_verifies_the_key(upstream, version, models_path, query):
    server = azure_like(upstream())
    result = await probe(az(server, version, model="chat"))
    assert result.outcome is Outcome.OK and result.usable
    assert result.key_verified is True  # Azure refuses the list without a key
    assert result.models == ("gpt-4o-2024-08-06", "gpt-4o-mini-2024-07-18")
    first = next(r for r in server.requests if "api-key" in r.headers)  # the verification asks without it too
    assert (first.path, first.query) == (models_path, query)
    assert first.headers["api-key"] == FAKE_KEY and "authorization" not in first.headers
    assert result.url.endswith(models_path + (f"?{query}" if query else ""))


@pytest.mark.parametrize(("version", "chat_path", "query"), [
    (None, "/openai/v1/chat/completions", ""),
    (DATED, "/openai/deployments/chat/chat/completions", f"api-version={DATED}")])
async def test_deep_check_asks_the_deployment(upstream, version, chat_path, query):
    server = azure_like(upstream())
    result = await probe(az(server, version, model="chat"), deep=True)
    assert result.outcome is Outcome.OK and result.deep.ok
    assert asked(server) == [(chat_path, query)]
    assert server.requests_to(chat_path)[0].json()["model"] == "chat"


async def test_a_deployment_is_not_judged_by_the_list_of_base_models(upstream):
    server = azure_like(upstream(), deployments={"prod-gpt": "gpt-4o-2024-08-06"})
    listed = await probe(az(server, DATED, model="prod-gpt"))
    assert listed.outcome is Outcome.OK  # "prod-gpt" is not in the list, and that says nothing
    deep = await probe(az(server, DATED, model="prod-gpt"), deep=True)
    assert deep.outcome is Outcome.OK and deep.deep.ok


@pytest.mark.parametrize("version", [None, DATED])
async def test_a_missing_deployment_is_model_missing_from_the_deep_check(upstream, version):
    server = azure_like(upstream())
    result = await probe(az(server, version, model="gpt-4o"), deep=True)
    assert result.outcome is Outcome.MODEL_MISSING and not result.usable
    assert result.summary == "no deployment named gpt-4o (Azure lists base models, not deployments)"
    assert "llmswitch use az/DEPLOYMENT" in result.fix
    assert "deployment for this resource does not exist" in result.server_message


@pytest.mark.parametrize("version", [None, DATED])
async def test_wrong_and_missing_keys(upstream, version):
    server = azure_like(upstream())
    wrong = await probe(az(server, version, key=OTHER_KEY))
    assert wrong.outcome is Outcome.AUTH_REJECTED and wrong.status_code == 401
    assert "invalid subscription key" in wrong.server_message
    missing = await probe(az(server, version, key=None))
    assert missing.outcome is Outcome.AUTH_MISSING
    assert "missing subscription key" in missing.server_message


async def test_an_unsupported_api_version_names_the_field(upstream):
    server = azure_like(upstream())
    result = await probe(az(server, "2022-01-01"))
    assert result.outcome is Outcome.NOT_FOUND
    assert result.summary == "Azure refuses api_version 2022-01-01"
    assert "api_version" in result.fix and "v1 API" in result.fix
    keyed = [r for r in server.requests if "api-key" in r.headers]  # the verification's keyless copy aside
    assert len(keyed) == 1  # no /v1 guessing on Azure's paths


async def test_a_resource_without_the_v1_api_says_how_to_use_the_dated_one(upstream):
    server = azure_like(upstream(), v1=False)
    result = await probe(az(server, None))
    assert result.outcome is Outcome.NOT_FOUND
    assert "Resource not found" in result.server_message
    assert f'set api_version = "{DATED}"' in result.fix
    fixed = await probe(az(server, DATED))  # following the fix: the dated API answers
    assert fixed.outcome is Outcome.OK


# -- client(), env and the config ------------------------------------------------------------


def _configure(config_dir, server, version):
    config_dir.mkdir(parents=True, exist_ok=True)
    line = f'api_version = "{version}"\n' if version else ""
    (config_dir / "config.toml").write_text(
        f'[providers.az]\nkind = "azure"\nbase_url = "{server.url}/openai"\nkey_required = true\n{line}')


@pytest.mark.parametrize("version", [None, DATED])
async def test_client_asks_what_the_deep_check_asks(config_dir, upstream, version):
    server = azure_like(upstream())
    _configure(config_dir, server, version)
    keys.store("az", FAKE_KEY)
    switch("az/chat")
    client = llmswitch.client()
    answer = client.chat.completions.create(model="chat", messages=[{"role": "user", "content": "hi"}], max_tokens=1)
    assert answer.choices[0].message.content == "OK"
    by_client = asked(server)
    server.requests.clear()
    deep = await probe(az(server, version, base_url=f"{server.url}/openai", model="chat"), deep=True)
    assert deep.outcome is Outcome.OK
    assert asked(server) == by_client


@pytest.mark.parametrize(("version", "base", "api_type"), [(None, "/openai/v1", None), (DATED, "", "azure")])
def test_env_names_the_same_endpoint(run_cli, run_cli_process, config_dir, upstream, version, base, api_type):
    server = azure_like(upstream())
    _configure(config_dir, server, version)
    run_cli("key", "set", "az", input=FAKE_KEY)
    assert run_cli("use", "az/chat").returncode == 0
    script = [sys.executable, "-c", "import json, os; print(json.dumps({k: os.environ.get(k) for k in "
              "('OPENAI_BASE_URL', 'OPENAI_API_TYPE', 'OPENAI_API_VERSION')}))"]
    done = run_cli_process("exec", "--", *script)
    seen = json.loads(done.stdout)
    assert seen == {"OPENAI_BASE_URL": server.url + base, "OPENAI_API_TYPE": api_type, "OPENAI_API_VERSION": version}


def test_an_azure_provider_without_api_version_is_valid_and_means_v1(run_cli, config_dir, upstream):
    server = azure_like(upstream())
    _configure(config_dir, server, None)
    run_cli("key", "set", "az", input=FAKE_KEY)
    run_cli("use", "az/chat")
    done = run_cli("probe", "--json", "az")
    data = json.loads(done.stdout)[0]
    assert done.returncode == 0 and data["outcome"] == "ok"
    assert data["url"] == f"{server.url}/openai/v1/models" and data["key_verified"] is True
