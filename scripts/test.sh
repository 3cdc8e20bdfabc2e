#!/usr/bin/env bash
# The whole test suite — the README's Quickstart test command and CI (.ci/run) run exactly this.
#
# * mypy (strict) over tui/llmswitch, ruff, and lint-imports (the floors contract in pyproject.toml);
# * unit, CLI, app and snapshot tests (pytest, two workers);
# * the keyring tier against a real Secret Service (gnome-keyring on a private D-Bus),
#   installed with apt when CI=true; elsewhere skipped with a note saying how to run it;
# * the integration tier against a real OpenAI-compatible server (scripts/integration-server.sh)
#   and a real llama.cpp server (scripts/llamacpp-server.sh), required when CI=true, opt-in elsewhere
#   (LLMSWITCH_INTEGRATION=1).
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
ci=${CI:-}
# The suite starts hundreds of Python processes (the CLI, real shells' prompt calls, servers): let them share
# compiled bytecode instead of each compiling the package again (some machines set PYTHONDONTWRITEBYTECODE).
unset PYTHONDONTWRITEBYTECODE

missing=()
command -v gnome-keyring-daemon >/dev/null || missing+=(gnome-keyring)
command -v dbus-run-session >/dev/null || missing+=(dbus-daemon)
command -v dbus-send >/dev/null || missing+=(dbus-bin)
command -v zsh >/dev/null || missing+=(zsh)   # the shell-scope tests run the real shells
command -v fish >/dev/null || missing+=(fish)
command -v tmux >/dev/null || missing+=(tmux)  # the prompt-snippet tests run a real terminal
if [ "$ci" = true ] || [ -n "${LLMSWITCH_INTEGRATION:-}" ]; then  # the integration tier builds llama-server
  command -v cmake >/dev/null || missing+=(cmake)
  command -v g++ >/dev/null || missing+=(g++)
fi
if [ ${#missing[@]} -gt 0 ] && [ "$ci" = true ] && command -v apt-get >/dev/null; then
  echo "test.sh: installing ${missing[*]} (Secret Service tier, shell-scope tests, llama.cpp build)"
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# the checks that read the code first (configured in pyproject.toml): strict types for the whole package,
# the linter, and the floors contract (a lower floor never imports a higher one, lazy imports included)
python -m mypy
python -m ruff check tui tests benchmarks scripts
python -c "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"  # lint-imports, found without PATH

# Three workers per core: many tests wait on a server, a shell or a bound, and a waiting worker leaves its core
# to another (measured on 2 cores: 4 workers 186 s, 6 workers 150 s). The keyring tier stays in one worker.
workers=()
python -c "import xdist" 2>/dev/null && workers=(-n "$(python -c 'import os; print(min(3 * (os.cpu_count() or 1), 8))')"
                                                --dist loadgroup)  # the keyring tier in one worker (tests/keyring/conftest.py)
pytest_args=(-p no:cacheprovider "${workers[@]}" "$@")

if command -v gnome-keyring-daemon >/dev/null && command -v dbus-run-session >/dev/null && command -v dbus-send >/dev/null; then
  [ "$ci" = true ] && export LLMSWITCH_REQUIRE_SECRET_SERVICE=1
  scripts/with-secret-service.sh python -m pytest "${pytest_args[@]}"
else
  if [ "$ci" = true ]; then
    echo "test.sh: the Secret Service tier is required under CI but gnome-keyring/dbus could not be installed" >&2
    exit 1
  fi
  echo "test.sh: no gnome-keyring/dbus here — the Secret Service tier is skipped (apt-get install gnome-keyring dbus-daemon dbus-bin to run it)"
  python -m pytest "${pytest_args[@]}"
fi

if [ "$ci" = true ] || [ -n "${LLMSWITCH_INTEGRATION:-}" ]; then
  if [ -f scripts/integration-server.sh ]; then
    [ "$ci" = true ] && export LLMSWITCH_REQUIRE_INTEGRATION=1
    # llama.cpp's llama-server: built once into the user cache (about ten minutes on two cores), then found there
    started=$SECONDS
    if bash scripts/llamacpp-server.sh install; then
      echo "test.sh: llama.cpp's llama-server is ready ($((SECONDS - started)) s)"
    elif [ "$ci" = true ]; then
      exit 1
    fi
    python -m pytest -p no:cacheprovider -m integration tests/integration
  fi
else
  echo "test.sh: integration tier not run (LLMSWITCH_INTEGRATION=1 bash scripts/test.sh runs it against a real server)"
fi
