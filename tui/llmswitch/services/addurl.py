"""A URL becomes a provider: probe it, take the ``/v1`` fix, name it from the software that answered.

Used by ``llmswitch add URL`` and the wizard's custom-URL row; no Textual, no writes
(the caller writes config.toml). The probe is sent without a key: whether the server
wants one is what it answers (:attr:`Examined.wants_key`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..base import urls
from ..base.errors import Exit, LlmswitchError
from ..base.outcome import AUTH, NOT_THERE, Outcome, ProbeTarget
from ..store import catalog

if TYPE_CHECKING:
    from ..base.outcome import ProbeResult
    from ..store.catalog import Preset

__all__ = ["Examined", "as_url", "asked_with_a_key", "examine", "preset_for_server"]

_BARE_PORT = re.compile(r"^:?(\d{1,5})$")
_LOCAL_HOSTS = ("localhost", "127.", "0.0.0.0", "[::1]", "::1", "192.168.", "10.")


def as_url(text: str) -> str:
    """What a person typed, as a base URL: ``8080`` and ``:8080`` → ``http://127.0.0.1:8080``,
    ``localhost:11434`` → ``http://localhost:11434``, ``api.example.com/v1`` → ``https://…``.

    Raises :class:`LlmswitchError` (cause and fix) for what can never be a base URL.
    """
    text = text.strip()
    port = _BARE_PORT.match(text)
    if port:
        text = f"http://127.0.0.1:{port.group(1)}"
    elif text and "://" not in text:
        local = text.lower().startswith(_LOCAL_HOSTS)
        text = ("http://" if local else "https://") + text
    found = urls.problem(text)
    if found is not None:
        raise LlmswitchError(found[0], found[1], exit_code=Exit.USAGE)
    return urls.normalize(text)


def preset_for_server(server: str | None) -> Preset | None:
    """The local preset of the software a fingerprint names (``"Ollama"`` → the ollama preset)."""
    if not server:
        return None
    return next((p for p in catalog.LOCAL_PRESETS if p.server == server), None)


@dataclass(frozen=True)
class Examined:
    """What answered at a URL, and the provider it suggests."""

    base_url: str
    """The base URL to configure: the one given, or the one the probe found answering (``/v1`` added)."""
    given: str
    """The URL as given (normalised)."""
    pid: str
    """A free provider id: the preset's (``ollama``) or one made from the host (``gpu-box``, ``local-8000``)."""
    name: str
    preset: str | None
    """The local preset whose software answered, when the fingerprint says."""
    result: ProbeResult
    """The keyless probe at :attr:`base_url`, under :attr:`pid`."""

    @property
    def answered(self) -> bool:
        """Something spoke HTTP there (whatever it said)."""
        return self.result.outcome not in NOT_THERE

    @property
    def wants_key(self) -> bool:
        """The server refused a request without a key."""
        return self.result.outcome in AUTH

    @property
    def fixed(self) -> bool:
        """The probe's base-URL fix was applied (``/v1`` added or removed)."""
        return self.base_url != self.given


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-.")[:40] or "server"


def suggested_id(preset: Preset | None, base_url: str, taken: Iterable[str], server: str | None = None) -> str:
    """The preset's id when free, else the software's name, else one from the host (and a port other than the
    scheme's): ``ollama``, ``ollama-2``, ``groq``, ``gpu-box``, ``local-8000``."""
    used = set(taken)
    if preset is not None:
        base = preset.id
    elif server:
        base = _slug(server)
    else:
        host, port = urls.host_port(base_url)
        labels = [part for part in host.split(".") if part not in ("api", "www", "llm", "ai", "com", "net", "org")]
        named = labels[0] if labels and not host[:1].isdigit() else host
        label = "local" if urls.is_loopback(base_url) else _slug(named)
        default = 443 if base_url.startswith("https://") else 80
        base = label if port in (default, 0) else f"{label}-{port}"
    pid, n = base, 2
    while pid in used:
        pid, n = f"{base}-{n}", n + 1
    return pid


async def examine(text: str, taken: Iterable[str] = (), timeout: float = 5.0) -> Examined:
    """Probe ``text`` (a URL, ``host:port`` or a port) without a key; follow the base-URL fix once."""
    from ..net.probe import probe

    given = as_url(text)
    target = ProbeTarget(provider="new", base_url=given, key=None, key_required=False, timeout=timeout)
    result = await probe(target)
    base_url = given
    if result.suggested_base_url:
        base_url = result.suggested_base_url
        result = await probe(replace(target, base_url=base_url))
    if result.outcome in (Outcome.SERVER_ERROR, Outcome.AMBIGUOUS):
        result = await _with_a_key(target, base_url, result)
    preset = preset_for_server(result.server)
    pid = suggested_id(preset, base_url, taken, result.server)
    host, port = urls.host_port(base_url)
    name = preset.name if preset else result.server or (f"{host}:{port}" if port else host)
    if result.fix:  # its fix names the provider: ask again under the id it will have
        result = await probe(replace(target, provider=pid, base_url=base_url, preset=preset.id if preset else None))
    return Examined(base_url, given, pid, name, preset.id if preset else None, replace(result, provider=pid))


async def _with_a_key(target: ProbeTarget, base_url: str, keyless: ProbeResult) -> ProbeResult:
    """A server that fails requests without a key (the LiteLLM proxy answers them with a 500): ask once with a
    deliberately wrong key. Refused → it wants a key, and that is what ``add`` says (and asks for); else the
    keyless answer stands."""
    from ..net.probe import probe
    from ..net.probe.verify import WRONG_KEY

    asked: ProbeResult = await probe(replace(target, base_url=base_url, key=WRONG_KEY, key_required=True))
    if asked.outcome not in AUTH:
        return keyless
    code = f"HTTP {keyless.status_code}" if keyless.status_code else keyless.summary
    return replace(asked, outcome=Outcome.AUTH_MISSING, usable=False, fix=None, key_source=None, key_verified=None,
                   verified_by=None, summary=f"the server wants a key (without one it answers {code})")


async def asked_with_a_key(target: ProbeTarget, keyless: ProbeResult) -> ProbeResult:
    """``keyless`` (a probe of ``target`` without a key), or, when it failed in a way that does not say whether a
    key is wanted (a server error, an ambiguous answer), what asking once with a wrong key says."""
    if keyless.outcome not in (Outcome.SERVER_ERROR, Outcome.AMBIGUOUS):
        return keyless
    return await _with_a_key(target, target.base_url, keyless)


def settings_for(found: Examined) -> dict[str, object]:
    """The provider's table for config.toml (``preset`` when the id is not the preset's own)."""
    settings: dict[str, object] = {}
    preset = catalog.preset(found.preset) if found.preset else None
    if preset is not None and preset.id != found.pid:
        settings["preset"] = preset.id
    settings["base_url"] = found.base_url  # always: a preset's env override must not move it elsewhere
    if preset is None and found.name != found.pid:
        settings["name"] = found.name
    return settings
