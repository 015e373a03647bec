#!/usr/bin/env bash
# Issue 15's stats requirement on an AGED campaign: the city of scripts/bench-stats.sh (250,000
# students, 500 schools, 16 districts) with a 90-day history, so the statistics hold a row per
# district and day as at a campaign's end. Builds the data folder with
# crates/local/examples/aged_campaign.rs (through the Records port, each event on its day;
# ~100,000 photos, checks, reviews, appeals, re-uploads), starts the release server on it
# (port 0), runs the load generator's measure-only mode (`--stats --stats-no-seed`: stats,
# stats?district=, progress and window interleaved, quiet and then under 100 uploads/s by
# teachers it registers — pass --stats-quiet-only to leave the folder untouched; the figures
# checked against the progress route) and prints its JSON summary; exits 1 if anything was
# wrong. Not part of scripts/test-all.sh (building the folder takes a few minutes and both
# cores). docs/benchmarks.md, "Aged campaign: 90 days", has the results.
#   scripts/bench-stats-aged.sh [CLIENTS] [extra load generator flags...]
# Environment:
#   AGED_DATA=DIR      build the folder in DIR and keep it; a DIR that already holds
#                      gradphoto.sqlite3 is measured as it is (build once, measure again)
#   AGED_ARGS="..."    flags for the example (e.g. "--days 30 --photos 40000")
#   GRADPHOTO_BIN=...  the server binary (default target/release/gradphoto)
#   AGED_EXAMPLE=...   the example binary (default target/release/examples/aged_campaign);
#                      both given: nothing is built here (another checkout's binaries)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/wait-for-server.sh
clients=${1:-8}
shift $(( $# > 0 ? 1 : 0 ))
bin=${GRADPHOTO_BIN:-target/release/gradphoto}
example=${AGED_EXAMPLE:-target/release/examples/aged_campaign}
if [ -z "${GRADPHOTO_BIN:-}" ] || [ -z "${AGED_EXAMPLE:-}" ]; then
  cargo build --release -q -p gradphoto-local -p gradphoto-loadgen
  cargo build --release -q -p gradphoto-local --example aged_campaign
else
  cargo build --release -q -p gradphoto-loadgen
fi
if [ -n "${AGED_DATA:-}" ]; then
  data=$AGED_DATA
  keep=1
else
  data=$(mktemp -d)
  keep=0
fi
mkdir -p "$data"
if [ ! -f "$data/gradphoto.sqlite3" ]; then
  echo "bench-stats-aged.sh: building the aged folder in $data" >&2
  # shellcheck disable=SC2086 # AGED_ARGS is a list of flags
  /usr/bin/time -f "aged_campaign: %e s wall, %M KB peak RSS" "$example" --data "$data" ${AGED_ARGS:-} > "$data/aged.json"
  python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(json.dumps({k: j[k] for k in ("history","counts","seconds","rows")}))' "$data/aged.json" >&2 || true
fi
GRADPHOTO_LOG=warn "$bin" serve --data "$data" --addr "127.0.0.1:0" > "$data/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true; [ "$keep" = 1 ] || rm -rf "$data"' EXIT
wait_for_server "$data/server.log" bench-stats-aged.sh
status=0
target/release/gradphoto-loadgen --url "$url" --clients "$clients" --stats --stats-no-seed \
  --photo crates/core/tests/corpus/astronaut_valid.jpg \
  --stats-db "$data/gradphoto.sqlite3" --server-pid "$pid" "$@" || status=$?
# The rows the stats route reads (stats_days exists from 9f793d8 on), beside the big tables.
python3 - "$data/gradphoto.sqlite3" <<'EOF' >&2 || true
import sqlite3, sys
c = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
def n(t):
    try:
        return c.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
    except sqlite3.OperationalError:
        return "-"
print("rows: " + ", ".join(f"{t} {n(t)}" for t in ("stats", "stats_days", "school_counts", "students", "audit")))
EOF
exit "$status"
