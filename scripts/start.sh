#!/usr/bin/env bash
# `npm start`: install what is missing, then run the one-machine stack in the foreground.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
node scripts/build.mjs --if-stale   # the hub starts (and restarts) about twice as fast compiled
exec node bin/edgehub.js up "$@"
