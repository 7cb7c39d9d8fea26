#!/usr/bin/env bash
# Runs a command with moto's server on a free 127.0.0.1 port, exported as SNAPBACK_MOTO_URL, and
# stops the server afterwards, whether the command succeeds or fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${SNAPBACK_VENV:-$root/.venv}
port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp)
"$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
moto_pid=$!
stop() {
  kill "$moto_pid" 2>/dev/null || true
  wait "$moto_pid" 2>/dev/null || true
  rm -f "$log"
}
trap stop EXIT
url="http://127.0.0.1:$port"
# moto answers after about a second; give it up to 30 s on a loaded machine.
if ! "$venv/bin/python" - "$url" <<'PY'
import sys, time, urllib.request
deadline = time.time() + 30
while time.time() < deadline:
    try:
        urllib.request.urlopen(sys.argv[1] + "/moto-api/", timeout=1)
        sys.exit(0)
    except Exception:
        time.sleep(0.1)
sys.exit(1)
PY
then
  echo "moto did not start on $url:" >&2
  cat "$log" >&2
  exit 1
fi
echo "moto listening on $url" >&2
export SNAPBACK_MOTO_URL=$url
"$@"
