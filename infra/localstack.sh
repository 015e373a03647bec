#!/usr/bin/env bash
# Brings the stack up on LocalStack (needs Docker; LocalStack's Lambda runs functions in
# containers). Not runnable on the CI machines, which have no Docker: infra/full-stack.sh is
# the Docker-free equivalent used by the tests.
# Usage: infra/localstack.sh [BUREAU_USER]
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q --disable-pip-version-check localstack aws-sam-cli-local awscli-local cargo-lambda
localstack start -d
localstack wait -t 120
export AWS_ENDPOINT_URL=http://localhost:4566 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
samlocal build --beta-features
samlocal deploy --stack-name gradphoto --resolve-s3 --capabilities CAPABILITY_IAM --no-confirm-changeset \
  --parameter-overrides "TokenSecret=$(head -c 48 /dev/urandom | base64 | tr -d '/+=' | head -c 48) PageOrigin=http://localhost:8080 CheckConcurrency=0"
awslocal cloudformation describe-stacks --stack-name gradphoto --query "Stacks[0].Outputs" --output table
infra/seed-bureau.sh "${1:-chief}" gradphoto
