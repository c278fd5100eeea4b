#!/usr/bin/env bash
# THE test command (README, `pnpm test`, .ci/run). On a fresh Debian 12 machine, as root:
# installs Ceph RGW + redis (+ chromium for the client's browser tests), installs and
# builds the workspace, runs the static checks (Biome lint, typecheck of packages, tests
# and e2e, import cycles, the client's browser bundle size against its budget; one test
# each in the count), then every Jest test against a real local S3, and prints as its
# LAST line exactly "N passed, M failed". Exits non-zero if anything failed.
#
#   bash scripts/test.sh [jest args...]     e.g. bash scripts/test.sh e2e/rgw.test.ts
#
# Env: TUS_S3_NO_CHROMIUM=1  do not install chromium (browser tests need /usr/bin/chromium)
#      TUS_S3_SKIP_INSTALL=1 skip apt/pnpm install and build (quick local re-runs)
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
mkdir -p .tmp
RESULTS=".tmp/jest-results-$$.json"
SUMMARY_DONE=0

summary() {
  # Last line, whatever happened: "N passed, M failed".
  local rc=$?
  if [ "$SUMMARY_DONE" = 0 ]; then
    echo "test.sh: stopped before tests ran (exit $rc)" >&2
    echo "0 passed, 1 failed"
  fi
  exit "$rc"
}
trap summary EXIT
die() {
  echo "test.sh: $*" >&2
  exit 1
}

# ---- system packages ----
need=()
for bin in ceph-mon ceph-osd radosgw radosgw-admin monmaptool; do
  command -v "$bin" >/dev/null 2>&1 || [ -x "/usr/bin/$bin" ] || { need+=(ceph-mon ceph-osd radosgw); break; }
done
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v curl >/dev/null 2>&1 || need+=(curl)
if [ "${TUS_S3_NO_CHROMIUM:-0}" != 1 ] && [ ! -x /usr/bin/chromium ]; then need+=(chromium); fi
if [ "${TUS_S3_SKIP_INSTALL:-0}" != 1 ] && [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    die "missing packages: ${need[*]} — run as root, or: sudo apt-get install -y --no-install-recommends ${need[*]}"
  fi
  echo "test.sh: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update || die "apt-get update failed"
  apt-get install -y --no-install-recommends "${need[@]}" || die "apt-get install ${need[*]} failed"
fi

# ---- node / pnpm ----
command -v node >/dev/null 2>&1 || die "node not found: install Node.js >= 20.19"
node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a===20&&b>=19)?0:1)' ||
  die "Node.js >= 20.19 required, found $(node -v)"
export COREPACK_INTEGRITY_KEYS=0
PNPM=(pnpm)
if ! corepack enable 2>/dev/null; then
  echo "test.sh: corepack enable failed (not root?); using 'corepack pnpm'" >&2
  PNPM=(corepack pnpm)
fi
if [ "${TUS_S3_SKIP_INSTALL:-0}" != 1 ]; then
  "${PNPM[@]}" install --frozen-lockfile || die "pnpm install --frozen-lockfile failed"
  "${PNPM[@]}" build || die "pnpm build failed"
fi

# ---- static checks ----
# Each counts as one test in the last line; a failing one fails the run, but Jest still
# runs so that line reports everything.
CHECKS_PASSED=0
CHECKS_FAILED=0
check() {
  local name=$1
  shift
  echo "test.sh: check: $name" >&2
  if "$@"; then
    CHECKS_PASSED=$((CHECKS_PASSED + 1))
  else
    echo "test.sh: check failed: $name" >&2
    CHECKS_FAILED=$((CHECKS_FAILED + 1))
  fi
}
check "lint (biome check .)" "${PNPM[@]}" --silent lint
check "typecheck (packages, tests, e2e)" "${PNPM[@]}" --silent typecheck
check "import cycles" node scripts/check-cycles.mjs
check "browser bundle size (gzip budget)" node scripts/check-bundle-size.mjs

# ---- jest ----
rm -f "$RESULTS"
node --experimental-vm-modules node_modules/jest/bin/jest.js --json --outputFile="$RESULTS" "$@"
JEST_RC=$?

SUMMARY_DONE=1
if [ -s "$RESULTS" ]; then
  cp "$RESULTS" .tmp/jest-results.json
  LINE=$(node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const passed = r.numPassedTests;
    let failed = r.numFailedTests + r.numRuntimeErrorTestSuites;
    // Jest failed for another reason (e.g. no tests found, interrupted): count it once.
    if (failed === 0 && (Number(process.argv[2]) !== 0 || !r.success)) failed = 1;
    const [checksPassed, checksFailed] = process.argv.slice(3).map(Number);
    console.log(`${passed + checksPassed} passed, ${failed + checksFailed} failed`);
  ' "$RESULTS" "$JEST_RC" "$CHECKS_PASSED" "$CHECKS_FAILED")
  rm -f "$RESULTS"
else
  echo "test.sh: jest wrote no results (exit $JEST_RC) — see the output above" >&2
  LINE="$CHECKS_PASSED passed, $((CHECKS_FAILED + 1)) failed"
fi
echo "$LINE"
case "$LINE" in
  *" passed, 0 failed") [ "$JEST_RC" = 0 ] || exit "$JEST_RC"; exit 0 ;;
  *) [ "$JEST_RC" != 0 ] && exit "$JEST_RC"; exit 1 ;;
esac
