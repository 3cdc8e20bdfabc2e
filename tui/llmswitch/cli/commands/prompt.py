"""``prompt``: a short segment for a shell prompt, tmux or starship (the read path: no argparse, network or keyring).

Prints e.g. ``openrouter/claude-sonnet-4.5``, with the scope marked when it is not the user
default (``openrouter/x (project)``); nothing when no model is selected, so a prompt stays
clean. ``--format`` takes a template with the fields below. A broken file prints ``llmswitch?``
(and exits 1): ``llmswitch current`` says why; a prompt is no place for the sentence.

``prompt --init bash|zsh|fish`` prints a shell function, ``llmswitch_prompt``, that prints what
``llmswitch prompt`` prints without starting Python where no project file applies: it walks up
for ``.llmswitch.toml`` itself (any found: it runs ``llmswitch prompt``, which decides trust),
reads ``$LLMSWITCH_USE`` itself, and otherwise prints the segment every writer of the selection
keeps beside active.toml (:func:`llmswitch.store.scopes.segment_file`). Anything it is not sure of
(a stale or missing segment, an unusual ``$LLMSWITCH_USE``, a provider without a role in
active.toml) it hands to ``llmswitch prompt``.
"""

from __future__ import annotations

from ..output import out

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import ArgumentParser

DEFAULT_FORMAT = "{ref}{mark}"  # scopes.PROMPT_FORMAT (not imported here: argparse's help needs no store module)
FIELDS = ("ref", "provider", "model", "role", "scope", "mark")
"""``mark``: `` (shell)``/`` (project)``/`` (.llmswitch.toml ignored)`` or empty; ``scope``: user, shell, project."""
SHELLS = ("bash", "zsh", "fish")


def configure(name: str, parser: ArgumentParser) -> None:
    parser.add_argument("--role", default="default")
    parser.add_argument("--format", default=DEFAULT_FORMAT, help=f"template; fields: {', '.join(FIELDS)}")
    parser.add_argument("--init", choices=SHELLS, metavar="SHELL",
                        help="print the shell function llmswitch_prompt (bash, zsh or fish): the same segment, "
                             "without starting Python where no project file applies")
    parser.set_defaults(func=lambda args: init(args.init) if args.init else prompt(args.role, args.format))


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
    try:
        out(scopes.prompt_segment(resolved, looked.overlay, template))
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        from ...base.errors import Exit, LlmswitchError

        raise LlmswitchError(f"--format {template!r} is not a template of these fields ({exc})",
                             "fields: " + ", ".join("{" + f + "}" for f in FIELDS), exit_code=Exit.USAGE) from None
    return 0


# --- llmswitch_prompt, in each shell -------------------------------------------------------------
# The same steps in three dialects. Exactly what `llmswitch prompt` (default role, default format) does:
# 1. the project scope: `.llmswitch.toml` from the working directory as the OS reports it (pwd -P) up to
#    $HOME or /, a dangling link included; found: `llmswitch prompt` decides (trusted, changed, ignored);
# 2. the shell scope: each `;`-separated entry of $LLMSWITCH_USE must be role=provider/model in the plain
#    shape `llmswitch shell use` writes (else `llmswitch prompt` judges it); the default role's reference,
#    if its provider has a role in active.toml, is printed with " (shell)";
# 3. the user scope: no active.toml prints nothing; else line 1 of .active.toml.prompt, unless active.toml
#    is newer than it (edited by hand): then `llmswitch prompt`.

_CONFIG_DIR = {
    "bash": '''    if [[ -n ${LLMSWITCH_CONFIG_DIR:-} ]]; then
        cfg=$LLMSWITCH_CONFIG_DIR
        if [[ $cfg == "~" || $cfg == "~/"* ]]; then cfg=$HOME${cfg#"~"}; elif [[ $cfg == "~"* ]]; then command llmswitch prompt; return; fi
    elif [[ ${XDG_CONFIG_HOME:-} == /* ]]; then cfg=$XDG_CONFIG_HOME/llmswitch
    elif [[ $HOME == /* ]]; then cfg=$HOME/.config/llmswitch
    else command llmswitch prompt; return
    fi''',
    "zsh": '''    if [[ -n ${LLMSWITCH_CONFIG_DIR:-} ]]; then
        cfg=$LLMSWITCH_CONFIG_DIR
        if [[ $cfg == "~" || $cfg == "~/"* ]]; then cfg=$HOME${cfg#"~"}; elif [[ $cfg == "~"* ]]; then command llmswitch prompt; return; fi
    elif [[ ${XDG_CONFIG_HOME:-} == /* ]]; then cfg=$XDG_CONFIG_HOME/llmswitch
    elif [[ $HOME == /* ]]; then cfg=$HOME/.config/llmswitch
    else command llmswitch prompt; return
    fi''',
    "fish": '''    if set -q LLMSWITCH_CONFIG_DIR; and test -n "$LLMSWITCH_CONFIG_DIR"
        set cfg $LLMSWITCH_CONFIG_DIR
        if test "$cfg" = "~"; or string match -q -- "~/*" $cfg
            set cfg $HOME(string sub -s 2 -- $cfg)
        else if string match -q -- "~*" $cfg
            command llmswitch prompt; return $status
        end
    else if set -q XDG_CONFIG_HOME; and string match -q -- "/*" "$XDG_CONFIG_HOME"
        set cfg $XDG_CONFIG_HOME/llmswitch
    else if string match -q -- "/*" "$HOME"
        set cfg $HOME/.config/llmswitch
    else
        command llmswitch prompt; return $status
    end''',
}
_NOT_XDG = {  # elsewhere (macOS, Windows, Android) the default directory is platformdirs': llmswitch says it
    "bash": '''    if [[ -z ${LLMSWITCH_CONFIG_DIR:-} ]]; then command llmswitch prompt; return; fi
    cfg=$LLMSWITCH_CONFIG_DIR
    if [[ $cfg == "~"* ]]; then command llmswitch prompt; return; fi''',
    "zsh": '''    if [[ -z ${LLMSWITCH_CONFIG_DIR:-} ]]; then command llmswitch prompt; return; fi
    cfg=$LLMSWITCH_CONFIG_DIR
    if [[ $cfg == "~"* ]]; then command llmswitch prompt; return; fi''',
    "fish": '''    if not set -q LLMSWITCH_CONFIG_DIR; or test -z "$LLMSWITCH_CONFIG_DIR"; or string match -q -- "~*" $LLMSWITCH_CONFIG_DIR
        command llmswitch prompt; return $status
    end
    set cfg $LLMSWITCH_CONFIG_DIR''',
}
_ENTRY = r"^[a-z][a-z0-9_-]{0,31}=[a-z0-9._-]{1,64}/[A-Za-z0-9._:@/+-]+$"
"""An entry of ``$LLMSWITCH_USE`` the function reads itself: a subset of what :func:`llmswitch.store.scopes.shell_refs`
accepts (role names, provider ids, and no character a shell or the parser acts on). bash and zsh spell it
as glob tests (a regex is compiled on every call there); fish as this regex."""

_POSIX = '''# llmswitch_prompt: what `llmswitch prompt` prints here, without starting Python where no project file applies.
# Generated by: llmswitch prompt --init {shell}
llmswitch_prompt() {{
    local dir home cfg active seg line1= line2= fresh= rest entry ref= role ref_ provider
    {physical}
    home=$HOME; [[ $home == /* ]] || home=; [[ $home == / ]] || home=${{home%/}}
    while [[ -n $dir ]]; do
        if [[ -e $dir/.llmswitch.toml || -L $dir/.llmswitch.toml ]]; then command llmswitch prompt; return; fi
        [[ $dir == "$home" || $dir == / ]] && break
        dir=${{dir%/*}}; dir=${{dir:-/}}
    done
{config_dir}
    active=$cfg/active.toml; seg=$cfg/.active.toml.prompt
    if [[ -e $active && -f $seg && ! $active -nt $seg ]]; then
        {{ IFS= read -r line1; IFS= read -r line2; }} < "$seg" && fresh=1
    fi
    if [[ -n ${{LLMSWITCH_USE:-}} ]]; then
        rest=$LLMSWITCH_USE
        while :; do
            entry=${{rest%%;*}}
            if [[ -n $entry ]]; then
                role=${{entry%%=*}}; ref_=${{entry#*=}}; provider=${{ref_%%/*}}
                if [[ $entry != *=* || $role != [a-z]* || $role == *[!a-z0-9_-]* || ${{#role}} -gt 32
                      || $ref_ != */?* || -z $provider || $provider == *[!a-z0-9._-]* || ${{#provider}} -gt 64
                      || ${{ref_#*/}} == *[!A-Za-z0-9._:@/+-]* ]]; then command llmswitch prompt; return; fi
                [[ $entry == default=* ]] && ref=${{entry#default=}}
            fi
            [[ $rest == *";"* ]] || break
            rest=${{rest#*;}}
        done
        if [[ -n $ref ]]; then
            if [[ -n $fresh && " $line2 " == *" ${{ref%%/*}} "* ]]; then printf '%s (shell)\\n' "$ref"; return 0; fi
            command llmswitch prompt; return
        fi
    fi
    [[ -e $active || -L $active ]] || return 0
    [[ -n $fresh ]] || {{ command llmswitch prompt; return; }}
    [[ -z $line1 ]] || printf '%s\\n' "$line1"
}}
'''
_PHYSICAL = {"bash": "dir=$(builtin pwd -P 2>/dev/null)", "zsh": "dir=${PWD:A}"}
_FISH = '''# llmswitch_prompt: what `llmswitch prompt` prints here, without starting Python where no project file applies.
# Generated by: llmswitch prompt --init fish
function llmswitch_prompt
    set -l dir (builtin pwd -P 2>/dev/null)
    set -l home $HOME
    string match -q -- "/*" "$home"; or set home ""
    test "$home" = /; or set home (string replace -r -- '/$' '' "$home")
    while test -n "$dir"
        if test -e "$dir/.llmswitch.toml"; or test -L "$dir/.llmswitch.toml"
            command llmswitch prompt; return $status
        end
        if test "$dir" = "$home"; or test "$dir" = /
            break
        end
        set dir (string replace -r -- '/[^/]*$' '' "$dir")
        test -n "$dir"; or set dir /
    end
    set -l cfg
{config_dir}
    set -l active $cfg/active.toml
    set -l seg $cfg/.active.toml.prompt
    set -l lines
    if test -e "$active"; and test -f "$seg"; and not test "$active" -nt "$seg"
        while read -l line
            set -a lines "$line"
        end < $seg
    end
    if set -q LLMSWITCH_USE; and test -n "$LLMSWITCH_USE"
        set -l ref
        for entry in (string split -- ";" "$LLMSWITCH_USE")
            test -n "$entry"; or continue
            if not string match -rq -- '{entry}' "$entry"
                command llmswitch prompt; return $status
            end
            string match -q -- "default=*" "$entry"; and set ref (string sub -s 9 -- "$entry")
        end
        if test -n "$ref"
            set -l provider (string split -m 1 -- / "$ref")[1]
            if test (count $lines) -ge 2; and contains -- $provider (string split -- " " "$lines[2]")
                printf '%s (shell)\\n' "$ref"; return 0
            end
            command llmswitch prompt; return $status
        end
    end
    test -e "$active"; or test -L "$active"; or return 0
    if test (count $lines) -lt 2
        command llmswitch prompt; return $status
    end
    test -z "$lines[1]"; or printf '%s\\n' "$lines[1]"
end
'''


def init_script(shell: str, *, xdg: bool | None = None) -> str:
    """The ``llmswitch_prompt`` function for ``shell`` (``xdg``: the XDG directory rule applies; default: here)."""
    from ...base import paths

    rule = (_CONFIG_DIR if (paths.is_plain_linux() if xdg is None else xdg) else _NOT_XDG)[shell]
    if shell == "fish":
        return _FISH.replace("{config_dir}", rule).replace("{entry}", _ENTRY)
    return _POSIX.format(shell=shell, physical=_PHYSICAL[shell], config_dir=rule)


def init(shell: str) -> int:
    out(init_script(shell).rstrip("\n"))
    return 0
