#!/usr/bin/env bash
# `npm start`: install what is missing, then run the one-machine stack in the foreground.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
exec node bin/edgehub.js up "$@"
