#!/usr/bin/env bash
# A real OpenAI-compatible server for the opt-in integration tests: the LiteLLM
# proxy (from PyPI) with mock_response models, bound to 127.0.0.1. No model is
# downloaded and no request leaves the machine.
#
#   scripts/integration-server.sh install            # idempotent: venv + pip install
#   scripts/integration-server.sh start [PORT]       # install if needed, start, wait until healthy
#   scripts/integration-server.sh stop               # stop the server started by `start`
#
# `start` prints shell-style lines the tests read: URL=..., KEY=..., MODEL=..., MODEL2=..., PID=...
# Environment:
#   LLMSWITCH_IT_VENV    where the venv lives (default: ~/.cache/llmswitch-integration/venv)
#   LLMSWITCH_IT_DIR     run directory for config, log and pid file (default: /tmp/llmswitch-it-$UID)
#   LLMSWITCH_IT_SPEC    what pip installs (default: litellm[proxy]==1.106.2)
set -euo pipefail

VENV="${LLMSWITCH_IT_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/llmswitch-integration/venv}"
RUN_DIR="${LLMSWITCH_IT_DIR:-/tmp/llmswitch-it-$(id -u)}"
SPEC="${LLMSWITCH_IT_SPEC:-litellm[proxy]==1.106.2}"
KEY="sk-test-integration-master-key"
MODEL="fake-gpt"
MODEL2="fake-gpt-2"
PYTHON="${PYTHON:-python3}"

log() { printf '%s\n' "$*" >&2; }

install() {
    local stamp="$VENV/.llmswitch-installed"
    if [[ -x "$VENV/bin/litellm" && -f "$stamp" && "$(cat "$stamp")" == "$SPEC" ]]; then
        return 0
    fi
    log "installing $SPEC into $VENV (first run takes a minute or two)"
    mkdir -p "$(dirname "$VENV")"
    [[ -x "$VENV/bin/python" ]] || "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$SPEC" >&2
    printf '%s' "$SPEC" > "$stamp"
}

free_port() {
    "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    install
    local port="${1:-$(free_port)}"
    mkdir -p "$RUN_DIR"
    stop_quietly
    cat > "$RUN_DIR/config.yaml" <<YAML
model_list:
  - model_name: $MODEL
    litellm_params:
      model: openai/$MODEL
      api_key: not-used-mock-response
      mock_response: "OK"
  - model_name: $MODEL2
    litellm_params:
      model: openai/$MODEL2
      api_key: not-used-mock-response
      mock_response: "OK 2"
general_settings:
  master_key: $KEY
litellm_settings:
  telemetry: false
YAML
    # LITELLM_LOCAL_MODEL_COST_MAP: use the bundled price list instead of fetching one.
    LITELLM_LOCAL_MODEL_COST_MAP=True LITELLM_TELEMETRY=False NO_DOCS=True \
        nohup "$VENV/bin/litellm" --config "$RUN_DIR/config.yaml" --host 127.0.0.1 --port "$port" \
        > "$RUN_DIR/server.log" 2>&1 &
    local pid=$!
    echo "$pid" > "$RUN_DIR/pid"
    local url="http://127.0.0.1:$port"
    for _ in $(seq 1 240); do
        if ! kill -0 "$pid" 2>/dev/null; then
            log "the server exited; last lines of $RUN_DIR/server.log:"
            tail -n 20 "$RUN_DIR/server.log" >&2
            return 1
        fi
        if "$PYTHON" - "$url/health/liveliness" <<'PY' 2>/dev/null; then
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=1).read()
PY
            printf 'URL=%s\nKEY=%s\nMODEL=%s\nMODEL2=%s\nPID=%s\n' "$url" "$KEY" "$MODEL" "$MODEL2" "$pid"
            return 0
        fi
        sleep 0.5
    done
    log "the server did not become healthy within 120 s; see $RUN_DIR/server.log"
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
    *) log "usage: $0 install | start [PORT] | stop"; exit 2 ;;
esac
