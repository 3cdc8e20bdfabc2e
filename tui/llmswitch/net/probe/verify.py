"""Does a 200 from ``/models`` prove the key? Find out, and say "ok" only when it does.

A key was sent and the model list came back. That proves the key only if the list
would not have come back without it, so (when no key-check path is known) the probe
asks the same ``GET /models`` again **without the key**:

* refused (401/403, or an error naming the key) → the key is verified:
  ``verified_by = "GET /models refuses requests without it"``;
* listed again → the list is public and proves nothing → ``KEY_UNVERIFIED``
  ("listed N models; key not verified"), whose fix is ``llmswitch probe --deep P``;
* anything else (a 5xx: the LiteLLM proxy answers a keyless ``/models`` with 500) →
  the same request once more with a deliberately wrong key (:data:`WRONG_KEY`): refused →
  verified (``"GET /models refuses a wrong key"``), listed → KEY_UNVERIFIED, else
  nobody knows → KEY_UNVERIFIED as well.

Each of these asks once (no retries): a flaky answer costs a request, not seconds.

``ANY_KEY`` ("accepts any key; yours is not needed") is never guessed from a public
list alone — llama.cpp's ``llama-server`` lists ``/models`` without a key even when
started with ``--api-key``. It is said on one of two grounds only:

1. the list is public (measured as above), the server is local, and its fingerprint is a
   server whose list is public only when it checks no key (:data:`IGNORES_KEYS`: Ollama,
   vLLM, the LiteLLM proxy);
2. ``--deep``: the chat with the real key succeeded on a public list, and the same chat
   with a deliberately wrong key (:data:`WRONG_KEY`) succeeded too. When the wrong key is
   refused, the real one is verified (``verified_by = "deep check"``). A server that checks
   keys refuses the wrong one before running the model, so this costs nothing there.

Cost: the keyless request starts alongside the keyed one (:func:`ask_keyless`) whenever a key
is sent and no key-check path is configured, so verifying adds no round trip; it is cancelled
(or its answer dropped) when the keyed answer is not a list or the server's fingerprint names
a key-check path. It shares the target's deadline.

Not even that when an earlier probe settled it (:func:`earlier_refusal`): a fresh sighting of this
URL's ``/models`` refusing a request without the key (:func:`llmswitch.store.state.models_guarded`,
an hour) lets a plain probe whose keyed request lists models from the same server count the key as
verified without asking again: ``verified_by = "GET /models refused requests without it (seen 3 min
ago)"``. Another server's fingerprint asks again; ``--deep`` always asks; an answer that contradicts
the sighting (a list without the key, the key refused) makes the store forget it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from llmswitch.base import urls
from llmswitch.base.keyorigin import OVERRIDE

from ...base.outcome import AUTH, DEEP, Diagnosis, Outcome, ProbeResult, ProbeTarget, key_seen
from .classifier import classify
from .endpoints import models_url
from .fingerprints import LITELLM, OLLAMA, VLLM
from .transport import Exchange, ProbeClient, request, request_headers

if TYPE_CHECKING:
    from llmswitch.store.state import ModelsGuarded

__all__ = ["ACCEPTS_A_WRONG_KEY", "DEEP", "IGNORES_KEYS", "REFUSED_WITHOUT_KEY", "REFUSES_A_WRONG_KEY",
           "REFUSES_WITHOUT_KEY", "WRONG_KEY", "Verdict", "any_key", "earlier_refusal", "key_seen", "recalled",
           "unverified", "verify_listing"]

WRONG_KEY = "llmswitch-deliberately-wrong-key-0000"
"""Sent by ``--deep`` to tell "checks keys" from "accepts any key". Never a real key."""
IGNORES_KEYS = {
    OLLAMA: "Ollama does not check keys",
    VLLM: "vLLM guards its model list whenever it checks a key",
    LITELLM: "the LiteLLM proxy guards its model list whenever it checks a key",
}
"""Servers for which a public model list means no key is checked at all, and why.

Ollama ignores the key on every route ("required but ignored"); vLLM's ``--api-key`` and the
LiteLLM proxy's ``master_key`` guard ``/v1/models`` with the same check as chat. Not llama.cpp:
``llama-server --api-key`` keeps ``/models`` public, so only ``--deep`` tells it apart."""
REFUSES_WITHOUT_KEY = "GET /models refuses requests without it"
REFUSED_WITHOUT_KEY = "GET /models refused requests without it"
"""``verified_by`` when an earlier probe's sighting settled it; followed by ``(seen 3 min ago)``."""
REFUSES_A_WRONG_KEY = "GET /models refuses a wrong key"
ACCEPTS_A_WRONG_KEY = "a chat with a wrong key succeeds too"


@dataclass(frozen=True)
class Verdict:
    """What the listing proved about the key."""

    diagnosis: Diagnosis
    verified: bool
    how: str | None
    guarded: bool | None = None
    """What the keyless request saw (``ProbeResult.models_guarded``): True refused, False answered, None not asked."""


def count_of(models: tuple[str, ...]) -> str:
    return f"{len(models)} model{'s' if len(models) != 1 else ''}"


def unverified(diagnosis: Diagnosis, target: ProbeTarget, why: str) -> Diagnosis:
    """KEY_UNVERIFIED: the list came back, but it would have without the key; the fix that settles it."""
    provider = target.provider
    model = "" if target.model or diagnosis.models else " --model MODEL"  # --deep chats with the first listed
    fix = f"run: llmswitch probe --deep {provider}{model} (a 1-token request verifies the key)"
    return replace(diagnosis, outcome=Outcome.KEY_UNVERIFIED,
                   summary=f"listed {count_of(diagnosis.models)}; key not verified ({why})", fix=fix)


def any_key(diagnosis: Diagnosis, target: ProbeTarget, because: str) -> Diagnosis:
    """ANY_KEY: usable, and the key configured for it is not needed."""
    origin = target.key_origin
    stop = (f"unset {origin.name}" if origin is not None and origin.kind == OVERRIDE and origin.name
            else f"set key_source = \"none\" for {target.provider} in config.toml")
    return replace(diagnosis, outcome=Outcome.ANY_KEY,
                   summary=f"{count_of(diagnosis.models)} · keyless: accepts any key; yours is not needed",
                   fix=f"nothing to do ({because}); to stop sending a key, {stop}")


def keyless(target: ProbeTarget) -> ProbeTarget:
    """``target`` as :func:`verify_listing` asks it first: the same ``GET /models``, without the key."""
    return replace(target, key=None, key_required=False, model=None)


def ask_keyless(client: ProbeClient, deadline: float, target: ProbeTarget) -> asyncio.Task[Exchange]:
    """Start :func:`verify_listing`'s first request now, alongside the keyed one, so the check adds no round trip.

    The caller hands the task to :func:`verify_listing`, or cancels it when the keyed answer needs no check.
    """
    asked = keyless(target)
    return asyncio.ensure_future(request(client, "GET", models_url(target), request_headers(asked), deadline, asked))


def earlier_refusal(target: ProbeTarget) -> ModelsGuarded | None:
    """A fresh sighting of this URL's ``/models`` refusing requests without the key, kept by an earlier probe
    (:func:`llmswitch.store.state.models_guarded`); None when none is kept, or when the target has a key-check
    path (which answers for the key instead)."""
    if target.key is None or target.key_check_path:
        return None
    from llmswitch.store import state

    return state.models_guarded(target.provider, target.base_url)


async def verify_listing(client: ProbeClient, deadline: float, target: ProbeTarget,
                         diagnosis: Diagnosis, started: Awaitable[Exchange] | None = None,
                         earlier: ModelsGuarded | None = None) -> Verdict:
    """Ask ``/models`` again without the key (then, if that settles nothing, with a wrong one) and judge.

    ``diagnosis`` is the keyed listing's (OK or MODEL_MISSING). MODEL_MISSING stays what it
    is (the model is the first thing to fix); only whether the key was verified is added.
    ``started``: the keyless request, already under way (:func:`ask_keyless`). ``earlier``: an earlier
    probe's sighting (:func:`earlier_refusal`); it settles the key without asking when the same server
    (by its fingerprint) answered the keyed request.
    """
    if earlier is not None and earlier.server == diagnosis.server:
        return Verdict(diagnosis, True, f"{REFUSED_WITHOUT_KEY} (seen {earlier.age()})")
    listing = diagnosis.outcome is Outcome.OK
    why = "asking without it failed, so the list proves nothing"
    guarded: bool | None = None
    for sent, refused_by in ((None, REFUSES_WITHOUT_KEY), (WRONG_KEY, REFUSES_A_WRONG_KEY)):
        asked = replace(keyless(target), key=sent)
        if sent is None and started is not None:
            exchange = await started
        else:
            exchange = await request(client, "GET", models_url(target), request_headers(asked), deadline, asked)
        if exchange.error is not None or exchange.status is None:
            break
        there = classify(exchange.status, exchange.headers, exchange.body, target=asked)
        refused = exchange.status in (401, 403) or there.outcome in AUTH
        guarded = refused if sent is None else guarded
        if refused:
            return Verdict(diagnosis, True, refused_by, guarded)  # OK itself says so now; verified_by says how
        if there.outcome in (Outcome.KEYLESS, Outcome.OK):  # the same list without the (right) key: public
            if not listing:
                return Verdict(diagnosis, False, None, guarded)
            because = IGNORES_KEYS.get(diagnosis.server or "")
            if because and urls.is_local(target.base_url):
                return Verdict(any_key(diagnosis, target, because), False, because, guarded)
            public = "this server lists models without a key" if sent is None else \
                "this server lists models for any key"
            return Verdict(unverified(diagnosis, target, public), False, None, guarded)
        # neither refused nor listed (a 5xx, a 404): try a wrong key, whose refusal would settle it
        why = f"asked without it, the server answered HTTP {exchange.status}, so the list proves nothing"
    return Verdict(unverified(diagnosis, target, why) if listing else diagnosis, False, None, guarded)


def recalled(result: ProbeResult, target: ProbeTarget) -> ProbeResult:
    """A plain probe that found a public list (KEY_UNVERIFIED) takes what ``probe --deep`` settled at this URL.

    ``accepts any key`` (a server fact) holds for any key; ``key verified`` only for the same key as shown
    (:func:`key_seen`). Either says when it was learned; ``probe --deep`` asks again.
    """
    if result.outcome is not Outcome.KEY_UNVERIFIED:
        return result
    from llmswitch.store import state

    known = state.deep_verdict(target.provider, target.base_url)
    if known is None:
        return result
    learned = f"probe --deep, {known.age()}"
    listed = Diagnosis(result.outcome, result.summary, result.fix, result.models, result.server_message,
                       result.server)
    if known.outcome == Outcome.ANY_KEY.value:
        made = any_key(listed, target, f"{known.because or ACCEPTS_A_WRONG_KEY}: {learned}")
        return replace(result, outcome=made.outcome, usable=True, summary=made.summary, fix=made.fix,
                       key_verified=False, verified_by=f"{known.because or ACCEPTS_A_WRONG_KEY} ({learned})")
    if known.outcome == Outcome.OK.value and known.key == key_seen(result):
        return replace(result, outcome=Outcome.OK, usable=True, fix=None, key_verified=True,
                       verified_by=f"{DEEP} ({learned})",
                       summary=f"{count_of(result.models)} · key verified by a 1-token chat ({learned})")
    return result
