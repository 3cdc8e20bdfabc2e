"""``llmswitch`` entry point: dispatch, and every failure rendered from its fields.

``llmswitch current`` (with ``--role``, ``--field``, ``--json``, ``--all``) is parsed
without argparse and imports only what reading ``active.toml`` needs; so is ``llmswitch
key get PROVIDER`` while :mod:`llmswitch.store.keyget` finds the key cheaply; every other
command builds the parser with only its own options (:mod:`.parser`).

A failure is an :class:`llmswitch.base.errors.LlmswitchError`: ``llmswitch: <sentence>`` on
stderr, its ``exit_code`` (:class:`llmswitch.base.errors.Exit`), and with ``--json`` the same
facts as data on stdout.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        return open_app()
    try:
        if argv[0] == "current":
            from .commands import current

            options = current.fast(argv[1:])
            if options is not None:
                return current.current(*options)
        if argv[0] == "prompt":  # the read path too: a prompt segment runs at every prompt
            from .commands import prompt

            chosen = prompt.fast(argv[1:])
            if chosen is not None:
                return prompt.prompt(*chosen)
        if argv[:2] == ["key", "get"] and len(argv) == 3 and not argv[2].startswith("-"):  # a credential helper
            from ..store.keyget import fast_get

            key = fast_get(argv[2])
            if key is not None:
                sys.stdout.write(key + "\n")
                return 0
        return dispatch(argv)
    except BaseException as exc:  # rendered below; anything else propagates unchanged
        return failed(exc, as_json="--json" in argv[: argv.index("--")] if "--" in argv else "--json" in argv)


def dispatch(argv: list[str]) -> int:
    from .parser import build

    parser = build(argv[0])
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 0
    code: int = func(args)
    return code


def failed(exc: BaseException, *, as_json: bool) -> int:
    """Render ``exc`` if it is a failure a person can act on; re-raise it otherwise."""
    if isinstance(exc, SystemExit):
        raise exc
    if isinstance(exc, BrokenPipeError):
        return 0
    from ..base.errors import Exit
    from .output import as_error, render_error

    if isinstance(exc, KeyboardInterrupt):
        sys.stderr.write("llmswitch: interrupted\n")
        return Exit.INTERRUPTED
    error = as_error(exc)
    if error is not None:
        return render_error(error, as_json=as_json)
    if isinstance(exc, OSError):
        from ..base.errors import LlmswitchError

        where = f" {exc.filename}" if exc.filename else ""
        return render_error(LlmswitchError(f"could not access{where} ({exc.strerror or exc})",
                                           "check permissions and free space", exit_code=Exit.USAGE), as_json=as_json)
    raise exc


def open_app() -> int:
    """No arguments: the picker in a terminal; help when there is no terminal to draw on."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        from .parser import build

        build().print_help()
        sys.stderr.write("llmswitch: the picker needs a terminal — run a command above, e.g. llmswitch current\n")
        return 2
    from ..app import run

    code: int = run()
    return code
