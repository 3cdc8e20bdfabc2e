#!/usr/bin/env bash
# Run a command with a real, unlocked Secret Service (gnome-keyring) on a private D-Bus
# session bus, as on a headless machine or CI. The keyring's files live in a throw-away
# XDG_DATA_HOME. Usage: scripts/with-secret-service.sh COMMAND [ARGS...]
#
# The bus and the keyring daemon never outlive this script: they are stopped when the
# command ends, when the script is interrupted or terminated, and (by a watchdog) when
# the script itself is killed outright. Their own chatter ("Failed to set fd limit", an
# unprivileged dbus-daemon's note) goes to a log that is shown only if the start fails.
set -euo pipefail
for tool in dbus-daemon gnome-keyring-daemon dbus-send; do
  command -v "$tool" >/dev/null || { echo "with-secret-service: $tool is missing (apt-get install gnome-keyring dbus-daemon dbus-bin)" >&2; exit 3; }
done
data_home=$(mktemp -d "${TMPDIR:-/tmp}/llmswitch-secret-service.XXXXXX")
log="$data_home/daemons.log"
bus="" daemon="" watchdog="" child=""
cleanup() {
  for pid in $child $daemon $bus $watchdog; do kill "$pid" 2>/dev/null || true; done
  for pid in $daemon; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$data_home"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

{ read -r address; read -r bus; } < <(dbus-daemon --session --fork --nopidfile --print-address=1 --print-pid=1 2>>"$log")
export DBUS_SESSION_BUS_ADDRESS="$address"
export XDG_DATA_HOME="$data_home"
mkdir -m 700 "$data_home/run"
export XDG_RUNTIME_DIR="$data_home/run"  # the keyring daemon's control socket: private and throw-away too
export LLMSWITCH_SECRET_SERVICE_DATA="$data_home"
password="llmswitch-test-unlock-$$"
export LLMSWITCH_SECRET_SERVICE_PASSWORD="$password"  # the throw-away keyring's; tests unlock it again after locking it
printf '%s' "$password" | gnome-keyring-daemon --foreground --unlock --components=secrets >>"$log" 2>&1 &
daemon=$!
parent=$$
# killed with SIGKILL, this script runs no trap: the watchdog (its own process) stops the daemons (and the
# command) then
( trap '' HUP INT TERM
  while kill -0 "$parent" 2>/dev/null; do sleep 0.5; done
  kill "$daemon" "$bus" $(cat "$data_home/command.pid" 2>/dev/null) 2>/dev/null
  rm -rf "$data_home" ) </dev/null >/dev/null 2>&1 &
watchdog=$!
export LLMSWITCH_SECRET_SERVICE_PIDS="$bus $daemon"
ready=""
for _ in $(seq 1 100); do
  if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
       org.freedesktop.DBus.ListNames 2>/dev/null | grep -q '"org.freedesktop.secrets"'; then
    ready=1
    break
  fi
  sleep 0.05
done
if [ -z "$ready" ]; then
  echo "with-secret-service: the Secret Service did not start; its log:" >&2
  cat "$log" >&2
  exit 3
fi
export LLMSWITCH_SECRET_SERVICE=1
# in the background with the script's stdin, so a TERM reaches the trap at once (bash runs traps only
# between commands) and the command is stopped with the daemons
"$@" <&0 &
child=$!
echo "$child" >"$data_home/command.pid"
status=0
wait "$child" || status=$?
child=""
exit "$status"
