"""The names of the places a key is looked for, and the one wording every surface uses for them.

Imports nothing: ``llmswitch current`` (the read path) words its key line with it.
"""

from __future__ import annotations

__all__ = ["ABSENT", "COMMAND", "ENV", "KEYRING", "NONE", "OVERRIDE", "lookup_order", "place_words"]

OVERRIDE = "override"
"""``LLMSWITCH_KEY_<ID>``: wins over every other source."""
KEYRING = "keyring"
"""The OS keyring, service ``llmswitch``, username = provider id."""
ENV = "env"
"""A conventional or configured environment variable (``OPENROUTER_API_KEY``, ``key_source = "env:VAR"``)."""
COMMAND = "command"
"""``key_source = "command:…"``: the command's first line of output."""
NONE = "none"
"""``key_source = "none"``: no key is looked for or sent."""
ABSENT = "absent"
"""Looked everywhere the configuration says; nothing found."""


def place_words(kind: str, name: str = "") -> str:
    """How every surface names one place a key is looked for: ``env OPENROUTER_API_KEY``, ``keyring llmswitch/groq``,
    ``command pass show groq``, ``none``. The override is an env var too (``env LLMSWITCH_KEY_GROQ``).

    The one home of this wording: ``key where``'s steps, ``current``'s lookup order, the picker's key line and
    every fix that says where a key came from use it.
    """
    return f"{ENV if kind == OVERRIDE else kind} {name}".strip()


def lookup_order(source: str, *, override: str = "", keyring_entry: str = "", command: str = "",
                 env: tuple[str, ...] = (), required: bool = True) -> str:
    """The places one provider's key is looked for, first found wins: ``env LLMSWITCH_KEY_GROQ, then keyring
    llmswitch/groq, then env GROQ_API_KEY`` (``(optional)`` when no key is required). ``override`` empty: not read
    (a team provider not accepted). ``source`` is the ``key_source`` kind; ``none`` names the keyless server."""
    if source == NONE:
        return "none (keyless server)"
    places = [place_words(OVERRIDE, override)] if override else []
    if source == KEYRING and keyring_entry:
        places.append(place_words(KEYRING, keyring_entry))
    elif source == COMMAND and command:
        places.append(place_words(COMMAND, command))
    places += [place_words(ENV, name) for name in env]
    text = ", then ".join(places) or "nowhere"
    return text if required else text + " (optional)"
