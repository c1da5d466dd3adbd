#!/usr/bin/env bash
# The one test command (npm test): starts or installs Postgres and Redis when missing, builds,
# runs unit and e2e tests against the real services, and ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-services.sh || { echo "0 passed, 1 failed"; exit 1; }
[ -d node_modules ] || npm ci --no-audit --no-fund || { echo "0 passed, 1 failed"; exit 1; }
rm -rf dist
npx tsc -p tsconfig.json || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }

mapfile -t files < <(find dist/test -name '*.test.js' | sort)
if [ "$#" -gt 0 ]; then mapfile -t files < <(printf '%s\n' "${files[@]}" | grep -E "$1"); fi
tap=dist/test-results.tap
node --enable-source-maps --test --test-concurrency="${TEST_CONCURRENCY:-3}" --test-timeout=120000 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap" "${files[@]}"
rc=$?
pass=$(awk '/^# pass /{print $3}' "$tap" | tail -n 1)
fail=$(awk '/^# fail /{print $3}' "$tap" | tail -n 1)
cancelled=$(awk '/^# cancelled /{print $3}' "$tap" | tail -n 1)
fail=$(( ${fail:-0} + ${cancelled:-0} ))
[ "$rc" -ne 0 ] && [ "$fail" -eq 0 ] && fail=1
echo "${pass:-0} passed, ${fail} failed"
exit "$rc"
