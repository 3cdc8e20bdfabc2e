"""The Python API for tools: the selection, a configured client, the environment, live pick-up.

``active()`` and ``watch()`` are stdlib-only; ``client()`` imports openai and
the keyring only when called.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import selection as _selection
from .selection import DEFAULT_ROLE, ActiveSelection

if TYPE_CHECKING:
    import openai


def active(role: str = DEFAULT_ROLE) -> ActiveSelection:
    """The active selection for ``role``; raises ``NoSelection`` with the fix when nothing is selected."""
    return _selection.read(role)


def resolve_key(sel: ActiveSelection):
    """Where the selection's key comes from (a :class:`llmswitch.keys.Resolution`)."""
    from . import keys

    return keys.resolve(sel.keyring_username or sel.provider, source=sel.key_source, env=sel.key_env,
                        command=sel.key_command, required=sel.key_required)


def api_key(sel: ActiveSelection) -> str:
    """The key to send: the real one, or the documented placeholder for keyless servers.

    Raises ``MissingKey`` naming ``llmswitch key set PROVIDER`` when a key is
    required and none is found — a request is never sent without auth.
    """
    from .keys import KEYLESS_PLACEHOLDER

    return resolve_key(sel).require() or KEYLESS_PLACEHOLDER


def client_kwargs(sel: ActiveSelection) -> dict[str, Any]:
    """Keyword arguments for ``openai.OpenAI``: base_url, api_key, default_headers."""
    kwargs: dict[str, Any] = {"base_url": sel.base_url, "api_key": api_key(sel)}
    if sel.headers:
        kwargs["default_headers"] = dict(sel.headers)
    return kwargs


def client_for(sel: ActiveSelection, *, asynchronous: bool = False,
               **extra: Any) -> openai.OpenAI | openai.AsyncOpenAI:
    """An ``openai`` client for any selection (e.g. a REPL's session choice); see :func:`client`.

    Unless ``http_client`` is given, the SDK talks through :func:`llmswitch.http.sdk_client`:
    compressed answers are decoded with a cap, and a redirect to another origin is refused
    (``RedirectRefused``, with the probe's sentence) before anything is sent there.
    """
    import openai

    from .http import sdk_client

    kwargs = client_kwargs(sel)
    if "http_client" not in extra:
        extra["http_client"] = sdk_client(sel.base_url, asynchronous=asynchronous, provider=sel.provider)
    if sel.api_kind == "azure":
        azure = openai.AsyncAzureOpenAI if asynchronous else openai.AzureOpenAI
        return azure(azure_endpoint=kwargs.pop("base_url"), api_version=sel.api_version, **kwargs, **extra)
    plain = openai.AsyncOpenAI if asynchronous else openai.OpenAI
    return plain(**kwargs, **extra)


def client(role: str = DEFAULT_ROLE, **kwargs: Any):
    """An ``openai.OpenAI`` client for the role's selection (base_url is always passed explicitly)."""
    return client_for(active(role), **kwargs)


def async_client(role: str = DEFAULT_ROLE, **kwargs: Any):
    """An ``openai.AsyncOpenAI`` client for the role's selection."""
    return client_for(active(role), asynchronous=True, **kwargs)


def environment(sel: ActiveSelection, key: str | None) -> dict[str, str]:
    """The env vars ``llmswitch env``/``exec`` set; ``key`` None leaves the key vars out."""
    env = {
        "OPENAI_BASE_URL": sel.base_url,
        "OPENAI_API_BASE": sel.base_url,
        "OPENAI_MODEL": sel.model,
        "LLMSWITCH_ROLE": sel.role,
        "LLMSWITCH_PROVIDER": sel.provider,
        "LLMSWITCH_MODEL": sel.model,
        "LLMSWITCH_BASE_URL": sel.base_url,
        "LLMSWITCH_API_KIND": sel.api_kind,
    }
    if sel.headers:
        env["LLMSWITCH_HEADERS"] = json.dumps(sel.headers, separators=(",", ":"))
    if key is not None:
        env["OPENAI_API_KEY"] = key
    return env


class Watcher:
    """Cheap change detection for long-running tools.

    ``changed()`` is one ``stat`` call; ``current()`` re-reads the file only
    when it changed (mtime, size or inode — ``os.replace`` gives a new inode).
    """

    def __init__(self, role: str = DEFAULT_ROLE, path: Path | None = None):
        self.role = role
        self.path = path or _selection.paths.active_file()
        self._state = _selection.file_state(self.path)
        self._selection: ActiveSelection | None = None

    def changed(self) -> bool:
        """True when the file changed since the last ``current()`` (or since creation)."""
        return _selection.file_state(self.path) != self._state

    def current(self) -> ActiveSelection:
        """The role's selection, re-read only when the file changed."""
        state = _selection.file_state(self.path)
        if self._selection is None or state != self._state:
            self._selection = _selection.read(self.role, self.path)  # may raise: then nothing is marked seen
            self._state = state
        return self._selection


def watch(role: str = DEFAULT_ROLE) -> Watcher:
    """A :class:`Watcher` for ``role``: check ``changed()`` before each request."""
    return Watcher(role)
