#!/usr/bin/env bash
# Browser end-to-end tests: Debian's headless Chromium driven by playwright-core, against the
# real embedded server (`gradphoto serve --demo`) on a free loopback port with a fresh data
# folder. Usage: bash tests/browser/run.sh [extra `node --test` arguments, e.g. a test file]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$here"

if [ ! -x /usr/bin/chromium ]; then
  echo "run.sh: /usr/bin/chromium is missing; installing Debian's chromium" >&2
  if ! { apt-get update && apt-get install -y chromium; } >&2; then
    echo "run.sh: FAILED to install chromium (apt-get install -y chromium); the browser tests cannot run" >&2
    exit 1
  fi
fi
[ -x /usr/bin/chromium ] || { echo "run.sh: /usr/bin/chromium still missing after install" >&2; exit 1; }
# Without a CJK font the screenshots show boxes instead of Chinese.
# `grep .` reads all of fc-list's output: with -q it could exit first, and pipefail would count
# fc-list's SIGPIPE as "no font".
if ! fc-list :lang=zh 2>/dev/null | grep . >/dev/null; then
  echo "run.sh: no Chinese font; installing Debian's fonts-wqy-microhei" >&2
  if ! { apt-get update && apt-get install -y fonts-wqy-microhei; } >&2; then
    echo "run.sh: FAILED to install fonts-wqy-microhei" >&2
    exit 1
  fi
fi

npm ci --no-audit --no-fund --loglevel=error >&2

echo "run.sh: building the embedded server" >&2
(cd "$root" && cargo build -p gradphoto-local --bin gradphoto >&2)
bin="${CARGO_TARGET_DIR:-$root/target}/debug/gradphoto"
[ -x "$bin" ] || { echo "run.sh: $bin not found after cargo build" >&2; exit 1; }

artifacts="$here/.artifacts"
mkdir -p "$artifacts"
data=$(mktemp -d /tmp/gradphoto-browser.XXXXXX)
# The ports tests/cors.test.js may serve web/ from as a second origin (the S3-website/CloudFront
# layout); the server is told to allow each. Three, held open together so they differ: the test
# binds the first still free, since any one may be taken between picking and binding. The
# server itself binds port 0 and prints the address it got.
pages_ports=$(python3 -c '
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks: s.bind(("127.0.0.1", 0))
print(",".join(str(s.getsockname()[1]) for s in socks))')
pages_origins=$(echo "$pages_ports" | sed 's/\([0-9][0-9]*\)/http:\/\/127.0.0.1:\1/g')

"$bin" serve --demo --data "$data" --addr "127.0.0.1:0" --web "$root/web" --cors-origin "$pages_origins" >"$artifacts/server.log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT

url=""
for _ in $(seq 1 120); do
  url=$(awk '/^listening on /{print $3; exit}' "$artifacts/server.log")
  if [ -n "$url" ] && curl -fsS "$url/api/window" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then
    echo "run.sh: the server exited; its log:" >&2
    cat "$artifacts/server.log" >&2
    exit 1
  fi
  sleep 0.5
done
[ -n "$url" ] || { echo "run.sh: the server never printed its address; log in $artifacts/server.log" >&2; exit 1; }
curl -fsS "$url/api/window" >/dev/null || { echo "run.sh: $url/api/window never answered; log in $artifacts/server.log" >&2; exit 1; }
echo "run.sh: server up at $url (log: $artifacts/server.log)" >&2

status=0
GRADPHOTO_URL="$url" GRADPHOTO_PAGES_PORTS="$pages_ports" SCREENSHOTS="$root/docs/screenshots" node --test --test-concurrency=1 "${@:-tests/}" || status=$?
exit "$status"
