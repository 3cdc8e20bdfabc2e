"""The check before a switch: the key, then one short probe of the target.

A server nothing answers for (:data:`~llmswitch.base.outcome.UNREACHABLE`) or
one that refuses the key (:data:`~llmswitch.base.outcome.AUTH`) stops the
switch unless forced; a slow answer, a broken connection, an unlisted model,
no ``/models`` endpoint or a 5xx switch with a warning. What the probe learned
is remembered by :func:`llmswitch.store.state.remember` (the one rule for that).

The probe (httpx, asyncio) is imported only when a check runs.
"""

from __future__ import annotations

from collections.abc import Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from ..base.errors import Exit, LlmswitchError
from ..base.outcome import AUTH, UNREACHABLE, Outcome, ProbeResult
from ..store import state
from ..store.keys import KeyProblem, resolve_for

if TYPE_CHECKING:  # pragma: no cover
    from ..store.config import ProviderConfig

__all__ = ["PROBE_TIMEOUT", "Verdict", "check", "fetch_list", "refusal"]

PROBE_TIMEOUT = 2.0
"""Seconds the reachability check before a switch may take."""

T = TypeVar("T")


@dataclass(frozen=True)
class Verdict:
    """What the check found: why not to switch (None: go ahead), and what to warn about."""

    refused: LlmswitchError | None = None
    warnings: tuple[str, ...] = ()
    learned: bool = False
    """The probe brought a model list that is now remembered (the index is stale)."""


def refusal(result: ProbeResult) -> LlmswitchError:
    """The probe's finding as an error: its summary (and HTTP status) is the cause, its fix the fix."""
    return LlmswitchError(result.sentence(with_fix=False), result.fix, exit_code=Exit.CHECK)


def _key_error(exc: Exception) -> LlmswitchError:
    return exc if isinstance(exc, LlmswitchError) else LlmswitchError(str(exc), exit_code=Exit.KEY)


def check(provider: ProviderConfig, model: str, *, force: bool, timeout: float | None) -> Verdict:
    """The key, then (``timeout`` not None) a probe; ``force`` turns every refusal into a warning."""
    warnings: list[str] = []
    try:
        resolve_for(provider).require()
    except KeyProblem as exc:
        if not force:
            return Verdict(_key_error(exc))
        warnings.append(str(exc))
    if timeout is None:
        from ..services.switch import model_warning

        warning = model_warning(provider, model)
        return Verdict(warnings=(*warnings, *([warning] if warning else [])))
    result = probe_once(provider, model, timeout)
    learned = _remember(result, provider)
    if result.outcome in UNREACHABLE or result.outcome in AUTH:
        if not force:
            return Verdict(refusal(result), learned=learned)
        warnings.append(result.sentence())
    elif result.outcome == Outcome.MODEL_MISSING:
        if f"{model}:latest" not in result.models:
            warnings.append(result.sentence())
    elif not result.usable and result.outcome != Outcome.CANCELLED:
        warnings.append(result.sentence())
    return Verdict(None, tuple(warnings), learned)


def fetch_list(provider: ProviderConfig, model: str, timeout: float) -> bool:
    """Probe once to learn the provider's model list; True when one was remembered. Never raises."""
    try:
        return _remember(probe_once(provider, model, timeout), provider)
    except Exception:  # noqa: BLE001 - a background nicety must never break the REPL
        return False


def probe_once(provider: ProviderConfig, model: str, timeout: float) -> ProbeResult:
    from ..net.probe import probe, targets

    target, _problem = targets.for_provider(provider, model, timeout=timeout)
    result: ProbeResult = run_async(probe(target))
    return result


def _remember(result: ProbeResult, provider: ProviderConfig) -> bool:
    try:
        return state.remember(result, provider.base_url)
    except OSError:
        return False


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, even when an event loop is running in this thread."""
    import asyncio  # with the probe: a REPL that never switches does not pay for it
    import threading

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    result: dict[str, Any] = {}

    def runner() -> None:
        try:
            result["value"] = asyncio.run(coro)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            result["error"] = exc

    thread = threading.Thread(target=runner, name="llmswitch-probe", daemon=True)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    value: T = result["value"]
    return value
