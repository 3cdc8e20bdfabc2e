"""The real-tool harness: install each tool once (keyed by version), run it quietly and bounded, record what it sent.

* :func:`pip_tool` / :func:`npm_tool` install a tool from PyPI (a venv) or npm
  (``npm install --prefix``) under ``TOOLS_DIR/NAME-VERSION/`` and return the executable;
  a stamp file marks a finished install, so a machine installs each version once.
  :data:`VERSIONS` pins what the tests install (override: ``LLMSWITCH_IT_<NAME>_VERSION``).
* :func:`quiet_env` is the environment a tool runs in: a throw-away ``HOME``, and every
  telemetry, update check and auto-update switch these tools document turned off.
* :func:`run_tool` runs it with a timeout and kills its whole process group when it expires.
* :class:`Recorder` is a pass-through HTTP server on 127.0.0.1 in front of the real server
  (the LiteLLM proxy): it forwards each request unchanged and records method, path, the
  ``model`` of a JSON body and the credential header, so a test asserts at the server what
  the tool actually sent — never what it printed.

When a tool cannot be installed the test is skipped with the command that installs it,
and fails under ``CI``.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

TOOLS_DIR = Path(os.environ.get("LLMSWITCH_IT_TOOLS") or Path(
    os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "llmswitch-integration" / "tools")
"""Read at import, before the unit-test isolation points XDG_CACHE_HOME at a temp dir."""

VERSIONS = {
    "aider-chat": "0.86.2",
    "llm": "0.36",
    "@openai/codex": "0.171.0",
}
"""What the integration tier installs; the tool table in docs/connect.md cites these (tests/unit/test_docs.py compares)."""

INSTALL_TIMEOUT = 900
RUN_TIMEOUT = 120


def version(package: str, pinned: str | None = None) -> str:
    """The version to install: ``LLMSWITCH_IT_<PACKAGE>_VERSION``, else ``pinned``, else :data:`VERSIONS`."""
    var = "LLMSWITCH_IT_" + re.sub(r"[^A-Z0-9]+", "_", package.upper()).strip("_") + "_VERSION"
    return os.environ.get(var) or pinned or VERSIONS[package]


def _slug(package: str, pinned: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "-", package).strip("-") + "-" + pinned


def _unavailable(what: str, detail: str, command: str) -> None:
    reason = f"could not install {what} ({detail.strip()[-600:]}); run `{command}` with the registry reachable"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def pip_tool(dist: str, executable: str, pinned: str | None = None, with_packages: tuple[str, ...] = ()) -> Path:
    """``executable`` from PyPI ``dist`` (at :func:`version`), installed once into its own venv.

    ``with_packages``: requirements installed beside it (a dependency the release forgot to declare).
    """
    pinned = version(dist, pinned)
    root = TOOLS_DIR / _slug(dist, pinned)
    exe = root / "venv" / "bin" / executable
    stamp = root / ".llmswitch-installed"
    spec = " ".join((f"{dist}=={pinned}", *with_packages))
    if exe.exists() and stamp.exists() and stamp.read_text() == spec:
        return exe
    root.mkdir(parents=True, exist_ok=True)
    command = f"{sys.executable} -m venv {root / 'venv'} && {root / 'venv/bin/python'} -m pip install {spec}"
    try:
        if not (root / "venv" / "bin" / "python").exists():
            subprocess.run([sys.executable, "-m", "venv", str(root / "venv")], check=True, capture_output=True,
                           timeout=120)
        done = subprocess.run([str(root / "venv" / "bin" / "python"), "-m", "pip", "install", "--quiet",
                               "--disable-pip-version-check", *spec.split()], capture_output=True, text=True,
                              timeout=INSTALL_TIMEOUT)
    except (OSError, subprocess.SubprocessError) as exc:
        _unavailable(spec, str(exc), command)
    if done.returncode != 0 or not exe.exists():
        _unavailable(spec, done.stderr or done.stdout, command)
    stamp.write_text(spec)
    return exe


def npm_tool(package: str, executable: str, pinned: str | None = None) -> Path:
    """``executable`` from npm ``package`` (at :func:`version`), installed once with ``npm install --prefix``."""
    pinned = version(package, pinned)
    root = TOOLS_DIR / _slug(package, pinned)
    prefix = root / "npm"
    exe = prefix / "node_modules" / ".bin" / executable
    stamp = root / ".llmswitch-installed"
    spec = f"{package}@{pinned}"
    if exe.exists() and stamp.exists() and stamp.read_text() == spec:
        return exe
    npm = shutil.which("npm")
    command = f"npm install --prefix {prefix} {spec}"
    if npm is None:
        _unavailable(spec, "npm is not on PATH", command)
    prefix.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run([str(npm), "install", "--prefix", str(prefix), "--no-audit", "--no-fund",
                               "--no-update-notifier", spec], capture_output=True, text=True,
                              timeout=INSTALL_TIMEOUT, env={**os.environ, "NO_UPDATE_NOTIFIER": "1"})
    except (OSError, subprocess.SubprocessError) as exc:
        _unavailable(spec, str(exc), command)
    if done.returncode != 0 or not exe.exists():
        _unavailable(spec, done.stderr or done.stdout, command)
    stamp.write_text(spec)
    return exe


QUIET = {
    "DO_NOT_TRACK": "1",  # the cross-tool convention
    "NO_UPDATE_NOTIFIER": "1",  # npm's update-notifier
    "AIDER_ANALYTICS": "false", "AIDER_ANALYTICS_DISABLE": "true", "AIDER_CHECK_UPDATE": "false",
    "AIDER_SHOW_RELEASE_NOTES": "false", "AIDER_GITIGNORE": "false",
    "DISABLE_TELEMETRY": "1", "DISABLE_AUTOUPDATER": "1", "DISABLE_ERROR_REPORTING": "1",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",  # Claude Code
    "OPENCODE_DISABLE_AUTOUPDATE": "1", "OPENCODE_DISABLE_SHARE": "1",  # opencode
    "CONTINUE_TELEMETRY_ENABLED": "0", "CONTINUE_CLI_DISABLE_TELEMETRY": "1",  # Continue CLI
    "CODEX_DISABLE_UPDATE_CHECK": "1",
    "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_TELEMETRY": "False",  # aider's litellm
}


def quiet_env(home: Path, **extra: str) -> dict[str, str]:
    """os.environ (the test's isolated one) with a throw-away HOME and telemetry/update checks off."""
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ANTHROPIC_", "CODEX_", "LLM_"))}
    env.update(QUIET)
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), GIT_CONFIG_NOSYSTEM="1")
    env.update(extra)
    return env


def run_tool(argv: list[str], env: dict[str, str], *, cwd: Path | None = None, timeout: float = RUN_TIMEOUT,
             input: str = "") -> subprocess.CompletedProcess[str]:
    """Run a tool non-interactively; on timeout its whole process group is killed and the result says so."""
    process = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = process.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        err += f"\n[harness: killed after {timeout:.0f} s]"
    return subprocess.CompletedProcess(argv, process.returncode, out, err)


# --- the recording pass-through -----------------------------------------------------------------

@dataclass(frozen=True)
class Seen:
    """One request as the real server received it through the recorder."""

    method: str
    path: str
    model: str | None
    auth: str | None
    """The credential as sent: ``Bearer …`` (authorization), or the x-api-key / api-key / x-goog-api-key value."""
    auth_header: str | None
    body: Any

    def __repr__(self) -> str:  # the recorded credential is a test key, but keep it out of reports anyway
        return f"Seen({self.method} {self.path} model={self.model!r} auth_header={self.auth_header!r})"


class Recorder:
    """A pass-through on 127.0.0.1 in front of ``upstream``; ``seen`` lists the requests in order."""

    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream)
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def clear(self) -> None:
        with self._lock:
            self.seen.clear()

    def model_requests(self) -> list[Seen]:
        """Requests that asked a model something (chat completions, responses, messages)."""
        with self._lock:
            return [s for s in self.seen if s.method == "POST" and s.model is not None]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _record(self, seen: Seen) -> None:
        with self._lock:
            self.seen.append(seen)


AUTH_HEADERS = ("authorization", "x-api-key", "api-key", "x-goog-api-key")
"""Where a credential travels: OpenAI's Bearer, Anthropic's x-api-key, Azure's api-key, Google's x-goog-api-key."""
GEMINI_PATH = re.compile(r"^/v1beta/models/([^/:?]+):")


def _handler(recorder: Recorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            pass

        def _forward(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            try:
                parsed = json.loads(body) if body else None
            except ValueError:
                parsed = None
            model = parsed.get("model") if isinstance(parsed, dict) else None
            in_path = GEMINI_PATH.match(self.path)  # Google's Gemini API names the model in the path
            model = model if model is not None or in_path is None else in_path.group(1)
            auth_header = next((h for h in AUTH_HEADERS if self.headers.get(h)), None)
            recorder._record(Seen(self.command, self.path, model, self.headers.get(auth_header) if auth_header
                                  else None, auth_header, parsed))
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection",
                                                                                   "accept-encoding")}
            connection = http.client.HTTPConnection(recorder.upstream.hostname, recorder.upstream.port, timeout=120)
            try:
                connection.request(self.command, self.path, body=body or None, headers=headers)
                response = connection.getresponse()
                data = response.read()
            except OSError as exc:
                data = json.dumps({"error": {"message": f"recorder: upstream failed: {exc}"}}).encode()
                self.send_response(502)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            finally:
                connection.close()
            self.send_response(response.status)
            for name, value in response.getheaders():
                if name.lower() not in ("transfer-encoding", "content-length", "connection", "content-encoding"):
                    self.send_header(name, value)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _forward

    return Handler


def requests_of(recorder: Recorder, run: Any, what: str) -> list[Seen]:
    """Run ``run()`` (a tool invocation) and return the model requests the server saw; none is a failure."""
    recorder.clear()
    ran = run()
    seen = recorder.model_requests()
    assert seen, f"{what} sent nothing to the server (exit {ran.returncode}): {ran.stderr[-2000:]} {ran.stdout[-800:]}"
    return seen
