#!/usr/bin/env bash
# A real llama.cpp `llama-server` for the opt-in integration tests, built from the
# llama.cpp sources vendored in the llama-cpp-python sdist on PyPI (CPU only, no
# HTTPS, no web UI download), serving a tiny random-weights llama model that
# `install` generates locally. No model is downloaded and no request leaves the machine.
#
#   scripts/llamacpp-server.sh install                      # idempotent: build llama-server, make the model
#   scripts/llamacpp-server.sh start [PORT] [--api-key K]   # install if needed, start, wait until /health is ok
#   scripts/llamacpp-server.sh stop                         # stop the server started by `start`
#
# `start` prints shell-style lines the tests read: URL=..., MODEL=..., PID=... (and KEY=... when keyed).
# The first `install` downloads the sdist (~75 MB) and compiles llama-server with two jobs;
# later ones find the stamps and return at once.
# Environment:
#   LLMSWITCH_LLAMACPP_VERSION  the llama-cpp-python sdist to build from (default: 0.3.36)
#   LLMSWITCH_LLAMACPP_HOME     where the build and the model live
#                               (default: ~/.cache/llmswitch-integration/llamacpp-VERSION)
#   LLMSWITCH_LLAMACPP_DIR      run directory for the log and pid file (default: /tmp/llmswitch-llamacpp-$UID)
#   LLMSWITCH_LLAMACPP_KEY      the API key to start with (same as --api-key, kept out of argv)
#   LLMSWITCH_LLAMACPP_JOBS     parallel compile jobs (default: 2)
#   LLMSWITCH_LLAMACPP_CTX      the --ctx-size to start with (default: 256; the tiny model says it was trained on 4096)
set -euo pipefail

VERSION="${LLMSWITCH_LLAMACPP_VERSION:-0.3.36}"
HOME_DIR="${LLMSWITCH_LLAMACPP_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/llmswitch-integration/llamacpp-$VERSION}"
RUN_DIR="${LLMSWITCH_LLAMACPP_DIR:-/tmp/llmswitch-llamacpp-$(id -u)}"
JOBS="${LLMSWITCH_LLAMACPP_JOBS:-2}"
CTX="${LLMSWITCH_LLAMACPP_CTX:-256}"
MODEL="tiny-random-llama"
PYTHON="${PYTHON:-python3}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
GENERATOR="$HERE/llamacpp-tiny-model.py"
SERVER="$HOME_DIR/bin/llama-server"
GGUF="$HOME_DIR/$MODEL.gguf"

# What the build is: a change here rebuilds (the stamp records it).
CMAKE_FLAGS=(
    -DCMAKE_BUILD_TYPE=Release
    -DBUILD_SHARED_LIBS=OFF        # one self-contained binary in bin/
    -DGGML_NATIVE=OFF              # portable CPU code: the cache may move between machines
    -DGGML_CCACHE=OFF
    -DLLAMA_OPENSSL=OFF            # plain HTTP on 127.0.0.1; nothing to fetch or link
    -DLLAMA_BUILD_UI=OFF           # no npm build of the web UI ...
    -DLLAMA_USE_PREBUILT_UI=OFF    # ... and no download of a prebuilt one
    -DLLAMA_BUILD_TESTS=OFF
    -DLLAMA_BUILD_EXAMPLES=OFF
    -DLLAMA_BUILD_APP=OFF
    -DLLAMA_BUILD_TOOLS=ON
    -DLLAMA_BUILD_SERVER=ON
)

log() { printf '%s\n' "$*" >&2; }

sha() { sha256sum "$1" | cut -c1-16; }

build_server() {
    local stamp="$HOME_DIR/.server-built" want="llama-cpp-python==$VERSION ${CMAKE_FLAGS[*]}"
    if [[ -x "$SERVER" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
        return 0
    fi
    command -v cmake >/dev/null || { log "cmake is missing: install it (apt-get install cmake, or pip install cmake)"; return 1; }
    command -v c++ >/dev/null || { log "a C++ compiler is missing: install it (apt-get install g++)"; return 1; }
    mkdir -p "$HOME_DIR/sdist"
    local sdist="$HOME_DIR/sdist/llama_cpp_python-$VERSION.tar.gz"
    if [[ ! -f "$sdist" ]]; then
        log "downloading the llama-cpp-python $VERSION sdist from PyPI into $HOME_DIR/sdist"
        "$PYTHON" -m pip download --quiet --disable-pip-version-check --no-deps \
            --no-binary llama-cpp-python "llama-cpp-python==$VERSION" -d "$HOME_DIR/sdist" \
            > "$HOME_DIR/download.log" 2>&1 \
            || { log "could not download the llama-cpp-python $VERSION sdist from PyPI ($( (grep -m1 '^ERROR' "$HOME_DIR/download.log" || tail -n1 "$HOME_DIR/download.log") | cut -c1-120)); check that PyPI is reachable and that \`pip index versions llama-cpp-python\` lists $VERSION"; return 1; }
    fi
    local src="$HOME_DIR/src"
    if [[ ! -f "$src/CMakeLists.txt" ]]; then
        rm -rf "$src" && mkdir -p "$src"
        tar -xzf "$sdist" -C "$src" --strip-components=3 "llama_cpp_python-$VERSION/vendor/llama.cpp"
        rm -f "$src/.git"  # a submodule link to a repository the sdist does not carry
    fi
    log "building llama-server (llama.cpp from llama-cpp-python $VERSION) with $JOBS jobs into $HOME_DIR (first run: about ten minutes on two cores)"
    cmake -S "$src" -B "$HOME_DIR/build" "${CMAKE_FLAGS[@]}" > "$HOME_DIR/build.log" 2>&1 \
        && cmake --build "$HOME_DIR/build" --target llama-server -j "$JOBS" >> "$HOME_DIR/build.log" 2>&1 \
        || { log "the build failed; last lines of $HOME_DIR/build.log:"; tail -n 30 "$HOME_DIR/build.log" >&2; return 1; }
    mkdir -p "$HOME_DIR/bin"
    cp "$HOME_DIR/build/bin/llama-server" "$SERVER.tmp"
    mv -f "$SERVER.tmp" "$SERVER"
    # the model generator uses the gguf-py of the same llama.cpp; install it before the sources go
    make_venv
    "$HOME_DIR/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$src/gguf-py" >&2
    printf '%s' "$want" > "$stamp"
    rm -rf "$HOME_DIR/build" "$src" "$HOME_DIR/sdist"
}

make_venv() {
    [[ -x "$HOME_DIR/venv/bin/python" ]] || "$PYTHON" -m venv "$HOME_DIR/venv"
}

make_model() {
    local stamp="$HOME_DIR/.model-made" want
    want="$(sha "$GENERATOR")"
    if [[ -f "$GGUF" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
        return 0
    fi
    "$HOME_DIR/venv/bin/python" "$GENERATOR" "$GGUF.tmp" "$MODEL"
    mv -f "$GGUF.tmp" "$GGUF"
    printf '%s' "$want" > "$stamp"
}

install() {
    mkdir -p "$HOME_DIR"
    exec 9>"$HOME_DIR/.lock"
    flock 9  # two starts at once: the second waits for the first build instead of racing it
    build_server
    make_model
    exec 9>&-
}

free_port() {
    "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    local port="" key="${LLMSWITCH_LLAMACPP_KEY:-}"
    while [[ $# -gt 0 ]]; do
        case "$1" in
            --api-key) key="${2:?--api-key needs a value}"; shift 2 ;;
            *) port="$1"; shift ;;
        esac
    done
    install
    port="${port:-$(free_port)}"
    mkdir -p "$RUN_DIR"
    stop_quietly
    # the key goes in through llama-server's environment, not its argv (ps shows argv)
    LLAMA_API_KEY="$key" nohup "$SERVER" --model "$GGUF" --alias "$MODEL" --host 127.0.0.1 --port "$port" \
        --ctx-size "$CTX" --parallel 1 --threads 1 --n-predict 8 --no-webui --no-warmup \
        > "$RUN_DIR/server.log" 2>&1 &
    local pid=$!
    echo "$pid" > "$RUN_DIR/pid"
    local url="http://127.0.0.1:$port"
    for _ in $(seq 1 240); do
        if ! kill -0 "$pid" 2>/dev/null; then
            log "llama-server exited; last lines of $RUN_DIR/server.log:"
            tail -n 20 "$RUN_DIR/server.log" >&2
            return 1
        fi
        # /health answers 503 while the model loads and 200 {"status":"ok"} once it is ready; it needs no key
        if "$PYTHON" - "$url/health" <<'PY' 2>/dev/null; then
import json, sys, urllib.request
assert json.load(urllib.request.urlopen(sys.argv[1], timeout=1))["status"] == "ok"
PY
            printf 'URL=%s\nMODEL=%s\nPID=%s\n' "$url" "$MODEL" "$pid"
            [[ -z "$key" ]] || printf 'KEY=%s\n' "$key"
            return 0
        fi
        sleep 0.25
    done
    log "llama-server did not become healthy within 60 s; see $RUN_DIR/server.log"
    stop_quietly
    return 1
}

stop_quietly() {
    local pidfile="$RUN_DIR/pid"
    [[ -f "$pidfile" ]] || return 0
    local pid
    pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
}

case "${1:-}" in
    install) install ;;
    start) shift; start "$@" ;;
    stop) stop_quietly ;;
    *) log "usage: $0 install | start [PORT] [--api-key KEY] | stop"; exit 2 ;;
esac
