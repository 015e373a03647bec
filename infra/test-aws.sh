#!/usr/bin/env bash
# The AWS side of the test command:
#   1. installs what it needs from PyPI, quietly and only when missing: moto's server, cfn-lint,
#      the SAM CLI, cargo-lambda;
#   2. starts one moto server on a free loopback port (infra/moto_serial.py) shared by all test
#      binaries, and runs the DynamoDB/S3 adapter tests, the shared contract suite, and the
#      Lambda handler tests (S3 event and API Gateway fixtures) against it. moto accepts any
#      signature, so crates/aws/tests/s3_strict.rs also runs the S3 store against a strict,
#      SigV4-verifying S3 (s3s-fs, a dev-dependency of crates/aws): each of its tests starts one
#      inside the test process on an OS-picked loopback port, so there is nothing to install or
#      start here, and a server that cannot start fails its test rather than skipping it;
#   3. lints the SAM template with cfn-lint and `sam validate --lint`;
#   4. runs infra/full-stack.sh: the seven Lambda binaries under `cargo lambda watch` against
#      moto, behind infra/gateway.py (API Gateway routes + the S3->SQS->check-photo trigger),
#      driven over HTTP through a whole campaign journey. Costs ~1.5 min plus a debug build of
#      the function binaries; GRADPHOTO_FULL_STACK=0 (or --no-full-stack) skips it.
# Usage: infra/test-aws.sh [--install-only] [--no-full-stack] [--workspace]
#   --workspace runs `cargo test --workspace` (every crate) in step 2 instead of only the AWS
#   crates: scripts/test-all.sh uses it so the whole workspace is built once, in one feature set.
set -uo pipefail
cd "$(dirname "$0")/.."

install_only=0
test_scope=(-p gradphoto-aws -p gradphoto-functions)
full_stack=${GRADPHOTO_FULL_STACK:-1}
for arg in "$@"; do
  case "$arg" in
    --install-only) install_only=1 ;;
    --full-stack) full_stack=1 ;;
    --no-full-stack) full_stack=0 ;;
    --workspace) test_scope=(--workspace) ;;
    *) echo "unknown option $arg" >&2; exit 2 ;;
  esac
done

py=$(command -v python3 || command -v python)
[ -n "$py" ] || { echo "test-aws: python3 is required (for moto, cfn-lint, SAM CLI)" >&2; exit 1; }

need=()
"$py" -c "import moto.server, flask, werkzeug, boto3" 2>/dev/null || need+=("moto[server]")
command -v cfn-lint >/dev/null 2>&1 || need+=("cfn-lint")
command -v sam >/dev/null 2>&1 || need+=("aws-sam-cli")
command -v cargo-lambda >/dev/null 2>&1 || need+=("cargo-lambda")
if [ "${#need[@]}" -gt 0 ]; then
  echo "test-aws: installing ${need[*]} from PyPI"
  "$py" -m pip install -q --disable-pip-version-check "${need[@]}" || { echo "test-aws: pip install failed" >&2; exit 1; }
  hash -r
fi
[ "$install_only" -eq 1 ] && exit 0

status=0
export SAM_CLI_TELEMETRY=0

# One moto server for every test binary (each test makes its own table and bucket). The port is
# picked, released, then bound by moto, so another process may take it in between: moto then
# exits and is started again on another port.
moto_pid=""
trap '[ -n "$moto_pid" ] && kill $moto_pid 2>/dev/null' EXIT
for attempt in 1 2 3; do
  port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$py" infra/moto_serial.py -H 127.0.0.1 -p "$port" >/tmp/gradphoto-moto-$port.log 2>&1 &
  moto_pid=$!
  up=0
  for _ in $(seq 1 300); do
    kill -0 "$moto_pid" 2>/dev/null || break
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then up=1; break; fi
    sleep 0.1
  done
  [ "$up" = 1 ] && kill -0 "$moto_pid" 2>/dev/null && break
  echo "test-aws: moto did not start on port $port (attempt $attempt); its log:" >&2
  cat /tmp/gradphoto-moto-$port.log >&2
  kill "$moto_pid" 2>/dev/null
  moto_pid=""
done
[ -n "$moto_pid" ] || { echo "test-aws: FAILED to start moto's server" >&2; exit 1; }
export GRADPHOTO_MOTO_URL="http://127.0.0.1:$port"

echo "== cargo test ${test_scope[*]}: AWS adapters, contract suite and Lambda handlers against moto ($GRADPHOTO_MOTO_URL), S3 store against the in-process strict S3"
cargo test "${test_scope[@]}" || status=1

echo "== template lint"
if cfn-lint template.yaml; then echo "cfn-lint: template.yaml ok"; else status=1; fi
if sam validate --lint --region us-east-1 >/tmp/gradphoto-sam-validate.log 2>&1; then
  echo "sam validate --lint: template.yaml ok"
else
  cat /tmp/gradphoto-sam-validate.log; status=1
fi

if [ "$full_stack" = 1 ]; then
  echo "== full stack: Lambda binaries under cargo lambda watch against moto"
  infra/full-stack.sh || status=1
fi

exit "$status"
