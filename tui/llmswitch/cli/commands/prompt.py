"""``prompt``: a short segment for a shell prompt, tmux or starship (the read path: no argparse, network or keyring).

Prints e.g. ``openrouter/claude-sonnet-4.5``, with the scope marked when it is not the user
default (``openrouter/x (project)``); nothing when no model is selected, so a prompt stays
clean. ``--format`` takes a template with the fields below. A broken file prints ``llmswitch?``
(and exits 1): ``llmswitch current`` says why; a prompt is no place for the sentence.
"""

from __future__ import annotations

from ..output import out

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import ArgumentParser

DEFAULT_FORMAT = "{ref}{mark}"
FIELDS = ("ref", "provider", "model", "role", "scope", "mark")
"""``mark``: `` (shell)``/`` (project)``/`` (.llmswitch.toml ignored)`` or empty; ``scope``: user, shell, project."""


def configure(name: str, parser: ArgumentParser) -> None:
    parser.add_argument("--role", default="default")
    parser.add_argument("--format", default=DEFAULT_FORMAT, help=f"template; fields: {', '.join(FIELDS)}")
    parser.set_defaults(func=lambda args: prompt(args.role, args.format))


def fast(argv: list[str]) -> tuple[str, str] | None:
    """(role, format) for the exact spellings ``--role R``, ``--format F`` (and ``=``); None for argparse."""
    options = {"--role": "default", "--format": DEFAULT_FORMAT}
    i = 0
    while i < len(argv):
        name, eq, value = argv[i].partition("=")
        if name not in options:
            return None
        if not eq:
            if i + 1 >= len(argv):
                return None
            i += 1
            value = argv[i]
        options[name] = value
        i += 1
    return options["--role"], options["--format"]


def prompt(role: str, template: str) -> int:
    from ...store import scopes

    try:
        looked = scopes.Scopes(quiet=True)
        resolved = looked.resolve(role)
    except Exception as exc:  # a prompt never prints a traceback; `llmswitch current` explains
        from ...base.errors import NoSelection

        if isinstance(exc, NoSelection):
            return 0
        out("llmswitch?")
        return 1
    sel = resolved.selection
    ignored = looked.overlay is not None and looked.overlay.status != "trusted"
    mark = f" ({resolved.scope})" if resolved.scope != "user" else " (.llmswitch.toml ignored)" if ignored else ""
    values = {"ref": sel.ref, "provider": sel.provider, "model": sel.model, "role": sel.role,
              "scope": resolved.scope, "mark": mark}
    try:
        out(template.format_map(values))
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        from ...base.errors import Exit, LlmswitchError

        raise LlmswitchError(f"--format {template!r} is not a template of these fields ({exc})",
                             "fields: " + ", ".join("{" + f + "}" for f in FIELDS), exit_code=Exit.USAGE) from None
    return 0
