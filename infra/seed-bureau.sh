#!/usr/bin/env bash
# Creates the first bureau account in a deployed stack's table (AWS or LocalStack).
# Usage: infra/seed-bureau.sh USERNAME [STACK_NAME]   (password read from GRADPHOTO_PASSWORD,
# or prompted). For LocalStack export AWS_ENDPOINT_URL=http://localhost:4566 first.
set -euo pipefail
cd "$(dirname "$0")/.."
user=${1:?usage: infra/seed-bureau.sh USERNAME [STACK_NAME]}
stack=${2:-gradphoto}
out() { aws cloudformation describe-stacks --stack-name "$stack" --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text; }
export TABLE_NAME=$(out TableName) BUCKET_NAME=$(out PhotoBucketName)
if [ -z "${GRADPHOTO_PASSWORD:-}" ]; then
  read -r -s -p "bureau password for $user (≥6, letters and digits): " GRADPHOTO_PASSWORD; echo
fi
export GRADPHOTO_PASSWORD
[ -n "${AWS_ENDPOINT_URL:-}" ] && export S3_FORCE_PATH_STYLE=1
cargo run -q --release -p gradphoto-functions --bin gradphoto-aws -- add-user --role bureau --username "$user"
