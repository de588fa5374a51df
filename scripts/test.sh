#!/usr/bin/env bash
# The whole test suite, as CI runs it: set up, lint, type-check the tests, verify generated files, run
# every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# etcd, kube-apiserver & co. for the API-server tests, cached under ~/.cache (cold build ~21 min, warm 0.1 s).
bash scripts/kube-bins.sh
npm run --silent lint
# tsc -b checks src/ only; the tests, e2e and bench run from source through tsx, which checks no types.
npm run --silent typecheck:tests
npm run --silent verify
node scripts/run-tests.mjs "$@"
