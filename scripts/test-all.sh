#!/usr/bin/env bash
# Runs every test of gradphoto on a fresh machine: installs what the tests need (Chromium from
# Debian, moto/cfn-lint/SAM CLI from PyPI, playwright-core from npm), then the Rust suites
# (unit, contract, black-box API), the AWS suite against moto on loopback, and the browser
# suite in headless Chromium. Ends with one line: "all: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
logdir=$(mktemp -d)
passed=0
failed=0
status=0

count_cargo() { # sums the "test result: ... N passed; M failed" lines of a cargo test log
  local p f
  read -r p f < <(awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } } END { print p + 0, f + 0 }' "$1")
  passed=$((passed + p)); failed=$((failed + f))
}

step() { echo; echo "==== $* ===="; }

step "Installing test tools (moto, cfn-lint, SAM CLI, cargo-lambda from PyPI)"
infra/test-aws.sh --install-only || status=1

# Incremental caches only help edit-compile loops; on a clean clone they cost gigabytes.
export CARGO_INCREMENTAL=0
df -h . | awk 'NR == 2 { print "disk: " $4 " free before building" }'

step "Rust: every crate (unit, contract, black-box API; AWS adapters and Lambdas against moto), template lint, full stack"
# One `cargo test --workspace` with one moto server up: the workspace is compiled once, in one
# feature set, instead of once per subset (which also tripled the AWS SDK's disk footprint).
infra/test-aws.sh --workspace --full-stack 2>&1 | tee "$logdir/cargo.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
count_cargo "$logdir/cargo.log"
df -h . | awk 'NR == 2 { print "disk: " $4 " free after the Rust suites" }'

step "Browser tests in headless Chromium"
bash tests/browser/run.sh 2>&1 | tee "$logdir/browser.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
p=$(grep -E '^# pass [0-9]+' "$logdir/browser.log" | tail -1 | awk '{print $3}')
f=$(grep -E '^# fail [0-9]+' "$logdir/browser.log" | tail -1 | awk '{print $3}')
passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))

echo
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "all: $passed passed, $failed failed"
exit "$status"
