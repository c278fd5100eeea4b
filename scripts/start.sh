#!/usr/bin/env bash
# Starts the server on a fresh machine: pnpm via corepack, install, build, run. Builds both
# packages: the README's quick start uploads with the client's CLI (packages/client/dist).
#   bash scripts/start.sh [tus-s3-server flags...]
# With no S3 configured (no --s3-bucket / S3_BUCKET) it serves from the local file store
# in ./data and says so on start-up.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export COREPACK_INTEGRITY_KEYS=0 # corepack here fails signature checks without it
command -v pnpm >/dev/null 2>&1 || corepack enable
pnpm install --frozen-lockfile --reporter=silent
pnpm build >/dev/null
exec node packages/server/dist/cli.js "$@"
