#!/usr/bin/env bash
# Load run of the embedded server on loopback: release build, fresh data folder, the full
# upload flow (presign + PUT + check) from CLIENTS concurrent clients for STUDENTS students
# of one school while 2 readers list the roster. Prints the load generator's JSON summary.
#   scripts/bench-load.sh [CLIENTS] [STUDENTS] [extra serve flags...]
# LOADGEN_ARGS adds load generator flags, e.g. LOADGEN_ARGS=--parents (every student's parent
# logs in with a personal code and uploads, racing the teacher on every 10th student).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/wait-for-server.sh
clients=${1:-64}
students=${2:-2000}
shift $(( $# > 2 ? 2 : $# ))
cargo build --release -q -p gradphoto-local -p gradphoto-loadgen
data=$(mktemp -d)
# Port 0: the server prints the address it got, so nothing can take the port in between.
GRADPHOTO_LOG=warn target/release/gradphoto serve --demo --data "$data" --addr "127.0.0.1:0" "$@" > "$data/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$data"' EXIT
wait_for_server "$data/server.log" bench-load.sh
target/release/gradphoto-loadgen --url "$url" --clients "$clients" --students "$students" \
  --photo crates/core/tests/corpus/astronaut_valid.jpg --server-pid "$pid" ${LOADGEN_ARGS:-}
