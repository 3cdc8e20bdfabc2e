"""The Python API for tools: the selection, a configured client, the environment, live pick-up.

``active()`` and ``watch()`` are stdlib-only and light (the read path: no json,
typing or pathlib at import); ``client()`` imports openai, the providers file and
the keyring only when called.

llmswitch's own key resolution (``client()``, ``exec``, ``env``, chat, ``key get
--role``) takes the key source from ``config.toml``: ``active.toml`` carries the
key *reference* for other readers, and when the two disagree nothing is resolved
(:func:`provider_for`).
"""

from __future__ import annotations

import os

from .base import paths as _paths
from .store import selection as _selection
from .store.selection import DEFAULT_ROLE, ActiveSelection

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path
    from typing import Any

    import openai

    from .store.config import Config, ProviderConfig
    from .store.keys import Resolution
    from .store.scopes import Resolved

ANTHROPIC_VARS = ("ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_MODEL",
                  "ANTHROPIC_DEFAULT_HAIKU_MODEL", "ANTHROPIC_SMALL_FAST_MODEL")
"""What :mod:`llmswitch.net.anthropic_env` may set for a selection that speaks Anthropic Messages (imported only then)."""
GEMINI_VARS = ("GOOGLE_GEMINI_BASE_URL", "GEMINI_API_KEY")
"""What :mod:`llmswitch.net.gemini_env` may set for a selection whose provider serves Google's Gemini API."""
OWNED_VARS = ("OPENAI_BASE_URL", "OPENAI_API_BASE", "OPENAI_MODEL", "OPENAI_API_KEY", "OPENAI_API_TYPE",
              "OPENAI_API_VERSION", "LLMSWITCH_ROLE", "LLMSWITCH_PROVIDER", "LLMSWITCH_MODEL", "LLMSWITCH_BASE_URL",
              "LLMSWITCH_API_KIND", "LLMSWITCH_HEADERS", *ANTHROPIC_VARS, *GEMINI_VARS)
"""Every variable ``env``/``exec`` set; each is set or cleared, never inherited from another selection."""
ORG_VARS = ("OPENAI_ORG_ID", "OPENAI_ORGANIZATION", "OPENAI_PROJECT_ID")
"""OpenAI's organisation/project: meaningful only for api.openai.com, cleared for every other endpoint."""


def active(role: str = DEFAULT_ROLE) -> ActiveSelection:
    """The selection for ``role`` here: shell scope, then project, then user (:mod:`llmswitch.store.scopes`).

    Raises ``NoSelection`` with the fix when nothing is selected. ``llmswitch.store.scopes.resolve(role)``
    also says which scope and file it came from.
    """
    from .store.scopes import active as _active

    return _active(role)


def scope(role: str = DEFAULT_ROLE) -> Resolved:
    """Where ``role``'s selection comes from here: ``.scope`` (session/shell/project/user), ``.origin``
    (``LLMSWITCH_USE``, the ``.llmswitch.toml`` or active.toml), ``.line``, and ``.selection``."""
    from .store.scopes import resolve

    return resolve(role)


# --- keys: resolved from config.toml ----------------------------------------------------------

def provider_for(sel: ActiveSelection, config: Config | None = None) -> ProviderConfig:
    """The provider config.toml (or a preset) has for ``sel``, whose key source llmswitch uses
    (:func:`llmswitch.store.keys.provider_for`: refuses, with the fix, a provider gone or a key reference that drifted)."""
    from .store import keys

    return keys.provider_for(sel, config)


def resolve_key(sel: ActiveSelection, config: Config | None = None) -> Resolution:
    """Where the selection's key comes from (a :class:`llmswitch.store.keys.Resolution`), per config.toml."""
    from .store import keys

    return keys.resolve_for(provider_for(sel, config))


def api_key(sel: ActiveSelection, config: Config | None = None) -> str:
    """The key to send: the real one, or the documented placeholder for keyless servers.

    Raises ``MissingKey`` naming ``llmswitch key set PROVIDER`` when a key is
    required and none is found — a request is never sent without auth.
    """
    from .store.keys import KEYLESS_PLACEHOLDER

    return resolve_key(sel, config).require() or KEYLESS_PLACEHOLDER


def client_kwargs(sel: ActiveSelection) -> dict[str, Any]:
    """Keyword arguments for ``openai.OpenAI``: base_url, api_key, default_headers."""
    from .store import config as _config
    from .store import keys

    config = _config.load()
    kwargs: dict[str, Any] = {"base_url": sel.base_url, "api_key": api_key(sel, config)}
    # headers come from config.toml, like the key source (active.toml's copy is for other readers);
    # secret ones ({ env = … } / { keyring = … }) are resolved here, never written anywhere
    headers = keys.headers_for(provider_for(sel, config))
    if headers:
        kwargs["default_headers"] = headers
    return kwargs


def client_for(sel: ActiveSelection, *, asynchronous: bool = False,
               **extra: Any) -> openai.OpenAI | openai.AsyncOpenAI:
    """An ``openai`` client for any selection (e.g. a REPL's session choice); see :func:`client`.

    Unless ``http_client`` is given, the SDK talks through :func:`llmswitch.net.http.sdk_client`:
    compressed answers are decoded with a cap, and a redirect to another origin is refused
    (``RedirectRefused``, with the probe's sentence) before anything is sent there.
    """
    import openai

    from .net import azure as _azure
    from .net.http import sdk_client

    kwargs = client_kwargs(sel)
    if "http_client" not in extra:
        extra["http_client"] = sdk_client(sel.base_url, asynchronous=asynchronous, provider=sel.provider)
    if sel.api_kind == "azure" and sel.api_version:  # the dated API; URLs as llmswitch.net.azure builds them
        azure = openai.AsyncAzureOpenAI if asynchronous else openai.AzureOpenAI
        return azure(azure_endpoint=_azure.endpoint(kwargs.pop("base_url")), api_version=sel.api_version,
                     **kwargs, **extra)
    if sel.api_kind == "azure":  # the v1 API: any OpenAI client at {endpoint}/openai/v1
        kwargs["base_url"] = _azure.openai_base(sel.base_url, None)
    plain = openai.AsyncOpenAI if asynchronous else openai.OpenAI
    return plain(**kwargs, **extra)


def client(role: str = DEFAULT_ROLE, **kwargs: Any) -> openai.OpenAI:
    """An ``openai.OpenAI`` client for the role's selection (base_url is always passed explicitly)."""
    import openai

    made = client_for(active(role), **kwargs)
    assert isinstance(made, openai.OpenAI)  # asynchronous=False: the sync class (AzureOpenAI is one)
    return made


def async_client(role: str = DEFAULT_ROLE, **kwargs: Any) -> openai.AsyncOpenAI:
    """An ``openai.AsyncOpenAI`` client for the role's selection."""
    import openai

    made = client_for(active(role), asynchronous=True, **kwargs)
    assert isinstance(made, openai.AsyncOpenAI)
    return made


# --- the environment ----------------------------------------------------------------------------

def environment(sel: ActiveSelection, key: str | None, provider: ProviderConfig | None = None) -> dict[str, str]:
    """The env vars ``llmswitch env``/``exec`` set; ``key`` None leaves the key vars out.

    When the selection speaks Anthropic Messages (``provider`` tells a gateway that does), the
    ``ANTHROPIC_*`` variables too (:mod:`llmswitch.net.anthropic_env`).
    """
    from .net import azure as _azure

    base = sel.base_url
    if sel.api_kind == "azure":  # v1 API: {endpoint}/openai/v1; dated: the endpoint, with OPENAI_API_VERSION
        base = _azure.openai_base(sel.base_url, sel.api_version) or _azure.endpoint(sel.base_url)
    env = {
        "OPENAI_BASE_URL": base,
        "OPENAI_API_BASE": base,
        "OPENAI_MODEL": sel.model,
        "LLMSWITCH_ROLE": sel.role,
        "LLMSWITCH_PROVIDER": sel.provider,
        "LLMSWITCH_MODEL": sel.model,
        "LLMSWITCH_BASE_URL": sel.base_url,
        "LLMSWITCH_API_KIND": sel.api_kind,
    }
    if sel.api_kind == "azure" and sel.api_version:  # the v1 API is plain OpenAI: no Azure type or version
        env["OPENAI_API_TYPE"] = "azure"
        env["OPENAI_API_VERSION"] = sel.api_version
    if sel.headers:
        import json

        env["LLMSWITCH_HEADERS"] = json.dumps(sel.headers, separators=(",", ":"))
    if key is not None:
        env["OPENAI_API_KEY"] = key
    from .net import anthropic_env

    root = anthropic_env.messages_root(sel, provider)
    if root is not None:
        env.update(anthropic_env.variables(sel, key, root, anthropic_env.small_role(sel)))
    from .net import gemini_env

    gemini_root = gemini_env.root_for(sel, provider)
    if gemini_root is not None:
        env.update(gemini_env.variables(gemini_root, key))
    return env


def _is_openai(base_url: str) -> bool:
    return base_url.lower().startswith("https://api.openai.com/")


def cleared(sel: ActiveSelection, setting: Mapping[str, str]) -> list[str]:
    """The variables to remove beside ``setting``: ours it does not set, and those that would contradict it."""
    drop = [name for name in OWNED_VARS if name not in setting]
    if not _is_openai(sel.base_url):
        drop += ORG_VARS
    return drop


def child_environment(sel: ActiveSelection, key: str | None, environ: Mapping[str, str] | None = None,
                      provider: ProviderConfig | None = None) -> dict[str, str]:
    """The whole environment ``exec`` hands the command: ``environ`` with every owned variable set or cleared."""
    setting = environment(sel, key, provider)
    env = dict(os.environ if environ is None else environ)
    for name in cleared(sel, setting):
        env.pop(name, None)
    env.update(setting)
    return env


# --- live pick-up -----------------------------------------------------------------------------

class Watcher:
    """Cheap change detection for long-running tools.

    ``changed()`` is a few ``stat`` calls; ``current()`` re-reads only when something changed
    (mtime, size or inode — ``os.replace`` gives a new inode). Without ``path`` it follows the
    scopes (:mod:`llmswitch.store.scopes`): ``$LLMSWITCH_USE``, the nearest ``.llmswitch.toml`` and its
    trust list, then active.toml; ``resolved`` says which scope the last ``current()`` came from.
    """

    def __init__(self, role: str = DEFAULT_ROLE, path: Path | str | None = None) -> None:
        self.role = role
        self.scoped = path is None
        self.path = _paths.active_path() if path is None else os.fspath(path)
        self._state = self._look()
        self._selection: ActiveSelection | None = None
        self.resolved: Any = None

    def _look(self) -> object:
        state = _selection.file_state(self.path)
        if not self.scoped:
            return state
        from .store.overlay import find, trust_path
        from .store.scopes import SHELL_VAR

        found = find()
        return (state, os.environ.get(SHELL_VAR), found, found and _selection.file_state(found),
                found and _selection.file_state(trust_path()))

    def changed(self) -> bool:
        """True when the selection's sources changed since the last ``current()`` (or since creation)."""
        return self._look() != self._state

    def current(self) -> ActiveSelection:
        """The role's selection, re-read only when a source changed."""
        state = self._look()
        if self._selection is None or state != self._state:
            if self.scoped:
                from .store.scopes import resolve

                self.resolved = resolve(self.role)  # may raise: then nothing is marked seen
                self._selection = self.resolved.selection
            else:
                self._selection = _selection.read(self.role, self.path)
            self._state = state
        return self._selection


def watch(role: str = DEFAULT_ROLE) -> Watcher:
    """A :class:`Watcher` for ``role``: check ``changed()`` before each request."""
    return Watcher(role)
