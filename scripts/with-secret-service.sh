#!/usr/bin/env bash
# Run a command with a real, unlocked Secret Service (gnome-keyring) on a private D-Bus
# session bus, as on a headless machine or CI. The keyring's files live in a throw-away
# XDG_DATA_HOME. Usage: scripts/with-secret-service.sh COMMAND [ARGS...]
set -euo pipefail
if [ -z "${LLMSWITCH_IN_SECRET_SERVICE:-}" ]; then
  for tool in dbus-run-session gnome-keyring-daemon dbus-send; do
    command -v "$tool" >/dev/null || { echo "with-secret-service: $tool is missing (apt-get install gnome-keyring dbus-daemon dbus-bin)" >&2; exit 3; }
  done
  export LLMSWITCH_IN_SECRET_SERVICE=1
  exec dbus-run-session -- "$0" "$@"
fi
data_home=$(mktemp -d "${TMPDIR:-/tmp}/llmswitch-secret-service.XXXXXX")
export XDG_DATA_HOME="$data_home"
export LLMSWITCH_SECRET_SERVICE_DATA="$data_home"
password="llmswitch-test-unlock-$$"
printf '%s' "$password" | gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null 2>&1 &
daemon=$!
cleanup() { kill "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true; rm -rf "$data_home"; }
trap cleanup EXIT
for _ in $(seq 1 100); do
  if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
       org.freedesktop.DBus.ListNames 2>/dev/null | grep -q '"org.freedesktop.secrets"'; then
    break
  fi
  sleep 0.05
done
export LLMSWITCH_SECRET_SERVICE=1
"$@"
