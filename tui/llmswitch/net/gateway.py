"""What a gateway says about its own models: a LiteLLM proxy's ``/model/info``, OpenRouter's ``/models``.

A gateway's aliases (``team-large``, ``mock-gpt-4o``) are not catalog ids, so the catalog
knows nothing about them; the gateway does. :func:`refresh` reads it with the provider's
own key and keeps it in the state dir (``gateway/ID.json``, with the time it was fetched);
:func:`cached` reads that copy back without any network, and :func:`llmswitch.services.models.merge`
lays it over the catalog, marked as coming from the gateway.

* LiteLLM proxy (:func:`parse_litellm`): per alias (``model_name``) the deployment's
  ``model_info`` — ``max_input_tokens``, ``max_output_tokens``, ``input_cost_per_token``,
  ``output_cost_per_token``, ``mode``, ``supports_vision``/``supports_function_calling``/
  ``supports_reasoning`` — and ``litellm_params.model``, the upstream model. Nothing else
  of ``litellm_params`` is read (it may hold the deployment's own key).
* OpenRouter (:func:`parse_openrouter`): its public ``/models`` says ``context_length``,
  ``pricing`` (USD per token, as strings), ``supported_parameters`` and modalities.

Which providers are gateways (:func:`kind_of`): the preset, the host, or what the last
probe's fingerprint named.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..base import bounded, paths, urls
from ..base.errors import LlmswitchError
from ..store import state
from ..store.state import fmt_age  # re-exported: the gateway's callers show a cache's age with it

if TYPE_CHECKING:
    from ..store.config import ProviderConfig

__all__ = [
    "LITELLM", "MAX_AGE", "NOT_CHAT_MODES", "OPENROUTER", "GatewayInfo", "GatewayModel", "GatewayUnavailable",
    "cached", "failure", "fetch_json", "fmt_age", "kind_of", "mode_warning", "parse_litellm", "parse_openrouter", "probed", "refresh",
    "refresh_stale", "stale",
]

LITELLM = "litellm"
OPENROUTER = "openrouter"
MAX_AGE = 3600.0
"""Seconds a cached copy is fresh: the picker refetches only older ones, in the background."""
MAX_BODY = bounded.SERVER_ANSWER.cap
"""Most bytes read from one answer (8 MiB; a big OpenRouter ``/models`` is ~1 MiB)."""
MAX_MODELS = 10_000
NOT_CHAT_MODES = frozenset({"embedding", "image_generation", "audio_transcription", "audio_speech", "moderation",
                            "rerank", "video_generation", "ocr", "search", "image_edit"})
"""LiteLLM modes that are not chat models: never offered as a chat default."""
_SERVERS = {"LiteLLM proxy": LITELLM, "OpenRouter": OPENROUTER}
_MAX_TOKENS = 100_000_000
_MAX_PRICE = 1.0
"""USD per token above which a price is taken for garbage (the dearest models cost ~0.0002)."""


class GatewayUnavailable(LlmswitchError):
    """The gateway did not say (unreachable, refused the key, or answered something else)."""


@dataclass(frozen=True)
class GatewayModel:
    """What a gateway says about one of its models (None: it did not say)."""

    id: str
    context: int | None = None
    """Max input tokens."""
    max_output: int | None = None
    input_price: float | None = None
    """USD per million input tokens."""
    output_price: float | None = None
    """USD per million output tokens."""
    tools: bool | None = None
    vision: bool | None = None
    reasoning: bool | None = None
    mode: str | None = None
    """``chat``, ``embedding``, ``completion``, … (LiteLLM's ``mode``)."""
    upstream: str | None = None
    """The model the alias routes to (``openai/gpt-4o``), where the gateway says."""


@dataclass(frozen=True)
class GatewayInfo:
    """One gateway's models, as fetched at ``fetched``."""

    provider: str
    base_url: str
    kind: str
    fetched: datetime
    models: Mapping[str, GatewayModel] = field(default_factory=dict)

    def age(self, now: datetime | None = None) -> float:
        """Seconds since the fetch."""
        return max(0.0, ((now or datetime.now(UTC)) - self.fetched).total_seconds())


# --- which providers are gateways -----------------------------------------------------------------

def kind_of(provider: ProviderConfig) -> str | None:
    """``litellm``, ``openrouter`` or None: from the preset, the host, or the last probe's fingerprint."""
    if not provider.base_url or provider.kind != "openai":
        return None
    source = provider.preset or provider.id
    if source == LITELLM:
        return LITELLM
    host = urls.host_of(provider.base_url)
    if source == OPENROUTER or host == "openrouter.ai" or host.endswith(".openrouter.ai"):
        return OPENROUTER
    return _SERVERS.get(state.known_server(provider.id, provider.base_url) or "")


# --- parsing (hostile input: every value is checked) ----------------------------------------------

def _tokens(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= _MAX_TOKENS:
        return None
    return int(value)


def _per_million(value: Any) -> float | None:
    """USD per token (a number or a numeric string) → USD per million tokens; None when unusable."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or not 0 <= value <= _MAX_PRICE:
        return None  # OpenRouter's router says -1: "it depends"
    per_million = value * 1_000_000
    return round(per_million, 6) or per_million  # rounding hides float noise, never turns a price into free


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _text(value: Any, limit: int = 200) -> str | None:
    """A name the gateway gave, shown as the probe shows listed ids: each invisible character written
    visibly (a bidi override is ``\\u202e``, never a reordered name), so both name a model alike."""
    from ..base.chars import terminal_safe

    return terminal_safe(value[:limit]) if isinstance(value, str) and value.strip() and "\x00" not in value else None


def _table(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _items(data: Any) -> list[dict[str, Any]]:
    items = data.get("data") if isinstance(data, dict) else None
    return [i for i in items[:MAX_MODELS] if isinstance(i, dict)] if isinstance(items, list) else []


def _combine(first: GatewayModel, more: GatewayModel) -> GatewayModel:
    """Two deployments of one alias: the first's values, the other's where the first says nothing."""
    return GatewayModel(**{k: v if v is not None else getattr(more, k) for k, v in asdict(first).items()})


def parse_litellm(data: Any) -> dict[str, GatewayModel]:
    """A LiteLLM proxy's ``/model/info`` body → its aliases. Wildcard routes (``openai/*``) are skipped."""
    found: dict[str, GatewayModel] = {}
    for item in _items(data):
        alias = _text(item.get("model_name"))
        if alias is None or "*" in alias:
            continue
        info = _table(item.get("model_info"))
        params = _table(item.get("litellm_params"))
        made = GatewayModel(
            alias, context=_tokens(info.get("max_input_tokens")) or _tokens(info.get("max_tokens")),
            max_output=_tokens(info.get("max_output_tokens")),
            input_price=_per_million(info.get("input_cost_per_token")),
            output_price=_per_million(info.get("output_cost_per_token")),
            tools=_flag(info.get("supports_function_calling")), vision=_flag(info.get("supports_vision")),
            reasoning=_flag(info.get("supports_reasoning")), mode=_text(info.get("mode"), 40),
            upstream=_text(params.get("model")))
        found[alias] = _combine(found[alias], made) if alias in found else made
    return found


def parse_openrouter(data: Any) -> dict[str, GatewayModel]:
    """OpenRouter's ``/models`` body → its models (context, prices, supported parameters, modalities)."""
    found: dict[str, GatewayModel] = {}
    for item in _items(data):
        model_id = _text(item.get("id"))
        if model_id is None:
            continue
        pricing = _table(item.get("pricing"))
        top = _table(item.get("top_provider"))
        params = item.get("supported_parameters")
        arch = _table(item.get("architecture"))
        inputs, outputs = arch.get("input_modalities"), arch.get("output_modalities")
        found[model_id] = GatewayModel(
            model_id, context=_tokens(item.get("context_length")) or _tokens(top.get("context_length")),
            max_output=_tokens(top.get("max_completion_tokens")),
            input_price=_per_million(pricing.get("prompt")), output_price=_per_million(pricing.get("completion")),
            tools="tools" in params if isinstance(params, list) else None,
            reasoning="reasoning" in params if isinstance(params, list) else None,
            vision="image" in inputs if isinstance(inputs, list) else None,
            mode="embedding" if isinstance(outputs, list) and "embeddings" in outputs else "chat")
    return found


# --- the cache -------------------------------------------------------------------------------------

def _path(provider_id: str) -> Path:
    return paths.state_dir() / "gateway" / f"{provider_id}.json"


def _save(info: GatewayInfo) -> None:
    from ..base.files import atomic_write

    document = {"provider": info.provider, "base_url": info.base_url, "kind": info.kind,
                "fetched": info.fetched.isoformat(), "models": [asdict(m) for m in info.models.values()]}
    atomic_write(_path(info.provider), json.dumps(document, indent=0).encode())


_FIELDS = frozenset(GatewayModel.__dataclass_fields__)


def cached(provider: ProviderConfig) -> GatewayInfo | None:
    """The copy kept by the last :func:`refresh` for this provider at this URL, or None. No network."""
    if not provider.base_url:
        return None
    try:
        document = json.loads(_path(provider.id).read_text(encoding="utf-8"))
        fetched = datetime.fromisoformat(document["fetched"])
        rows = document["models"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if document.get("base_url") != provider.base_url or not isinstance(rows, list) or fetched.tzinfo is None:
        return None
    models: dict[str, GatewayModel] = {}
    for row in rows:
        if isinstance(row, dict) and isinstance(row.get("id"), str) and set(row) <= _FIELDS:
            try:
                models[row["id"]] = GatewayModel(**row)
            except TypeError:
                continue
    return GatewayInfo(provider.id, provider.base_url, str(document.get("kind")), fetched, models)


def probed(provider: ProviderConfig) -> bool:
    """True when a probe listed models at this provider's URL (only then is a gateway asked anything)."""
    return state.known_models(provider.id, provider.base_url) is not None


def stale(provider: ProviderConfig, max_age: float = MAX_AGE) -> bool:
    """True when the provider is a gateway whose copy is missing or older than ``max_age`` seconds.

    Only a gateway a probe has listed at this URL is ever due: nothing is fetched from a
    server llmswitch has not talked to (a preset nobody probed stays offline).
    """
    if kind_of(provider) is None or not probed(provider):
        return False
    info = cached(provider)
    return info is None or info.age() > max_age


def mode_warning(provider: ProviderConfig, model: str, role: str) -> str | None:
    """A sentence when the gateway says ``model`` is for another role (an embedding model as a chat default)."""
    info = cached(provider) if kind_of(provider) else None
    said = info.models.get(model) if info is not None else None
    mode = said.mode if said is not None else None
    if mode is None:
        return None
    ref = f"{provider.id}/{model}"
    if role == "embedding" and mode != "embedding":
        return f"the gateway says {ref} is not an embedding model (mode {mode})"
    if role != "embedding" and mode == "embedding":
        return (f"the gateway says {ref} is an embedding model, not a chat model — "
                f"for embeddings run: llmswitch use --role embedding {ref}")
    if role != "embedding" and mode in NOT_CHAT_MODES:
        return f"the gateway says {ref} is not a chat model (mode {mode})"
    return None


# --- fetching --------------------------------------------------------------------------------------

def fetch_json(provider: ProviderConfig, url: str, *, timeout: float | None = None,
               public: bool = False) -> tuple[int, Any]:
    """GET ``url`` with the provider's key and headers: (status, parsed JSON or None). Bounded read.

    ``public``: the endpoint answers without a key (OpenRouter's ``/models``): a missing key is no error.
    The body goes through the one bounded decoder (:func:`llmswitch.base.bounded.decode_json`): text that is
    not JSON comes back as ``{"_text": its first words}``; JSON it refuses (nested too deep, NaN, a number
    out of range) raises.

    Raises :class:`GatewayUnavailable` when nothing usable came back (the key is never in its text).
    """
    import httpx

    from ..base.redact import terminal_safe
    from ..store import keys
    from . import http

    resolution = keys.resolve_for(provider)
    key = resolution.key if public else resolution.require()
    headers = {**keys.headers_for(provider), "accept": "application/json"}
    if key:
        headers["authorization"] = f"Bearer {key}"
    where = urls.safe(url)
    client = http.sdk_client(url, provider=provider.id)
    assert isinstance(client, httpx.Client)
    try:
        with client, client.stream("GET", url, headers=headers, timeout=timeout or provider.timeout) as response:
            body = bytearray()
            for piece in response.iter_bytes():
                body += piece
                if len(body) > MAX_BODY:
                    raise GatewayUnavailable(f"the answer from {where} is over {MAX_BODY // 2**20} MiB (not read)",
                                             "check base_url points at the gateway itself", subject=provider.id)
            status = response.status_code
    except httpx.HTTPError as exc:
        if isinstance(exc, LlmswitchError):
            raise
        raise GatewayUnavailable(f"could not reach {where} ({type(exc).__name__})",
                                 f"run: llmswitch probe {provider.id}", subject=provider.id) from None
    decoded = bounded.decode_json(bytes(body))
    if decoded.refusal is None:
        return status, decoded.value
    if decoded.refusal.problem not in (bounded.Problem.NOT_PARSED, bounded.Problem.NOT_TEXT):
        raise GatewayUnavailable(f"the answer from {where} (HTTP {status}) is refused: it {decoded.refusal.cause}",
                                 "check base_url points at the gateway itself", subject=provider.id)
    snippet = terminal_safe(bytes(body[:60]).decode("utf-8", "replace"), 60)
    return status, None if not snippet else {"_text": snippet}


def failure(provider: ProviderConfig, url: str, status: int, data: Any) -> GatewayUnavailable:
    """An answer that is not what was asked for, as one sentence (the server's own message, if any)."""
    from ..base.redact import terminal_safe

    message = ""
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        message = error["message"]
    elif isinstance(data, dict) and isinstance(data.get("_text"), str):
        message = data["_text"]
    said = f' "{terminal_safe(message, 80)}"' if message else ""
    fix = (f"check the key: llmswitch key where {provider.id}" if status in (401, 403)
           else f"run: llmswitch probe {provider.id}")
    return GatewayUnavailable(f"{urls.safe(url)} answered HTTP {status}{said}", fix, subject=provider.id)


def refresh(provider: ProviderConfig, *, timeout: float | None = None) -> GatewayInfo:
    """Fetch what the gateway says about its models and keep it; raises :class:`GatewayUnavailable`."""
    kind = kind_of(provider)
    if kind is None or not provider.base_url:
        raise GatewayUnavailable(f"{provider.id} is not a LiteLLM proxy or OpenRouter",
                                 "nothing to fetch", subject=provider.id)
    url = urls.join(provider.base_url, "/model/info" if kind == LITELLM else "/models")
    status, data = fetch_json(provider, url, timeout=timeout, public=kind == OPENROUTER)
    models = (parse_litellm if kind == LITELLM else parse_openrouter)(data) if status == 200 else {}
    if status != 200 or not models and not _items(data) and not (isinstance(data, dict) and "data" in data):
        raise failure(provider, url, status, data)
    info = GatewayInfo(provider.id, provider.base_url, kind, datetime.now(UTC).replace(microsecond=0), models)
    _save(info)
    return info


def refresh_stale(providers: Iterable[ProviderConfig], *, timeout: float | None = None) -> list[str]:
    """:func:`refresh` each gateway whose copy is stale; the failures as sentences (nothing raised)."""
    problems: list[str] = []
    for provider in providers:
        if stale(provider):
            try:
                refresh(provider, timeout=timeout)
            except LlmswitchError as exc:
                problems.append(exc.sentence())
    return problems
