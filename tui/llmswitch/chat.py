"""``llmswitch chat``: a line REPL that streams answers from the selected model.

It is the reference user of :mod:`llmswitch.repl`: ``/model`` and ``/models``
go to a :class:`~llmswitch.repl.ModelSwitcher`; between turns the switcher
polls active.toml, so a switch made in the picker or another terminal is used
by the next request (a session choice made with ``/model`` wins until
``/model --reset``).

Output: answers go to stdout; notes (which model answered, warnings, file
changes) go to stderr, so ``echo hi | llmswitch chat > answer.txt`` keeps only
the answer. Exit codes (:class:`llmswitch.base.errors.Exit`): 0 ok, 1 a request
failed (non-interactive), 2 an invalid file, 3 no selection, 4 key problem.
Every failure is printed from the error's fields (cause — fix).
"""

from __future__ import annotations

import os
import sys
import threading
from typing import TYPE_CHECKING, Any, TextIO

from .api import client_for, client_kwargs
from .base import paths
from .base.errors import Exit, LlmswitchError
from .base.files import ensure_private_dir
from .base.redact import terminal_safe, terminal_safe_lines
from .repl import COMMANDS, ModelSwitcher, explain, same_model
from .repl.reply import count
from .store.keys import KeyProblem
from .store.selection import ActiveSelection, NoSelection, SelectionError, check_role

if TYPE_CHECKING:  # pragma: no cover
    from argparse import Namespace
    from pathlib import Path
    from types import ModuleType
CHAT_COMMANDS = (*COMMANDS, "/role", "/clear", "/help", "/exit", "/quit")
HISTORY_LENGTH = 1000
REQUEST_TIMEOUT = 300.0
"""Seconds an answer may take (the connection itself gets 10)."""
HELP = """\
commands:
  /model                 show the model in use and where it comes from (the picker, in a terminal)
  /model QUERY           switch this session to the one model matching QUERY (else a numbered list)
  /model PROVIDER/MODEL  switch to exactly that (a dead server is refused; --force switches anyway)
  /model N               pick from the last numbered list
  /model --save [...]    also make it the default for every tool (writes active.toml)
  /model --project [...] also make it this project's choice (writes ./.llmswitch.toml and trusts it)
  /model --reset         drop this session's choice and follow active.toml again
  /models [QUERY]        list models with context size and price (your providers first)
  /role [ROLE]           show or change the role this chat uses (default, small, …)
  /clear                 forget the conversation
  /help                  this text
  /exit                  quit (or Ctrl-D); Ctrl-C stops an answer"""


def clean(text: str) -> str:
    """Answer text safe for a terminal: line breaks kept, escape sequences neutralised."""
    return terminal_safe_lines(text)


class ChatSession:
    """The conversation, the client for the current selection, and the turn loop."""

    def __init__(self, switcher: ModelSwitcher, *, out: TextIO | None = None, err: TextIO | None = None,
                 interactive: bool = False) -> None:
        self.switcher = switcher
        # the streams in force when the session starts (a default bound at import time would outlive a redirection)
        self.out, self.err = out or sys.stdout, err or sys.stderr
        self.interactive = interactive
        self.messages: list[dict[str, str]] = []
        self.failures = 0
        self.last_code: int = Exit.OK
        self._client: Any = None
        self._client_for: tuple[Any, ...] | None = None
        self._key: str | None = None
        self._announce = True
        self._warned: set[tuple[str, str]] = set()
        self._last_ref: str | None = None
        self._dim = interactive and self.err.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"

    # -- output
    def note(self, text: str) -> None:
        self.out.flush()
        for line in terminal_safe_lines(text).splitlines() or [""]:
            self.err.write(f"\x1b[2m{line}\x1b[0m\n" if self._dim else line + "\n")
        self.err.flush()

    def say(self, text: str) -> None:
        self.out.write(terminal_safe_lines(text) + "\n")
        self.out.flush()

    def poll(self) -> None:
        for note in self.switcher.poll():
            self.note(note)
        try:
            ref = self.switcher.selection().ref
        except SelectionError:
            return
        if ref != self._last_ref:
            self._announce = True
            self._last_ref = ref

    # -- commands
    def command(self, line: str) -> bool:
        """Run a slash command; False means: leave the REPL."""
        word = line.split(maxsplit=1)[0]
        if word in ("/exit", "/quit"):
            return False
        if word == "/help":
            self.say(HELP)
        elif word == "/clear":
            n = len(self.messages)
            self.messages.clear()
            self.say(f"conversation cleared ({count(n, 'message')} forgotten)" if n else "conversation was already empty")
        elif word == "/role":
            self.role(line.split()[1:])
        else:
            reply = self.switcher.handle(line)
            if reply is None:
                known = " ".join(CHAT_COMMANDS[:-1])
                self.note(f"unknown command {word} — commands: {known} (/help explains them)")
                return True
            self.say(reply.text)
            for warning in reply.warnings:
                self.note(f"warning: {warning}")
            if reply.selection is not None:
                self._announce = True
                threading.Thread(target=self.switcher.warm, daemon=True).start()
            if not reply.ok and not self.interactive:
                self.failures += 1
                self.last_code = Exit.CHECK
        return True

    def role(self, args: list[str]) -> None:
        if not args:
            self.say(f"role {self.switcher.role}: {self.switcher.describe(label=False)}")
            others = [r for r in self.switcher.roles() if r != self.switcher.role]
            if others:
                self.say(f"other roles: {', '.join(others)} — /role NAME switches")
            return
        name = args[0]
        try:
            check_role(name)
            self.switcher.selection(name)
        except NoSelection as exc:
            self.note(f"{as_error(exc).sentence()} (or for this session: /model --role {name} PROVIDER/MODEL); "
                      f"still role {self.switcher.role}")
            return
        except SelectionError as exc:
            self.note(as_error(exc).sentence())
            return
        self.switcher.role = name
        self._announce = True
        self.say(f"now using role {name}: {self.switcher.describe(label=False)}")

    # -- a turn
    def client(self, sel: ActiveSelection) -> Any:
        """An ``openai`` client for ``sel``, reused while the selection's endpoint and key stay the same."""
        kwargs = client_kwargs(sel)  # raises KeyProblem (MissingKey, UnusableKey …) with the fix
        identity = (sel.base_url, sel.api_kind, sel.api_version, kwargs["api_key"],
                    tuple(sorted(kwargs.get("default_headers", {}).items())))
        if self._client is None or identity != self._client_for:
            import openai

            self._client = client_for(sel, max_retries=1, timeout=openai.Timeout(REQUEST_TIMEOUT, connect=10.0))
            self._client_for = identity
            self._key = kwargs["api_key"]
        return self._client

    def ask(self, text: str) -> bool:
        """Send one user message and stream the answer; False when it failed."""
        self.poll()
        try:
            sel = self.switcher.selection()
            client = self.client(sel)
        except (SelectionError, KeyProblem, LlmswitchError) as exc:
            return self._fail(as_error(exc))
        import httpx
        import openai

        self.messages.append({"role": "user", "content": text})
        parts: list[str] = []
        stream = None
        interrupted = False
        reported = None
        try:
            stream = client.chat.completions.create(model=sel.model, messages=self.messages, stream=True)
            for chunk in stream:
                if reported is None and getattr(chunk, "model", None):
                    reported = chunk.model
                    self._header(sel, reported)
                for choice in chunk.choices or ():
                    piece = getattr(choice.delta, "content", None) if choice.delta else None
                    if piece:
                        parts.append(piece)
                        self.out.write(clean(piece))
                        self.out.flush()
        except KeyboardInterrupt:
            interrupted = True
        except (openai.APIError, httpx.HTTPError) as exc:
            if parts:
                self.out.write("\n")
            self.messages.pop()
            return self._fail(explain(exc, sel, self._key, REQUEST_TIMEOUT))
        finally:
            if stream is not None:
                try:
                    stream.close()
                except Exception:  # noqa: BLE001 - closing a broken stream must not hide the answer
                    pass
        if parts and not parts[-1].endswith("\n"):
            self.out.write("\n")
        self.out.flush()
        if reported is None and self._announce and not interrupted:
            self._announce = False
            self.note(f"[{sel.ref} · the server did not say which model answered]")
        if not parts and not interrupted:
            self.note(f"[{sel.provider} sent an empty answer]")
        if interrupted:
            self.note("[stopped]")
            if not parts:
                self.messages.pop()
                return True
        self.messages.append({"role": "assistant", "content": "".join(parts)})
        return True

    def _header(self, sel: ActiveSelection, reported: str) -> None:
        shown = terminal_safe(reported, 120)
        if self._announce:
            self._announce = False
            where = "this session" if self.switcher.source() == "session" else self.switcher.scope()
            self.note(f"[{sel.ref} · server reports {shown} · {where}]")
        if not same_model(sel.model, reported) and (sel.model, reported) not in self._warned:
            self._warned.add((sel.model, reported))
            self.note(f"warning: asked {sel.provider} for {sel.model} but it answered as {shown} — "
                      f"the server may have substituted another model")

    def _fail(self, error: LlmswitchError) -> bool:
        message = error.sentence()
        self.note(message if self.interactive else f"llmswitch: {message}")
        self.failures += 1
        self.last_code = error.exit_code
        return False


_EXIT_CODES = ((NoSelection, Exit.NOT_FOUND), (SelectionError, Exit.USAGE), (KeyProblem, Exit.KEY))


def as_error(exc: Exception) -> LlmswitchError:
    """``exc`` as an :class:`~llmswitch.base.errors.LlmswitchError` (cause, fix, exit code).

    The core's errors are ones already; one that is not yet gets the documented exit code of its kind.
    """
    if isinstance(exc, LlmswitchError):
        return exc
    code = next((code for kind, code in _EXIT_CODES if isinstance(exc, kind)), Exit.CHECK)
    return LlmswitchError(str(exc), exit_code=code)


# --- the loop ----------------------------------------------------------------------------------

def _history_path() -> Path:
    return paths.state_dir() / "chat_history"


def _setup_readline(switcher: ModelSwitcher) -> ModuleType | None:
    try:
        import readline
    except ImportError:  # pragma: no cover - Windows without pyreadline
        return None
    readline.set_completer(switcher.readline_completer)
    readline.set_completer_delims(" \t\n")
    if "libedit" in (readline.__doc__ or ""):  # pragma: no cover - macOS system Python
        readline.parse_and_bind("bind ^I rl_complete")
    else:
        readline.parse_and_bind("tab: complete")
    readline.set_history_length(HISTORY_LENGTH)
    path = _history_path()
    try:
        readline.read_history_file(path)
    except OSError:
        pass
    return readline


def _save_history(readline: ModuleType | None) -> None:
    if readline is None:
        return
    path = _history_path()
    try:
        ensure_private_dir(path.parent)
        readline.write_history_file(path)
        os.chmod(path, 0o600)
    except OSError:
        pass


def run_chat(args: Namespace) -> int:
    """``llmswitch chat [--role R]``."""
    interactive = sys.stdin.isatty()
    role = getattr(args, "role", None) or "default"
    try:
        switcher = ModelSwitcher(role, interactive=interactive and sys.stdout.isatty(), commands=CHAT_COMMANDS)
        sel = switcher.selection()
        session = ChatSession(switcher, interactive=interactive)
        session.client(sel)
    except (SelectionError, KeyProblem, LlmswitchError) as exc:
        error = as_error(exc)
        sys.stderr.write(f"llmswitch: {terminal_safe_lines(error.sentence())}\n")
        return error.exit_code
    session._last_ref = sel.ref
    if not interactive:
        return _run_piped(session)
    import signal

    # Ctrl-C must stop an answer even when a parent started us with SIGINT ignored
    # (Python then never installs its KeyboardInterrupt handler).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    readline = _setup_readline(switcher)
    def prepare() -> None:  # completion index, and the provider's model list if none is cached yet
        switcher.warm()
        if switcher.refresh():
            switcher.warm()

    threading.Thread(target=prepare, name="llmswitch-completion", daemon=True).start()
    session.note(f"llmswitch chat — {switcher.describe()}\n/help lists commands · Tab completes models · Ctrl-D quits")
    try:
        while True:
            session.poll()
            try:
                line = input(_prompt(switcher))
            except KeyboardInterrupt:
                sys.stdout.write("\n")
                session.note("(Ctrl-D or /exit quits)")
                continue
            except EOFError:
                sys.stdout.write("\n")
                break
            line = line.strip()
            if not line:
                continue
            try:
                if line.startswith("/"):
                    if not session.command(line):
                        break
                else:
                    session.ask(line)
            except KeyboardInterrupt:
                sys.stdout.write("\n")
                session.note("[cancelled]")
    finally:
        _save_history(readline)
    return Exit.OK


def _prompt(switcher: ModelSwitcher) -> str:
    try:
        sel = switcher.selection()
    except SelectionError:
        return "(no model)> "
    mark = "*" if switcher.source() == "session" else ""
    return f"{sel.model}{mark}> "


def _run_piped(session: ChatSession) -> int:
    for raw in sys.stdin:
        line = raw.strip()
        if not line:
            continue
        if line.startswith("/"):
            if not session.command(line):
                break
        else:
            session.ask(line)
    return session.last_code if session.failures else Exit.OK
