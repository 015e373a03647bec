#!/usr/bin/env bash
# Issue 15's speed requirement: GET /api/admin/stats with 250,000 students on the embedded
# server. Release build, fresh data folder, port 0; the load generator's `--stats` mode seeds
# the city through the HTTP API (500 schools, 16 districts, roster CSV in 25,000-row chunks),
# uploads 4,000 photos (every 5th one the check rejects), lets a reviewer decide 75 % of the
# queue, then times stats / stats?district= / progress / window side by side, quiet and under
# background uploads, and checks the figures. Prints its JSON summary; exits 1 if anything
# was wrong. Not part of scripts/test-all.sh (it takes a few minutes and both cores).
#   scripts/bench-stats.sh [CLIENTS] [extra load generator flags...]
# e.g. scripts/bench-stats.sh 8 --stats-students 50000 --stats-seconds 10
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/wait-for-server.sh
clients=${1:-8}
shift $(( $# > 0 ? 1 : 0 ))
cargo build --release -q -p gradphoto-local -p gradphoto-loadgen
data=$(mktemp -d)
GRADPHOTO_LOG=warn target/release/gradphoto serve --demo --data "$data" --addr "127.0.0.1:0" > "$data/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$data"' EXIT
wait_for_server "$data/server.log" bench-stats.sh
status=0
target/release/gradphoto-loadgen --url "$url" --clients "$clients" --stats \
  --photo crates/core/tests/corpus/astronaut_valid.jpg \
  --stats-reject-photo crates/core/tests/corpus/astronaut_too_dark.jpg \
  --stats-db "$data/gradphoto.sqlite3" --server-pid "$pid" "$@" || status=$?
# What the stats route reads beside what it never touches (read-only, beside the server).
if command -v python3 >/dev/null; then
  python3 - "$data/gradphoto.sqlite3" <<'EOF' >&2 || true
import sqlite3, sys
c = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
rows = {t: c.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("stats", "school_counts", "students", "audit")}
print("rows: " + ", ".join(f"{t} {n}" for t, n in rows.items()))
EOF
fi
exit "$status"
