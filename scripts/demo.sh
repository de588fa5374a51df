#!/usr/bin/env bash
# The README's first command: the demo SFPrompt job, locally, with no cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "demo: not available yet; the SFPrompt training runtime arrives with issue #3" >&2
exit 2
