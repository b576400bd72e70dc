#!/usr/bin/env bash
# `npm run bench [-- <scenario>…] [--quick] [--out DIR] [--list]`: installs what the benchmarks
# need (wrk, busybox, npm packages), then runs bench/run.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --bench
exec npx tsx bench/run.ts "$@"
