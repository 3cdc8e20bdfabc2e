"""How tests call the real ``llmswitch`` entry point (importable from any test directory).

Two ways, one result type (:class:`subprocess.CompletedProcess`, text):

* :func:`run_in_process` calls ``llmswitch.cli.main(argv)`` in the test's own process, with the
  process-wide state a fresh ``llmswitch`` would start from and everything it changes put back
  (the list is in its docstring). Most CLI tests use it (the ``run_cli`` fixture): no interpreter
  start-up, no re-import of httpx/keyring/openai per call.
* :func:`run_in_subprocess` runs the console script (the ``run_cli_process`` fixture), for the tests
  where the process boundary is the thing tested: the console script itself, ``exec`` (it replaces
  the process), signals and kills, the read path's imports, real shells and terminals.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import io
import locale
import logging
import os
import signal
import subprocess
import sys
import threading
import traceback
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def cli_command() -> list[str]:
    """The console script installed beside this interpreter (or `python -m llmswitch`)."""
    script = Path(sys.executable).parent / "llmswitch"
    return [str(script)] if script.exists() else [sys.executable, "-m", "llmswitch"]


def run_in_subprocess(*args: str, input: str | None = None, env: dict[str, str] | None = None,
                      timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``llmswitch ARGS`` as a child process of its own (the console script beside this interpreter)."""
    return subprocess.run([*cli_command(), *args], input=input if input is not None else "", capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


# --- in process ----------------------------------------------------------------------------------

PROCESS_ENDERS = ("execl", "execle", "execlp", "execlpe", "execv", "execve", "execvp", "execvpe", "_exit", "fork",
                  "forkpty")
"""``os`` functions that would replace, end or split the test's own process: refused in process."""

SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGPIPE", "SIGCHLD",
                                                   "SIGWINCH", "SIGALRM", "SIGUSR1", "SIGUSR2") if hasattr(signal, name))
"""The handlers saved before a call and put back after it (``chat`` installs its own SIGINT handler)."""

# Python's filters in a process started without -W or PYTHONWARNINGS (the warnings module's docs), first match wins
DEFAULT_WARNING_FILTERS = (("default", DeprecationWarning, "__main__"), ("ignore", DeprecationWarning, None),
                           ("ignore", PendingDeprecationWarning, None), ("ignore", ImportWarning, None),
                           ("ignore", ResourceWarning, None))


PER_PROCESS = (("llmswitch.store.overlay", "_WARNED"), ("llmswitch.tools.connect.found", "_REFUSED"))
"""Module-level memories of what this process already said ("once per process"): empty for each call, and the
test's own contents put back afterwards."""

PER_PROCESS_VALUES = (("llmswitch.store.keyget", "_silent_until", 0.0),)
"""Module-level values a new process starts with (a keyring that stayed silent is not asked again for a while, in
that process): set for each call, and the test's own put back afterwards."""

LAZY = (("llmswitch.base.bounded", "_PATTERNS"), ("llmswitch.store.selection", "_ROLE"),
        ("llmswitch.store.selection_store", "_UNTRUSTED"), ("llmswitch.store.keys", "_MISMATCH"))
"""Module-level lists filled once on first use with what any process builds (compiled patterns, error classes);
kept, so an error class stays the one object a test holds."""

SHIPPED = (("llmswitch.store.catalog", "_raw"), ("llmswitch.store.catalog", "_index"),
           ("llmswitch.store.catalog", "_models_table"), ("llmswitch.net.network", "_ssl_context"))
"""Caches that hold only what installed files give, whatever the environment: the bundled models.dev catalog
(~45 ms to parse) and the provider index and model table made from it, the TLS context (~30 ms, cached by the CA
file and folder it read). The same in every process of a test session, so kept between calls instead of built again
for each one; so a call does not write the index and table files into its cache dir when an earlier call of the
session made them (tests/unit/test_catalog*.py clear these caches to test those files)."""


class ProcessBoundary(AssertionError):
    """The command reached something only a real process can do; the test wants ``run_cli_process``."""


def run_in_process(*args: str, input: str | None = None, env: dict[str, str] | None = None,
                   timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``llmswitch ARGS`` through ``llmswitch.cli.main`` in this process, seen as a terminal-less child would see it.

    Process-wide state the CLI reads or touches, and what happens to each (found by reading the
    package for module state, caches, signal/thread/stream/exec/exit/umask/locale/logging/atexit
    use, and checked after every call):

    * ``os.environ``: replaced by ``{**os.environ, **env}`` for the call (HOME, XDG_*, LLMSWITCH_*,
      PYTHON_KEYRING_BACKEND included, through ``putenv`` too, so the CLI's own children see it)
      and restored exactly afterwards, so a test's ``env=`` never reaches the next call;
    * ``sys.argv``: the console script's path then ARGS (``paths.executable()`` names the llmswitch
      that runs now from ``argv[0]``, e.g. in ``env``'s ``key get`` line);
    * ``sys.stdin``/``stdout``/``stderr``: UTF-8 byte-backed streams that are not terminals (stdin
      holds ``input``; stdout strict, stderr ``backslashreplace``, as Python opens pipes), decoded
      as ``subprocess.run(text=True)`` does (universal newlines). No terminal means no colour,
      no progress line, no prompt, and the same width rules (COLUMNS comes from the environment);
    * exit code: ``main``'s return value, or ``SystemExit``'s code as the interpreter turns it into one
      (None → 0, a message → printed, 1); any other exception is printed as the interpreter would
      (a traceback, exit 1), so a test that forbids tracebacks still sees one;
    * the keyring: ``keyring.core``'s chosen backend is cleared for the call so it is chosen again from
      the call's environment (PYTHON_KEYRING_BACKEND, keyringrc.cfg under XDG_CONFIG_HOME, the session
      bus), the cached list of viable backends (``keyring.backend.get_all_keyring``) is reset, and the
      test's own backend (``keyring.set_keyring`` in the ``isolated`` fixture) is put back afterwards;
    * module caches: every ``functools`` cache on an ``llmswitch`` module is cleared before and after
      the call (the catalog's provider index is written to the cache dir of the environment in force),
      except those of :data:`SHIPPED`;
    * module-level sets, dicts and lists: the "said once per process" memories (:data:`PER_PROCESS`) are
      emptied for the call and the test's contents put back after it; the lazily filled ones (:data:`LAZY`)
      are kept; every other one is a constant, and one that a call changed fails the call, naming it
      (so a new per-process memory cannot leak from one call into the next unnoticed);
    * ``ChatSession`` used to bind ``sys.stdout`` at import time; it now takes the streams in force;
    * signal handlers (:data:`SIGNALS`), the working directory, ``os.umask`` and the C locale are
      saved and put back;
    * logging: the package configures none; the test runner's root handlers are set aside for the
      call, so a library's warning reaches stderr through ``logging.lastResort`` as in a fresh process;
    * warnings: the call runs with Python's default filters (:data:`DEFAULT_WARNING_FILTERS`), printed
      to its stderr, and the test's filters come back afterwards;
    * threads: the CLI's own threads (a target in an ``llmswitch`` module, or named ``llmswitch-…``) are
      joined before the environment is restored; one still running at the deadline fails the call;
    * ``atexit``: a callback registered during the call fails it (a real process would run it at exit), unless
      a library was imported for the first time in the call (importing multiprocessing registers one);
    * ``os.exec*``, ``os._exit``, ``os.fork``: refused with :class:`ProcessBoundary`, which names
      ``run_cli_process``: the test's own process must not be replaced, ended or forked;
    * ``timeout``: SIGALRM raises :class:`subprocess.TimeoutExpired` in the call, as ``subprocess.run`` would.

    Modules the call imports stay imported (what a fresh process would build at import time);
    which modules a command imports is tested in a subprocess (``tests/unit/test_readpath.py``).
    """
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("run_in_process needs the main thread (signal handlers, SIGALRM timeout)")
    if _loop_running():
        raise RuntimeError("run_in_process in a running event loop: the CLI runs its own (asyncio.run); "
                           "call it from a plain (not async) test")
    argv = list(args)
    stdin = _stream(input if input is not None else "", errors="strict")
    stdout, stderr = _stream("", errors="strict"), _stream("", errors="backslashreplace")
    with _fresh_process(argv, env, stdin, stdout, stderr, timeout):
        code = _exit_code(argv, stderr)
    return subprocess.CompletedProcess([*cli_command(), *argv], code, _text(stdout), _text(stderr))


def _loop_running() -> bool:
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _exit_code(argv: list[str], stderr: io.TextIOWrapper) -> int:
    from llmswitch.cli import main

    try:
        return int(main(argv)) & 0xFF  # the exit status a parent sees
    except SystemExit as exc:
        if exc.code is None:
            return 0
        if isinstance(exc.code, int):
            return exc.code & 0xFF
        stderr.write(f"{exc.code}\n")
        return 1
    except (ProcessBoundary, subprocess.TimeoutExpired):
        raise
    except BaseException:  # noqa: BLE001 - the interpreter's own last word: a traceback and exit status 1
        traceback.print_exc(file=stderr)
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


def _stream(text: str, *, errors: str) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(text.encode()), encoding="utf-8", errors=errors, write_through=True)


def _text(stream: io.TextIOWrapper) -> str:
    buffer = stream.buffer
    assert isinstance(buffer, io.BytesIO)
    return buffer.getvalue().decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")


@contextlib.contextmanager
def _fresh_process(argv: list[str], env: dict[str, str] | None, stdin: io.TextIOWrapper, stdout: io.TextIOWrapper,
                   stderr: io.TextIOWrapper, timeout: float) -> Iterator[None]:
    saved_env = dict(os.environ)
    saved_streams = sys.stdin, sys.stdout, sys.stderr
    saved_argv, saved_cwd = sys.argv, os.getcwd()
    saved_signals = {number: signal.getsignal(number) for number in SIGNALS}
    saved_umask = os.umask(0o022)
    os.umask(saved_umask)
    saved_locale = locale.setlocale(locale.LC_ALL)
    saved_enders = {name: getattr(os, name) for name in PROCESS_ENDERS if hasattr(os, name)}
    saved_handlers = logging.root.handlers[:]
    saved_keyring = _keyring_backend()
    module_state = _module_state()
    values = _start_values()
    callbacks, modules = atexit._ncallbacks(), set(sys.modules)
    before = set(threading.enumerate())
    alarm = signal.getsignal(signal.SIGALRM)
    try:
        _replace_environ({**saved_env, **(env or {})})
        _clear_caches()
        _reset_keyring(None)
        sys.argv = [cli_command()[0], *argv]
        sys.stdin, sys.stdout, sys.stderr = stdin, stdout, stderr
        for name in saved_enders:
            setattr(os, name, functools.partial(_refuse, name))
        logging.root.handlers.clear()

        def expired(signum: int, frame: Any) -> None:
            raise subprocess.TimeoutExpired(["llmswitch", *argv], timeout)

        signal.signal(signal.SIGALRM, expired)
        signal.setitimer(signal.ITIMER_REAL, timeout)
        with warnings.catch_warnings():
            warnings.resetwarnings()
            for action, category, module in reversed(DEFAULT_WARNING_FILTERS):
                warnings.filterwarnings(action, category=category, module=module or "")
            try:
                yield
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, alarm)
                _join_own_threads(before, deadline=timeout)
        _check_module_state(module_state, argv)
        first_imports = [name for name in set(sys.modules) - modules if name.split(".")[0] != "llmswitch"]
        if atexit._ncallbacks() != callbacks and not first_imports:  # a library's import may register one (multiprocessing)
            raise AssertionError(f"llmswitch {' '.join(argv)} registered an atexit callback, which a real process "
                                 f"would run at exit: run it with run_cli_process")
    finally:
        for name, function in saved_enders.items():
            setattr(os, name, function)
        logging.root.handlers[:] = saved_handlers
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        sys.argv = saved_argv
        if os.getcwd() != saved_cwd:
            os.chdir(saved_cwd)
        for number, handler in saved_signals.items():
            if handler is not None:
                signal.signal(number, handler)
        os.umask(saved_umask)
        if locale.setlocale(locale.LC_ALL) != saved_locale:
            locale.setlocale(locale.LC_ALL, saved_locale)
        _clear_caches()
        _restore_memories(module_state)
        _put_back_values(values)
        _reset_keyring(saved_keyring)
        _replace_environ(saved_env)


def _refuse(name: str, *args: Any, **kwargs: Any) -> None:
    raise ProcessBoundary(f"os.{name} would replace, end or fork the test's own process: this test needs "
                          f"run_cli_process (a real llmswitch process), not run_cli")


def _replace_environ(values: dict[str, str]) -> None:
    for name in [n for n in os.environ if n not in values]:
        del os.environ[name]
    for name, value in values.items():
        if os.environ.get(name) != value:
            os.environ[name] = value


def _clear_caches() -> None:
    for name, module in _ours_loaded():
        for cached in _caches_of(name, module):
            cached.cache_clear()


_CACHES: dict[int, tuple[Any, list[Any]]] = {}
"""Per module (by identity): its cached functions, found once (a module's functions are made when it is imported)."""


def _caches_of(name: str, module: Any) -> list[Any]:
    known = _CACHES.get(id(module))
    if known is not None and known[0] is module:
        return known[1]
    found = [value for attribute, value in vars(module).items()
             if callable(getattr(value, "cache_clear", None)) and getattr(value, "__module__", None) == name
             and (name, attribute) not in SHIPPED]
    _CACHES[id(module)] = (module, found)
    return found


def _ours_loaded() -> Iterator[tuple[str, Any]]:
    for name, module in list(sys.modules.items()):
        if module is not None and (name == "llmswitch" or name.startswith("llmswitch.")):
            yield name, module


def _module_state() -> dict[tuple[str, str], Any]:
    """A copy of every module-level set, dict and list of the loaded llmswitch modules; per-process memories emptied."""
    state: dict[tuple[str, str], Any] = {}
    for name, module in _ours_loaded():
        for attribute, value in list(vars(module).items()):
            if isinstance(value, (set, dict, list)) and not attribute.startswith("__"):
                state[name, attribute] = value.copy()
                if (name, attribute) in PER_PROCESS:
                    value.clear()
    return state


def _check_module_state(before: dict[tuple[str, str], Any], argv: list[str]) -> None:
    for (name, attribute), was in before.items():
        if (name, attribute) in PER_PROCESS or (name, attribute) in LAZY:
            continue
        if getattr(sys.modules.get(name), attribute, was) != was:
            raise AssertionError(f"llmswitch {' '.join(argv)} changed {name}.{attribute}, which a new process would "
                                 f"start without: add it to runcli.PER_PROCESS (or LAZY) so calls stay independent")


def _start_values() -> dict[tuple[str, str], Any]:
    """:data:`PER_PROCESS_VALUES` as a new process has them; what the test had, to put back."""
    saved: dict[tuple[str, str], Any] = {}
    for name, attribute, fresh in PER_PROCESS_VALUES:
        module = sys.modules.get(name)
        if module is not None:
            saved[name, attribute] = getattr(module, attribute)
            setattr(module, attribute, fresh)
    return saved


def _put_back_values(saved: dict[tuple[str, str], Any]) -> None:
    for (name, attribute), value in saved.items():
        setattr(sys.modules[name], attribute, value)


def _restore_memories(before: dict[tuple[str, str], Any]) -> None:
    """The per-process memories as the test had them (a module first loaded by the call starts empty)."""
    for name, attribute in PER_PROCESS:
        value = getattr(sys.modules.get(name), attribute, None)
        if value is not None:
            value.clear()
            value.update(before.get((name, attribute), ()))


def _keyring_backend() -> Any:
    core = sys.modules.get("keyring.core")
    return getattr(core, "_keyring_backend", None)


def _reset_keyring(chosen: Any) -> None:
    """Put ``chosen`` back as keyring's backend (None: chosen again at first use) and forget viable backends."""
    core = sys.modules.get("keyring.core")
    if core is not None:
        core._keyring_backend = chosen  # type: ignore[attr-defined]  # keyring.set_keyring refuses None
    backend = sys.modules.get("keyring.backend")
    viable = getattr(backend, "get_all_keyring", None)
    if viable is not None:
        vars(viable).pop("saved_result", None)  # jaraco.functools.once keeps it there (its reset() fails when unset)


def _ours(thread: threading.Thread) -> bool:
    target = getattr(thread, "_target", None)
    module = getattr(target, "__module__", None) or ""
    return thread.name.startswith("llmswitch-") or module == "llmswitch" or module.startswith("llmswitch.")


def _join_own_threads(before: set[threading.Thread], *, deadline: float) -> None:
    import time

    ends = time.monotonic() + deadline
    for thread in [t for t in threading.enumerate() if t not in before and _ours(t)]:
        thread.join(max(0.0, ends - time.monotonic()))
        if thread.is_alive():
            raise AssertionError(f"llmswitch left the thread {thread.name} running; a real process would have ended "
                                 f"it at exit, in process it would outlive the call's environment")
