"""Where a key came from — the fact every key fix is computed from. Stdlib only; never holds the key.

:func:`llmswitch.store.keys.resolve` records one :class:`KeyOrigin` per resolution; the probe
carries it on its target, so a rejected key's fix names the place the key actually came
from (the variable, the command, the keyring entry), not a place that was never consulted.
"""

from __future__ import annotations

from dataclasses import dataclass

from .keyplaces import ABSENT, COMMAND, ENV, KEYRING, NONE, OVERRIDE, place_words

__all__ = ["ABSENT", "COMMAND", "ENV", "KEYRING", "NONE", "OVERRIDE", "KeyOrigin"]


@dataclass(frozen=True)
class KeyOrigin:
    """Where the key of one provider came from, or where it was looked for when none was found."""

    kind: str
    """One of OVERRIDE, KEYRING, ENV, COMMAND, NONE, ABSENT."""
    name: str = ""
    """The variable (``OPENROUTER_API_KEY``), keyring entry (``llmswitch/groq``) or command, as configured."""
    configured: str = KEYRING
    """The provider's ``key_source`` kind: ``keyring``, ``env``, ``command`` or ``none``."""
    keyring_problem: str | None = None
    """Why the keyring could not be used, when it was consulted and failed (a cause sentence)."""
    keyring_remedy: str | None = None
    """How to make the keyring usable again (unlock it, start a Secret Service), with ``keyring_problem``."""
    override: str = ""
    """The provider's ``LLMSWITCH_KEY_<ID>`` variable (consulted first unless ``configured`` is ``none``)."""
    env: tuple[str, ...] = ()
    """The environment variables consulted after the provider's own source (or the one of ``env:VAR``)."""
    place: str = ""
    """Where the provider's ``key_source`` is (or would be) written: ``/…/config.toml:12``; empty when unknown."""

    @property
    def keyring_usable(self) -> bool:
        """False when the keyring was consulted and could not be used (locked, missing, plaintext only …)."""
        return self.keyring_problem is None

    def label(self) -> str:
        """``env OPENROUTER_API_KEY``, ``keyring llmswitch/groq``, ``command pass show groq``, ``none``.

        The override is an env var too (``env LLMSWITCH_KEY_GROQ``), as ``llmswitch key where`` lists it.
        """
        return place_words(self.kind, self.name)

