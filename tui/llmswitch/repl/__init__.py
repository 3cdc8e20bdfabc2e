"""``/model`` for any REPL: parsing, fuzzy matching, scope, completion.

A REPL passes every line the user types to :meth:`ModelSwitcher.handle`;
``None`` means "not a model command, handle it yourself", anything else is a
:class:`Reply` to print. The switcher keeps a *session* choice per role that
wins over ``active.toml`` until ``/model --reset``; ``/model --save`` writes
the file through :func:`llmswitch.services.switch.switch` so every tool sees it::

    switcher = ModelSwitcher()
    reply = switcher.handle("/model sonnet")     # switches, lists, or says did-you-mean
    sel = switcher.selection()                   # the session's choice, else active.toml

Commands: ``/model`` (show; the picker in a terminal), ``/model QUERY``,
``/model PROVIDER/MODEL``, ``/model N`` (from the last list), ``/models
[QUERY]``, and the flags ``--save``, ``--role R``, ``--force``, ``--reset``.

Rules kept here:

* an explicit provider is a hard constraint: ``/model ollama/llama3`` never
  becomes another provider's model. Before switching, the target is probed
  (2 s by default); a server nothing answers for (connection refused, unknown
  host, TLS failure) or one that refuses the key is *not* switched to — the
  reply is the probe's one sentence (cause — fix) and ``/model --force …``
  switches anyway. A slow answer or an unlisted model switches with a warning;
* a query switches only when it has one clear match among *your* providers
  (configured, selected, recent, probed, or with a key in the environment);
  otherwise a short numbered list, or did-you-mean;
* every reply says which scope changed: this session, or active.toml.

The pieces: :mod:`.parse` (the command line), :mod:`.switcher` (the public
face), :mod:`.session` (the session's choice per role), :mod:`.model_command`
(what each command does), :mod:`.queries` (what a query or list finds), :mod:`.index`
(your providers and completion tables over :mod:`llmswitch.services.models`), :mod:`.gate` (the check before a switch),
:mod:`.completion` (readline and prompt_toolkit), :mod:`.reply` (replies and
numbered lists), :mod:`.explain` (what a failed request means).

Cheap to import: no Textual, openai, httpx or keyring at import time. The
completion index answers offline from the catalog plus the model lists the
last probes cached (:func:`llmswitch.store.state.known_models`).
"""

from __future__ import annotations

from ..services.models import ModelRow as Match
from .explain import RequestFailed, explain, explain_error, same_model
from .gate import PROBE_TIMEOUT
from .index import COMPLETION_LIMIT, ModelIndex
from .parse import COMMANDS, FLAGS, USAGE, Command, CommandError, parse
from .reply import LIST_LIMIT, Reply
from .switcher import ModelSwitcher

__all__ = ["COMMANDS", "COMPLETION_LIMIT", "FLAGS", "LIST_LIMIT", "PROBE_TIMEOUT", "USAGE", "Command", "CommandError",
           "Match", "ModelIndex", "ModelSwitcher", "Reply", "RequestFailed", "explain", "explain_error", "parse",
           "same_model"]
