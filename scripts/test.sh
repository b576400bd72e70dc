#!/usr/bin/env bash
# `npm test`: install what is missing, then run every suite: format check, lint, type check, Lua lint and specs, vitest
# (unit, integration against real Redis/nginx/Jupyter, browser in headless Chromium), and last,
# on its own so that nothing else competes for the CPU, the fault suite (test/fault).
# Arguments go to the first vitest run; `npm test -- --no-fault` skips the fault suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --test
node scripts/build.mjs --if-stale   # what bin/edgehub.js runs in a checkout while it is current
echo "== format (prettier --check; npx prettier --write . fixes it)"
npx prettier --check --log-level warn "**/*.{ts,tsx,mjs,js}"
echo "== lint (biome, biome.jsonc)"
npx biome lint --error-on-warnings .
echo "== type check"
npx tsc --noEmit
npx tsc --noEmit -p bench/k6
echo "== Lua lint (luacheck, proxy/.luacheckrc)"
(cd proxy && luacheck --no-color -q lua spec ../bench/upstream)
echo "== Lua specs (busted)"
busted proxy/spec
fault=1
args=()
for a in "$@"; do
  if [[ "$a" == "--no-fault" ]]; then fault=0; else args+=("$a"); fi
done
echo "== vitest"
npx vitest run --exclude 'test/fault/**' ${args[@]+"${args[@]}"}
if [[ $fault == 1 ]]; then
  echo "== fault suite"
  npx vitest run test/fault
fi
