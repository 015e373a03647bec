#!/usr/bin/env bash
# Full-stack run without AWS or Docker: moto (S3, DynamoDB, SQS) on loopback, every Lambda
# binary under `cargo lambda watch`, infra/gateway.py as API Gateway + the S3 trigger, and
# infra/full_stack_journey.py driving the whole flow over HTTP.
# Needs: moto[server], boto3, cargo-lambda (infra/test-aws.sh --install-only installs them).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
py=python3
# Three ports held open together, so they differ from each other.
free_ports() { "$py" -c 'import socket
socks = [socket.socket() for _ in range(3)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))'; }
wait_port() { for _ in $(seq 1 600); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.2; done; return 1; }

logs=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; }
trap cleanup EXIT

read -r moto_port lambda_port gw_port < <(free_ports)
"$py" infra/moto_serial.py -H 127.0.0.1 -p "$moto_port" >"$logs/moto.log" 2>&1 & pids+=($!)
wait_port "$moto_port" || { echo "moto did not start"; exit 1; }

export AWS_ENDPOINT_URL="http://127.0.0.1:$moto_port" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
  AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true S3_FORCE_PATH_STYLE=1 \
  TABLE_NAME=gradphoto-local BUCKET_NAME=gradphoto-local \
  TOKEN_SECRET=local-full-stack-secret-0123456789abcdef RUST_LOG=info

echo "building the function binaries and the operator CLI (debug)"
# One `cargo build --bin` each, exactly as `cargo lambda watch` runs them (`cargo run --bin`):
# a combined `-p a -p b` build unifies features differently and watch would rebuild everything.
for bin in gp-window gp-registration gp-school gp-uploads gp-review gp-admin gp-check-photo gradphoto-aws; do
  cargo build -q --bin "$bin" || exit 1
done
target=$(cargo metadata --format-version 1 --no-deps | "$py" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
"$target/debug/gradphoto-aws" create-resources || exit 1
GRADPHOTO_PASSWORD=bureau2026 "$target/debug/gradphoto-aws" add-user --role bureau --username chief || exit 1

env_vars="AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL,AWS_ACCESS_KEY_ID=testing,AWS_SECRET_ACCESS_KEY=testing,AWS_REGION=us-east-1"
env_vars+=",AWS_EC2_METADATA_DISABLED=true,S3_FORCE_PATH_STYLE=1,TABLE_NAME=$TABLE_NAME,BUCKET_NAME=$BUCKET_NAME"
env_vars+=",TOKEN_SECRET=$TOKEN_SECRET,RUST_LOG=info"
cargo lambda watch --ignore-changes --quiet --timeout 120 -A 127.0.0.1 -P "$lambda_port" --env-vars "$env_vars" >"$logs/watch.log" 2>&1 & pids+=($!)
wait_port "$lambda_port" || { echo "cargo lambda watch did not start"; cat "$logs/watch.log"; exit 1; }

"$py" infra/gateway.py --port "$gw_port" --lambda "http://127.0.0.1:$lambda_port" --moto "$AWS_ENDPOINT_URL" \
  --bucket "$BUCKET_NAME" >"$logs/gateway.log" 2>&1 & pids+=($!)
wait_port "$gw_port" || { echo "gateway did not start"; cat "$logs/gateway.log"; exit 1; }

"$py" infra/full_stack_journey.py "http://127.0.0.1:$gw_port" chief bureau2026 crates/core/tests/corpus/astronaut_valid.jpg \
  crates/core/tests/corpus/astronaut_blue_background.jpg
rc=$?
if [ "$rc" -eq 0 ]; then
  # The operator CLI on the same table and bucket: the city-wide export, then the purge.
  cli="$target/debug/gradphoto-aws"
  "$cli" export --out "$logs/all.zip" && "$py" -c 'import sys, zipfile; n = [x for x in zipfile.ZipFile(sys.argv[1]).namelist() if x.endswith(".jpg")]; print(f"ok   gradphoto-aws export: {len(n)} photo(s) + manifest"); sys.exit(0 if n else 1)' "$logs/all.zip" || rc=1
  # The counters the functions wrote equal a replay of the records (what a table deployed
  # before the counters would be rebuilt from); a rebuild finds nothing to put right.
  "$cli" stats >"$logs/stats.out" 2>&1 && grep -q "统计与记录一致" "$logs/stats.out" && echo "ok   gradphoto-aws stats: the counters equal a replay of the records ($(head -c 60 "$logs/stats.out"))" || { echo "FAIL gradphoto-aws stats:"; cat "$logs/stats.out"; rc=1; }
  "$cli" stats --rebuild --force >"$logs/stats-rebuild.out" 2>&1 && grep -q "统计与记录一致" "$logs/stats-rebuild.out" && echo "ok   gradphoto-aws stats --rebuild: nothing to put right" || { echo "FAIL gradphoto-aws stats --rebuild:"; cat "$logs/stats-rebuild.out"; rc=1; }
  "$cli" purge >"$logs/purge-dry.out" 2>&1 && grep -q "这是预演" "$logs/purge-dry.out" && echo "ok   gradphoto-aws purge without --yes is a dry run" || { echo "FAIL purge without --yes:"; cat "$logs/purge-dry.out"; rc=1; }
  if "$cli" purge --yes >"$logs/purge.out" 2>&1; then echo "FAIL purge during the campaign must be refused"; rc=1; else grep -q "尚未结束" "$logs/purge.out" && echo "ok   purge refused while the campaign runs" || rc=1; fi
  "$cli" purge --yes --force && "$py" infra/check_purged.py "$TABLE_NAME" "$BUCKET_NAME" || rc=1
fi
if [ "$rc" -ne 0 ]; then
  echo "--- cargo lambda watch log (tail)"; tail -40 "$logs/watch.log"
  echo "--- gateway log (tail)"; tail -20 "$logs/gateway.log"
fi
# Cold-start lines of each function (init_ms), for docs/aws.md.
grep -h '"init_ms"' "$logs/watch.log" | sed 's/^.*"function":"\([^"]*\)".*"init_ms":\([0-9.]*\).*$/init \1 \2 ms/' | sort -u
exit "$rc"
