#!/usr/bin/env bash
# `npm test`: install what is missing, then run every suite: type check, Lua specs, vitest
# (unit, integration against real Redis/nginx/Jupyter, browser in headless Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --test
echo "== type check"
npx tsc --noEmit
echo "== Lua specs (busted)"
busted proxy/spec
echo "== vitest"
npx vitest run "$@"
